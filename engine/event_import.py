"""Events by import: disputes, promises, holds, payments … from a CSV file.

Every event a person can enter with `mahnwerk event …` can also come from a
file, one event per row, so a support team's export (or a spreadsheet kept by
hand) reaches the engine without typing.  The rules are those of the other
imports (`engine.importer`): the file imports whole or not at all, every bad
cell is reported at once as `FILE:ROW:COLUMN: message — what to do`, and
importing the same file again changes nothing.

Columns (* = required; German names work too, see `COLUMNS`):

    invoice_id*     the invoice number (Rechnungsnummer)
    kind*           an event kind (`EventKind` of dsl/ir.py) or an alias from
                    `KIND_ALIASES`: `Widerspruch`, `Zahlungszusage`, `Zahlung` …
    date*           the day it happened, dd.mm.yyyy or yyyy-mm-dd
    amount          payments only: the amount received (1.234,56 or 1234.56)
    promised_date   promises only: the day the customer promised to pay by
    note            free text for the audit trail

Payments go to the `payment` table (source `import`), where the next run
allocates them like any bank payment (§ 367 BGB); every other event goes to
the `inbox`, which the next run for its date or later applies.

A row has no id of its own, so each gets a stable one: a hash of its content
(invoice, kind, date, amount, promised date, note) and of how many equal rows
came before it in the file — two equal payments on one day are two payments.
The id is stored (in the inbox payload as `import_id`, as the payment's
`external_id`), and rows whose id is already stored are skipped.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from mahnwerk import clock
from mahnwerk.dsl.events import EVENTS
from mahnwerk.dsl.ir import EventKind
from mahnwerk.dsl.statute import BERLIN
from mahnwerk.engine import import_checks, store
from mahnwerk.engine.import_claims import _received_by_now
from mahnwerk.engine.import_columns import _norm_header
from mahnwerk.engine.importer import (
    CellError,
    ColumnSpec,
    ImportFailed,
    Row,
    parse_amount,
    parse_date,
    read_table,
)
from mahnwerk.engine.store import inbox, lease

#: The pseudo-kind of a payment: it goes to the payment table, not to the inbox.
PAYMENT = "payment"
_PAYMENTS = {PAYMENT, EventKind.PAYMENT_FULL.value, EventKind.PAYMENT_PARTIAL.value}

COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec(
        "invoice_id",
        True,
        (
            "rechnungsnummer rechnungs_nr rechnungsnr re_nr rechnung belegnummer beleg_nr "
            "invoice invoice_no"
        ).split(),
    ),
    ColumnSpec("kind", True, "art ereignis vorgang typ event event_kind".split()),
    ColumnSpec("date", True, "datum am ereignisdatum occurred_on event_date".split()),
    ColumnSpec("amount", False, "betrag zahlbetrag".split()),
    ColumnSpec(
        "promised_date",
        False,
        "zugesagt_bis zahlungszusage_bis versprochen_bis zahlung_bis promised until".split(),
    ),
    ColumnSpec("note", False, "notiz bemerkung kommentar vermerk comment".split()),
)

#: Friendly names (normalised like headers: lower case, umlauts spelt out, `_` for gaps).
KIND_ALIASES: dict[str, str] = {
    **dict.fromkeys("zahlung teilzahlung zahlungseingang pay paid".split() + ["payment"], PAYMENT),
    **{alias: spec.kind.value for spec in EVENTS for alias in spec.aliases},
}
"""`payment` is resolved to full or partial on import; every other name comes from the one
table of event kinds, `dsl/events.py`."""


_KINDS = {_norm_header(k): k for k in (*(e.value for e in EventKind), PAYMENT)} | {
    _norm_header(alias): kind for alias, kind in KIND_ALIASES.items()
}


def parse_kind(text: str) -> str:
    """An event kind or alias → the `EventKind` value, or `payment`."""
    value = text.strip()
    if not value:
        raise CellError("event kind is empty", "write e.g. dispute_opened or Widerspruch")
    kind = _KINDS.get(_norm_header(value))
    if kind is None:
        raise CellError(
            f"unknown event kind {value!r}",
            "write one of " + ", ".join(sorted({PAYMENT, *(e.value for e in EventKind)})),
        )
    return kind


# ---------------------------------------------------------------------------
# Reading the file
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# Checking and writing
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventImportResult:
    """What an import did; importing the same file again gives events == payments == 0."""

    path: str
    events: int
    payments: int
    unchanged: int
    ignored_columns: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = (
            f"{self.path}: events: {self.events} recorded, {self.payments} payment(s), "
            f"{self.unchanged} already imported"
        )
        if self.ignored_columns:
            text += f" (ignored columns: {', '.join(self.ignored_columns)})"
        return text


@dataclass(frozen=True, slots=True)
class _Planned:
    import_id: str
    invoice_id: int
    customer_id: int
    currency: str
    kind: str
    on: date
    amount: Decimal | None
    promised_date: date | None
    note: str


def import_id(
    invoice: str, kind: str, on: date, amount: Decimal | None, promised: date | None, note: str
) -> str:
    """The stable id of an event row: the same content gives the same id in every file."""
    text = "\x1f".join(
        (invoice, kind, on.isoformat(), str(amount or ""), str(promised or ""), note)
    )
    return "evt-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


class _Checker(import_checks._Checker):
    """The import's checker (`engine.import_checks`), with one difference: an empty cell is
    no value, not a value to parse, since each event kind fills only the columns it needs."""

    def cell(self, row: Row, column: str, parse: Any) -> Any:
        if not row.cells.get(column, ""):
            return None
        return super().cell(row, column, parse)


_BAD: Any = import_checks._BAD


def _check(checker: _Checker, invoices: dict[str, Any]) -> list[_Planned]:
    """Every row checked (each fault named, in the file's order); the rows to write."""
    planned: list[_Planned] = []
    seen: Counter[str] = Counter()
    for row in checker.table.rows:
        number = row.cells.get("invoice_id", "")
        invoice = _invoice_of(checker, row, number, invoices)
        kind, on = _kind_and_day(checker, row)
        amount = checker.cell(row, "amount", parse_amount)
        promised = checker.cell(row, "promised_date", parse_date)
        note = row.cells.get("note", "")
        _check_amount(checker, row, kind, on, amount)
        _check_promise(checker, row, kind, on, promised)
        if invoice is not None and on is not _BAD and on < invoice.issue_date:
            checker.error(
                row,
                "date",
                f"{on:%d.%m.%Y} is before invoice {number} was issued "
                f"({invoice.issue_date:%d.%m.%Y})",
                "check the date (day and month swapped?) and the invoice number",
            )
        if invoice is None or _BAD in (kind, on, amount, promised):
            continue
        kind = EventKind.PAYMENT_PARTIAL.value if kind in _PAYMENTS else kind
        key = import_id(number, kind, on, amount, promised, note)
        seen[key] += 1
        if seen[key] > 1:  # an equal row: another event of the same content
            key = import_id(number, kind, on, amount, promised, f"{note}\x1f#{seen[key]}")
        planned.append(
            _Planned(key, invoice.id, invoice.customer_id, invoice.currency, kind, on, amount,
                     promised, note)
        )  # fmt: skip
    return planned


def _invoice_of(checker: _Checker, row: Row, number: str, invoices: dict[str, Any]) -> Any:
    invoice = invoices.get(number)
    if not number:
        checker.error(row, "invoice_id", "invoice number is empty", "every row needs one")
    elif invoice is None:
        checker.error(
            row,
            "invoice_id",
            f"unknown invoice {number!r}",
            "import the invoice first (mahnwerk import invoices FILE) or correct the number",
        )
    return invoice


def _kind_and_day(checker: _Checker, row: Row) -> tuple[Any, Any]:
    """The row's event kind and day, both required (`_BAD` after naming a fault)."""
    if not row.cells.get("kind"):
        checker.error(row, "kind", "event kind is empty", "write e.g. Widerspruch or payment")
        kind = _BAD
    else:
        kind = checker.cell(row, "kind", parse_kind)
    on = checker.cell(row, "date", parse_date)
    if on is None:
        checker.error(row, "date", "date is empty", "write the day it happened, dd.mm.yyyy")
        on = _BAD
    return kind, on


def _check_amount(checker: _Checker, row: Row, kind: Any, on: Any, amount: Any) -> None:
    """A payment has a positive amount and was received by now; nothing else has one."""
    if kind in _PAYMENTS:
        if on not in (None, _BAD):
            _received_by_now(checker, row, on)  # not after the import day
        if amount is None:
            checker.error(row, "amount", "a payment needs its amount", "write e.g. 119,00")
        elif amount is not _BAD and amount <= 0:
            checker.error(
                row,
                "amount",
                f"a payment must be more than 0, is {amount}",
                "leave refunds and chargebacks out of this file",
            )
    elif amount not in (None, _BAD) and kind is not _BAD:
        checker.error(
            row,
            "amount",
            f"an amount belongs to a payment, not to {kind}",
            "leave the cell empty, or write payment as the kind",
        )


def _check_promise(checker: _Checker, row: Row, kind: Any, on: Any, promised: Any) -> None:
    """A promise has a promised date on or after the day it was made; nothing else has one."""
    if kind == EventKind.PROMISE_MADE.value:
        if promised is None:
            checker.error(
                row,
                "promised_date",
                "a promise needs the promised date",
                "add a column promised_date (zugesagt_bis) with the day, dd.mm.yyyy",
            )
        elif promised is not _BAD and on is not _BAD and promised < on:
            checker.error(
                row,
                "promised_date",
                f"promised for {promised:%d.%m.%Y}, before the promise ({on:%d.%m.%Y})",
                "check both dates",
            )
    elif promised not in (None, _BAD) and kind is not _BAD:
        checker.error(
            row,
            "promised_date",
            f"a promised date belongs to a promise, not to {kind}",
            "leave the cell empty, or write promise_made as the kind",
        )


def import_events(
    engine: Engine,
    path: str | Path,
    *,
    actor: str = "import",
    now: datetime | None = None,
    wait: float = lease.DEFAULT_WAIT,
    allow_future: bool = False,
) -> EventImportResult:
    """Import one CSV file of events whole, or raise `ImportFailed` and write nothing.

    Like every import it writes under the book lease (never beside a run), waiting up to
    `wait` s for it."""
    now = now or clock.now()
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    path = Path(path)
    table = read_table(path, "events", columns=COLUMNS)
    checker = _Checker(table, now.astimezone(BERLIN).date(), allow_future)
    with lease.holding(engine, f"the import of {path}", wait=wait), engine.begin() as conn:
        planned = _check(checker, _invoices_named(conn, table.rows))
        if checker.errors:
            raise ImportFailed(table.path, checker.errors)
        stored = inbox.stored_import_ids(conn, {p.invoice_id for p in planned})
        new = [p for p in planned if p.import_id not in stored]
        payments = [_payment_row(p, path) for p in new if p.kind == _PARTIAL]
        events = [_inbox_row(p, now, actor) for p in new if p.kind != _PARTIAL]
        if payments:
            inbox.add_payments(conn, payments)
        if events:
            inbox.add_inbox_events(conn, events)
        result = EventImportResult(
            table.path, len(events), len(payments), len(planned) - len(new), table.ignored
        )
        if new:
            store.log_book_event(conn, "import", actor, now, str(result), {
                "kind": "events", "file": result.path, "events": result.events,
                "payments": result.payments, "unchanged": result.unchanged,
            })  # fmt: skip
    return result


_PARTIAL = EventKind.PAYMENT_PARTIAL.value


def _invoices_named(conn: Any, rows: list[Row]) -> dict[str, Any]:
    """The invoices the file's rows name, by number (a row may name an unknown one)."""
    return inbox.invoices_by_number(conn, {r.cells.get("invoice_id", "") for r in rows} - {""})


def _payment_row(p: _Planned, path: Path) -> dict[str, Any]:
    return {
        "external_id": p.import_id,
        "invoice_id": p.invoice_id,
        "customer_id": p.customer_id,
        "booked_on": p.on,
        "amount": p.amount,
        "currency": p.currency,
        "reference": p.note or f"imported from {path.name}",
        "source": "import",
    }


def _inbox_row(p: _Planned, now: datetime, actor: str) -> dict[str, Any]:
    return {
        "invoice_id": p.invoice_id,
        "kind": p.kind,
        "occurred_on": p.on,
        "payload": json.dumps(_payload(p), ensure_ascii=False),
        "recorded_at": now,
        "actor": actor,
    }


def _payload(p: _Planned) -> dict[str, str]:
    """What the runner reads back (`promised_date`, `note`) and the row's import id."""
    payload = {"import_id": p.import_id}
    if p.promised_date is not None:
        payload["promised_date"] = p.promised_date.isoformat()
    if p.note:
        payload["note"] = p.note
    return payload


__all__ = [
    "COLUMNS",
    "KIND_ALIASES",
    "EventImportResult",
    "import_events",
    "import_id",
    "parse_kind",
]
