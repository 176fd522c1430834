"""Bank statements in the database: import once, book matched credits as payments, queue the rest.

`import_statement` reads a file whole (a broken file raises `StatementError` before the
database is touched), then in *one* transaction stores each entry it has not seen
(`bank_entry.entry_key` is unique: re-importing a file, or an overlapping one, books
nothing twice), matches every new credit and writes what a match means as ordinary
`payment` rows — source `bank`, invoice and customer set, `applied` false — plus a
`bank_payment` line in the event log of each invoice.  The next `mahnwerk run` applies
those payments like any other (`store.run.wake_pending` / `runner._pending_events`); this module
never touches dunning state, so there is one payment path, not two.

Entries that are not matched wait for a person: `list_queue` shows them with the
reason, `assign` books one to invoices a person names, `dismiss` closes one that is not
a customer's payment (a refund, a return that has been dealt with).  Those three are
plain functions so the CLI and the TUI share them.  `rematch` tries the queue again, e.g.
after invoices were imported that a waiting credit names.

The import is here; `booking` holds what both the import and the queue use
(the book the matcher reads, booking a match as payments, learning accounts),
`queue` the functions on entries waiting for a person.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from mahnwerk import clock
from mahnwerk.engine import store
from mahnwerk.engine.bank.booking import (
    _CHUNK,
    QUEUE_STATUSES,
    AssignError,
    BankImportResult,
    _book,
    _note_return,
    _status,
    load_book,
)
from mahnwerk.engine.bank.entries import BankEntry, StatementError, read_statement
from mahnwerk.engine.bank.matching import (
    Decision,
    match,
)
from mahnwerk.engine.bank.queue import (
    assign,
    dismiss,
    entry,
    latest_booking,
    list_queue,
    rematch,
    remember_account,
)
from mahnwerk.engine.store import bank as stored
from mahnwerk.engine.store import lease


def import_statement(
    engine: Engine,
    path: str | Path,
    *,
    now: datetime | None = None,
    actor: str = "bank-import",
    wait: float = lease.DEFAULT_WAIT,
) -> BankImportResult:
    """Import one camt.053/054 or MT940 file whole, or raise `StatementError` and write nothing.

    Written under the book lease, like every import: never beside a run."""
    now = now or clock.now()
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    entries = read_statement(path)
    name = str(path)
    counts = dict.fromkeys(("credits", "matched", "queued", "review", "other", "payments"), 0)
    booked = Decimal("0.00")
    try:
        with lease.holding(engine, f"the import of {name}", wait=wait), engine.begin() as conn:
            known = _known_keys(conn, [e.key for e in entries])
            new = [e for e in entries if e.key not in known]
            if new:
                book = load_book(conn)
                for entry in new:
                    decision = match(entry, book)
                    status = _status(entry, decision)
                    entry_id = _insert_entry(conn, entry, name, status, decision, now)
                    if entry.kind == "credit":
                        counts["credits"] += 1
                    if status == "matched":
                        counts["matched"] += 1
                        counts["payments"] += len(decision.allocations)
                        booked += entry.amount
                        _book(conn, book, entry_id, entry, decision, actor, now)
                    elif status == "unmatched":
                        counts["queued"] += 1
                    elif status == "review":
                        counts["review"] += 1
                        _note_return(conn, book, entry_id, entry, actor, now)
                    else:
                        counts["other"] += 1
            result = BankImportResult(name, len(entries), len(new), booked=booked, **counts)
            if new:
                _log_import(conn, result, actor, now)
    except IntegrityError as exc:
        raise StatementError(
            name,
            f"the database refused the import: {exc.orig}",
            "another import of the same statement may have run at the same time; run it again",
        ) from exc
    return result


def _known_keys(conn: Connection, keys: list[str]) -> set[str]:
    return stored.known_keys(conn, keys, _CHUNK)


def _insert_entry(
    conn: Connection,
    entry: BankEntry,
    file: str,
    status: str,
    decision: Decision,
    now: datetime,
) -> int:
    note = decision.note
    if entry.kind == "return":
        note = (
            "returned payment or direct debit: not a payment; if it reverses money booked "
            "for an invoice, that invoice is open again — check it, then dismiss this entry"
        )
    elif entry.kind == "reversal":
        note = "the bank reversed an earlier booking: check it, then dismiss this entry"
    elif entry.kind == "debit":
        note = ""
    return stored.add_entry(
        conn,
        {
            "entry_key": entry.key,
            "account": entry.account,
            "statement": entry.statement,
            "entry_ref": entry.entry_ref or None,
            "booked_on": entry.booked_on,
            "value_date": entry.value_date,
            "amount": entry.amount,
            "currency": entry.currency,
            "direction": entry.direction,
            "kind": entry.kind,
            "counterparty_name": entry.counterparty_name or None,
            "counterparty_iban": entry.counterparty_iban or None,
            "end_to_end_id": entry.end_to_end_id or None,
            "remittance": entry.remittance,
            "bank_code": entry.bank_code or None,
            "file": file,
            "line": entry.line or None,
            "status": status,
            "matched_by": decision.method or None if status == "matched" else None,
            "customer_id": decision.customer_id,
            "note": note,
            "imported_at": now,
        },
    )


def _log_import(conn: Connection, result: BankImportResult, actor: str, now: datetime) -> None:
    store.log_book_event(conn, "bank_import", actor, now, str(result), result.as_dict())


__all__ = [
    "QUEUE_STATUSES",
    "AssignError",
    "BankImportResult",
    "assign",
    "dismiss",
    "entry",
    "import_statement",
    "latest_booking",
    "list_queue",
    "load_book",
    "rematch",
    "remember_account",
]
