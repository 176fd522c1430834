"""The legal computations the step needs, behind one small interface.

The step asks questions in the trade's words — what interest is owed for
these days, when did default start, how is this payment split, may we report
to a credit bureau — and this module answers them from the dedicated modules
(`interest`, `rates`, `calendar`, `default`, `allocation`, `limitation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from mahnwerk.dsl import ir
from mahnwerk.engine.state import Customer, Invoice, Record, cents

#: C2: the first written reminder must lie at least four weeks before a report.
REPORT_WAIT = timedelta(days=28)


@dataclass(frozen=True, slots=True)
class InterestResult:
    total: Decimal
    rate: Decimal | None
    provisional: bool
    periods: tuple

    def describe(self) -> str:
        parts = [f"{p.days} T. à {p.rate} %" for p in self.periods]
        return "Verzugszinsen " + ", ".join(parts) + (" (vorläufig)" if self.provisional else "")


def points(consumer: bool, goods_or_services: bool, policy_points: Decimal | None) -> Decimal:
    """The surcharge over the base rate: the policy's own, else the statutory one (A4)."""
    from mahnwerk.engine.rates import statutory_points

    if policy_points is not None:
        return policy_points
    return statutory_points(consumer=consumer, payment_for_goods_or_services=goods_or_services)


@lru_cache(maxsize=4096)  # pure; one step asks the same question two or three times
def interest(
    principal: Decimal,
    start: date,
    end: date,
    consumer: bool,
    points: Decimal | None,
    goods_or_services: bool = True,
) -> InterestResult:
    """Default interest on `principal` for the days `start`..`end` inclusive (A4–A6)."""
    from mahnwerk.engine import interest as interest_mod

    # A6: simple interest per day at each day's base rate; each rate period is rounded
    # to the cent (the spec's worked examples, and a letter's lines add up to its total).
    result = interest_mod.default_interest(
        principal,
        start,
        end + timedelta(days=1),
        consumer=consumer,
        points=points,
        payment_for_goods_or_services=goods_or_services,
        rounding=interest_mod.Rounding.PER_PERIOD,
    )
    rates = {p.rate for p in result.periods}
    return InterestResult(
        total=cents(result.total),
        rate=next(iter(rates)) if len(rates) == 1 else None,
        provisional=result.provisional,
        periods=tuple(result.periods),
    )


@dataclass(frozen=True, slots=True)
class InterestLine:
    """What one booking adds to one period (one base rate, one principal): `start`..`end`.

    `continues` says the period began before this booking, so the line extends the one
    booked before it (a letter prints them as one line)."""

    start: date
    end: date
    principal: Decimal
    rate: Decimal
    amount: Decimal
    provisional: bool
    continues: bool


def interest_lines(
    principal: Decimal, run_from: date, booked_to: date | None, end: date, points: Decimal
) -> tuple[InterestLine, ...]:
    """The bookings that bring a run's interest from `booked_to` up to `end` (A6).

    A run is a stretch of days from `run_from` with one open principal at one surcharge; its
    interest is the sum of its periods (one base rate each), each period rounded half-up to
    the cent once.  What the run booked up to `booked_to` is that sum up to `booked_to`, so
    each line here is the difference for one period: however often the engine books, the
    total is the same as if it had booked once.
    """
    if booked_to is not None and booked_to < run_from:
        booked_to = None
    if end < run_from or (booked_to is not None and end <= booked_to):
        return ()
    before: dict[date, Decimal] = {}
    if booked_to is not None:
        for p in interest(principal, run_from, booked_to, False, points).periods:
            before[p.start] = p.rounded
    first = booked_to + timedelta(days=1) if booked_to is not None else run_from
    lines = []
    for p in interest(principal, run_from, end, False, points).periods:
        if p.end < first:
            continue
        lines.append(
            InterestLine(
                start=max(p.start, first),
                end=p.end,
                principal=principal,
                rate=p.rate,
                amount=p.rounded - before.get(p.start, Decimal("0.00")),
                provisional=p.provisional,
                continues=p.start < first,
            )
        )
    return tuple(lines)


