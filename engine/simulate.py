"""Replay a recorded payment history against a policy: what would it have sent and charged?

`mahnwerk simulate` answers "what if we had dunned with this policy?" without
sending anything or touching the database: customers, invoices, payments and
events are read once (from an accounts-receivable export or from the engine's
database), then every invoice is stepped day by day through the real, pure
engine step (`step.start` / `step.step`) in memory, exactly as a daily run
would, and the outcomes are counted: messages per channel, fees and interest,
approvals needed, handovers, and days from the due date to the cash.

What the history fixes and the policy cannot change: *when* each customer
paid.  A payment that settled an invoice in the history is replayed as paying
everything the replayed policy asks for on that day (principal, its fees, its
interest); other payments keep their amounts.  So the comparison shows what a
policy costs and earns on the same behaviour; only invoices a policy hands
over or writes off before the recorded payment change their days to cash
(the cash then goes to the collector).  Approvals are granted `approve_after`
days after they are asked for, as an operator working the queue would.

For the accounts-receivable export the customers' behaviour facts
(`customer.risk_score`, `customer.avg_days_late`, …) are computed for each
invoice from the invoices paid before it was issued, so a segment is chosen
on what was known then.  Disputes there have no date: a disputed invoice paid
late is taken as disputed the day after its due date until the day it was paid.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from mahnwerk.dsl import ir
from mahnwerk.dsl.compile import CompiledPolicy
from mahnwerk.engine import law
from mahnwerk.engine.behaviour import behaviour_of
from mahnwerk.engine.history import by_customer, read_ar_csv
from mahnwerk.engine.risk import scorecard
from mahnwerk.engine.runner import inbox_event
from mahnwerk.engine.state import (
    ApprovalRequest,
    Charge,
    Customer,
    Event,
    Invoice,
    Record,
    Task,
    cents,
)
from mahnwerk.engine.step import start, step
from mahnwerk.engine.store import invoice_value
from mahnwerk.engine.store.action_writers import kept_messages
from mahnwerk.engine.store.simulation import past_book

ZERO = Decimal("0.00")
APPROVE_AFTER = 3
_PAYMENTS = (ir.EventKind.PAYMENT_FULL, ir.EventKind.PAYMENT_PARTIAL)


@dataclass(frozen=True)
class Case:
    """One invoice to replay: who owes it, what happened to it, and when it was settled."""

    invoice: Invoice
    customer: Customer
    events: tuple[Event, ...] = ()
    settled_on: date | None = None  # paid in full that day: pays whatever the policy asks
    #: forward replay (issue 13): the invoice's dunning record and policy version as stored
    record: Record | None = None
    version_id: int | None = None


@dataclass(frozen=True)
class History:
    """Everything a replay needs, read once; `source` says where it came from."""

    source: str
    cases: tuple[Case, ...]


# ---------------------------------------------------------------------------
# Reading a history
# ---------------------------------------------------------------------------


def from_ar_csv(path: str | Path, customer_type: str = "B2B") -> History:
    """Cases from an accounts-receivable CSV (IBM sample layout); amounts taken as EUR."""
    if customer_type not in ("B2B", "B2C"):
        raise ValueError(f"customer type {customer_type!r}: use B2B or B2C")
    invoices = read_ar_csv(path)
    cases = []
    for customer, own in by_customer(invoices).items():
        for inv in own:
            known = behaviour_of(customer, own, inv.issue_date - timedelta(days=1))
            cust = Customer(
                id=customer,
                name=customer,
                type=customer_type,
                risk_score=scorecard(known).total,
                avg_days_late=known.avg_days_late,
                median_days_late=known.median_days_late,
                late_share=known.late_share,
                trend_days=known.trend_days,
                disputes=known.disputes,
                partial_payments=known.partial_payments,
                overdue_invoices=known.overdue_invoices,
                gone_quiet=known.gone_quiet,
            )
            events: list[Event] = []
            if inv.disputed and inv.paid_on is not None and inv.paid_on > inv.due_date:
                events.append(Event(ir.EventKind.DISPUTE_OPENED, inv.due_date + timedelta(days=1)))
                events.append(Event(ir.EventKind.DISPUTE_RESOLVED, inv.paid_on))
            cases.append(
                Case(
                    Invoice(
                        id=inv.invoice,
                        customer_id=customer,
                        issue_date=inv.issue_date,
                        due_date=inv.due_date,
                        amount=inv.amount,
                        due_date_agreed=True,  # the export's due dates were agreed terms
                    ),
                    cust,
                    tuple(events),
                    inv.paid_on,
                )
            )
    return History(f"{path} ({customer_type})", tuple(cases))


def from_database(
    engine: Engine, customer_type: str | None = None, forward_from: date | None = None
) -> History:
    """Cases from the engine's database: its invoices, payments and entered events.

    Read only.  The customers carry their facts as stored (the last `mahnwerk
    analyse`); an invoice the engine closed as paid is settled on the day of
    its last payment, its other payments keep their amounts.  `customer_type`
    (B2B or B2C) keeps only those customers' invoices, to replay a policy
    written for them.  A period starting after the last run (`forward_from`) replays
    forward instead: each open invoice from its stored record, as the next runs would.
    """
    if customer_type not in (None, "B2B", "B2C"):
        raise ValueError(f"customer type {customer_type!r}: use B2B or B2C")
    if forward_from is not None:
        from mahnwerk.engine.simulate_routing import forward_cases, ran_before

        if ran_before(engine, forward_from):
            where = engine.url.render_as_string(hide_password=True)
            cases = tuple(forward_cases(engine, customer_type))
            return History(f"{where}, open invoices from their records", cases)

    customers, invoices, payments, entered = past_book(engine)
    inbox = _inbox_by_invoice(entered)
    cases = []
    for row in invoices:
        cust = customers[row.customer_id]
        if customer_type is not None and cust.type != customer_type:
            continue
        pays = payments.get(row.id, [])
        settled = pays[-1].booked_on if row.state == "paid" and pays else None
        partial = pays[:-1] if settled is not None else pays
        events = [
            Event(ir.EventKind.PAYMENT_PARTIAL, p.booked_on, Decimal(p.amount), ref=p.external_id)
            for p in partial
        ] + inbox.get(row.id, [])
        cases.append(
            Case(
                invoice_value(row, cust.id),
                cust,
                tuple(sorted(events, key=lambda e: e.on)),
                settled,
            )
        )
    where = engine.url.render_as_string(hide_password=True)
    return History(where + (f" ({customer_type})" if customer_type else ""), tuple(cases))


def _inbox_by_invoice(entered: list[Any]) -> dict[int, list[Event]]:
    """Each invoice's entered events as the step reads them, in the order given."""
    inbox: dict[int, list[Event]] = defaultdict(list)
    for row in entered:
        inbox[row.invoice_id].append(
            inbox_event(
                row.kind, row.occurred_on, json.loads(row.payload or "{}"), f"inbox {row.id}"
            )
        )
    return inbox


