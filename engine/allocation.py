"""Which debt a payment pays — §§ 366, 367 BGB, spec A8.

On one claim (§ 367 Abs. 1): costs first, then interest, then principal — so a partial
payment leaves the principal, which alone bears interest (§ 289), open as long as possible.

Across several claims, for a payment the debtor did not assign (§ 366 Abs. 2): the due
claim first; among those, the one that gives the creditor less security; then the more
burdensome one; then the older one; otherwise proportionally.  What we compute: due or not
on the payment day; `secured` and `burden` (e.g. the interest rate) when the caller knows
them, else all claims tie on them; "older" is the day the claim arose (default: its due
date); remaining ties share the rest in proportion to what each owes, cent-exact (largest
remainder, then input order).  Inside each claim § 367 then splits its share.

A debtor's own assignment (§ 366 Abs. 1) is the caller's business: it then calls
`allocate_367` on the named claim, or, when the debtor named several claims and the payment
does not cover them all, `allocate_366` on the named ones (the bank matching does so:
`engine/bank/matching.py`).  Consumer loans (§ 497 Abs. 3) are not handled.
All amounts are cents; anything finer is refused, so no money appears or vanishes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from itertools import groupby

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def _check_cents(name: str, amount: Decimal) -> None:
    if not isinstance(amount, Decimal):
        raise TypeError(f"{name} must be a Decimal, not {type(amount).__name__}")
    if amount < 0 or amount != amount.quantize(CENT):
        raise ValueError(f"{name} must be a non-negative amount in cents, got {amount}")


@dataclass(frozen=True, slots=True)
class Balance:
    """What is owed on one claim, by § 367 category.  Costs: fees, lump sum, collection."""

    costs: Decimal = ZERO
    interest: Decimal = ZERO
    principal: Decimal = ZERO

    def __post_init__(self) -> None:
        for name in ("costs", "interest", "principal"):
            _check_cents(name, getattr(self, name))

    @property
    def total(self) -> Decimal:
        return self.costs + self.interest + self.principal


@dataclass(frozen=True, slots=True)
class Allocation:
    """What a payment paid on one claim, by § 367 category, what is left, and the excess."""

    costs: Decimal
    interest: Decimal
    principal: Decimal
    excess: Decimal  # paid beyond everything owed: to refund or to allocate elsewhere
    remaining: Balance

    @property
    def paid(self) -> Balance:
        return Balance(self.costs, self.interest, self.principal)


def allocate_367(
    payment: Decimal,
    *,
    costs: Decimal = ZERO,
    interest: Decimal = ZERO,
    principal: Decimal = ZERO,
) -> Allocation:
    """§ 367 Abs. 1 BGB: costs, then interest, then principal; the rest is excess."""
    return _allocate(payment, Balance(costs, interest, principal))


def _allocate(payment: Decimal, owed: Balance) -> Allocation:
    _check_cents("payment", payment)
    left = payment
    parts: list[Decimal] = []
    for amount in (owed.costs, owed.interest, owed.principal):
        take = min(left, amount)
        parts.append(take)
        left -= take
    c, i, p = parts
    remaining = Balance(owed.costs - c, owed.interest - i, owed.principal - p)
    return Allocation(c, i, p, left, remaining)


@dataclass(frozen=True, slots=True)
class OpenClaim:
    id: str
    due_date: date
    owed: Balance
    arose_on: date | None = None  # "older" is judged by this; default the due date
    secured: bool = False  # gives the creditor security: paid after unsecured ones
    burden: Decimal = Decimal(0)  # more burdensome for the debtor (e.g. rate): paid first


@dataclass(frozen=True, slots=True)
class MultiAllocation:
    allocations: tuple[tuple[str, Allocation], ...]  # in the input order of the claims
    excess: Decimal

    def for_claim(self, claim_id: str) -> Allocation:
        return dict(self.allocations)[claim_id]


def _rank(claim: OpenClaim, paid_on: date) -> tuple[bool, bool, Decimal, date]:
    return (
        claim.due_date > paid_on,  # due ones first
        claim.secured,  # less security first
        -claim.burden,  # more burdensome first
        claim.arose_on or claim.due_date,  # older first
    )


def _proportional(amount: Decimal, claims: list[OpenClaim]) -> dict[str, Decimal]:
    """`amount` (less than the claims' total) shared in proportion to what each owes."""
    total = sum((c.owed.total for c in claims), ZERO)
    shares: dict[str, Decimal] = {}
    fractions: list[tuple[Decimal, int, str]] = []
    for i, claim in enumerate(claims):
        exact = amount * claim.owed.total / total
        floor = exact.quantize(CENT, rounding=ROUND_DOWN)
        shares[claim.id] = floor
        fractions.append((exact - floor, -i, claim.id))
    left = amount - sum(shares.values(), ZERO)
    owed = {c.id: c.owed.total for c in claims}
    for _, _, claim_id in sorted(fractions, reverse=True):
        if left <= 0:
            break
        if shares[claim_id] < owed[claim_id]:
            shares[claim_id] += CENT
            left -= CENT
    return shares


def order_366(claims: Sequence[OpenClaim], paid_on: date) -> list[OpenClaim]:
    """The claims in the order § 366 Abs. 2 BGB pays them (ties keep the input order)."""
    return sorted(claims, key=lambda c: _rank(c, paid_on))


def allocate_366(payment: Decimal, claims: Sequence[OpenClaim], paid_on: date) -> MultiAllocation:
    """§ 366 Abs. 2 BGB: spread a payment without assignment over the debtor's claims."""
    _check_cents("payment", payment)
    if len({c.id for c in claims}) != len(claims):
        raise ValueError("claim ids must be unique")
    shares: dict[str, Decimal] = {c.id: ZERO for c in claims}
    left = payment
    ordered = order_366(claims, paid_on)
    for _, group_iter in groupby(ordered, key=lambda c: _rank(c, paid_on)):
        group = [c for c in group_iter if c.owed.total > 0]
        if not group or left <= 0:
            continue
        group_total = sum((c.owed.total for c in group), ZERO)
        if left >= group_total:
            for claim in group:
                shares[claim.id] = claim.owed.total
            left -= group_total
        else:
            split = _proportional(left, group)
            shares.update(split)
            left -= sum(split.values(), ZERO)
    allocations = tuple((c.id, _allocate(shares[c.id], c.owed)) for c in claims)
    return MultiAllocation(allocations, left)
