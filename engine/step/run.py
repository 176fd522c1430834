"""One step call's scratchpad, and the three entry points: `start`, `step`, `facts_at`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from mahnwerk.dsl.compile import CompiledPolicy, Rule
from mahnwerk.dsl.segments import select_segment
from mahnwerk.engine import law, segment_moves
from mahnwerk.engine.state import Charge, Customer, Event, Invoice, Outcome, Record
from mahnwerk.engine.step.court import Court
from mahnwerk.engine.step.events import Events
from mahnwerk.engine.step.facts import where


class _Run(Events, Court):
    """The mutable scratchpad of one `step` call; never escapes it.

    Its methods live with what they are about: `facts`, `timing`, `actions`, `events`,
    `court` (one mixin each)."""

    def __init__(
        self,
        record: Record,
        invoice: Invoice,
        customer: Customer,
        compiled: CompiledPolicy,
        today: date,
    ):
        self.r = record
        self.inv = invoice
        self.cust = customer
        self.cp = compiled
        self.policy = compiled.policy
        self.today = today
        self.actions: list[Any] = []
        self.calendar = law.Calendar.for_customer(compiled.policy.calendar, customer)
        self.waits_for_event = False
        #: the day this step entered a state that speaks to the customer (catch-up: one level)
        self.spoke_on: date | None = None


def start(invoice: Invoice, customer: Customer, compiled: CompiledPolicy, today: date) -> Outcome:
    """The first record of an invoice the engine has not seen: segment chosen, principal booked."""
    blank = Record(invoice_id=invoice.id, principal_open=invoice.amount)
    run = _Run(blank, invoice, customer, compiled, today)
    choice = select_segment(compiled.policy, run.facts(today), run.calendar.add_business_days)
    segment = choice.segment
    default = law.default_at_start(invoice, customer, run.calendar)
    run.r = blank.evolve(
        segment=segment.name,
        ladder=segment.ladder,
        entered_on=today,
        default_since=default,
        time_barred_from=law.time_barred_from(invoice.due_date),
    )
    run.actions.append(
        Charge("principal", invoice.amount, invoice.issue_date, None, note=f"Rechnung {invoice.id}")
    )
    for reason in choice.reasons:
        run.note(today, reason, where(segment.span))
    return Outcome(run.r, tuple(run.actions))


def facts_at(
    record: Record, invoice: Invoice, customer: Customer, compiled: CompiledPolicy, day: date
) -> tuple[dict[str, Any], Any]:
    """The facts a condition reads for this invoice on `day`, and the business-day adder."""
    run = _Run(record, invoice, customer, compiled, day)
    return run.facts(day), run.calendar.add_business_days


def upcoming(
    record: Record, invoice: Invoice, customer: Customer, compiled: CompiledPolicy, today: date
) -> list[tuple[date, Rule]]:
    """The time rules out of the record's state, each on the day the engine would take it.

    The dates are the step's own (`Timing.time_candidates`): the trigger counted on the
    customer's calendar (business days skip weekends and the region's holidays), then
    the floors of a pause, the A9 grace and the D4 letter gap.  Earliest first, the
    highest priority first on one day.  For saying what happens next (the TUI's story)
    with the very dates a run will use, not an estimate of them.  A rule whose condition
    would not hold on its day (as far as today's facts tell) is left out: on that day the
    engine would not take it either.
    """
    run = _Run(record, invoice, customer, compiled, today)
    return [(day, rule) for day, rule in run.time_candidates() if run.quietly(rule.guard, day)]


def step(
    record: Record | None,
    invoice: Invoice,
    customer: Customer,
    events: Iterable[Event],
    today: date,
    compiled: CompiledPolicy,
    previous: CompiledPolicy | None = None,
) -> Outcome:
    """Advance one invoice to `today`: apply its events and every rule that has come due.

    The segment is chosen again first (`segment_moves`): facts may have changed, or
    `compiled` may be a new policy taking the invoice over from `previous`.
    """
    actions: list[Any] = []
    if record is None or record.segment is None:
        first = start(invoice, customer, compiled, today)
        record, actions = first.record, list(first.actions)
    run = _Run(record, invoice, customer, compiled, today)
    cheap = previous is None and segment_moves.customer_facts_suffice(compiled)
    run.r, moved = segment_moves.follow(
        record,
        run.customer_facts if cheap else run.facts(today),
        previous or compiled,
        compiled,
        today,
        run.calendar.add_business_days,
    )
    actions.extend(moved)
    if run.r.segment not in compiled.graphs:
        raise KeyError(f"segment {run.r.segment!r} is not in policy {compiled.name!r}")
    run.actions = actions
    run.advance([e for e in events if e.on <= today])  # also notes what was sent (issue 13)
    return Outcome(run.r, tuple(run.actions))
