"""What operators' acts write and read (`engine/operator_events`): inbox rows the next
run applies, entries in the append-only event log, and `work_done`, whose unique key
keeps the first operator's word on a worklist item.

Part of the store layer (`engine/store/`).  The functions work in the connection they
are given, so each act stays the one transaction `operator_events` opens; the rules
(who may confirm a write-off, what cannot be withdrawn, the messages) stay there.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select

from mahnwerk.engine.models import EVENT, INBOX, INV, RUN, WORK_DONE


def invoice_ids(conn: Connection, invoices: list[str]) -> dict[str, int]:
    """The ids of those of `invoices` (numbers) that exist, by number."""
    rows = conn.execute(
        select(INV.c.external_id, INV.c.id).where(INV.c.external_id.in_(invoices))
    ).all()
    return {ext: iid for ext, iid in rows}


def add_inbox(
    conn: Connection,
    invoice_id: int,
    kind: str,
    on: date,
    payload: str,
    now: datetime,
    actor: str,
) -> int:
    """An event recorded for the next run (`payload` as JSON text); its inbox id."""
    return conn.execute(
        insert(INBOX).values(
            invoice_id=invoice_id,
            kind=kind,
            occurred_on=on,
            payload=payload,
            recorded_at=now,
            actor=actor,
        )
    ).inserted_primary_key[0]


def log_event(conn: Connection, **values: Any) -> None:
    """One entry in the event log, the columns as given (the log is append-only)."""
    conn.execute(insert(EVENT).values(**values))


def inbox_row(conn: Connection, inbox_id: int) -> Any:
    """The recorded event `inbox_id`, or None when it is gone."""
    return conn.execute(select(INBOX).where(INBOX.c.id == inbox_id)).first()


def withdrawal(conn: Connection, inbox_id: int) -> Any:
    """Who withdrew inbox event `inbox_id` and when (`actor`, `recorded_at`), or None: the
    withdrawal's log payload starts with the inbox id."""
    return conn.execute(
        select(EVENT.c.actor, EVENT.c.recorded_at).where(
            EVENT.c.kind.like("withdrawn_%"),
            EVENT.c.payload.like(f'{{"inbox_id": {inbox_id},%'),
        )
    ).first()


def run_day(conn: Connection, run_id: int) -> date | None:
    """The as-of day of run `run_id`."""
    return conn.execute(select(RUN.c.as_of).where(RUN.c.id == run_id)).scalar()


def delete_unapplied(conn: Connection, inbox_id: int) -> int:
    """Deletes inbox event `inbox_id` if no run has applied it; the rows deleted (0: a run
    took it first)."""
    done = conn.execute(
        delete(INBOX).where(INBOX.c.id == inbox_id, INBOX.c.applied_run_id.is_(None))
    )
    return done.rowcount


def add_work_done(
    conn: Connection,
    item_kind: str,
    item_id: int,
    outcome: str,
    note: str,
    actor: str,
    now: datetime,
) -> None:
    """Marks a worklist item done; raises `IntegrityError` when someone already did."""
    conn.execute(
        insert(WORK_DONE).values(
            item_kind=item_kind, item_id=item_id, outcome=outcome, note=note, actor=actor,
            done_at=now,
        )
    )  # fmt: skip


def work_done(engine: Engine, item_kind: str, item_id: int) -> Any:
    """Who finished worklist item (`item_kind`, `item_id`), how and when, or None."""
    with engine.connect() as conn:
        return conn.execute(
            select(WORK_DONE).where(
                WORK_DONE.c.item_kind == item_kind, WORK_DONE.c.item_id == item_id
            )
        ).first()


def write_off_requests(engine: Engine, limit: int) -> list[Any]:
    """The write-off requests no second person has decided yet, oldest first: the log row
    with the invoice's number (`external_id`)."""
    done = select(WORK_DONE.c.item_id).where(WORK_DONE.c.item_kind == "write_off")
    with engine.connect() as conn:
        return conn.execute(
            select(EVENT, INV.c.external_id)
            .join(INV, INV.c.id == EVENT.c.invoice_id)
            .where(EVENT.c.kind == "write_off_requested", EVENT.c.id.not_in(done))
            .order_by(EVENT.c.id)
            .limit(limit)
        ).all()
