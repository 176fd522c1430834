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
from mahnwerk.engine.state import Customer, Invoice, cents

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


@lru_cache(maxsize=4096)  # pure; one step asks the same question two or three times
def interest(
    principal: Decimal, start: date, end: date, consumer: bool, points: Decimal | None
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
        rounding=interest_mod.Rounding.PER_PERIOD,
    )
    rates = {p.rate for p in result.periods}
    return InterestResult(
        total=cents(result.total),
        rate=next(iter(rates)) if len(rates) == 1 else None,
        provisional=result.provisional,
        periods=tuple(result.periods),
    )


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
