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

from sqlalchemy import Connection, Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from mahnwerk.engine.models import EVENT, INBOX, INV, RUN, WORK_DONE
from mahnwerk.engine.store.invoices import LOG_ONLY_KINDS, NotFound


class AlreadyDecided(Exception):
    """Someone else acted on this item first; the message names who and when."""


class OperatorError(ValueError):
    """An act that cannot be done as asked (the message says what to do instead)."""


def _invoice_ids(conn: Connection, invoices: list[str]) -> dict[str, int]:
    rows = conn.execute(
        select(INV.c.external_id, INV.c.id).where(INV.c.external_id.in_(invoices))
    ).all()
    found = {ext: iid for ext, iid in rows}
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
        return [
            conn.execute(
                insert(INBOX).values(
                    invoice_id=ids[ext],
                    kind=kind,
                    occurred_on=on,
                    payload=body,
                    recorded_at=now,
                    actor=actor,
                )
            ).inserted_primary_key[0]
            for ext in invoices
        ]


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
        row = conn.execute(select(INBOX).where(INBOX.c.id == inbox_id)).first()
        if row is None:
            gone = conn.execute(
                select(EVENT.c.actor, EVENT.c.recorded_at).where(
                    EVENT.c.kind.like("withdrawn_%"),
                    EVENT.c.payload.like(f'{{"inbox_id": {inbox_id},%'),
                )
            ).first()
            if gone is not None:
                raise AlreadyDecided(
                    f"event {inbox_id} was already withdrawn by {gone.actor} "
                    f"at {gone.recorded_at:%Y-%m-%d %H:%M}"
                )
            raise NotFound(f"no recorded event {inbox_id}")
        if row.applied_run_id is not None:
            run_day = conn.execute(
                select(RUN.c.as_of).where(RUN.c.id == row.applied_run_id)
            ).scalar()
            raise OperatorError(
                f"the {row.kind} of {row.occurred_on} was applied by the run of {run_day}; "
                "it cannot be withdrawn — record the opposite event instead"
            )
        done = conn.execute(
            delete(INBOX).where(INBOX.c.id == inbox_id, INBOX.c.applied_run_id.is_(None))
        )
        if not done.rowcount:
            raise AlreadyDecided(f"event {inbox_id} was taken by a run a moment ago; refresh")
        conn.execute(
            insert(EVENT).values(
                invoice_id=row.invoice_id,
                kind=f"withdrawn_{row.kind}",
                occurred_on=today,
                recorded_at=now,
                actor=actor,
                message=f"{row.kind} of {row.occurred_on} recorded by {row.actor} withdrawn",
                payload=_withdrawn_payload(inbox_id, row),
            )
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
    conn.execute(
        insert(WORK_DONE).values(
            item_kind=item_kind, item_id=item_id, outcome=outcome, note=note, actor=actor,
            done_at=now,
        )
    )  # fmt: skip
    conn.execute(
        insert(EVENT).values(
            invoice_id=invoice_id,
            kind=f"{item_kind}_done",
            occurred_on=now.date(),
            recorded_at=now,
            actor=actor,
            message=f"{item_kind} {outcome}" + (f": {note}" if note else ""),
            payload=json.dumps({"item_id": item_id, "outcome": outcome}),
        )
    )


def _who_finished(engine: Engine, item_kind: str, item_id: int) -> str:
    with engine.connect() as conn:
        row = conn.execute(
            select(WORK_DONE).where(
                WORK_DONE.c.item_kind == item_kind, WORK_DONE.c.item_id == item_id
            )
        ).first()
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
        conn.execute(
            insert(EVENT).values(
                invoice_id=iid,
                kind="write_off_requested",
                occurred_on=on,
                recorded_at=now,
                actor=actor,
                message=reason,
                payload=json.dumps(
                    {"balance": str(balance), "four_eyes_above": str(four_eyes_above)}
                ),
            )
        )
    return (
        f"write-off of {invoice} ({balance} EUR, above {four_eyes_above}) requested; "
        "a second person confirms it on the Today screen"
    )


def pending_write_offs(engine: Engine, limit: int = 200) -> list[WriteOffRequest]:
    done = select(WORK_DONE.c.item_id).where(WORK_DONE.c.item_kind == "write_off")
    with engine.connect() as conn:
        rows = conn.execute(
            select(EVENT, INV.c.external_id)
            .join(INV, INV.c.id == EVENT.c.invoice_id)
            .where(EVENT.c.kind == "write_off_requested", EVENT.c.id.not_in(done))
            .order_by(EVENT.c.id)
            .limit(limit)
        ).all()
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
                conn.execute(
                    insert(INBOX).values(
                        invoice_id=iid,
                        kind="write_off",
                        occurred_on=now.date(),
                        payload=json.dumps(
                            {"note": f"{request.reason} (asked by {request.requested_by}, "
                                     f"confirmed by {actor})"}
                        ),
                        recorded_at=now,
                        actor=actor,
                    )
                )  # fmt: skip
    except IntegrityError:
        raise AlreadyDecided(_who_finished(engine, "write_off", request.id)) from None
    return f"write-off of {request.invoice} {outcome} by {actor}"
