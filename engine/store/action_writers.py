"""Writing one step's outcome: a writer per action type, in one table.

The step (`engine/step/`) is pure: it returns actions — a transition, a charge, a
message, an approval request, a task, a note.  The run turns each into rows: the
audit log always, and per type the ledger, the outbox (through the contact guards,
D1–D4) or the approvals.  `WRITERS` maps each action type to its writer; a new
action type is one writer function and one row.  The rows of a batch are gathered
in `Writes` and written with one executemany per table when the batch ends.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from mahnwerk.dsl import ir
from mahnwerk.dsl.compile import CompiledPolicy
from mahnwerk.engine import law
from mahnwerk.engine.contacts import BEFORE_DUE, ContactBook
from mahnwerk.engine.models import APPROVAL, DS, EVENT, LEDGER, OUTBOX
from mahnwerk.engine.state import (
    ApprovalRequest,
    Charge,
    Customer,
    Message,
    Note,
    Record,
    Task,
    Transition,
)
from mahnwerk.engine.store import bulk

if TYPE_CHECKING:
    from mahnwerk.engine.runner import RunStats

_CHUNK = 500  # ids per IN (...) clause


class Writes:
    """Rows of one batch, written with one executemany per table when the batch ends."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.states: list[dict[str, Any]] = []
        self.ledger: list[dict[str, Any]] = []
        self.log: list[dict[str, Any]] = []
        self.outbox: list[dict[str, Any]] = []
        self.approvals: list[dict[str, Any]] = []

    def flush(self) -> None:
        conn = self.conn
        bulk.insert_rows(conn, DS, self.states)
        bulk.insert_rows(conn, LEDGER, self.ledger)
        bulk.insert_rows(conn, OUTBOX, self.outbox, skip_conflicts=True)
        bulk.insert_rows(conn, EVENT, self.log)
        if self.approvals:
            self._approvals()
        self.states, self.ledger, self.log, self.outbox = [], [], [], []
        self.approvals = []

    def _approvals(self) -> None:
        """The requests, and each invoice's newest pending one on its dunning state."""
        conn = self.conn
        conn.execute(insert(APPROVAL), self.approvals)
        ids = sorted({a["invoice_id"] for a in self.approvals})
        newest = (
            select(func.max(APPROVAL.c.id))
            .where(APPROVAL.c.invoice_id == DS.c.invoice_id, APPROVAL.c.status == "pending")
            .scalar_subquery()
        )
        for k in range(0, len(ids), _CHUNK):
            conn.execute(
                update(DS)
                .where(DS.c.invoice_id.in_(ids[k : k + _CHUNK]))
                .values(pending_approval_id=newest)
            )


@dataclass
class Outcome:
    """One invoice's step outcome being written: who, when, and what the writers share."""

    writes: Writes
    invoice_id: int
    customer_id: int
    as_of: date
    now: datetime
    run_id: int
    stats: RunStats
    compiled: CompiledPolicy
    customer: Customer
    record: Record | None = None
    contacts: ContactBook | None = None
    due_date: date | None = None
    posted: date | None = None  # the local day its letter goes out
    log: list[dict[str, Any]] = field(default_factory=list)
    keep: set[int] = field(default_factory=set)  # id() of the messages that go out

    def entry(self, action: Any, kind: str, message: str, payload: str = "{}") -> None:
        """An audit log entry for `action`."""
        self.log.append(self.base() | {"kind": kind, "occurred_on": action.on,
                                       "rule": action.rule, "message": message,
                                       "payload": payload})  # fmt: skip

    def base(self) -> dict[str, Any]:
        return {
            "invoice_id": self.invoice_id,
            "customer_id": self.customer_id,
            "recorded_at": self.now,
            "actor": "engine",
            "run_id": self.run_id,
        }


def write_actions(out: Outcome, actions: Sequence[Any]) -> date | None:
    """Queue, book and log one outcome; return the local day its letter goes out, if any."""
    out.keep = {id(msg) for msg in kept_messages(actions, out.record)}
    for action in actions:
        writer = WRITERS.get(type(action))
        if writer is not None:
            writer(out, action)
    for row in out.log:
        row.setdefault("state_from", None)
        row.setdefault("state_to", None)
    out.writes.log.extend(out.log)
    return out.posted


def _transition(out: Outcome, action: Transition) -> None:
    out.stats.transitions += 1
    out.entry(action, "transition", action.reason)
    out.log[-1] |= {"state_from": action.source, "state_to": action.target}


def _charge(out: Outcome, action: Charge) -> None:
    out.stats.charges[action.kind] += action.amount
    out.writes.ledger.append(
        {
            "invoice_id": out.invoice_id,
            "kind": action.kind,
            "amount": action.amount,
            "booked_on": action.on,
            "period_from": action.period_from,
            "period_to": action.period_to,
            "rate": action.rate,
            "provisional": action.provisional,
            "rule": action.rule,
        }
    )
    text = f"{action.kind} {action.amount} {action.note}".strip()
    out.entry(action, action.kind, text, json.dumps({"amount": str(action.amount)}))


