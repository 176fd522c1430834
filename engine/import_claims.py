"""Checking imported invoices and payments: the fields the engine relies on once
it has taken an invoice up, Skonto terms, and payments' matches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Table

from mahnwerk.engine.import_cells import (
    parse_amount,
    parse_bool,
    parse_claim_kind,
    parse_currency,
    parse_date,
)
from mahnwerk.engine.import_checks import (
    _BAD,
    _Checker,
    _Plan,
    _plan_upsert,
    _positive,
)
from mahnwerk.engine.import_table import Row
from mahnwerk.engine.models import Invoice, Payment
from mahnwerk.engine.store.imports import (
    customer_ids,
    existing,
    invoice_keys,
    invoices_in_dunning,
)
from mahnwerk.engine.terms import MAX_TIERS, TermError, tier_from_cells, tiers_json

# Fields of an invoice the engine relies on once it has taken the invoice up.
_INVOICE_LOCKED = ("customer_id", "due_date", "amount", "currency", "skonto_terms")


def _skonto_cells(checker: _Checker, row: Row, present: Iterable[str]) -> Any:
    """The row's Skonto tiers as stored (JSON), or `_BAD` after naming the cell at fault.

    A tier is days and percent together; a tier with one of the two is an error, never
    half a term.  Tiers are kept in the order of their numbers, empty ones left out.
    """
    tiers = []
    bad = False
    for n in range(1, MAX_TIERS + 1):
        cells = {
            part: row.cells.get(f"skonto_{n}_{part}", "").strip()
            for part in ("days", "percent", "base")
        }
        if not any(cells.values()):
            continue
        missing = [part for part in ("days", "percent") if not cells[part]]
        if missing:
            column = f"skonto_{n}_{missing[0]}"
            word = "Tage" if missing[0] == "days" else "Prozent"
            checker.error(
                row,
                column if column in present else f"skonto_{n}_days",
                f"Skonto tier {n} has no {missing[0]}",
                f"fill in `Skonto {n} {word}` or leave the whole tier empty",
            )
            bad = True
            continue
        try:
            tiers.append(tier_from_cells(cells["days"], cells["percent"], cells["base"]))
        except TermError as exc:
            checker.error(row, f"skonto_{n}_{exc.part or 'days'}", exc.message, exc.hint)
            bad = True
    return _BAD if bad else tiers_json(tiers)


def _check_invoices(checker: _Checker, conn: Connection) -> tuple[_Plan, Table]:
    table: Table = Invoice.__table__  # type: ignore[attr-defined]
    present = checker.table.columns.keys()
    stored = existing(conn, table, _invoice_fields(present))
    customers = customer_ids(conn)
    in_dunning = invoices_in_dunning(conn)
    rows = checker.table.rows
    checker.unique(rows, "invoice_id", "invoice number")
    plan = _Plan()
    for row in rows:
        external_id = checker.required(row, "invoice_id", "invoice number")
        customer_no = checker.required(row, "customer_id", "customer number")
        customer_id = customers.get(customer_no) if customer_no else None
        if customer_no and customer_id is None:
            checker.error(
                row,
                "customer_id",
                f"unknown customer {customer_no!r}",
                "import the customer first (mahnwerk import customers FILE) or correct the number",
            )
        old = stored.get(external_id) if external_id else None
        values = _invoice_values(checker, row, customer_id, old)
        _check_invoice_dates(checker, row, values)
        if external_id is None or customer_id is None or any(v is _BAD for v in values.values()):
            continue
        values["external_id"] = external_id
        if old is not None and old["id"] in in_dunning:
            changed = [c for c in _INVOICE_LOCKED if c in values and old[c] != values[c]]
            subject = f"invoice {external_id} is already in dunning"
            hint = "book a credit note or correction through mahnwerk instead"
            if _refused_changes(checker, row, changed, subject, hint):
                continue
        _plan_upsert(plan, values, old)
    return plan, table


_INVOICE_OPTIONAL = ("due_date_agreed", "notice_30_days", "received_on", "claim_kind")


def _invoice_fields(present: Iterable[str]) -> list[str]:
    """The invoice columns an import of these columns reads and may change."""
    present = list(present)
    return [
        "customer_id",
        "issue_date",
        "due_date",
        "amount",
        "currency",
        *(c for c in _INVOICE_OPTIONAL if c in present),
        *(["skonto_terms"] if any(c.startswith("skonto_") for c in present) else []),
    ]


def _received_on(text: str) -> date | None:
    return parse_date(text) if text.strip() else None


#: Optional invoice columns read when the file has them: column → parser.
_OPTIONAL_CELLS: dict[str, Callable[[str], Any]] = {
    "due_date_agreed": parse_bool,
    "notice_30_days": parse_bool,
    "claim_kind": parse_claim_kind,
}


def _invoice_values(
    checker: _Checker, row: Row, customer_id: int | None, old: dict[str, Any] | None
) -> dict[str, Any]:
    """The row's invoice fields parsed (`_BAD` where a cell was wrong and named)."""
    present = checker.table.columns.keys()
    values: dict[str, Any] = {
        "customer_id": customer_id,
        "issue_date": checker.cell(row, "issue_date", parse_date),
        "due_date": checker.cell(row, "due_date", parse_date),
        "amount": checker.cell(row, "amount", parse_amount),
        "currency": checker.cell(row, "currency", parse_currency),
    }
    if "currency" not in present and old is not None:
        values["currency"] = old["currency"]
    for column, parse in _OPTIONAL_CELLS.items():
        if column in present:
            values[column] = checker.cell(row, column, parse)
    if any(c.startswith("skonto_") for c in present):
        values["skonto_terms"] = _skonto_cells(checker, row, present)
    if "received_on" in present:
        values["received_on"] = checker.cell(row, "received_on", _received_on)
    _positive(checker, row, values["amount"], "an invoice amount")
    return values


