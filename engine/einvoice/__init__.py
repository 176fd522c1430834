"""E-invoices in: XRechnung (UBL and CII) and ZUGFeRD/Factur-X PDFs as open items.

`document` holds the syntax-neutral model, `xml` reads both syntaxes, `load` writes
customers, invoices and credit notes (see its docstring for the matching rules).
"""