# ---------------------------------------------------------------------------
# The replay
# ---------------------------------------------------------------------------


@dataclass
class Result:
    """What one policy did with one history in one period."""

    policy: str
    first: date
    last: date
    invoices: int = 0
    messages: Counter[str] = field(default_factory=Counter)
    charged: Counter[str] = field(default_factory=Counter)  # fee, lump_sum, interest, …
    charges_paid: Decimal = ZERO  # fees and interest on invoices that ended paid
    approvals: int = 0
    approver_decisions: int = 0
    tasks: Counter[str] = field(default_factory=Counter)
    ended: Counter[str] = field(default_factory=Counter)  # final state at `last`
    days_to_cash: list[int] = field(default_factory=list)  # due date -> paid, paid invoices
    open_at_end: Decimal = ZERO
    #: messages per (segment at the time, channel, template), and invoices per final segment
    by_segment: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    segments: Counter[str] = field(default_factory=Counter)
    version: int | None = None

    def rows(self, channels: list[str], tasks: list[str], states: list[str]) -> dict[str, Any]:
        """The comparison's figures, keyed by what a finance manager reads."""
        days = self.days_to_cash
        out: dict[str, Any] = {
            "invoices replayed": self.invoices,
            "messages": sum(self.messages.values()),
        }
        for channel in channels:
            out[f"  {channel}"] = self.messages[channel]
        for kind in ("fee", "lump_sum", "interest", "collection_cost"):
            out[f"{kind.replace('_', ' ')} charged EUR"] = cents(Decimal(self.charged[kind]))
        out["fees and interest paid EUR"] = cents(self.charges_paid)
        out["approvals needed"] = self.approvals
        out["approver decisions"] = self.approver_decisions
        for kind in tasks:
            out[f"task {kind}"] = self.tasks[kind]
        for state in states:
            out[f"ended {state}"] = self.ended[state]
        out["paid: mean days due -> cash"] = (
            Decimal(str(round(statistics.fmean(days), 1))) if days else None
        )
        out["paid: median days due -> cash"] = (
            Decimal(str(statistics.median(days))).quantize(Decimal("0.1")) if days else None
        )
        out["open at end EUR"] = cents(self.open_at_end)
        return out