def accrued(
    record: Record, consumer: bool, goods_or_services: bool, day: date
) -> tuple[InterestLine, ...]:
    """Interest lines for the days after `record.interest_to` up to the day before `day`.

    At the surcharge the record runs at (the policy's once claimed, else statutory), on the
    principal open, continuing the record's current run (A6).  Vulnerable customers and
    whether the policy claims interest yet are the caller's business.
    """
    r = record
    if r.default_since is None or r.principal_open <= 0:
        return ()
    start = max(r.default_since, (r.interest_to or date.min) + timedelta(days=1))
    end = day - timedelta(days=1)
    if end < start:
        return ()
    run_from = r.interest_run_from if r.interest_run_from is not None else start
    surcharge = points(
        consumer, goods_or_services, r.interest_points if r.interest_active else None
    )
    return interest_lines(r.principal_open, run_from, r.interest_to, end, surcharge)


def unbooked_interest(
    record: Record, consumer: bool, goods_or_services: bool, day: date
) -> Decimal:
    """Claimed interest owed beyond what is booked, to the day before `day` (0 if unclaimed)."""
    if not record.interest_active:
        return Decimal("0.00")
    lines = accrued(record, consumer, goods_or_services, day)
    return sum((line.amount for line in lines), Decimal("0.00"))


def default_by_reminder(received: date) -> date:
    """§ 286 Abs. 1 BGB: default from the day after a reminder received after the due date."""
    return received + timedelta(days=1)


def default_at_start(invoice: Invoice, customer: Customer, calendar: Calendar) -> date | None:
    """Default known when the invoice is first seen: A1 (agreed date) or A3 (30 days)."""
    from mahnwerk.engine import default as default_mod

    found = default_mod.default_start(
        due_date=invoice.due_date,
        due_date_agreed=invoice.due_date_agreed,
        consumer=customer.is_consumer,
        received_on=invoice.received_on or invoice.issue_date,
        notice_30_days=invoice.notice_30_days,
        first_reminder_received=None,
        payment_for_goods_or_services=invoice.goods_or_services,  # A3: only for an Entgelt
        country=calendar.country,
        region=calendar.region,
    )
    return found.start if found else None


def time_barred_from(due: date) -> date | None:
    """§§ 195, 199 BGB: three years from the end of the year the claim fell due."""
    from mahnwerk.engine import limitation

    return limitation.time_barred_from(due)


def credit_report_problems(
    written_reminders: int,
    first_reminder_on: date | None,
    disputed: bool,
    on: date,
    notice_on: date | None = None,
    notice_required: bool = True,
) -> list[str]:
    """What stands in the way of a § 31 Abs. 2 Nr. 4 BDSG report on `on` (empty: allowed).

    All four conditions: two written reminders after the due date; the first at least four
    weeks before the report; the debtor told in writing of the possible report, not earlier
    than the first reminder and before the report; the claim not disputed.
    """
    problems = []
    if written_reminders < 2:
        problems.append(f"{written_reminders} written reminder(s) after due, two needed")
    if first_reminder_on is None or on - first_reminder_on < REPORT_WAIT:
        problems.append("the first reminder is less than four weeks old")
    if notice_required and (
        notice_on is None
        or (first_reminder_on is not None and notice_on < first_reminder_on)
        or notice_on >= on
    ):
        problems.append("the debtor was not told of the possible report beforehand")
    if disputed:
        problems.append("the claim is disputed")
    return problems


@dataclass(frozen=True, slots=True)
class Split:
    costs: Decimal
    interest: Decimal
    principal: Decimal
    excess: Decimal


def allocate(amount: Decimal, costs: Decimal, interest_open: Decimal, principal: Decimal) -> Split:
    """§ 367 BGB: costs, then interest, then principal; what is left over is excess."""
    from mahnwerk.engine import allocation

    s = allocation.allocate_367(
        cents(amount), costs=cents(costs), interest=cents(interest_open), principal=cents(principal)
    )
    return Split(s.costs, s.interest, s.principal, s.excess)


class Calendar:
    """Business days in the customer's country and region (holidays package)."""

    def __init__(self, country: str, region: str | None):
        self.country = country
        self.region = region

    @classmethod
    def for_customer(cls, policy_calendar: ir.Calendar, customer: Customer) -> Calendar:
        if policy_calendar.region_from_customer:
            region = customer.region
            country = customer.country or policy_calendar.country
        else:
            region = policy_calendar.region
            country = policy_calendar.country
        return _calendar(country, region)

    def add_business_days(self, day: date, n: int) -> date:
        from mahnwerk.engine import calendar as cal

        return cal.add_business_days(day, n, self.country, self.region)


@lru_cache(maxsize=256)
def _calendar(country: str, region: str | None) -> Calendar:
    return Calendar(country, region)
