"""Reading UBL 2.1 and UN/CEFACT CII into an `EDocument`.

Parsed with defusedxml (e-invoices come from outside: no entity expansion, no external
DTDs, no network) and ElementTree.  Elements are found by local name along a path, as
the camt reader does: XRechnung, ZUGFeRD and Factur-X profiles agree on every element
read here, whatever prefixes or schema versions a sender uses.  A required term that is
missing is an `EInvoiceError` naming the element path, so a sender can find it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from mahnwerk.engine.einvoice.document import (
    CREDIT_NOTE_CODES,
    Buyer,
    DocumentKind,
    EDocument,
    EInvoiceError,
)

#: Largest e-invoice file read (an XRechnung with a thousand lines is well under 2 MB).
MAX_XML_BYTES = 20 * 1024 * 1024


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(node: Element | None, path: str) -> Element | None:
    """The first element along `path` (local names separated by `/`)."""
    for name in path.split("/"):
        if node is None:
            return None
        node = next((c for c in node if _local(c.tag) == name), None)
    return node


def _find_all(node: Element | None, path: str) -> list[Element]:
    *head, last = path.split("/")
    parent = _find(node, "/".join(head)) if head else node
    return [] if parent is None else [c for c in parent if _local(c.tag) == last]


def _text(node: Element | None, path: str) -> str | None:
    found = _find(node, path)
    text = (found.text or "").strip() if found is not None else ""
    return " ".join(text.split()) or None


class _Reader:
    """Shared by both syntaxes: typed values, each error naming its element path."""

    def __init__(self, path: Path, root: Element, syntax: str) -> None:
        self.path, self.root, self.syntax = path, root, syntax
        self.root_name = _local(root.tag)

    def where(self, path: str) -> str:
        return f"/{self.root_name}/" + path

    def required(self, node: Element | None, path: str, term: str) -> str:
        value = _text(node, path)
        if value is None:
            raise EInvoiceError(
                self.path,
                self.where(path),
                f"{term} is missing",
                "every EN 16931 invoice must carry it; ask the sender for a corrected file",
            )
        return value

    def amount(self, node: Element | None, path: str, term: str) -> Decimal:
        raw = self.required(node, path, term)
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            raise EInvoiceError(
                self.path,
                self.where(path),
                f"{term} is not an amount: {raw!r}",
                "amounts in e-invoices are written 1234.56",
            )
        return value.quantize(Decimal("0.01"))

    def day(self, raw: str | None, path: str, term: str) -> date | None:
        if raw is None:
            return None
        digits = raw.replace("-", "")
        try:
            if len(digits) != 8 or not digits.isdigit():
                raise ValueError(raw)
            return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
        except ValueError:
            raise EInvoiceError(
                self.path,
                self.where(path),
                f"{term} is not a date: {raw!r}",
                "dates are YYYY-MM-DD (UBL) or YYYYMMDD with format 102 (CII)",
            ) from None


def _ubl(reader: _Reader) -> EDocument:
    root = reader.root
    credit = reader.root_name == "CreditNote"
    type_path = "CreditNoteTypeCode" if credit else "InvoiceTypeCode"
    type_code = reader.required(root, type_path, "the type code (BT-3)")
    party = _find(root, "AccountingCustomerParty/Party")
    if party is None:
        raise EInvoiceError(
            reader.path,
            reader.where("AccountingCustomerParty"),
            "the buyer (BG-7) is missing",
            "an invoice must name the buyer",
        )
    buyer = _ubl_buyer(reader, party)
    issue = reader.day(_text(root, "IssueDate"), "IssueDate", "the issue date (BT-2)")
    if issue is None:
        reader.required(root, "IssueDate", "the issue date (BT-2)")
    notes = [n.text.strip() for n in _find_all(root, "PaymentTerms/Note") if n.text]
    preceding = tuple(
        filter(
            None,
            (
                _text(ref, "InvoiceDocumentReference/ID")
                for ref in _find_all(root, "BillingReference")
            ),
        )
    )
    due = _text(root, "DueDate") or _text(root, "PaymentMeans/PaymentDueDate")
    return _document(
        reader,
        type_code=type_code,
        credit=credit,
        number=reader.required(root, "ID", "the invoice number (BT-1)"),
        issue_date=issue,
        due_date=reader.day(due, "DueDate", "the due date (BT-9)"),
        payment_terms="\n".join(notes),
        currency=reader.required(root, "DocumentCurrencyCode", "the currency (BT-5)"),
        amount=reader.amount(
            root, "LegalMonetaryTotal/PayableAmount", "the amount due for payment (BT-115)"
        ),
        buyer=buyer,
        preceding=preceding,
    )


def _cii(reader: _Reader) -> EDocument:
    root = reader.root
    doc = _find(root, "ExchangedDocument")
    trade = _find(root, "SupplyChainTradeTransaction")
    settlement = _find(trade, "ApplicableHeaderTradeSettlement")
    party = _find(trade, "ApplicableHeaderTradeAgreement/BuyerTradeParty")
    if party is None:
        raise EInvoiceError(
            reader.path,
            reader.where(
                "SupplyChainTradeTransaction/ApplicableHeaderTradeAgreement/BuyerTradeParty"
            ),
            "the buyer (BG-7) is missing",
            "an invoice must name the buyer",
        )
    buyer = _cii_buyer(reader, party)
    terms = _find_all(settlement, "SpecifiedTradePaymentTerms")
    due = next((d for t in terms if (d := _text(t, "DueDateDateTime/DateTimeString"))), None)
    type_code = reader.required(doc, "TypeCode", "the type code (BT-3)")
    return _document(
        reader,
        type_code=type_code,
        credit=False,
        number=reader.required(doc, "ID", "the invoice number (BT-1)"),
        issue_date=reader.day(
            reader.required(doc, "IssueDateTime/DateTimeString", "the issue date (BT-2)"),
            "ExchangedDocument/IssueDateTime",
            "the issue date (BT-2)",
        ),
        due_date=reader.day(
            due, "…/SpecifiedTradePaymentTerms/DueDateDateTime", "the due date (BT-9)"
        ),
        payment_terms="\n".join(_raw_notes(terms)),
        currency=reader.required(settlement, "InvoiceCurrencyCode", "the currency (BT-5)"),
        amount=reader.amount(
            settlement,
            "SpecifiedTradeSettlementHeaderMonetarySummation/DuePayableAmount",
            "the amount due for payment (BT-115)",
        ),
        buyer=buyer,
        preceding=tuple(
            filter(
                None,
                (
                    _text(ref, "IssuerAssignedID")
                    for ref in _find_all(settlement, "InvoiceReferencedDocument")
                ),
            )
        ),
    )


def _ubl_buyer(reader: _Reader, party: Element) -> Buyer:
    """The buyer (BG-7) of a UBL invoice."""
    address = _find(party, "PostalAddress")
    street = " ".join(
        filter(None, (_text(address, "StreetName"), _text(address, "AdditionalStreetName")))
    )
    endpoint = _find(party, "EndpointID")
    email = (
        endpoint.text.strip()
        if endpoint is not None and endpoint.get("schemeID") == "EM" and endpoint.text
        else None
    )
    vat_id = next(
        (
            _text(scheme, "CompanyID")
            for scheme in _find_all(party, "PartyTaxScheme")
            if (_text(scheme, "TaxScheme/ID") or "VAT").upper() == "VAT"
        ),
        None,
    )
    return Buyer(
        name=_text(party, "PartyLegalEntity/RegistrationName")
        or reader.required(party, "PartyName/Name", "the buyer's name (BT-44)"),
        identifier=_text(party, "PartyIdentification/ID"),
        legal_registration=_text(party, "PartyLegalEntity/CompanyID"),
        vat_id=vat_id,
        email=email or _text(party, "Contact/ElectronicMail"),
        phone=_text(party, "Contact/Telephone"),
        street=street or None,
        city=_text(address, "CityName"),
        postal_code=_text(address, "PostalZone"),
        country=_text(address, "Country/IdentificationCode"),
    )


def _cii_buyer(reader: _Reader, party: Element) -> Buyer:
    """The buyer (BG-7) of a CII invoice."""
    address = _find(party, "PostalTradeAddress")
    street = " ".join(filter(None, (_text(address, "LineOne"), _text(address, "LineTwo"))))
    uri = _find(party, "URIUniversalCommunication/URIID")
    email = (
        uri.text.strip() if uri is not None and uri.get("schemeID") == "EM" and uri.text else None
    )
    vat_id = next(
        (
            (reg.text or "").strip()
            for reg in _find_all(party, "SpecifiedTaxRegistration/ID")
            if reg.get("schemeID") == "VA" and reg.text
        ),
        None,
    )
    return Buyer(
        name=reader.required(party, "Name", "the buyer's name (BT-44)"),
        identifier=_text(party, "ID") or _text(party, "GlobalID"),
        legal_registration=_text(party, "SpecifiedLegalOrganization/ID"),
        vat_id=vat_id,
        email=email or _text(party, "DefinedTradeContact/EmailURIUniversalCommunication/URIID"),
        phone=_text(party, "DefinedTradeContact/TelephoneUniversalCommunication/CompleteNumber"),
        street=street or None,
        city=_text(address, "CityName"),
        postal_code=_text(address, "PostcodeCode"),
        country=_text(address, "CountryID"),
    )


def _raw_notes(terms: list[Element]) -> list[str]:
    """BT-20 with its line breaks kept (Skonto lines `#SKONTO#…#` are one per line)."""
    out = []
    for term in terms:
        node = _find(term, "Description")
        if node is not None and node.text and node.text.strip():
            out.append(node.text.strip())
    return out


def _document(
    reader: _Reader, *, type_code: str, credit: bool, amount: Decimal, **fields: object
) -> EDocument:
    credit = credit or type_code in CREDIT_NOTE_CODES
    return EDocument(
        path=str(reader.path),
        syntax=reader.syntax,
        kind=DocumentKind.CREDIT_NOTE if credit else DocumentKind.INVOICE,
        type_code=type_code,
        amount_due=amount,
        **fields,  # type: ignore[arg-type]
    )


#: Root element (local name) → reader and syntax label.
_ROOTS = {
    "Invoice": (_ubl, "UBL"),
    "CreditNote": (_ubl, "UBL"),
    "CrossIndustryInvoice": (_cii, "CII"),
}


def read_xml(path: Path, data: bytes, syntax: str | None = None) -> EDocument:
    """Parse one XML e-invoice; `syntax` overrides the label (a PDF's embedded XML)."""
    if len(data) > MAX_XML_BYTES:
        raise EInvoiceError(
            path,
            "",
            f"the file is larger than {MAX_XML_BYTES // 2**20} MB",
            "an e-invoice is far smaller; is this the right file?",
        )
    try:
        root = fromstring(data, forbid_dtd=True)
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        reason = str(exc).split(": line ")[0]
        raise EInvoiceError(
            path,
            "",
            f"not well-formed XML at column {column + 1}: {reason}",
            "the file is damaged or not XML; ask the sender for it again",
            line=line,
        ) from None
    except DefusedXmlException as exc:
        raise EInvoiceError(
            path,
            "",
            f"refused: the XML uses {type(exc).__name__} (DTDs and entities)",
            "e-invoices never need a DTD; this file is not a genuine e-invoice",
        ) from None
    name = _local(root.tag)
    if name not in _ROOTS:
        raise EInvoiceError(
            path,
            f"/{name}",
            f"not an e-invoice: the root element is <{name}>",
            "mahnwerk reads XRechnung/EN 16931 as UBL Invoice or CreditNote, or as CII "
            "CrossIndustryInvoice",
        )
    read, label = _ROOTS[name]
    return read(_Reader(path, root, syntax or label))
