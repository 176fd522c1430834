"""Payments against payment terms: Skonto earned, Skonto deducted too late, discounts offered.

The step (`engine/step.py`) asks this module three things, each a small pure decision on
the step's scratchpad:

* `use_terms` — before a payment is allocated (§ 367 BGB): did it earn a term?  A payment
  credited in time (A9, see `engine/terms.py`) that equals the open balance less a tier's
  discount, within the policy's `skonto tolerance` (default 0.05 EUR), settles the invoice:
  the amount it fell short is booked as `skonto` (the invoice's tiers) or `discount` (an
  offer of the policy, citing its line), and the audit trail names the tier and the payment.
* `pursue_deduction` — after a payment that took a discount whose day had passed
  ("unberechtigter Skontoabzug"): the deducted amount stays open as a claim of its own
  kind.  The policy decides how it is pursued: written off when it is at most
  `late skonto write off below`, else one polite letter (`late skonto letter`, by default
  `skonto_nachforderung`) naming the terms and the payment date — and then nothing more
  by itself: no reminder, no fee, no agency, unless the policy says `late skonto ladder`.
* `offer_discount` — a ladder state's `offer discount 2 % until 7d after due` puts a
  time-limited term on the invoice, honoured exactly like Skonto.

Default and interest are untouched by all of it: they run from the net due date (A1–A6).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mahnwerk.dsl import ir
from mahnwerk.engine.calendar import payment_grace_end
from mahnwerk.engine.state import Charge, Event, Invoice, Message, Record, cents
from mahnwerk.engine.terms import (
    DEFAULT_DEDUCTION_TEMPLATE,
    DEFAULT_TOLERANCE,
    Offered,
    PaymentMatch,
    Term,
    all_terms,
    match_payment,
    still_applying,
)

if TYPE_CHECKING:
    from mahnwerk.engine.step.run import _Run

#: A9: a consumer's transfer ordered on the last day may be credited this many TARGET2 days
#: later and still counts as in time (the policy's `payment grace` in business days wins).
CONSUMER_TRANSIT_DAYS = 3


def terms_of(invoice: Invoice, record: Record | None) -> tuple[Term, ...]:
    """Every term of the invoice (its Skonto tiers and the policy's offers), priced."""
    balance = record.balance if record is not None and record.segment else invoice.amount
    offers = record.discount_offers if record is not None else ()
    return all_terms(invoice.issue_date, invoice.amount, balance, invoice.skonto, offers)


def terms_applying(invoice: Invoice, record: Record | None, on: date) -> tuple[Term, ...]:
    """The terms a payment on `on` can still use — what letters and the portal show.

    Nothing applies to an invoice that is closed or whose balance is a deduction already
    taken too late."""
    if record is not None and (record.state in ir.TERMINAL_NAMES or record.deduction_on):
        return ()
    return still_applying(terms_of(invoice, record), on)


def terms_on(conn: Any, invoice: int | str, on: date) -> tuple[Term, ...]:
    """The terms still applying to a stored invoice on `on` — for letters, portal, service.

    `invoice` is the row id or the invoice number; an unknown invoice has none.  Each
    `Term` says its kind (`skonto` or `discount`), last day, percentage, the discount in
    money and what to pay (`pay`): "bei Zahlung bis 12.03. nur 1.176,00 €"."""
    from mahnwerk.engine.store import invoice_value, record_value
    from mahnwerk.engine.store.invoices import invoice_and_state

    row, state = invoice_and_state(conn, invoice)
    if row is None:
        return ()
    inv = invoice_value(row, row.customer_ext)
    record = record_value(state, inv.id) if state is not None else None
    return terms_applying(inv, record, on)


def deadline(last_day: date, consumer: bool, grace: Any = None) -> date:
    """The last day a credit counts as in time for a term ending `last_day` (A9)."""
    if not consumer:
        return last_day
    if grace is not None and not grace.business:
        return last_day + timedelta(days=grace.days)
    days = grace.days if grace is not None else CONSUMER_TRANSIT_DAYS
    return payment_grace_end(last_day, days)


def tolerance(policy: ir.Policy) -> Decimal:
    found = policy.limits.skonto_tolerance
    return found.amount if found is not None else DEFAULT_TOLERANCE


def _where(span: Any) -> str:
    return f"{span.path}:{span.line}" if getattr(span, "line", 0) else "engine"


def use_terms(run: _Run, event: Event) -> PaymentMatch | None:
    """Book the discount a payment earned (before it is allocated); say what it used."""
    amount = event.amount or Decimal(0)
    terms = terms_of(run.inv, run.r)
    if not terms or run.r.deduction_on is not None:
        return None
    grace = run.policy.limits.payment_grace
    deadlines = {t.last_day: deadline(t.last_day, run.cust.is_consumer, grace) for t in terms}
    limits = run.policy.limits
    found = match_payment(
        terms,
        amount,
        run.r.balance,
        run.r.principal_open,
        event.on,
        deadlines,
        tolerance(run.policy),
    )
    if found is None or found.late:
        return found
    term = found.term
    at = term.rule or _where(limits.at("skonto_tolerance"))
    paid = f"Zahlung {event.ref or ''} über {cents(amount)} am {event.on.isoformat()}"
    run.actions.append(
        Charge(
            term.kind,
            -found.deducted,
            event.on,
            term.rule,
            note=f"{term.describe()}; {paid}".replace("  ", " "),
        )
    )
    run.note(
        event.on,
        f"{term.describe()} earned: {paid.replace('  ', ' ')} credited by "
        f"{deadlines[term.last_day].isoformat()}; {cents(found.deducted)} deducted "
        f"(discount {term.discount}, tolerance {tolerance(run.policy)}): the invoice is settled",
        at,
    )
    run.r = run.r.evolve(principal_open=run.r.principal_open - found.deducted)
    return found


def pursue_deduction(run: _Run, found: PaymentMatch, event: Event, day: date) -> bool:
    """A discount deducted too late: record it and pursue it as the policy says.

    Returns False when the policy wants the ladder to dun it like any balance."""
    limits = run.policy.limits
    term = found.term
    payment_day = event.on
    what = (
        f"{term.describe()}, Zahlung über {cents(event.amount or Decimal(0))} erst am "
        f"{payment_day.isoformat()}"
    )
    run.r = run.r.evolve(
        deduction_on=payment_day,
        deduction_note=deduction_json(term, event.amount or Decimal(0), payment_day, found),
    )
    run.note(
        day,
        f"unjustified Skonto deduction: {cents(found.deducted)} deducted by a payment credited "
        f"{payment_day.isoformat()}, after the term's last day ({what}); the deducted amount "
        f"stays open as a claim of its own",
        _where(limits.span),
    )
    if limits.late_skonto_ladder:
        run.note(
            day,
            "the policy duns a late deduction by its ladder",
            _where(limits.at("late_skonto_ladder")),
        )
        return False
    floor = limits.late_skonto_write_off
    if floor is not None and run.r.balance < floor.amount:
        run.note(
            day,
            f"late deduction {cents(run.r.balance)} below {floor}: written off",
            _where(limits.at("late_skonto_write_off")),
        )
        run.enter(
            ir.Terminal.WRITTEN_OFF.value, day, None, "unjustified Skonto deduction written off"
        )
        return True
    template = limits.late_skonto_letter or DEFAULT_DEDUCTION_TEMPLATE
    segment = run.policy.segment(run.r.segment) if run.r.segment else None
    run.actions.append(
        Message(
            ir.Channel.LETTER.value,
            template,
            max(day, run.today),
            run.r.state,
            _where(limits.at("late_skonto_letter")),
            tone=segment.tone if segment else None,
            language=(
                segment.language
                if segment and segment.language
                else run.cust.language or run.policy.language
            ),
        )
    )
    return True


def deduction_json(term: Term, paid: Decimal, paid_on: date, found: PaymentMatch) -> str:
    """What the Skonto letter and the reports say of a late deduction (stored as JSON)."""
    return json.dumps(
        {
            "kind": term.kind,
            "percent": str(term.percent),
            "days": term.days,
            "last_day": term.last_day.isoformat(),
            "paid": str(cents(paid)),
            "paid_on": paid_on.isoformat(),
            "deducted": str(cents(found.deducted)),
            "rule": term.rule,
        }
    )


def deduction_blocks(record: Record, policy: ir.Policy) -> str | None:
    """Why the ladder does not move an invoice whose balance is a late deduction, or None."""
    if record.deduction_on is None or policy.limits.late_skonto_ladder:
        return None
    return (
        "unjustified Skonto deduction: claimed by the Skonto letter, not by the ladder "
        "(the policy would say `late skonto ladder`)"
    )


def offer_discount(run: _Run, action: Any, day: date, at: str) -> None:
    """`offer discount P % until N after due|issue`: a time-limited term on the invoice."""
    offset = action.until.offset
    base = run.inv.due_date if action.until.anchor is ir.Anchor.DUE else run.inv.issue_date
    until = base + timedelta(days=offset.days)
    if offset.business and offset.days >= 0:
        until = run.calendar.add_business_days(base, offset.days)
    if until < day:
        run.note(day, f"discount offer not made: its last day {until} has passed", at)
        return
    offer = Offered(until, action.percent, at, day)
    if offer in run.r.discount_offers:
        return
    run.r = run.r.evolve(discount_offers=(*run.r.discount_offers, offer))
    run.note(day, f"discount offered: {action.percent} % if paid by {until.isoformat()}", at)


__all__ = [
    "deduction_blocks",
    "terms_on",
    "deadline",
    "offer_discount",
    "pursue_deduction",
    "terms_applying",
    "terms_of",
    "tolerance",
    "use_terms",
]
