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
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from mahnwerk.engine import state
from mahnwerk.engine.store import worklist as store
from mahnwerk.engine.store.worklist import PROMISED_DATE

__all__ = ["PROMISED_DATE"]

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


def _calls(conn: Any, today: date, shown: int) -> list[Item]:
    return [
        Item("call", r.id, r.external_id or "", r.cust, r.name,
             f"call {r.phone or '(no number on file)'}: {r.template}",
             r.not_before.date(), {"phone": r.phone, "template": r.template, "city": r.city})
        for r in store.calls(conn, today, shown)
    ]  # fmt: skip


def _approvals(conn: Any, shown: int) -> list[Item]:
    out = []
    for r in store.approvals(conn, shown):
        paused = r.pause_reason or ("held" if r.held else "") or ("disputed" if r.disputed else "")
        out.append(
            Item("approval", r.id, r.external_id, r.cust, r.name,
                 f"approve → {r.target_state}" + (f"  [now paused: {paused}]" if paused else ""),
                 r.requested_on, {"paused": paused}, Decimal(r.balance or 0))
        )  # fmt: skip
    return out


def _tasks(conn: Any, shown: int) -> list[Item]:
    out = []
    for r in store.logged(conn, TASK_KINDS, "task", shown):
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
        for r in store.logged(conn, ("write_off_requested",), "write_off", shown)
    ]  # fmt: skip


def _bank(conn: Any, shown: int) -> list[Item]:
    rows = store.unmatched_credits(conn, shown)
    return [
        Item("bank", r.id, "", "", r.counterparty_name or "?",
             f"unmatched credit: {(r.remittance or '')[:40]}", r.booked_on, {},
             Decimal(r.amount))
        for r in rows
    ]  # fmt: skip


def _bounces(conn: Any, shown: int) -> list[Item]:
    return [
        Item("bounce", r.id, r.external_id or "", r.cust, r.name,
             f"{r.channel} {r.template} failed: {(r.last_error or '')[:50]}",
             (r.sent_at or r.not_before).date())
        for r in store.bounces(conn, shown)
    ]  # fmt: skip


PROMISE_LOOKBACK = timedelta(days=31)
"""How far back Today looks for promises still unanswered.  The engine itself resumes the
dunning a few business days after the promised date (the policy's `on promise_made pause
until promised_date + N business days`); a month on, the question "was it kept?" has
long been answered by the run, and the invoice is in the queue like any other."""


def _promised_due(conn: Any, today: date) -> tuple[Any, tuple[Any, ...]]:
    """The promised date, and what makes a promise due (`store.worklist.promised_due`),
    looking back `PROMISE_LOOKBACK`."""
    return store.promised_due(conn, today, PROMISE_LOOKBACK)


def _promises(conn: Any, today: date, shown: int) -> list[Item]:
    """Invoices still paused by a promise whose date has come: was it kept?

    The latest due first (`shown` of them, so the walk stops early), listed oldest first."""
    rows = store.promises(conn, today, PROMISE_LOOKBACK, shown)
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
        return store.last_finished_run(conn)


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
        ran = store.last_finished_run(conn)
    items = [i for part in parts for i in part]
    counts: dict[str, int] = {}
    for i in items:
        counts[i.kind] = counts.get(i.kind, 0) + 1
    return Today(items, counts, ran)


def waiting(engine: Engine, day: date) -> dict[str, int]:
    """How many items of each kind wait in all (Today's header; the list shows the first).

    One count per kind along the index its list is read by; on a big book these take
    longer than the list itself, so the screen asks for them in the background."""

    row = store.waiting_counts(engine, day, TASK_KINDS, PROMISE_LOOKBACK)
    kinds = ("call", "approval", "write_off", "task", "bank", "bounce", "promise")
    return {k: n for k, n in zip(kinds, row, strict=True) if n}


def decided_by(engine: Engine, approval_id: int) -> str:
    """Who decided an approval that is no longer pending, and when — for a second operator."""
    rows = store.decisions(engine, approval_id)
    return (
        "; ".join(f"{r.decision}d by {r.approver} at {r.decided_at:%Y-%m-%d %H:%M}" for r in rows)
        or "decided by someone else"
    )


def change_stamp(engine: Engine) -> tuple[Any, ...]:
    """A cheap fingerprint of what people and runs changed, polled by every open terminal
    UI: when it moves, the screens read again (`store.worklist.change_stamp`)."""
    return store.change_stamp(engine)


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
            chunk = approval_ids[i : i + 500]
            for r in store.approval_pauses(conn, chunk):
                paused = r.pause_reason or ("held" if r.held else "")
                out[r.id] = (r.name, paused or ("disputed" if r.disputed else ""))
            pend = store.approval_pending_events(conn, chunk)
            for r in pend:
                name, paused = out.get(r.aid, ("", ""))
                out[r.aid] = (name, paused or f"{r.kind} recorded, not yet run")
    return out
