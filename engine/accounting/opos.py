"""`mahnwerk import opos`: a DATEV open-items list (OPOS) of debtors, as customers and invoices.

A DATEV user starts from what DATEV exports — "Offene Posten" of the debtors, one line
per open item: the personal account (Konto, the customer number), its name, the document
number (Belegfeld 1), document date, due date, amount and the Soll/Haben flag.  Headers
are matched by the names DATEV and its partner programs write (see `OPOS_COLUMNS`); a
debit item (`S`, or a positive amount without a flag) is an open invoice.  A credit item
(`H`: an unallocated payment or a credit note) is not an invoice: it is listed in the
result, to be booked as a payment, never silently dropped.

The file is checked with the same rules as mahnwerk's own CSV imports (the same parsers,
the same located errors: file, line, column) and imported in one transaction: customers
and invoices together or nothing.  A new customer needs its type, which an OPOS list does
not carry (`customer_type`, the command's `--type`): consumers and businesses are dunned
under different law, so mahnwerk never guesses it.  Existing customers keep their data
except the name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from mahnwerk import clock
from mahnwerk.engine.import_checks import _Checker
from mahnwerk.engine.import_columns import _names
from mahnwerk.engine.importer import (
    _CHECKS,
    ColumnSpec,
    CsvTable,
    ImportFailed,
    Row,
    RowError,
    _write,
    read_table,
)
from mahnwerk.engine.store.accounting import customer_types

OPOS_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("account", True, _names(
        "konto kontonummer konto_nr debitor debitorennummer personenkonto kundennummer")),
    ColumnSpec("name", False, _names(
        "kontobezeichnung name debitorenname geschaeftspartner kunde beschriftung")),
    ColumnSpec("document", True, _names(
        "belegfeld_1 belegfeld1 rechnungsnummer rechnungs_nr belegnummer beleg_nr beleg")),
    ColumnSpec("document_date", True, _names("belegdatum rechnungsdatum datum")),
    ColumnSpec("due_date", False, _names("faelligkeit faellig_am faelligkeitsdatum faellig")),
    ColumnSpec("amount", True, _names(
        "betrag offener_betrag op_betrag saldo umsatz restbetrag offen")),
    ColumnSpec("side", False, _names("soll_haben soll_haben_kennzeichen s_h sh")),
    ColumnSpec("currency", False, _names("wkz waehrung")),
)  # fmt: skip


@dataclass(slots=True)
class OposResult:
    customers: int = 0
    invoices: int = 0
    unchanged: int = 0
    credits: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"{c} — a credit item, not imported: book it as a payment" for c in self.credits]
        lines.append(
            f"{self.customers} customer(s) and {self.invoices} invoice(s) new or updated, "
            f"{self.unchanged} unchanged; {len(self.credits)} credit item(s) left out"
        )
        return "\n".join(lines)


def _is_credit(row: Row) -> bool:
    side = row.cells.get("side", "").strip().upper()
    return side == "H" or (not side and row.cells.get("amount", "").strip().startswith("-"))


def import_opos(
    engine: Engine, path: Path, customer_type: str | None = None, now: datetime | None = None
) -> OposResult:
    """Import the open items of `path` whole, or raise `ImportFailed` and write nothing."""
    now = now or clock.now()
    opos = read_table(path, "opos", str(path), columns=OPOS_COLUMNS)
    result = OposResult()
    debits = []
    for row in opos.rows:
        if _is_credit(row):
            result.credits.append(
                f"{opos.path}:{row.line}: {row.cells.get('document')} {row.cells.get('amount')}"
            )
        else:
            debits.append(row)
    with engine.begin() as conn:
        customers = _customer_table(opos, debits, customer_types(conn), customer_type)
        invoices = _invoice_table(opos, debits)
        errors: list[RowError] = []
        for table, counts in ((customers, "customers"), (invoices, "invoices")):
            checker = _Checker(table)
            plan, db_table = _CHECKS[counts](checker, conn)  # type: ignore[index]
            errors += checker.errors
            if checker.errors:
                break
            _write(conn, db_table, plan)
            changed = len(plan.inserts) + len(plan.updates)
            if counts == "customers":
                result.customers = changed
            else:
                result.invoices, result.unchanged = changed, plan.unchanged
        if errors:  # raising inside the transaction rolls the customers back too
            raise ImportFailed(opos.path, [_hint_type(e) for e in errors])
    return result


def _customer_table(
    opos: CsvTable, debits: list[Row], known: dict[str, str], customer_type: str | None
) -> CsvTable:
    """The list's accounts as the customer import reads them: one row per account, a known
    customer keeping its type, a new one taking `--type` (empty: the check says how)."""
    written = opos.columns
    customers = CsvTable(
        opos.path,
        opos.header_line,
        {
            "customer_id": written["account"],
            "name": written.get("name", written["account"]),
            "type": "--type",
        },
    )
    seen: set[str] = set()
    for row in debits:
        number = row.cells["account"]
        if number in seen:
            continue
        seen.add(number)
        customers.rows.append(
            Row(
                row.line,
                {
                    "customer_id": number,
                    "name": row.cells.get("name") or number,
                    "type": known.get(number) or customer_type or "",
                },
            )
        )
    return customers


def _invoice_table(opos: CsvTable, debits: list[Row]) -> CsvTable:
    """The list's debits as the invoice import reads them (a due date defaults to the
    document's date, the currency to EUR), so its checks and messages apply unchanged."""
    written = opos.columns
    invoices = CsvTable(
        opos.path,
        opos.header_line,
        {
            "invoice_id": written["document"],
            "customer_id": written["account"],
            "issue_date": written["document_date"],
            "due_date": written.get("due_date", written["document_date"]),
            "amount": written["amount"],
            "currency": written.get("currency", "currency"),
        },
    )
    for row in debits:
        amount = row.cells["amount"].strip().lstrip("+")
        invoices.rows.append(
            Row(
                row.line,
                {
                    "invoice_id": row.cells["document"],
                    "customer_id": row.cells["account"],
                    "issue_date": row.cells["document_date"],
                    "due_date": row.cells.get("due_date") or row.cells["document_date"],
                    "amount": amount,
                    "currency": row.cells.get("currency") or "EUR",
                },
            )
        )
    return invoices


def _hint_type(error: RowError) -> RowError:
    """A new customer without a type: say how to give it (the list cannot)."""
    if "customer type is empty" in error.message:
        return RowError(
            error.path,
            error.line,
            error.column,
            "a new customer, and the OPOS list does not say whether it is a business or a consumer",
            "import the customers first, or give --type B2B or --type B2C",
        )
    return error


__all__ = ["OPOS_COLUMNS", "OposResult", "import_opos"]