def _message(out: Outcome, action: Message) -> None:
    """A message through the contact guards (D1–D4) into the outbox, or why not."""
    if id(action) not in out.keep:
        out.stats.superseded += 1
        out.entry(action, "message_superseded", f"{action.channel} {action.template} not "
                  "sent: a later level was reached in the same run")  # fmt: skip
        return
    policy = out.compiled.policy
    if out.contacts is None:
        out.contacts = ContactBook(out.writes.conn, [out.customer_id], out.as_of, [policy.limits])
    cal = law.Calendar.for_customer(policy.calendar, out.customer)
    zone = out.customer.timezone or policy.timezone
    due = out.due_date
    before_due = due is not None and action.on <= due
    slot = out.contacts.plan(out.customer_id, out.as_of, action.channel, zone, cal.country,
                             cal.region, policy.limits, dunning=not before_due)  # fmt: skip
    local = slot.at.astimezone(ZoneInfo(zone)).date()
    if before_due and due is not None and local > due:
        # A note before the due date that cannot go out by then lost its purpose.
        out.contacts.withdraw(out.customer_id, action.channel, local)
        out.log.append(out.base() | _late_note(action, due, local, slot.reason))
        return
    out.stats.messages[action.channel] += 1
    if ir.Channel(action.channel) in ir.PAPER:
        out.posted = max(out.posted or local, local)
    out.writes.outbox.append(_outbox_row(out, action, slot.at, before_due))
    when = f", not before {slot.at.date()}: {slot.reason}" if slot.reason else ""
    out.entry(action, "message_queued", f"{action.channel} {action.template}{when}")


def _outbox_row(out: Outcome, action: Message, at: datetime, before_due: bool) -> dict[str, Any]:
    record, due = out.record, out.due_date
    payload = {
        "state": action.state,
        "segment": record.segment if record is not None else None,
        "offers": list(action.offers),
        "announces": list(action.announces),
        # the terminal state this letter's step completed into the same day (the handover
        # letter): dispatch still sends it then
        "completes": record.state if record is not None and record.state != action.state
        else None,
    } | ({BEFORE_DUE: due.isoformat()} if before_due and due else {})  # fmt: skip
    return {
        "idempotency_key": f"{out.invoice_id}:{action.state}:{action.template}:"
        f"{action.channel}:{action.on}",
        "invoice_id": out.invoice_id,
        "customer_id": out.customer_id,
        "channel": action.channel,
        "template": action.template,
        "language": action.language or "de",
        "tone": action.tone,
        "status": "queued",
        "not_before": at,
        "created_at": out.now,
        "attempts": 0,
        "payload": json.dumps(payload),
        "rule": action.rule,
    }


def _approval(out: Outcome, action: ApprovalRequest) -> None:
    out.stats.approvals += 1
    out.writes.approvals.append(
        {
            "invoice_id": out.invoice_id,
            "target_state": action.target,
            "summary": action.summary,
            "rule": action.rule,
            "required": action.required,
            "status": "pending",
            "requested_on": action.on,
            "amount": out.record.balance if out.record is not None else Decimal(0),
        }
    )
    payload = json.dumps({"target": action.target, "required": action.required})
    out.entry(action, "approval_requested", action.summary, payload)


def _task(out: Outcome, action: Task) -> None:
    out.stats.tasks[action.kind] += 1
    out.entry(action, f"task_{action.kind}", action.detail)


def _note(out: Outcome, action: Note) -> None:
    out.entry(action, "note", action.text)


#: Each action type of the step and the function that writes it.
WRITERS: dict[type, Callable[[Outcome, Any], None]] = {
    Transition: _transition,
    Charge: _charge,
    Message: _message,
    ApprovalRequest: _approval,
    Task: _task,
    Note: _note,
}


def _late_note(message: Message, due: date, local: date, reason: str | None) -> dict[str, Any]:
    """The log entry of a note before the due date that could not go out by then."""
    return {
        "kind": "message_cancelled",
        "occurred_on": message.on,
        "rule": message.rule,
        "message": f"{message.channel} {message.template} not sent: a note before the due "
        f"date {due} could go out only on {local} ({reason}); its purpose expired",
        "payload": "{}",
    }


def kept_messages(actions: Sequence[Any], record: Record | None) -> list[Message]:
    """The messages one step's outcome queues; the others are logged as superseded.

    The step moves an invoice at most one level that speaks per run (see its docstring), so
    this is a safety net: the latest level's messages (every channel its state names), and
    only if the invoice still stands where they speak from — never a reminder for an invoice
    that was paid, disputed or put on hold in the same step.  `simulate` counts the same way.
    """
    messages = [a for a in actions if isinstance(a, Message)]
    if not messages:
        return []
    last = messages[-1]
    if record is not None and not _still_speaks(record, last, actions):
        return []
    return [m for m in messages if m.state == last.state and m.on == last.on]


#: Terminal states a state's own letter may lead into on the same day (an `auto` rule): the
#: letter announcing the collection agency goes out with the handover, not instead of it.
_COMPLETED_BY_STATE = frozenset({ir.Terminal.HANDED_OVER.value, ir.Terminal.WRITTEN_OFF.value})


def _still_speaks(record: Record, message: Message, actions: Sequence[Any] = ()) -> bool:
    """Whether the invoice still stands where `message` speaks from at the end of the step."""
    if record.disputed or record.held or record.pause_reason is not None:
        return False
    if record.state == message.state:
        return record.state not in ir.TERMINAL_NAMES
    if record.state in _COMPLETED_BY_STATE:
        last = next((a for a in reversed(actions) if isinstance(a, Transition)), None)
        return (
            last is not None
            and last.source == message.state
            and last.target == record.state
            and last.on == message.on
        )
    return False

