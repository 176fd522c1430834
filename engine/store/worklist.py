"""What Today's worklist reads (`engine/worklist`): each kind's first items by the index
that orders them, the counts of all that waits, and the fingerprint the TUI polls.

Part of the store layer (`engine/store/`).  Every read is bounded (`LIMIT`) and follows
an index, so the list opens as fast on a million invoices as on a hundred; that is why
the queries are shaped as they are (ids first, then the lines for exactly those; one
walk per log kind).  `engine/worklist` turns the rows into items and keeps the rules:
what a task's deadline is, how far back a promise is asked about.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, literal_column, select

from mahnwerk.engine.models import (
    APPROVAL,
    BANK_ENTRY,
    CUST,
    DECISION,
    DS,
    EVENT,
    INBOX,
    INV,
    OUTBOX,
    RUN,
    WORK_DONE,
)

PROMISED_DATE = {
    "sqlite": "json_extract(inbox.payload, '$.promised_date')",
    "postgresql": "(inbox.payload::jsonb ->> 'promised_date')",
}
"""A promise's `promised_date` (ISO text, compares like the date) in the very words of the
index on it (migration 0023): a database uses an expression index only for the same
expression, and a partial one only when the query names its condition as a constant."""


def _day_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


def _first(conn: Any, query: Any, shown: int) -> list[int]:
    """The ids of a list's first items, read by the index that orders them.

    Each list is read in two steps: the ids (one indexed walk, stopped at `SHOWN`),
    then what the line shows for exactly those.  Joined in one query, a planner may
    start from the customers or the invoices instead and read a million rows first.
    """
    return list(conn.execute(query.limit(shown)).scalars())


def _in_order(rows: list[Any], ids: list[int], key: str = "id") -> list[Any]:
    at = {i: n for n, i in enumerate(ids)}
    return sorted(rows, key=lambda r: at[getattr(r, key)])


def _calls_waiting(today: date) -> Any:
    done = select(WORK_DONE.c.item_id).where(WORK_DONE.c.item_kind == "call")
    return (
        OUTBOX.c.channel == "call",  # ix_outbox_channel_not_before
        OUTBOX.c.not_before < _day_end(today),
        OUTBOX.c.status.in_(("queued", "sending", "sent")),
        OUTBOX.c.id.not_in(done),
    )


def calls(conn: Connection, today: date, shown: int) -> list[Any]:
    """Calls due by the end of `today` nobody has finished, by when they are due: the
    outbox row with the invoice's number and the customer's number (`cust`), name,
    phone and city."""
    ids = _first(
        conn,
        select(OUTBOX.c.id)
        .where(*_calls_waiting(today))
        .order_by(OUTBOX.c.not_before, OUTBOX.c.id),
        shown,
    )
    rows = conn.execute(
        select(
            OUTBOX,
            INV.c.external_id,
            CUST.c.external_id.label("cust"),
            CUST.c.name,
            CUST.c.phone,
            CUST.c.city,
        )  # fmt: skip
        .join(CUST, CUST.c.id == OUTBOX.c.customer_id)
        .outerjoin(INV, INV.c.id == OUTBOX.c.invoice_id)
        .where(OUTBOX.c.id.in_(ids))
    ).all()
    return _in_order(rows, ids)


def approvals(conn: Connection, shown: int) -> list[Any]:
    """Pending approvals, oldest first: the approval with the invoice's and customer's
    number, the name, why the invoice is paused (reason, held, disputed) and its balance."""
    ids = _first(
        conn,
        select(APPROVAL.c.id)
        .where(APPROVAL.c.status == "pending")  # ix_approval_status_requested_on
        .order_by(APPROVAL.c.requested_on, APPROVAL.c.id),
        shown,
    )
    rows = conn.execute(
        select(APPROVAL, INV.c.external_id, CUST.c.external_id.label("cust"), CUST.c.name,
               DS.c.pause_reason, DS.c.held, DS.c.disputed,
               (DS.c.principal_open + DS.c.fees_open + DS.c.interest_open).label("balance"))
        .join(INV, INV.c.id == APPROVAL.c.invoice_id)
        .join(CUST, CUST.c.id == INV.c.customer_id)
        .join(DS, DS.c.invoice_id == APPROVAL.c.invoice_id)
        .where(APPROVAL.c.id.in_(ids))
    ).all()  # fmt: skip
    return _in_order(rows, ids)


def logged(conn: Connection, kinds: tuple[str, ...], item_kind: str, shown: int) -> list[Any]:
    """Log entries of `kinds` nobody has finished yet, oldest first, with their customer.

    One indexed walk per kind (`ix_event_kind_occurred_on`), merged here: with all kinds
    in one `IN`, the database would sort every task ever logged to find the oldest."""
    done = select(WORK_DONE.c.item_id).where(WORK_DONE.c.item_kind == item_kind)
    first: list[tuple[date, int]] = []
    for kind in kinds:
        first += conn.execute(
            select(EVENT.c.occurred_on, EVENT.c.id)
            .where(EVENT.c.kind == kind, EVENT.c.id.not_in(done))
            .order_by(EVENT.c.occurred_on, EVENT.c.id)
            .limit(shown)
        ).all()
    ids = [i for _on, i in sorted(first)[:shown]]
    rows = conn.execute(
        select(EVENT, INV.c.external_id, CUST.c.external_id.label("cust"), CUST.c.name)
        .join(INV, INV.c.id == EVENT.c.invoice_id)
        .join(CUST, CUST.c.id == INV.c.customer_id)
        .where(EVENT.c.id.in_(ids))
    ).all()
    return _in_order(rows, ids)


def unmatched_credits(conn: Connection, shown: int) -> list[Any]:
    """Bank credits nobody could match, oldest first."""
    return conn.execute(
        select(BANK_ENTRY)
        .where(BANK_ENTRY.c.status == "unmatched")
        .order_by(BANK_ENTRY.c.booked_on, BANK_ENTRY.c.id)
        .limit(shown)
    ).all()


def _bounced() -> Any:
    done = select(WORK_DONE.c.item_id).where(WORK_DONE.c.item_kind == "bounce")
    return (OUTBOX.c.status == "failed", OUTBOX.c.id.not_in(done))  # ix_outbox_status


def bounces(conn: Connection, shown: int) -> list[Any]:
    """Failed messages nobody has dealt with: the outbox row with the invoice's and the
    customer's number (`cust`) and name."""
    ids = _first(conn, select(OUTBOX.c.id).where(*_bounced()).order_by(OUTBOX.c.id), shown)
    rows = conn.execute(
        select(OUTBOX, INV.c.external_id, CUST.c.external_id.label("cust"), CUST.c.name)
        .join(CUST, CUST.c.id == OUTBOX.c.customer_id)
        .outerjoin(INV, INV.c.id == OUTBOX.c.invoice_id)
        .where(OUTBOX.c.id.in_(ids))
    ).all()
    return _in_order(rows, ids)