def _check_invoice_dates(checker: _Checker, row: Row, values: dict[str, Any]) -> None:
    """Due and received on or after the issue date."""
    issued, due = values["issue_date"], values["due_date"]
    if issued is not _BAD and due is not _BAD and due < issued:
        checker.error(
            row,
            "due_date",
            f"due date {due:%d.%m.%Y} is before the issue date {issued:%d.%m.%Y}",
            "check both dates (day and month swapped?)",
        )
    received = values.get("received_on")
    if received not in (None, _BAD) and issued is not _BAD and received < issued:
        checker.error(
            row,
            "received_on",
            f"received on {received:%d.%m.%Y}, before it was issued ({issued:%d.%m.%Y})",
            "check the date of receipt",
        )


def _refused_changes(
    checker: _Checker,
    row: Row,
    changed: list[str],
    subject: str,
    hint: str,
    cells: dict[str, str] | None = None,
) -> bool:
    """Name each field an import may not change on a record the engine has taken up.

    `cells`: the file's column where it differs from the field (a payment's `date`).
    """
    for column in changed:
        checker.error(
            row,
            (cells or {}).get(column, column),
            f"{subject}; its {column.replace('_', ' ')} cannot change by import",
            hint,
        )
    return bool(changed)


@dataclass
class _Known:
    """What a payment import checks its rows against."""

    existing: dict[str, dict[str, Any]]  # payments by their id
    invoices: dict[str, Any]  # by invoice number: id, customer, currency
    customers: dict[str, int]  # by customer number

    @classmethod
    def read(cls, conn: Connection, table: Table) -> _Known:
        fields = ["customer_id", "invoice_id", "booked_on", "amount", "currency", "reference",
                  "applied"]  # fmt: skip
        return cls(existing(conn, table, fields), invoice_keys(conn), customer_ids(conn))


def _check_payments(checker: _Checker, conn: Connection) -> tuple[_Plan, Table]:
    table: Table = Payment.__table__  # type: ignore[attr-defined]
    known = _Known.read(conn, table)
    rows = checker.table.rows
    checker.unique(rows, "payment_id", "payment id")
    plan = _Plan()
    for row in rows:
        found = _payment(checker, row, known)
        if found is not None:
            _plan_upsert(plan, *found)
    return plan, table


