"""Dunning fees, the 40 EUR lump sum and collection costs — spec B1, A7, B2, D10.

All amounts are EUR `Decimal`s.  Fees are damages for default (§§ 280 Abs. 2, 286 BGB), so
nothing is owed for what happened before default, and only real material costs are
recoverable (§ 309 Nr. 5 BGB; BGH VIII ZR 95/18).  Collection costs are capped at what a
lawyer could charge under the RVG (RDG; Nr. 2300, 7002 VV RVG); the fee table is data
(`data/rvg_fees.csv`) with effective dates.
"""

from __future__ import annotations

import csv
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from enum import Enum
from functools import lru_cache
from importlib import resources

from mahnwerk.dsl.ir import PAPER, Channel

# B1, D10, A7: the statutory numbers live in `dsl/statute.py`, read by the policy checker too.
from mahnwerk.dsl.statute import (
    CONSUMER_FEE_CAP,
    DEFAULT_FEE_SHARE,
    LUMP_SUM,
    exceeds_consumer_cap,
)
from mahnwerk.engine.money import CENT, ZERO, cents
from mahnwerk.errors import MahnwerkError

MINIMUM_RVG_FEE = Decimal("15.00")
"""§ 13 RVG: the minimum amount of a fee."""

EXPENSES_SHARE = Decimal("0.20")
EXPENSES_CAP = Decimal("20.00")
"""Nr. 7002 VV RVG: expenses flat rate, 20 % of the fees, at most 20 EUR."""


# ---------------------------------------------------------------------------
# B1 dunning fees and D10 proportionality
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeeDecision:
    amount: Decimal
    reason: str


def fee_headroom(
    *, principal: Decimal, fees_so_far: Decimal, share_percent: Decimal = DEFAULT_FEE_SHARE
) -> Decimal:
    """How much more may be charged in fees before they exceed the share of the principal.

    D10 counts fees and costs, never statutory interest; what the caller passes as
    `fees_so_far` is what its policy counts.  Rounded down, so the limit is never crossed.
    """
    limit = (principal * share_percent / 100).quantize(CENT, rounding=ROUND_DOWN)
    return max(limit - fees_so_far, ZERO)


NOTHING_SENT = "no message goes out at this step, so no material costs (VIII ZR 95/18)"
"""Why a state's fee is not charged when none of its messages is sent (B1 counts letters)."""


def dunning_fee(
    *,
    requested: Decimal,
    channel: Channel | str,
    reminder_creates_default: bool,
    in_default: bool,
    consumer: bool,
    principal: Decimal,
    fees_so_far: Decimal = ZERO,
    consumer_cap: Decimal = CONSUMER_FEE_CAP,
    share_percent: Decimal = DEFAULT_FEE_SHARE,
) -> FeeDecision:
    """The fee a reminder may actually charge, with the reason (B1, D10).

    In order: the reminder that creates default is free, and so is any reminder before
    default (its costs arise before default, so they are no default damage, § 286 BGB);
    only a letter has material costs, so e-mail, SMS and calls are free; a consumer pays at
    most `consumer_cap` per letter (§ 309 Nr. 5 BGB); all fees together stay within
    `share_percent` % of the principal (D10) — a fee that does not fit is cut to what fits.
    """
    if requested <= 0:
        return FeeDecision(ZERO, "no fee requested")
    if reminder_creates_default:
        return FeeDecision(ZERO, "the reminder that creates default is free (§ 286 Abs. 1 BGB)")
    if not in_default:
        return FeeDecision(ZERO, "no default yet: no damages for default (§§ 280, 286 BGB)")
    if Channel(channel) not in PAPER:
        return FeeDecision(ZERO, f"{Channel(channel).value} has no material costs (VIII ZR 95/18)")
    amount, notes = requested, []
    if consumer and exceeds_consumer_cap(amount, consumer_cap):
        amount = consumer_cap
        notes.append(f"capped at {consumer_cap} EUR for consumers (§ 309 Nr. 5 BGB)")
    headroom = fee_headroom(
        principal=principal, fees_so_far=fees_so_far, share_percent=share_percent
    )
    if amount > headroom:
        amount = headroom
        notes.append(f"cut to stay within {share_percent} % of the principal (D10)")
    reason = "letter fee after default: material costs (§§ 280, 286 BGB)"
    return FeeDecision(amount, "; ".join([reason, *notes]))


# ---------------------------------------------------------------------------
# A7 lump sum
# ---------------------------------------------------------------------------


def lump_sum_decision(
    *,
    consumer: bool,
    in_default: bool,
    already_charged: bool,
    payment_for_goods_or_services: bool = True,
) -> FeeDecision:
    """§ 288 Abs. 5 BGB: 40 EUR once per claim in default, for payment for goods or services
    from a debtor who is not a consumer; never for consumers.  Instalments count as claims, so
    the caller asks once per instalment.  Statutory, like interest: outside the D10 share."""
    if consumer:
        return FeeDecision(ZERO, "no lump sum from a consumer (§ 288 Abs. 5 BGB)")
    if not payment_for_goods_or_services:
        return FeeDecision(
            ZERO, "no lump sum: not payment for goods or services (§ 288 Abs. 5 BGB)"
        )
    if not in_default:
        return FeeDecision(ZERO, "no lump sum before default (§ 288 Abs. 5 BGB)")
    if already_charged:
        return FeeDecision(ZERO, "the lump sum is due once per claim (§ 288 Abs. 5 BGB)")
    return FeeDecision(LUMP_SUM, "lump sum for default (§ 288 Abs. 5 BGB)")