def promised_due(conn: Any, today: date, lookback: timedelta) -> tuple[Any, tuple[Any, ...]]:
    """The promised date, and what makes a promise due: its date has come (within the
    `lookback`), a run applied it, its invoice is still paused by it, and no newer promise
    replaced it.  Walked by `ix_inbox_promised_date` from the as-of date backwards."""
    newer = INBOX.alias("newer")
    promised = literal_column(PROMISED_DATE[conn.dialect.name])
    return promised, (
        INBOX.c.kind == literal_column("'promise_made'"),
        promised <= today.isoformat(),
        promised >= (today - lookback).isoformat(),
        INBOX.c.applied_run_id.is_not(None),
        DS.c.pause_reason == "promise_made",
        ~select(newer.c.id)
        .where(newer.c.kind == "promise_made", newer.c.invoice_id == INBOX.c.invoice_id,
               newer.c.id > INBOX.c.id)
        .exists(),
    )  # fmt: skip


def promises(conn: Connection, today: date, lookback: timedelta, shown: int) -> list[Any]:
    """Promises due (`promised_due`), the latest due first, `shown` of them so the walk
    stops early: the inbox id, payload and taker with the invoice's and customer's number
    and name (in no particular order)."""
    promised, due = promised_due(conn, today, lookback)
    ids = _first(
        conn,
        select(INBOX.c.id)
        .join(DS, DS.c.invoice_id == INBOX.c.invoice_id)
        .where(*due)
        .order_by(promised.desc(), INBOX.c.id.desc()),
        shown,
    )
    return conn.execute(
        select(INBOX.c.id, INBOX.c.payload, INBOX.c.actor, INV.c.external_id,
               CUST.c.external_id.label("cust"), CUST.c.name)
        .join(INV, INV.c.id == INBOX.c.invoice_id)
        .join(CUST, CUST.c.id == INV.c.customer_id)
        .where(INBOX.c.id.in_(ids))
    ).all()  # fmt: skip


