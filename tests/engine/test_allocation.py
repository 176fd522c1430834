"""Allocation of payments: § 367 BGB on one claim, § 366 BGB across claims (spec A8)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mahnwerk.engine.allocation import (
    Balance,
    OpenClaim,
    allocate_366,
    allocate_367,
)

D = Decimal


def test_payment_clears_fee_and_interest_before_principal() -> None:
    result = allocate_367(D("50.00"), costs=D("5.00"), interest=D("1.00"), principal=D("100.00"))
    assert (result.costs, result.interest, result.principal) == (
        D("5.00"),
        D("1.00"),
        D("44.00"),
    )
    assert result.remaining == Balance(D("0.00"), D("0.00"), D("56.00"))
    assert result.excess == 0


def test_research_example_costs_interest_principal() -> None:
    result = allocate_367(D("100.00"), costs=D("5.00"), interest=D("12.00"), principal=D("1000.00"))
    assert result.paid == Balance(D("5.00"), D("12.00"), D("83.00"))


def test_payment_above_the_balance_is_an_over_payment() -> None:
    result = allocate_367(D("120.00"), costs=D("5.00"), interest=D("1.00"), principal=D("100.00"))
    assert result.remaining.total == 0
    assert result.excess == D("14.00")


def test_amounts_finer_than_a_cent_are_refused() -> None:
    with pytest.raises(ValueError, match="cents"):
        allocate_367(D("1.005"), principal=D("2.00"))


def claim(cid: str, due: str, principal: str, **kw: object) -> OpenClaim:
    return OpenClaim(cid, date.fromisoformat(due), Balance(principal=D(principal)), **kw)  # type: ignore[arg-type]


def test_unassigned_payment_goes_to_due_claims_before_future_ones() -> None:
    claims = [claim("later", "2025-07-01", "100.00"), claim("due", "2025-06-01", "100.00")]
    result = allocate_366(D("150.00"), claims, date(2025, 6, 15))
    assert result.for_claim("due").paid.total == D("100.00")
    assert result.for_claim("later").paid.total == D("50.00")


def test_among_due_claims_the_older_is_paid_first() -> None:
    claims = [claim("new", "2025-05-01", "100.00"), claim("old", "2025-03-01", "100.00")]
    result = allocate_366(D("120.00"), claims, date(2025, 6, 15))
    assert result.for_claim("old").paid.total == D("100.00")
    assert result.for_claim("new").paid.total == D("20.00")


def test_less_secured_and_more_burdensome_claims_come_before_older_ones() -> None:
    claims = [
        claim("old_secured", "2025-01-01", "100.00", secured=True),
        claim("new_costly", "2025-05-01", "100.00", burden=D("11.27")),
        claim("new_cheap", "2025-04-01", "100.00", burden=D("6.27")),
    ]
    result = allocate_366(D("150.00"), claims, date(2025, 6, 15))
    assert [result.for_claim(c).paid.total for c in ("new_costly", "new_cheap", "old_secured")] == [
        D("100.00"),
        D("50.00"),
        D("0.00"),
    ]


def test_full_ties_share_the_payment_proportionally_to_the_cent() -> None:
    claims = [
        claim("a", "2025-03-01", "100.00"),
        claim("b", "2025-03-01", "200.00"),
        claim("c", "2025-03-01", "100.00"),
    ]
    result = allocate_366(D("100.00"), claims, date(2025, 6, 15))
    assert [result.for_claim(c).paid.total for c in "abc"] == [D("25.00"), D("50.00"), D("25.00")]
    odd = allocate_366(D("0.01"), claims[::2], date(2025, 6, 15))
    assert [odd.for_claim(c).paid.total for c in "ac"] == [D("0.01"), D("0.00")]


def test_each_claims_share_is_split_by_367() -> None:
    claims = [OpenClaim("x", date(2025, 3, 1), Balance(D("1.00"), D("2.00"), D("50.00")))]
    result = allocate_366(D("10.00"), claims, date(2025, 6, 15))
    assert result.for_claim("x").paid == Balance(D("1.00"), D("2.00"), D("7.00"))


cents = st.decimals(min_value=D("0"), max_value=D("5000"), places=2)
balances = st.builds(Balance, cents, cents, cents)


@given(payment=cents, owed=balances)
def test_allocation_on_one_claim_never_creates_or_loses_money(
    payment: Decimal, owed: Balance
) -> None:
    result = allocate_367(
        payment, costs=owed.costs, interest=owed.interest, principal=owed.principal
    )
    assert result.paid.total + result.excess == payment
    assert result.paid.total + result.remaining.total == owed.total
    assert min(result.remaining.costs, result.remaining.interest, result.remaining.principal) >= 0


@given(
    payment=cents,
    claims=st.lists(
        st.tuples(
            st.dates(min_value=date(2025, 1, 1), max_value=date(2025, 12, 31)),
            balances,
            st.booleans(),
        ),
        max_size=6,
    ),
)
def test_unassigned_allocation_never_creates_or_loses_money(
    payment: Decimal, claims: list[tuple[date, Balance, bool]]
) -> None:
    open_claims = [
        OpenClaim(str(i), due, owed, secured=secured)
        for i, (due, owed, secured) in enumerate(claims)
    ]
    result = allocate_366(payment, open_claims, date(2025, 6, 30))
    paid = sum((a.paid.total for _, a in result.allocations), D(0))
    owed = sum((c.owed.total for c in open_claims), D(0))
    assert paid + result.excess == payment
    assert result.excess == max(payment - owed, D(0))
    for c in open_claims:
        alloc = result.for_claim(c.id)
        assert alloc.excess == 0
        assert alloc.paid.total + alloc.remaining.total == c.owed.total


def test_a_claim_due_on_the_payment_day_is_due_the_day_after_not_yet() -> None:
    # § 366 Abs. 2: the due one first, even before an older one that is not due yet
    claims = [
        claim("not_yet", "2025-06-16", "100.00", arose_on=date(2025, 1, 1)),
        claim("due_today", "2025-06-15", "100.00", arose_on=date(2025, 5, 1)),
    ]
    result = allocate_366(D("100.00"), claims, date(2025, 6, 15))
    assert result.for_claim("due_today").paid.total == D("100.00")
    assert result.for_claim("not_yet").paid.total == D("0.00")
    # a day later both are due: the older one comes first
    later = allocate_366(D("100.00"), claims, date(2025, 6, 16))
    assert later.for_claim("not_yet").paid.total == D("100.00")


def test_money_as_a_float_is_refused_naming_the_amount() -> None:
    with pytest.raises(TypeError) as caught:
        allocate_367(1.5, principal=D("2.00"))  # type: ignore[arg-type]
    assert str(caught.value) == "payment must be a Decimal, not float"


def test_a_negative_or_finer_than_cent_amount_is_refused_with_its_name_and_value() -> None:
    with pytest.raises(ValueError) as caught:
        allocate_367(D("1.00"), principal=D("-1.00"))
    assert str(caught.value) == "principal must be a non-negative amount in cents, got -1.00"
    with pytest.raises(ValueError) as caught:
        allocate_366(D("1.005"), [claim("a", "2025-03-01", "2.00")], date(2025, 6, 15))
    assert str(caught.value) == "payment must be a non-negative amount in cents, got 1.005"


def test_the_same_invoice_twice_in_one_allocation_is_refused() -> None:
    twice = [claim("R1", "2025-03-01", "10.00"), claim("R1", "2025-04-01", "20.00")]
    with pytest.raises(ValueError) as caught:
        allocate_366(D("5.00"), twice, date(2025, 6, 15))
    assert str(caught.value) == "claim ids must be unique"


def test_a_cent_that_cannot_be_shared_evenly_goes_to_the_first_named_of_equal_claims() -> None:
    # three invoices of 1.00, due the same day, 0.02 paid: 0.0066… each; the two cents go
    # to the first two in the order given, never both to one and never to the last
    claims = [claim(c, "2025-03-01", "1.00") for c in ("R1", "R2", "R3")]
    result = allocate_366(D("0.02"), claims, date(2025, 6, 15))
    assert [result.for_claim(c).paid.total for c in ("R1", "R2", "R3")] == [
        D("0.01"),
        D("0.01"),
        D("0.00"),
    ]
    # the larger remainder wins before the order: 0.05 over 1.00 and 2.00 is 0.0166… and
    # 0.0333…; the cent left after 0.01 + 0.03 goes to R1, whose remainder 0.0066… is larger
    # than R2's 0.0033…
    uneven = [claim("R1", "2025-03-01", "1.00"), claim("R2", "2025-03-01", "2.00")]
    result = allocate_366(D("0.05"), uneven, date(2025, 6, 15))
    assert [result.for_claim(c).paid.total for c in ("R1", "R2")] == [D("0.02"), D("0.03")]
