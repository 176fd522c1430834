"""Interest rates for default: the § 247 BGB base rate and the § 288 BGB surcharges.

The base rate is data, not code: `data/base_rates.csv` holds one line per Bundesbank
announcement, and a new half-year is added by adding a line.  The table knows how far it
is sure (`known_until`): a published value covers the half-year it was published for
(§ 247 Abs. 1 S. 2 BGB: the rate changes on 1 January and 1 July), and days after that are
*provisional* — computed with the last known value and flagged, so the engine can show and
later correct them.
"""

from __future__ import annotations

import csv
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from importlib import resources

from mahnwerk.dsl.statute import BUSINESS_POINTS, CONSUMER_POINTS  # § 288 points, written once
from mahnwerk.errors import MahnwerkError


class RateUnknownError(MahnwerkError, LookupError):
    """Asked for a base rate before the first line of the table."""


@dataclass(frozen=True, slots=True)
class BaseRate:
    """One announcement: `percent` applies from `effective_from` until the next line."""

    effective_from: date
    percent: Decimal
    source: str


@dataclass(frozen=True, slots=True)
class RatePeriod:
    """A run of days `start`..`end` (both inclusive) with one base rate."""

    start: date
    end: date
    base_rate: Decimal
    provisional: bool


def _half_year_end(day: date) -> date:
    return date(day.year, 6, 30) if day.month <= 6 else date(day.year, 12, 31)


class BaseRateTable:
    """The base-rate history, sorted, with day look-up by bisection (cheap in hot loops)."""

    __slots__ = ("rates", "_starts", "known_until")

    def __init__(self, rates: tuple[BaseRate, ...]) -> None:
        if not rates:
            raise ValueError("the base-rate table is empty")
        ordered = tuple(sorted(rates, key=lambda r: r.effective_from))
        starts = [r.effective_from for r in ordered]
        if len(set(starts)) != len(starts):
            raise ValueError("the base-rate table has two lines for the same date")
        self.rates = ordered
        self._starts = starts
        # A value published for a half-year is certain until that half-year ends.
        self.known_until: date = _half_year_end(ordered[-1].effective_from)

    def _index(self, day: date) -> int:
        i = bisect_right(self._starts, day) - 1
        if i < 0:
            raise RateUnknownError(
                f"no base rate before {self._starts[0].isoformat()} (asked for {day.isoformat()})"
            )
        return i

    def rate_on(self, day: date) -> Decimal:
        """The base rate in force on `day`; after `known_until` the last value (provisional)."""
        return self.rates[self._index(day)].percent

    def is_provisional(self, day: date) -> bool:
        return day > self.known_until

    def periods(self, start: date, end: date) -> Iterator[RatePeriod]:
        """Split `start`..`end` (inclusive) into runs of one base rate.

        Lines with an unchanged value are merged (a confirmation is not a new period), but
        the border after `known_until` always splits, so provisional days stand apart.
        """
        day = start
        while day <= end:
            i = self._index(day)
            rate = self.rates[i].percent
            provisional = day > self.known_until
            stop = end if provisional else min(end, self.known_until)
            j = i + 1
            while j < len(self.rates) and self.rates[j].effective_from <= stop:
                if self.rates[j].percent != rate:
                    stop = self.rates[j].effective_from - timedelta(days=1)
                    break
                j += 1
            yield RatePeriod(day, stop, rate, provisional)
            day = stop + timedelta(days=1)


def parse_base_rates(text: str) -> BaseRateTable:
    """Read the CSV format of `data/base_rates.csv` (lines starting with `#` are comments)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    rows = csv.DictReader(lines)
    return BaseRateTable(
        tuple(
            BaseRate(
                effective_from=date.fromisoformat(row["effective_from"].strip()),
                percent=Decimal(row["base_rate_percent"].strip()),
                source=row.get("source", "").strip(),
            )
            for row in rows
        )
    )


@lru_cache(maxsize=1)
def base_rate_table() -> BaseRateTable:
    """The packaged table, read once per process."""
    data = resources.files("mahnwerk.engine").joinpath("data", "base_rates.csv")
    return parse_base_rates(data.read_text(encoding="utf-8"))


def base_rate_on(day: date, table: BaseRateTable | None = None) -> Decimal:
    """The § 247 BGB base rate in percent on `day` (provisional after `known_until`)."""
    return (table or base_rate_table()).rate_on(day)


def known_until(table: BaseRateTable | None = None) -> date:
    """The last day whose base rate is published; later days are provisional."""
    return (table or base_rate_table()).known_until


def statutory_points(*, consumer: bool, payment_for_goods_or_services: bool = True) -> Decimal:
    """The § 288 BGB surcharge in points above the base rate.

    `consumer`: any party to the claim is a consumer (§ 13 BGB).
    + 9 only if no party is a consumer and the claim is payment for goods or services
    (§ 288 Abs. 2); every other money debt + 5 (§ 288 Abs. 1).  A clause excluding default
    interest between businesses is void (§ 288 Abs. 6), so there is no "none" answer.
    """
    if not consumer and payment_for_goods_or_services:
        return BUSINESS_POINTS
    return CONSUMER_POINTS


def statutory_rate_on(
    day: date,
    *,
    consumer: bool,
    payment_for_goods_or_services: bool = True,
    table: BaseRateTable | None = None,
) -> Decimal:
    """The statutory default rate in percent a year on `day` (§§ 247, 288 BGB)."""
    points = statutory_points(
        consumer=consumer, payment_for_goods_or_services=payment_for_goods_or_services
    )
    return base_rate_on(day, table) + points
