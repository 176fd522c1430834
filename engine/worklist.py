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

from sqlalchemy import Engine, func, select

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


def _calls(conn: Any, today: date) -> list[Item]:
    done = select(WORK_DONE.c.item_id).where(WORK_DONE.c.item_kind == "call")
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
        .where(
            OUTBOX.c.channel == "call",
            OUTBOX.c.status.in_(("queued", "sending", "sent")),
            OUTBOX.c.not_before < _day_end(today),
            OUTBOX.c.id.not_in(done),
        )
        .order_by(OUTBOX.c.not_before, OUTBOX.c.id)
        .limit(SHOWN)
    ).all()
    return [
        Item("call", r.id, r.external_id or "", r.cust, r.name,
             f"call {r.phone or '(no number on file)'}: {r.template}",
             r.not_before.date(), {"phone": r.phone, "template": r.template, "city": r.city})
        for r in rows
    ]  # fmt: skip


def _approvals(conn: Any) -> list[Item]:
    rows = conn.execute(
        select(APPROVAL, INV.c.external_id, CUST.c.external_id.label("cust"), CUST.c.name,
               DS.c.pause_reason, DS.c.held, DS.c.disputed,
               (DS.c.principal_open + DS.c.fees_open + DS.c.interest_open).label("balance"))
        .join(INV, INV.c.id == APPROVAL.c.invoice_id)
        .join(CUST, CUST.c.id == INV.c.customer_id)
        .join(DS, DS.c.invoice_id == APPROVAL.c.invoice_id)
        .where(APPROVAL.c.status == "pending")
        .order_by(APPROVAL.c.requested_on, APPROVAL.c.id)
        .limit(SHOWN)
    ).all()  # fmt: skip
    out = []
    for r in rows:
        paused = r.pause_reason or ("held" if r.held else "") or ("disputed" if r.disputed else "")
        out.append(
            Item("approval", r.id, r.external_id, r.cust, r.name,
                 f"approve → {r.target_state}" + (f"  [now paused: {paused}]" if paused else ""),
                 r.requested_on, {"paused": paused}, Decimal(r.balance or 0))
        )  # fmt: skip
    return out


def _tasks(conn: Any) -> list[Item]:
    done = select(WORK_DONE.c.item_id).where(WORK_DONE.c.item_kind == "task")
    rows = conn.execute(
        select(EVENT, INV.c.external_id, CUST.c.external_id.label("cust"), CUST.c.name)
        .join(INV, INV.c.id == EVENT.c.invoice_id)
        .join(CUST, CUST.c.id == INV.c.customer_id)
        .where(EVENT.c.kind.in_(TASK_KINDS), EVENT.c.id.not_in(done))
        .order_by(EVENT.c.occurred_on, EVENT.c.id)
        .limit(SHOWN)
    ).all()
    out = []
    for r in rows:
        days = TASK_DEADLINES.get(r.kind)
        due = r.occurred_on + timedelta(days=days) if days else r.occurred_on
        name = r.kind.removeprefix("task_").replace("_", " ")
        out.append(
            Item("task", r.id, r.external_id, r.cust, r.name, f"{name}: {r.message}", due,
                 {"rule": r.rule})
        )  # fmt: skip
    return out


def _write_offs(conn: Any) -> list[Item]:
    done = select(WORK_DONE.c.item_id).where(WORK_DONE.c.item_kind == "write_off")
    rows = conn.execute(
        select(EVENT, INV.c.external_id, CUST.c.external_id.label("cust"), CUST.c.name)
        .join(INV, INV.c.id == EVENT.c.invoice_id)
        .join(CUST, CUST.c.id == INV.c.customer_id)
        .where(EVENT.c.kind == "write_off_requested", EVENT.c.id.not_in(done))
        .order_by(EVENT.c.id)
        .limit(SHOWN)
    ).all()
    return [
        Item("write_off", r.id, r.external_id, r.cust, r.name,
             f"confirm write-off asked by {r.actor}: {r.message}", r.occurred_on,
             {"requested_by": r.actor, "reason": r.message,
              "balance": json.loads(r.payload)["balance"]},
             Decimal(json.loads(r.payload)["balance"]))
        for r in rows
    ]  # fmt: skip


