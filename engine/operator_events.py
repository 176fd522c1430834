"""What operators do besides deciding approvals: one event for several invoices, notes,
withdrawing an event no run has taken yet, finishing worklist items, write-offs with four eyes.

Everything here writes through the same doors the engine already has — the inbox,
which the next run applies, and the append-only event log — so an operator's act
from the terminal UI is the same fact as the same act from the CLI or an import.
Two operators may act on the same item at once: the database keeps the first word
(`work_done`'s unique key, the inbox row that is or is not still there) and the
second is told who was first, never silently overwritten.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from mahnwerk.engine.store import operator_events as store
from mahnwerk.engine.store.invoices import LOG_ONLY_KINDS, NotFound


class AlreadyDecided(Exception):
    """Someone else acted on this item first; the message names who and when."""


class OperatorError(ValueError):
    """An act that cannot be done as asked (the message says what to do instead)."""


def _invoice_ids(conn: Connection, invoices: list[str]) -> dict[str, int]:
    found = store.invoice_ids(conn, invoices)
    missing = [i for i in invoices if i not in found]
    if missing:
        raise NotFound(f"no invoice {', '.join(missing)}: check the number")
    return found


def record_for_invoices(
    engine: Engine,
    invoices: list[str],
    kind: str,
    on: date,
    actor: str,
    now: datetime,
    payload: dict[str, Any] | None = None,
) -> list[int]:
    """One event for several invoices of a customer (a promise covering four open invoices),
    in one transaction: all of them are recorded or none.  Returns the inbox ids."""
    from mahnwerk.dsl.ir import EventKind

    if kind not in LOG_ONLY_KINDS:
        EventKind(kind)
    if not invoices:
        raise OperatorError("no invoice chosen: mark at least one")
    body = json.dumps(payload or {})
    with engine.begin() as conn:
        ids = _invoice_ids(conn, invoices)
        return [store.add_inbox(conn, ids[ext], kind, on, body, now, actor) for ext in invoices]


def _withdrawn_payload(inbox_id: int, row: Any) -> str:
    """The withdrawal's log payload; it starts with the inbox id so it can be looked up."""
    return json.dumps(
        {
            "inbox_id": inbox_id,
            "kind": row.kind,
            "occurred_on": row.occurred_on.isoformat(),
            "recorded_by": row.actor,
            "recorded_at": row.recorded_at.isoformat(),
            "payload": json.loads(row.payload or "{}"),
        }
    )


def withdraw(engine: Engine, inbox_id: int, actor: str, now: datetime, today: date) -> str:
    """Undo an event that is recorded but not yet applied by a run.

    The inbox row goes (the run will not see it) and the event log keeps what was
    withdrawn, by whom and when — the audit trail shows both the mistake and its undo.
    An event a run has applied cannot be withdrawn: its consequences are booked, so the
    operator records the opposite event instead (a release for a hold …).
    """
    with engine.begin() as conn:
        row = store.inbox_row(conn, inbox_id)
        if row is None:
            gone = store.withdrawal(conn, inbox_id)
            if gone is not None:
                raise AlreadyDecided(
                    f"event {inbox_id} was already withdrawn by {gone.actor} "
                    f"at {gone.recorded_at:%Y-%m-%d %H:%M}"
                )
            raise NotFound(f"no recorded event {inbox_id}")
        if row.applied_run_id is not None:
            run_day = store.run_day(conn, row.applied_run_id)
            raise OperatorError(
                f"the {row.kind} of {row.occurred_on} was applied by the run of {run_day}; "
                "it cannot be withdrawn — record the opposite event instead"
            )
        if not store.delete_unapplied(conn, inbox_id):
            raise AlreadyDecided(f"event {inbox_id} was taken by a run a moment ago; refresh")
        store.log_event(
            conn,
            invoice_id=row.invoice_id,
            kind=f"withdrawn_{row.kind}",
            occurred_on=today,
            recorded_at=now,
            actor=actor,
            message=f"{row.kind} of {row.occurred_on} recorded by {row.actor} withdrawn",
            payload=_withdrawn_payload(inbox_id, row),
        )
    return f"withdrawn: {row.kind} of {row.occurred_on} (recorded by {row.actor})"


