"""What waits for a person today, in one list: the operators' first screen reads this.

Calls to make, escalations to approve, tasks (a handover, an insolvency claim to
file, a court deadline, a write-off to confirm), bank credits nobody could match,
messages that bounced and promises that fall due.  Each item says where it is
handled; an item leaves the list when it is done (`work_done`, a decided approval,
an assigned credit).  Every read is bounded (`LIMIT`) and follows an index, so the
list opens as fast on a million invoices as on a hundred.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, literal_column, select

from mahnwerk.engine import state
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

SHOWN = 100
"""Items of one kind read at once; the count says how many there are in all."""

TASK_KINDS = tuple(f"task_{kind}" for kind in state.TASK_KINDS)
"""Log kinds of the tasks a run hands to people (`state.Task`), declared in `engine/state.py`."""

TASK_DEADLINES = {"task_file_claim": 14, "task_court_objection": 14, "task_court_order": 14}
"""Days a person has for a task (insolvency claims: the court's filing period, typically two
weeks after the notice; a contested payment order: § 697 ZPO's two weeks)."""


@dataclass(frozen=True)
class Item:
    """One line of the worklist; `kind` says which screen handles it, `ref` what exactly."""

    kind: str  # call | approval | task | write_off | bank | bounce | promise
    ref: int
    invoice: str
    customer: str
    customer_name: str
    what: str
    due: date | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    amount: Decimal | None = None


@dataclass
class Today:
    items: list[Item]
    counts: dict[str, int]
    last_run: date | None


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


def _calls(conn: Any, today: date, shown: int) -> list[Item]:
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
    return [
        Item("call", r.id, r.external_id or "", r.cust, r.name,
             f"call {r.phone or '(no number on file)'}: {r.template}",
             r.not_before.date(), {"phone": r.phone, "template": r.template, "city": r.city})
        for r in _in_order(rows, ids)
    ]  # fmt: skip


def _approvals(conn: Any, shown: int) -> list[Item]:
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
    out = []
    for r in _in_order(rows, ids):
        paused = r.pause_reason or ("held" if r.held else "") or ("disputed" if r.disputed else "")
        out.append(
            Item("approval", r.id, r.external_id, r.cust, r.name,
                 f"approve → {r.target_state}" + (f"  [now paused: {paused}]" if paused else ""),
                 r.requested_on, {"paused": paused}, Decimal(r.balance or 0))
        )  # fmt: skip
    return out


def _logged(conn: Any, kinds: tuple[str, ...], item_kind: str, shown: int) -> list[Any]:
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


def _tasks(conn: Any, shown: int) -> list[Item]:
    out = []
    for r in _logged(conn, TASK_KINDS, "task", shown):
        days = TASK_DEADLINES.get(r.kind)
        due = r.occurred_on + timedelta(days=days) if days else r.occurred_on
        name = r.kind.removeprefix("task_").replace("_", " ")
        out.append(
            Item("task", r.id, r.external_id, r.cust, r.name, f"{name}: {r.message}", due,
                 {"rule": r.rule})
        )  # fmt: skip
    return out


def _write_offs(conn: Any, shown: int) -> list[Item]:
    return [
        Item("write_off", r.id, r.external_id, r.cust, r.name,
             f"confirm write-off asked by {r.actor}: {r.message}", r.occurred_on,
             {"requested_by": r.actor, "reason": r.message,
              "balance": json.loads(r.payload)["balance"]},
             Decimal(json.loads(r.payload)["balance"]))
        for r in _logged(conn, ("write_off_requested",), "write_off", shown)
    ]  # fmt: skip


def _bank(conn: Any, shown: int) -> list[Item]:
    rows = conn.execute(
        select(BANK_ENTRY)
        .where(BANK_ENTRY.c.status == "unmatched")
        .order_by(BANK_ENTRY.c.booked_on, BANK_ENTRY.c.id)
        .limit(shown)
    ).all()
    return [
        Item("bank", r.id, "", "", r.counterparty_name or "?",
             f"unmatched credit: {(r.remittance or '')[:40]}", r.booked_on, {},
             Decimal(r.amount))
        for r in rows
    ]  # fmt: skip


def _bounced() -> Any:
    done = select(WORK_DONE.c.item_id).where(WORK_DONE.c.item_kind == "bounce")
    return (OUTBOX.c.status == "failed", OUTBOX.c.id.not_in(done))  # ix_outbox_status


def _bounces(conn: Any, shown: int) -> list[Item]:
    ids = _first(conn, select(OUTBOX.c.id).where(*_bounced()).order_by(OUTBOX.c.id), shown)
    rows = conn.execute(
        select(OUTBOX, INV.c.external_id, CUST.c.external_id.label("cust"), CUST.c.name)
        .join(CUST, CUST.c.id == OUTBOX.c.customer_id)
        .outerjoin(INV, INV.c.id == OUTBOX.c.invoice_id)
        .where(OUTBOX.c.id.in_(ids))
    ).all()
    return [
        Item("bounce", r.id, r.external_id or "", r.cust, r.name,
             f"{r.channel} {r.template} failed: {(r.last_error or '')[:50]}",
             (r.sent_at or r.not_before).date())
        for r in _in_order(rows, ids)
    ]  # fmt: skip


PROMISED_DATE = {
    "sqlite": "json_extract(inbox.payload, '$.promised_date')",
    "postgresql": "(inbox.payload::jsonb ->> 'promised_date')",
}
"""A promise's `promised_date` (ISO text, compares like the date) in the very words of the
index on it (migration 0023): a database uses an expression index only for the same
expression, and a partial one only when the query names its condition as a constant."""

PROMISE_LOOKBACK = timedelta(days=31)
"""How far back Today looks for promises still unanswered.  The engine itself resumes the
dunning a few business days after the promised date (the policy's `on promise_made pause
until promised_date + N business days`); a month on, the question "was it kept?" has
long been answered by the run, and the invoice is in the queue like any other."""


def _promised_due(conn: Any, today: date) -> tuple[Any, tuple[Any, ...]]:
    """The promised date, and what makes a promise due: its date has come (within the
    look-back), a run applied it, its invoice is still paused by it, and no newer promise
    replaced it.  Walked by `ix_inbox_promised_date` from the as-of date backwards."""
    newer = INBOX.alias("newer")
    promised = literal_column(PROMISED_DATE[conn.dialect.name])
    return promised, (
        INBOX.c.kind == literal_column("'promise_made'"),
        promised <= today.isoformat(),
        promised >= (today - PROMISE_LOOKBACK).isoformat(),
        INBOX.c.applied_run_id.is_not(None),
        DS.c.pause_reason == "promise_made",
        ~select(newer.c.id)
        .where(newer.c.kind == "promise_made", newer.c.invoice_id == INBOX.c.invoice_id,
               newer.c.id > INBOX.c.id)
        .exists(),
    )  # fmt: skip


def _promises(conn: Any, today: date, shown: int) -> list[Item]:
    """Invoices still paused by a promise whose date has come: was it kept?

    The latest due first (`shown` of them, so the walk stops early), listed oldest first."""
    promised, due = _promised_due(conn, today)
    ids = _first(
        conn,
        select(INBOX.c.id)
        .join(DS, DS.c.invoice_id == INBOX.c.invoice_id)
        .where(*due)
        .order_by(promised.desc(), INBOX.c.id.desc()),
        shown,
    )
    rows = conn.execute(
        select(INBOX.c.id, INBOX.c.payload, INBOX.c.actor, INV.c.external_id,
               CUST.c.external_id.label("cust"), CUST.c.name)
        .join(INV, INV.c.id == INBOX.c.invoice_id)
        .join(CUST, CUST.c.id == INV.c.customer_id)
        .where(INBOX.c.id.in_(ids))
    ).all()  # fmt: skip
    out = []
    for r in rows:
        payload = json.loads(r.payload or "{}")
        until = date.fromisoformat(payload["promised_date"])
        amount = payload.get("promised_amount")
        out.append(
            Item("promise", r.id, r.external_id, r.cust, r.name,
                 f"promised for {until:%d.%m.} (taken by {r.actor}): paid?", until, {},
                 Decimal(amount) if amount else None)
        )  # fmt: skip
    return sorted(out, key=lambda i: (i.due, i.ref))


def last_run(engine: Engine) -> date | None:
    """The as-of date of the latest finished run (None: never run)."""
    with engine.connect() as conn:
        return conn.execute(
            select(func.max(RUN.c.as_of)).where(RUN.c.finished_at.is_not(None))
        ).scalar()


def today(engine: Engine, day: date, shown: int = SHOWN) -> Today:
    """The worklist for `day`: every kind's first `shown` items, oldest first.

    `counts` are those of the list read; `waiting` has how many wait in all."""
    with engine.connect() as conn:
        parts = [
            _calls(conn, day, shown),
            _approvals(conn, shown),
            _write_offs(conn, shown),
            _tasks(conn, shown),
            _bank(conn, shown),
            _bounces(conn, shown),
            _promises(conn, day, shown),
        ]
        ran = conn.execute(
            select(func.max(RUN.c.as_of)).where(RUN.c.finished_at.is_not(None))
        ).scalar()
    items = [i for part in parts for i in part]
    counts: dict[str, int] = {}
    for i in items:
        counts[i.kind] = counts.get(i.kind, 0) + 1
    return Today(items, counts, ran)


def waiting(engine: Engine, day: date) -> dict[str, int]:
    """How many items of each kind wait in all (Today's header; the list shows the first).

    One count per kind along the index its list is read by; on a big book these take
    longer than the list itself, so the screen asks for them in the background."""

    def count(*where: Any, table: Any = OUTBOX, join: Any = None) -> Any:
        q = select(func.count()).select_from(table if join is None else join).where(*where)
        return q.scalar_subquery()

    def logged(kinds: tuple[str, ...], item_kind: str) -> Any:
        done = select(WORK_DONE.c.item_id).where(WORK_DONE.c.item_kind == item_kind)
        return count(EVENT.c.kind.in_(kinds), EVENT.c.id.not_in(done), table=EVENT)

    with engine.connect() as conn:
        _promised, due = _promised_due(conn, day)
        row = conn.execute(
            select(
                count(*_calls_waiting(day)),
                count(APPROVAL.c.status == "pending", table=APPROVAL),
                logged(("write_off_requested",), "write_off"),
                logged(TASK_KINDS, "task"),
                count(BANK_ENTRY.c.status == "unmatched", table=BANK_ENTRY),
                count(*_bounced()),
                count(*due, join=INBOX.join(DS, DS.c.invoice_id == INBOX.c.invoice_id)),
            )
        ).one()
    kinds = ("call", "approval", "write_off", "task", "bank", "bounce", "promise")
    return {k: n for k, n in zip(kinds, row, strict=True) if n}


def decided_by(engine: Engine, approval_id: int) -> str:
    """Who decided an approval that is no longer pending, and when — for a second operator."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(DECISION.c.approver, DECISION.c.decision, DECISION.c.decided_at)
            .where(DECISION.c.approval_id == approval_id)
            .order_by(DECISION.c.id)
        ).all()
    return (
        "; ".join(f"{r.decision}d by {r.approver} at {r.decided_at:%Y-%m-%d %H:%M}" for r in rows)
        or "decided by someone else"
    )


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


def stale_run(last: date | None, day: date) -> str:
    """A warning when the last run is older than the daily schedule allows (weekends
    excused: on a Monday, Friday's run is the latest one expected)."""
    if last is None:
        return "no run yet"
    expected = day - timedelta(days={0: 3, 6: 2}.get(day.weekday(), 1))
    if last >= expected:
        return ""
    return f"last run {last:%d.%m.%Y}, {(day - last).days} days ago"


def approval_context(engine: Engine, approval_ids: list[int]) -> dict[int, tuple[str, str]]:
    """For each approval: the customer's name and why its invoice is paused now ("" if not)
    — an escalation whose invoice a promise just paused says so in the list."""
    out: dict[int, tuple[str, str]] = {}
    with engine.connect() as conn:
        for i in range(0, len(approval_ids), 500):
            for r in conn.execute(
                select(APPROVAL.c.id, CUST.c.name, DS.c.pause_reason, DS.c.held, DS.c.disputed)
                .join(INV, INV.c.id == APPROVAL.c.invoice_id)
                .join(CUST, CUST.c.id == INV.c.customer_id)
                .join(DS, DS.c.invoice_id == APPROVAL.c.invoice_id)
                .where(APPROVAL.c.id.in_(approval_ids[i : i + 500]))
            ):
                paused = r.pause_reason or ("held" if r.held else "")
                out[r.id] = (r.name, paused or ("disputed" if r.disputed else ""))
            pend = conn.execute(
                select(INBOX.c.invoice_id, INBOX.c.kind)
                .join(APPROVAL, APPROVAL.c.invoice_id == INBOX.c.invoice_id)
                .where(APPROVAL.c.id.in_(approval_ids[i : i + 500]),
                       INBOX.c.applied_run_id.is_(None),
                       INBOX.c.kind.in_(("promise_made", "dispute_opened", "hold",
                                         "plan_agreed", "payment_partial")))
                .add_columns(APPROVAL.c.id.label("aid"))
            ).all()  # fmt: skip
            for r in pend:
                name, paused = out.get(r.aid, ("", ""))
                out[r.aid] = (name, paused or f"{r.kind} recorded, not yet run")
    return out