def _bank(conn: Any) -> list[Item]:
    rows = conn.execute(
        select(BANK_ENTRY)
        .where(BANK_ENTRY.c.status == "unmatched")
        .order_by(BANK_ENTRY.c.booked_on, BANK_ENTRY.c.id)
        .limit(SHOWN)
    ).all()
    return [
        Item("bank", r.id, "", "", r.counterparty_name or "?",
             f"unmatched credit: {(r.remittance or '')[:40]}", r.booked_on, {},
             Decimal(r.amount))
        for r in rows
    ]  # fmt: skip


def _bounces(conn: Any) -> list[Item]:
    done = select(WORK_DONE.c.item_id).where(WORK_DONE.c.item_kind == "bounce")
    rows = conn.execute(
        select(OUTBOX, INV.c.external_id, CUST.c.external_id.label("cust"), CUST.c.name)
        .join(CUST, CUST.c.id == OUTBOX.c.customer_id)
        .outerjoin(INV, INV.c.id == OUTBOX.c.invoice_id)
        .where(OUTBOX.c.status == "failed", OUTBOX.c.id.not_in(done))
        .order_by(OUTBOX.c.id)
        .limit(SHOWN)
    ).all()
    return [
        Item("bounce", r.id, r.external_id or "", r.cust, r.name,
             f"{r.channel} {r.template} failed: {(r.last_error or '')[:50]}",
             (r.sent_at or r.not_before).date())
        for r in rows
    ]  # fmt: skip


def _promises(conn: Any, today: date) -> list[Item]:
    rows = conn.execute(
        select(INBOX.c.id, INBOX.c.payload, INBOX.c.actor, INV.c.external_id,
               CUST.c.external_id.label("cust"), CUST.c.name)
        .join(INV, INV.c.id == INBOX.c.invoice_id)
        .join(CUST, CUST.c.id == INV.c.customer_id)
        .join(DS, DS.c.invoice_id == INBOX.c.invoice_id)
        .where(INBOX.c.kind == "promise_made", DS.c.pause_reason == "promise_made",
               INBOX.c.applied_run_id.is_not(None))
        .order_by(INBOX.c.id.desc())
        .limit(SHOWN * 5)
    ).all()  # fmt: skip
    out, seen = [], set()
    for r in rows:
        if r.external_id in seen:
            continue  # the latest promise of an invoice counts
        seen.add(r.external_id)
        payload = json.loads(r.payload or "{}")
        until = date.fromisoformat(payload["promised_date"])
        if until <= today:
            amount = payload.get("promised_amount")
            out.append(
                Item("promise", r.id, r.external_id, r.cust, r.name,
                     f"promised for {until:%d.%m.} (taken by {r.actor}): paid?", until, {},
                     Decimal(amount) if amount else None)
            )  # fmt: skip
    return out[:SHOWN]


def last_run(engine: Engine) -> date | None:
    """The as-of date of the latest finished run (None: never run)."""
    with engine.connect() as conn:
        return conn.execute(
            select(func.max(RUN.c.as_of)).where(RUN.c.finished_at.is_not(None))
        ).scalar()


def today(engine: Engine, day: date) -> Today:
    """The worklist for `day`: every kind's first items, oldest first, and the counts."""
    with engine.connect() as conn:
        parts = [
            _calls(conn, day),
            _approvals(conn),
            _write_offs(conn),
            _tasks(conn),
            _bank(conn),
            _bounces(conn),
            _promises(conn, day),
        ]
        ran = conn.execute(
            select(func.max(RUN.c.as_of)).where(RUN.c.finished_at.is_not(None))
        ).scalar()
    items = [i for part in parts for i in part]
    counts: dict[str, int] = {}
    for i in items:
        counts[i.kind] = counts.get(i.kind, 0) + 1
    return Today(items, counts, ran)


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
