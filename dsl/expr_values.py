"""Values with units in policy conditions: `Money` (an amount in a currency) and
`Duration` (days, weeks or business days), with their parsers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from mahnwerk.errors import MahnwerkError


class EvalError(MahnwerkError):
    """A condition could not be evaluated for an invoice (a missing fact, mixed currencies)."""


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in a currency.  Always `Decimal`; quantised only at the ledger."""

    amount: Decimal
    currency: str = "EUR"

    def __str__(self) -> str:
        return f"{format_decimal(self.amount)} {self.currency}"

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise EvalError(f"cannot combine {self} with {other}: different currencies")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount


@dataclass(frozen=True, slots=True, order=True)
class Duration:
    """A number of calendar days, or of business days (no weekends and holidays)."""

    days: int
    business: bool = False

    def __str__(self) -> str:
        if self.business:
            return f"{self.days} business day" + ("" if abs(self.days) == 1 else "s")
        return f"{self.days}d"

    def __neg__(self) -> Duration:
        return Duration(-self.days, self.business)


def format_decimal(value: Decimal) -> str:
    """`Decimal` as plain source text: no exponent; amounts keep their cents (`1.00`)."""
    text = format(value, "f")
    if "." in text:
        whole, frac = text.split(".")
        frac = frac.rstrip("0")
        text = f"{whole}.{frac.ljust(2, '0')}"
    return text


_DURATION_RE = re.compile(r"(\d+)\s*(business\s+days?|d|w|days?|weeks?)$")
_MONEY_RE = re.compile(r"(\d+(?:\.\d+)?)\s*([A-Z]{3})$")


def parse_duration(text: str) -> Duration:
    m = _DURATION_RE.match(text.strip())
    if not m:
        raise ValueError(f"not a duration: {text!r} (write e.g. 14d, 2w or 3 business days)")
    n, unit = int(m.group(1)), m.group(2)
    if unit.startswith("business"):
        return Duration(n, business=True)
    if unit.startswith("w"):
        return Duration(n * 7)
    return Duration(n)


def parse_money(text: str) -> Money:
    m = _MONEY_RE.match(text.strip())
    if not m:
        raise ValueError(f"not an amount: {text!r} (write e.g. 2.50 EUR)")
    return Money(Decimal(m.group(1)), m.group(2))