def finish_item(
    engine: Engine,
    item_kind: str,
    item_id: int,
    outcome: str,
    actor: str,
    now: datetime,
    invoice_id: int | None = None,
    note: str = "",
) -> None:
    """Mark a worklist item done (a call made, a task done) and log it.

    Raises `AlreadyDecided` naming the first person when someone was quicker.
    """
    try:
        with engine.begin() as conn:
            _finish(conn, item_kind, item_id, outcome, actor, now, invoice_id, note)
    except IntegrityError:
        raise AlreadyDecided(_who_finished(engine, item_kind, item_id)) from None


def _finish(
    conn: Connection,
    item_kind: str,
    item_id: int,
    outcome: str,
    actor: str,
    now: datetime,
    invoice_id: int | None,
    note: str,
) -> None:
    store.add_work_done(conn, item_kind, item_id, outcome, note, actor, now)
    store.log_event(
        conn,
        invoice_id=invoice_id,
        kind=f"{item_kind}_done",
        occurred_on=now.date(),
        recorded_at=now,
        actor=actor,
        message=f"{item_kind} {outcome}" + (f": {note}" if note else ""),
        payload=json.dumps({"item_id": item_id, "outcome": outcome}),
    )


def _who_finished(engine: Engine, item_kind: str, item_id: int) -> str:
    row = store.work_done(engine, item_kind, item_id)
    if row is None:
        return f"{item_kind} {item_id} was changed by someone else; refresh"
    return (
        f"{item_kind} {item_id} was already {row.outcome} by {row.actor} "
        f"at {row.done_at:%Y-%m-%d %H:%M}"
    )


# ---------------------------------------------------------------------------
# Write-offs: four eyes above a configured amount
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WriteOffRequest:
    id: int  # the log row of the request
    invoice: str
    balance: Decimal
    reason: str
    requested_by: str
    requested_on: date


def write_off(
    engine: Engine,
    invoice: str,
    balance: Decimal,
    reason: str,
    actor: str,
    now: datetime,
    on: date,
    four_eyes_above: Decimal,
) -> str:
    """Write an invoice off: at once up to `four_eyes_above`, else as a request a second,
    different person confirms (`decide_write_off`).  A reason is always needed."""
    reason = reason.strip()
    if not reason:
        raise OperatorError("a write-off needs a reason for the audit log")
    if balance <= four_eyes_above:
        record_for_invoices(engine, [invoice], "write_off", on, actor, now, {"note": reason})
        return f"write-off of {invoice} recorded; the next run books it"
    with engine.begin() as conn:
        iid = _invoice_ids(conn, [invoice])[invoice]
        store.log_event(
            conn,
            invoice_id=iid,
            kind="write_off_requested",
            occurred_on=on,
            recorded_at=now,
            actor=actor,
            message=reason,
            payload=json.dumps({"balance": str(balance), "four_eyes_above": str(four_eyes_above)}),
        )
    return (
        f"write-off of {invoice} ({balance} EUR, above {four_eyes_above}) requested; "
        "a second person confirms it on the Today screen"
    )


def pending_write_offs(engine: Engine, limit: int = 200) -> list[WriteOffRequest]:
    rows = store.write_off_requests(engine, limit)
    return [
        WriteOffRequest(
            r.id,
            r.external_id,
            Decimal(json.loads(r.payload)["balance"]),
            r.message,
            r.actor,
            r.occurred_on,
        )
        for r in rows
    ]


def decide_write_off(
    engine: Engine, request: WriteOffRequest, actor: str, approve: bool, now: datetime
) -> str:
    """The second person's word on a write-off request; the requester cannot confirm it."""
    if actor == request.requested_by:
        raise OperatorError(
            f"{actor} asked for this write-off; a different person must confirm it (four eyes)"
        )
    outcome = "confirmed" if approve else "turned down"
    try:
        with engine.begin() as conn:
            iid = _invoice_ids(conn, [request.invoice])[request.invoice]
            _finish(conn, "write_off", request.id, outcome, actor, now, iid, request.reason)
            if approve:
                note = f"{request.reason} (asked by {request.requested_by}, confirmed by {actor})"
                body = json.dumps({"note": note})
                store.add_inbox(conn, iid, "write_off", now.date(), body, now, actor)
    except IntegrityError:
        raise AlreadyDecided(_who_finished(engine, "write_off", request.id)) from None
    return f"write-off of {request.invoice} {outcome} by {actor}"