def lump_sum(
    *,
    consumer: bool,
    in_default: bool,
    already_charged: bool,
    payment_for_goods_or_services: bool = True,
) -> Decimal:
    """The amount of `lump_sum_decision`."""
    return lump_sum_decision(
        consumer=consumer,
        in_default=in_default,
        already_charged=already_charged,
        payment_for_goods_or_services=payment_for_goods_or_services,
    ).amount


def costs_after_lump_sum(lump_sum_charged: Decimal, pursuit_costs: Decimal) -> Decimal:
    """The part of later legal-pursuit costs still chargeable after the lump sum.

    § 288 Abs. 5 S. 3 BGB credits the lump sum against those costs, so the debtor owes
    max(lump sum, costs) in total, never both: this returns max(costs - lump sum, 0).
    """
    return max(pursuit_costs - lump_sum_charged, ZERO)


# ---------------------------------------------------------------------------
# B2 collection costs (RVG)
# ---------------------------------------------------------------------------


class FeeTableError(MahnwerkError, LookupError):
    """The RVG table does not cover the mandate date or the claim value."""


class CollectionCase(Enum):
    """The business fee factor for an undisputed claim (Nr. 2300 VV RVG, note Abs. 2)."""

    PAID_ON_FIRST_DEMAND = Decimal("0.5")
    STANDARD = Decimal("0.9")
    DIFFICULT = Decimal("1.3")  # only if especially extensive or difficult

    @property
    def factor(self) -> Decimal:
        return self.value


@dataclass(frozen=True, slots=True)
class FeeTable:
    effective_from: date
    brackets: tuple[tuple[Decimal, Decimal], ...]  # (value up to, 1.0 fee), ascending


@dataclass(frozen=True, slots=True)
class CollectionCosts:
    claim_value: Decimal
    table_from: date
    one_fee: Decimal
    factor: Decimal
    fee: Decimal
    expenses: Decimal

    @property
    def total(self) -> Decimal:
        return self.fee + self.expenses


def parse_fee_tables(text: str) -> tuple[FeeTable, ...]:
    """Read the CSV format of `data/rvg_fees.csv` (lines starting with `#` are comments)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    by_date: dict[date, list[tuple[Decimal, Decimal]]] = {}
    for row in csv.DictReader(lines):
        day = date.fromisoformat(row["effective_from"].strip())
        by_date.setdefault(day, []).append(
            (Decimal(row["value_up_to"].strip()), Decimal(row["fee_1_0"].strip()))
        )
    return tuple(FeeTable(day, tuple(sorted(by_date[day]))) for day in sorted(by_date))


@lru_cache(maxsize=1)
def fee_tables() -> tuple[FeeTable, ...]:
    """The packaged RVG tables, read once per process."""
    data = resources.files("mahnwerk.engine").joinpath("data", "rvg_fees.csv")
    return parse_fee_tables(data.read_text(encoding="utf-8"))


def fee_table_on(mandate_on: date, tables: tuple[FeeTable, ...] | None = None) -> FeeTable:
    """The table for a mandate given on `mandate_on` (§ 60 RVG: the law at the mandate)."""
    usable = [t for t in tables or fee_tables() if t.effective_from <= mandate_on]
    if not usable:
        raise FeeTableError(
            f"no RVG collection-fee table for a mandate on {mandate_on.isoformat()}"
        )
    return usable[-1]


def rvg_one_fee(
    claim_value: Decimal, mandate_on: date, tables: tuple[FeeTable, ...] | None = None
) -> Decimal:
    """The value of a 1.0 fee for `claim_value` (§ 13 RVG with Anlage 2)."""
    if claim_value <= 0:
        raise ValueError(f"claim value must be positive, got {claim_value}")
    table = fee_table_on(mandate_on, tables)
    limits = [up_to for up_to, _ in table.brackets]
    i = bisect_left(limits, claim_value)
    if i == len(limits):
        raise FeeTableError(
            f"claim value {claim_value} EUR is above the last bracket ({limits[-1]} EUR) of "
            f"the RVG table from {table.effective_from.isoformat()}; extend data/rvg_fees.csv"
        )
    return table.brackets[i][1]


def collection_costs(
    claim_value: Decimal,
    mandate_on: date,
    case: CollectionCase = CollectionCase.STANDARD,
    tables: tuple[FeeTable, ...] | None = None,
) -> CollectionCosts:
    """Recoverable collection costs for an undisputed claim (B2): fee plus expenses.

    Fee = factor × 1.0 fee, rounded half-up to the cent (§ 2 Abs. 2 RVG), at least 15 EUR;
    expenses = 20 % of the fee, at most 20 EUR (Nr. 7002 VV RVG).  No VAT (the letter may
    add it only with a statement that the creditor cannot deduct it, § 13a RDG).
    """
    table = fee_table_on(mandate_on, tables)
    one = rvg_one_fee(claim_value, mandate_on, tables)
    fee = max(cents(one * case.factor), MINIMUM_RVG_FEE)
    expenses = min(cents(fee * EXPENSES_SHARE), EXPENSES_CAP)
    return CollectionCosts(claim_value, table.effective_from, one, case.factor, fee, expenses)