def owed_on(record: Record, day: date, consumer: bool, goods_or_services: bool = True) -> Decimal:
    """What a debtor paying in full on `day` transfers: the balance with interest to date."""
    unbooked = law.unbooked_interest(record, consumer, goods_or_services, day)
    return cents(record.balance + unbooked)


def _tally(
    result: Result, actions: tuple[Any, ...], record: Record, charges: list[Decimal]
) -> None:
    for message in kept_messages(actions, record):
        result.messages[message.channel] += 1
        result.by_segment[(record.segment or "", message.channel, message.template)] += 1
    for a in actions:
        if isinstance(a, Charge) and a.kind in ("fee", "lump_sum", "interest", "collection_cost"):
            result.charged[a.kind] += a.amount
            charges.append(a.amount)
        elif isinstance(a, ApprovalRequest):
            result.approvals += 1
            result.approver_decisions += a.required
        elif isinstance(a, Task):
            result.tasks[a.kind] += 1


class _Drawn:
    """The behaviour model's payment day for one invoice, found as the replay goes on.

    The hazard is summed day by day up to the next day the replay looks at; the invoice
    is paid in full on the first day the sum reaches its drawn resistance.
    """

    def __init__(self, model: Any, inv: Invoice, start: date) -> None:
        self.model, self.due = model, inv.due_date
        self.left = model.resistance(str(inv.id))
        self.through = start - timedelta(days=1)  # hazard summed through this day
        self.sent: list[tuple[date, str]] = []

    def heard(self, day: date, record: Record, actions: tuple[Any, ...]) -> None:
        self.sent += [(day, m.channel) for m in kept_messages(actions, record)]

    def until(self, horizon: date) -> date | None:
        """The payment day up to `horizon`, or None (then the sum is kept for later)."""
        day = self.through + timedelta(days=1)
        while day <= horizon:
            self.left += math.log(1.0 - self.model.day_hazard(day, self.due, self.sent))
            self.through = day
            if self.left <= 0:
                return day
            day += timedelta(days=1)
        return None


def _replay_case(
    case: Case,
    compiled: CompiledPolicy,
    first: date,
    last: date,
    approve_after: int,
    result: Result,
    routing: Any = None,
    behaviour: Any = None,
) -> None:
    inv, cust = case.invoice, case.customer
    day = max(inv.issue_date, first)
    r = _Replay(case, result, sorted(case.events, key=lambda e: e.on), case.settled_on)
    if behaviour is not None:  # the model decides when it is paid, not the history
        r.drawn, r.settle = _Drawn(behaviour, inv, day), None
        r.pending = [e for e in r.pending if e.kind not in _PAYMENTS]
    if case.record is not None:  # forward replay: from the stored record (issue 13)
        r.record = case.record
        r.previous = routing.previous(case.version_id) if routing is not None else None
    else:
        outcome = start(inv, cust, compiled, day)
        r.record = outcome.record.evolve(next_check_on=day)
        r.heard(day, outcome.actions)
    while day <= last:
        todays = r.todays_events(day)
        r.approve_if_due(day)
        outcome = step(r.record, inv, cust, todays, day, compiled, r.previous)
        r.record, r.previous = outcome.record, None
        r.heard(day, outcome.actions)
        if r.closed():
            break
        following = r.next_day(day, last, approve_after)
        if following is None:
            break
        day = following
    record = r.record
    result.ended[record.state] += 1
    result.segments[record.segment or ""] += 1
    if record.state not in ir.TERMINAL_NAMES:
        result.open_at_end += record.balance