def last_finished_run(conn: Connection) -> date | None:
    """The as-of date of the latest finished run (None: never run)."""
    return conn.execute(
        select(func.max(RUN.c.as_of)).where(RUN.c.finished_at.is_not(None))
    ).scalar()


def waiting_counts(
    engine: Engine, day: date, task_kinds: tuple[str, ...], lookback: timedelta
) -> tuple[int, ...]:
    """How many calls, approvals, write-offs, tasks, bank credits, bounces and promises
    wait in all, in that order: one count per kind along the index its list is read by."""

    def count(*where: Any, table: Any = OUTBOX, join: Any = None) -> Any:
        q = select(func.count()).select_from(table if join is None else join).where(*where)
        return q.scalar_subquery()

    def logged(kinds: tuple[str, ...], item_kind: str) -> Any:
        done = select(WORK_DONE.c.item_id).where(WORK_DONE.c.item_kind == item_kind)
        return count(EVENT.c.kind.in_(kinds), EVENT.c.id.not_in(done), table=EVENT)

    with engine.connect() as conn:
        _promised, due = promised_due(conn, day, lookback)
        return tuple(
            conn.execute(
                select(
                    count(*_calls_waiting(day)),
                    count(APPROVAL.c.status == "pending", table=APPROVAL),
                    logged(("write_off_requested",), "write_off"),
                    logged(task_kinds, "task"),
                    count(BANK_ENTRY.c.status == "unmatched", table=BANK_ENTRY),
                    count(*_bounced()),
                    count(*due, join=INBOX.join(DS, DS.c.invoice_id == INBOX.c.invoice_id)),
                )
            ).one()
        )


def decisions(engine: Engine, approval_id: int) -> list[Any]:
    """The decisions on an approval (`approver`, `decision`, `decided_at`), in order."""
    with engine.connect() as conn:
        return conn.execute(
            select(DECISION.c.approver, DECISION.c.decision, DECISION.c.decided_at)
            .where(DECISION.c.approval_id == approval_id)
            .order_by(DECISION.c.id)
        ).all()


def change_stamp(engine: Engine) -> tuple[Any, ...]:
    """A cheap fingerprint of what people and runs changed (index-only maxima and one
    count), polled by every open terminal UI: when it moves, the screens read again."""
    pending = select(func.count()).select_from(INBOX).where(INBOX.c.applied_run_id.is_(None))
    with engine.connect() as conn:
        return tuple(
            conn.execute(
                select(
                    select(func.max(EVENT.c.id)).scalar_subquery(),
                    select(func.max(INBOX.c.id)).scalar_subquery(),
                    pending.scalar_subquery(),
                    select(func.max(DECISION.c.id)).scalar_subquery(),
                    select(func.max(WORK_DONE.c.id)).scalar_subquery(),
                    select(func.max(RUN.c.id)).scalar_subquery(),
                    select(func.max(OUTBOX.c.id)).scalar_subquery(),
                )
            ).one()
        )


PAUSING_KINDS = ("promise_made", "dispute_opened", "hold", "plan_agreed", "payment_partial")


def approval_pauses(conn: Connection, approval_ids: list[int]) -> list[Any]:
    """For these approvals (at most 500): the id, the customer's name and why the invoice
    is paused (`pause_reason`, `held`, `disputed`)."""
    return list(
        conn.execute(
            select(APPROVAL.c.id, CUST.c.name, DS.c.pause_reason, DS.c.held, DS.c.disputed)
            .join(INV, INV.c.id == APPROVAL.c.invoice_id)
            .join(CUST, CUST.c.id == INV.c.customer_id)
            .join(DS, DS.c.invoice_id == APPROVAL.c.invoice_id)
            .where(APPROVAL.c.id.in_(approval_ids))
        )
    )


def approval_pending_events(conn: Connection, approval_ids: list[int]) -> list[Any]:
    """For these approvals (at most 500): events recorded for their invoices that pause
    dunning and no run has applied yet (`invoice_id`, `kind`, the approval's id `aid`)."""
    return conn.execute(
        select(INBOX.c.invoice_id, INBOX.c.kind)
        .join(APPROVAL, APPROVAL.c.invoice_id == INBOX.c.invoice_id)
        .where(APPROVAL.c.id.in_(approval_ids),
               INBOX.c.applied_run_id.is_(None),
               INBOX.c.kind.in_(PAUSING_KINDS))
        .add_columns(APPROVAL.c.id.label("aid"))
    ).all()  # fmt: skip