def _payment(
    checker: _Checker, row: Row, known: _Known
) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
    """The row's payment and the stored one it changes, or None after naming what is wrong."""
    present = checker.table.columns.keys()
    external_id = checker.required(row, "payment_id", "payment id")
    booked_on = checker.cell(row, "date", parse_date)
    amount = checker.cell(row, "amount", parse_amount)
    currency = checker.cell(row, "currency", parse_currency)
    _positive(checker, row, amount, "a payment")
    ok = external_id is not None and _BAD not in (booked_on, amount, currency)
    if ok and not _received_by_now(checker, row, booked_on):
        ok = False
    invoice_no = row.cells.get("invoice_id", "")
    reference = row.cells.get("reference", "") or None
    customer_no = row.cells.get("customer_id", "")
    invoice = known.invoices.get(invoice_no) if invoice_no else None
    customer_id = known.customers.get(customer_no) if customer_no else None
    old = known.existing.get(external_id) if external_id else None
    if "currency" not in present:
        # No currency column: the invoice's, else what was stored, else EUR.
        currency = invoice.currency if invoice else (old or {}).get("currency", "EUR")
    named = _payment_refs(checker, row, invoice_no, invoice, reference, customer_no, customer_id)
    ok = named and ok
    if invoice is not None:
        ok = _fits_invoice(checker, row, invoice_no, invoice, currency, customer_id) and ok
    if not ok:
        return None
    assert external_id is not None
    values: dict[str, Any] = {
        "external_id": external_id,
        "booked_on": booked_on,
        "amount": amount,
        "currency": currency,
        "reference": reference if "reference" in present else (old or {}).get("reference"),
        # An empty cell never undoes a match the engine made.
        "invoice_id": invoice.id if invoice else (old or {}).get("invoice_id"),
        "customer_id": (invoice.customer_id if invoice else customer_id)
        or (old or {}).get("customer_id"),
    }
    if old is not None and old["applied"]:
        frozen = ("booked_on", "amount", "currency", "invoice_id")
        changed = [c for c in frozen if old[c] != values[c]]
        subject = f"payment {external_id} is already applied"
        hint = "reverse and re-book it through mahnwerk instead"
        if _refused_changes(checker, row, changed, subject, hint, {"booked_on": "date"}):
            return None
    if old is None:
        values["source"] = "import"
    return values, old


def _payment_refs(
    checker: _Checker,
    row: Row,
    invoice_no: str,
    invoice: Any,
    reference: str | None,
    customer_no: str,
    customer_id: int | None,
) -> bool:
    """The payment names something to match it by, and what it names exists."""
    either = "invoice_id" if "invoice_id" in checker.table.columns.keys() else "reference"
    return checker.passes(
        row,
        (
            (
                not invoice_no and not reference,
                either,
                "neither an invoice number nor a reference",
                "give the invoice number, or the bank's Verwendungszweck to match",
            ),
            (
                bool(invoice_no) and invoice is None,
                "invoice_id",
                f"unknown invoice {invoice_no!r}",
                "import the invoice first, or leave invoice_id empty and give "
                "the reference so the engine can match it",
            ),
            (
                bool(customer_no) and customer_id is None,
                "customer_id",
                f"unknown customer {customer_no!r}",
                "import the customer first or leave the cell empty",
            ),
        ),
    )


def _fits_invoice(
    checker: _Checker, row: Row, invoice_no: str, invoice: Any, currency: Any, customer_id: Any
) -> bool:
    """A payment for an invoice is in its currency and from its customer."""
    return checker.passes(
        row,
        (
            (
                currency is not _BAD and currency != invoice.currency,
                "currency",
                f"payment in {currency} for invoice {invoice_no} in {invoice.currency}",
                "book the amount in the invoice's currency",
            ),
            (
                customer_id is not None and customer_id != invoice.customer_id,
                "customer_id",
                f"invoice {invoice_no} belongs to another customer",
                "correct the customer number or the invoice number",
            ),
        ),
    )


def _received_by_now(checker: _Checker, row: Row, booked_on: date) -> bool:
    """A payment dated after the import day has not been received: refused, or held.

    Money "received" in 2030 would lower the balance, stop interest and cancel letters
    now.  With `allow_future` (an announced transfer, a standing order) it is imported and
    waits: a run applies a payment only from its date on (`booked_on <= as_of`).
    """
    if checker.today is None or booked_on <= checker.today or checker.allow_future:
        return True
    checker.error(
        row,
        "date",
        f"payment dated {booked_on:%d.%m.%Y}, after today ({checker.today:%d.%m.%Y}): "
        "it cannot have been received yet",
        "correct the date; to record an announced payment, import with --allow-future "
        "and it is held until its date",
    )
    return False
