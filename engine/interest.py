"""Default interest (Verzugszinsen) to the day, with a breakdown for letters and the audit.

Convention (spec A6, §§ 288, 289 BGB):

* simple interest on the open principal only — never on interest, fees or costs (§ 289);
* from the first day of default (inclusive) up to the day *before* the money is credited;
* each day at the base rate in force on that day (§ 247) plus the surcharge in points;
* "act/365 fixed": a day is 1/365 of a year, also in leap years (German practice; the
  spec's worked example across 2024 only comes out with 365);
* a rate below zero (a low negative base rate plus few contractual points) counts as zero:
  default interest never runs in the debtor's favour.

Rounding: the spec says "round once at the end", but its worked example 10,000.00 EUR
(155.90 + 135.86 = 291.76) only adds up when each rate period is rounded first — rounding
the unrounded sum (291.7534) gives 291.75.  The letter shows the periods (§ 13a RDG), so its
lines must add up to its total: `Rounding.PER_PERIOD` (the default) rounds each period
half-up to the cent and adds; `Rounding.TOTAL` rounds the exact sum once.  Both keep the
unrounded amounts for the audit.

A period of the breakdown is a run of days with one base rate *and* one principal, so a
partial payment (which lowers the principal from the day it is credited, § 367) starts a
new period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, localcontext
from enum import StrEnum
from functools import lru_cache

from mahnwerk.engine.money import cents
from mahnwerk.engine.rates import BaseRateTable, RatePeriod, base_rate_table, statutory_points

DAYS_PER_YEAR = 365
_PRECISION = 40  # ample for any principal; only the final quantize rounds money


class Rounding(StrEnum):
    PER_PERIOD = "per_period"
    TOTAL = "total"


PrincipalSteps = Sequence[tuple[date, Decimal]]
"""`(from_day, principal)`: the principal open from `from_day` (inclusive) on."""


@dataclass(frozen=True, slots=True)
class InterestPeriod:
    """`days` days from `start` to `end` (both inclusive) at one rate on one principal."""

    start: date
    end: date
    days: int
    principal: Decimal
    base_rate: Decimal
    points: Decimal
    rate: Decimal  # percent a year actually applied: max(base_rate + points, 0)
    amount: Decimal  # unrounded
    rounded: Decimal
    provisional: bool


@dataclass(frozen=True, slots=True)
class InterestResult:
    total: Decimal
    unrounded: Decimal
    periods: tuple[InterestPeriod, ...]
    provisional: bool  # some day lies after the last published base rate
    rounding: Rounding

    @property
    def days(self) -> int:
        return sum(p.days for p in self.periods)


@lru_cache(maxsize=65536)
def _rate_periods(table: BaseRateTable, start: date, end: date) -> tuple[RatePeriod, ...]:
    """Rate periods per date range, kept: a run prices many invoices over the same days."""
    return tuple(table.periods(start, end))


def _principal_runs(
    principal: Decimal | PrincipalSteps, start: date, end: date
) -> list[tuple[date, date, Decimal]]:
    """The principal as runs `(from, to, amount)` covering `start`..`end` exactly."""
    if isinstance(principal, Decimal):
        steps: list[tuple[date, Decimal]] = [(start, principal)]
    else:
        steps = sorted(principal, key=lambda s: s[0])
        if not steps or steps[0][0] > start:
            raise ValueError(
                f"the principal on {start.isoformat()} (first day of default) is not given"
            )
    for _, amount in steps:
        if not isinstance(amount, Decimal):
            raise TypeError(f"principal must be a Decimal, not {type(amount).__name__}")
        if amount < 0:
            raise ValueError(f"negative principal {amount}")
    runs: list[tuple[date, date, Decimal]] = []
    for i, (day, amount) in enumerate(steps):
        nxt = steps[i + 1][0] if i + 1 < len(steps) else end + timedelta(days=1)
        lo, hi = max(day, start), min(nxt - timedelta(days=1), end)
        if lo <= hi:
            runs.append((lo, hi, amount))
    return runs


def _periods(
    principal: Decimal | PrincipalSteps,
    start: date,
    last: date,
    points: Decimal,
    table: BaseRateTable,
) -> tuple[list[InterestPeriod], Decimal]:
    """One period per principal run and base-rate half-year, exact (at `_PRECISION`
    digits); and their unrounded sum."""
    periods: list[InterestPeriod] = []
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        for lo, hi, amount in _principal_runs(principal, start, last):
            for rp in _rate_periods(table, lo, hi):
                days = (rp.end - rp.start).days + 1
                rate = max(rp.base_rate + points, Decimal(0))
                exact = amount * rate * days / (100 * DAYS_PER_YEAR)
                periods.append(
                    InterestPeriod(
                        start=rp.start,
                        end=rp.end,
                        days=days,
                        principal=amount,
                        base_rate=rp.base_rate,
                        points=points,
                        rate=rate,
                        amount=exact,
                        rounded=cents(exact),
                        provisional=rp.provisional,
                    )
                )
        unrounded = sum((p.amount for p in periods), Decimal(0))
    return periods, unrounded


def default_interest(
    principal: Decimal | PrincipalSteps,
    default_from: date,
    credited_on: date,
    *,
    points: Decimal | None = None,
    consumer: bool | None = None,
    payment_for_goods_or_services: bool = True,
    rounding: Rounding = Rounding.PER_PERIOD,
    table: BaseRateTable | None = None,
) -> InterestResult:
    """Interest at base rate + points from `default_from` to the day before `credited_on`.

    `points`: a policy's `interest base + N`; None means the statutory surcharge of § 288
    BGB, which needs `consumer` (any party a consumer: + 5; else + 9 for payment for goods
    or services, + 5 for other money debts).
    `principal` is one amount or steps `(from_day, amount)` after partial payments (§ 367:
    payments reduce the interest-bearing principal from the day they are credited).
    To accrue up to today on an unpaid claim, pass `credited_on = today + 1 day`.
    """
    if points is None:
        if consumer is None:
            raise ValueError("statutory interest needs to know whether a consumer is a party")
        points = statutory_points(
            consumer=consumer, payment_for_goods_or_services=payment_for_goods_or_services
        )
    table = table or base_rate_table()
    last = credited_on - timedelta(days=1)
    periods: list[InterestPeriod] = []
    unrounded = Decimal(0)
    if default_from <= last:
        periods, unrounded = _periods(principal, default_from, last, points, table)
    if rounding is Rounding.PER_PERIOD:
        total = sum((p.rounded for p in periods), Decimal("0.00"))
    else:
        total = cents(unrounded)
    return InterestResult(
        total=total,
        unrounded=unrounded,
        periods=tuple(periods),
        provisional=any(p.provisional for p in periods),
        rounding=rounding,
    )
