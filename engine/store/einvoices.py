"""What `mahnwerk import einvoice` reads and writes (`engine/einvoice/load`): the
customers it matches a buyer against, the e-invoice documents imported before, and the
customers, invoices, documents and credit-note payments an import writes.

Part of the store layer (`engine/store/`).  Every function runs on the importer's own
connection, inside its one transaction, so a set of files is imported whole or not at
all.  A document is recognised again by kind and number (`einvoice_document`), so the
same file imported twice creates nothing twice; which changes an import may make (none
once an invoice is in dunning) is `einvoice/load`'s rule.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from mahnwerk.engine.models import Customer, DunningState, EInvoiceDocument, Invoice, Payment

CUST = Customer.__table__  # type: ignore[attr-defined]
INV = Invoice.__table__  # type: ignore[attr-defined]
DOC = EInvoiceDocument.__table__  # type: ignore[attr-defined]
PAY = Payment.__table__  # type: ignore[attr-defined]
DS = DunningState.__table__  # type: ignore[attr-defined]


def customer_keys(conn: Connection) -> list[Any]:
    """Every customer's id with what a buyer is matched by: number, VAT id, name, postal code."""
    return conn.execute(
        select(CUST.c.id, CUST.c.external_id, CUST.c.vat_id, CUST.c.name, CUST.c.postal_code)
    ).all()


def set_vat_id(conn: Connection, customer_id: int, vat_id: str) -> None:
    """Fill in a customer's missing VAT id (the one change an import makes to a customer)."""
    conn.execute(update(CUST).where(CUST.c.id == customer_id).values(vat_id=vat_id))


def add_customer(conn: Connection, values: dict[str, Any]) -> int:
    """A new customer; its id."""
    return conn.execute(insert(CUST).values(values)).inserted_primary_key[0]


def document(conn: Connection, kind: str, number: str) -> Any:
    """The document of this kind and number imported before, or None."""
    return conn.execute(select(DOC).where(DOC.c.kind == kind, DOC.c.number == number)).first()


def add_document(conn: Connection, values: dict[str, Any]) -> None:
    """Record an imported document (what recognises it the next time)."""
    conn.execute(insert(DOC).values(**values))


def delete_document(conn: Connection, document_id: int) -> None:
    """Remove a document's record (it is replaced by the corrected one)."""
    conn.execute(DOC.delete().where(DOC.c.id == document_id))


def invoice_id(conn: Connection, number: str) -> int | None:
    """An invoice's internal id by its number, or None."""
    return conn.execute(select(INV.c.id).where(INV.c.external_id == number)).scalar()


def invoice(conn: Connection, number: str) -> Any:
    """An invoice's row by its number, or None."""
    return conn.execute(select(INV).where(INV.c.external_id == number)).first()


def add_invoice(conn: Connection, values: dict[str, Any]) -> int:
    """A new invoice; its id."""
    return conn.execute(insert(INV).values(values)).inserted_primary_key[0]


def update_invoice(conn: Connection, invoice_id: int, values: dict[str, Any]) -> None:
    """Change an invoice not yet in dunning (its amount, due date, terms; or closed)."""
    conn.execute(update(INV).where(INV.c.id == invoice_id).values(values))


def in_dunning(conn: Connection, invoice_id: int) -> bool:
    """Whether a run has taken the invoice up (it has a dunning state)."""
    return (
        conn.execute(select(DS.c.invoice_id).where(DS.c.invoice_id == invoice_id)).first()
        is not None
    )


def add_payment(conn: Connection, values: dict[str, Any]) -> None:
    """A payment for the next run to apply (a credit note on an invoice in dunning)."""
    conn.execute(insert(PAY).values(**values))