@dataclass
class _Replay:
    """One invoice's replay under way: its record and what is still to come for it."""

    case: Case
    result: Result
    pending: list[Event]  # entered events not yet due, oldest first
    settle: date | None  # the day it is paid in full, when known
    drawn: _Drawn | None = None
    record: Any = None
    previous: Any = None  # the policy version it came from (forward replay), first step only
    charges: list[Decimal] = field(default_factory=list)
    approval_on: date | None = None
    paid_on: date | None = None

    def heard(self, day: date, actions: tuple[Any, ...]) -> None:
        _tally(self.result, actions, self.record, self.charges)
        if self.drawn is not None:
            self.drawn.heard(day, self.record, actions)

    def todays_events(self, day: date) -> list[Event]:
        """The events due by `day`, with the settling payment on its day."""
        todays = [e for e in self.pending if e.on <= day]
        self.pending = [e for e in self.pending if e.on > day]
        if self.settle is not None and self.settle <= day:
            amount = owed_on(self.record, self.settle, self.case.customer.is_consumer)
            todays.append(Event(ir.EventKind.PAYMENT_PARTIAL, self.settle, amount, ref="settled"))
            self.paid_on, self.settle = self.settle, None
        return todays

    def approve_if_due(self, day: date) -> None:
        """A waiting approval is given `approve_after` days after it was asked for."""
        due = self.approval_on is not None and self.approval_on <= day
        if due and self.record.pending_approval:
            self.record = self.record.evolve(
                approved_target=self.record.pending_approval,
                approved_on=self.approval_on,
                pending_approval=None,
            )
            self.approval_on = None

    def closed(self) -> bool:
        """In a final state (a paid one counts its days to cash and charges paid)."""
        if self.record.state not in ir.TERMINAL_NAMES:
            return False
        if self.record.state == "paid" and self.paid_on is not None:
            self.result.days_to_cash.append((self.paid_on - self.case.invoice.due_date).days)
            self.result.charges_paid += sum(self.charges, ZERO)
        return True

    def next_day(self, day: date, last: date, approve_after: int) -> date | None:
        """The next day something can happen to the invoice, or None: nothing will."""
        if self.record.pending_approval and self.approval_on is None:
            self.approval_on = day + timedelta(days=approve_after)
        event_on = self.pending[0].on if self.pending else None
        if self.drawn is not None and self.settle is None and self.paid_on is None:
            soon = (self.record.next_check_on, self.approval_on, event_on)
            ahead = [d for d in soon if d is not None]
            self.settle = self.drawn.until(min([*ahead, last]))
        upcoming = [
            d
            for d in (self.record.next_check_on, self.approval_on, event_on, self.settle)
            if d is not None
        ]
        if not upcoming:
            return None
        return max(min(upcoming), day + timedelta(days=1))


def replay(
    history: History,
    compiled: CompiledPolicy,
    first: date,
    last: date,
    approve_after: int = APPROVE_AFTER,
    routing: Any = None,
    behaviour: Any = None,
) -> Result:
    """Replay the invoices issued from `first` to `last` under `compiled`, up to `last`.

    Invoices issued earlier but still unpaid on `first` are taken up on `first`,
    as a first run would.  `routing` (`simulate_routing.Routing`) keeps the customers
    the policy would serve once deployed.  `behaviour` (`response_model.ResponseModel`)
    draws the payment days instead of taking the recorded ones.  Nothing is written.
    """
    if last < first:
        raise ValueError(f"--to {last} is before --from {first}")
    result = Result(compiled.name, first, last, version=compiled.policy.version)
    for case in history.cases:
        if routing is not None and not routing.serves(case.customer):
            continue
        if case.invoice.issue_date > last:
            continue
        if case.settled_on is not None and case.settled_on < first:
            continue  # paid before the period: nothing to dun
        result.invoices += 1
        _replay_case(case, compiled, first, last, approve_after, result, routing, behaviour)
    return result


def compare(results: list[Result]) -> list[list[Any]]:
    """Rows `figure, policy 1, policy 2, …`; channels, tasks and end states of all of them."""
    channels = sorted({c for r in results for c in r.messages})
    tasks = sorted({t for r in results for t in r.tasks})
    states = sorted({s for r in results for s in r.ended})
    tables = [r.rows(channels, tasks, states) for r in results]
    for table, r in zip(tables, results, strict=True):
        for segment in sorted({s for x in results for s in x.segments}):
            table[f"segment {segment}: invoices"] = r.segments[segment]
        for key in sorted({k for x in results for k in x.by_segment}):
            table[f"segment {key[0]}: {key[1]} {key[2]}"] = r.by_segment[key]
    rows = [[k, *[t[k] for t in tables]] for k in tables[0]]
    if len(results) == 2:
        for row in rows:
            a, b = row[1], row[2]
            numeric = isinstance(a, int | Decimal) and isinstance(b, int | Decimal)
            row.append(b - a if numeric else None)
    return rows


__all__ = ["Case", "History", "Result", "compare", "from_ar_csv", "from_database", "replay"]
