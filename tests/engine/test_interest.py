"""Default interest to the day (spec A6) with the worked examples to the cent."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mahnwerk.engine.interest import Rounding, default_interest

D = Decimal


def test_consumer_example_across_july_2025_is_16_89() -> None:
    result = default_interest(D("1000.00"), date(2025, 5, 16), date(2025, 8, 15), consumer=True)
    assert [(p.days, p.rate, p.rounded) for p in result.periods] == [
        (46, D("7.27"), D("9.16")),
        (45, D("6.27"), D("7.73")),
    ]
    assert result.total == D("16.89")
    assert not result.provisional


def test_business_example_across_july_2025_is_26_86() -> None:
    result = default_interest(D("1000.00"), date(2025, 5, 16), date(2025, 8, 15), consumer=False)
    assert [p.rounded for p in result.periods] == [D("14.20"), D("12.66")]
    assert result.total == D("26.86")


def test_business_example_across_new_year_2025_is_291_76() -> None:
    result = default_interest(D("10000.00"), date(2024, 11, 16), date(2025, 2, 14), consumer=False)
    first, second = result.periods
    assert (first.start, first.end, first.days, first.rate) == (
        date(2024, 11, 16),
        date(2024, 12, 31),
        46,
        D("12.37"),
    )
    assert (second.start, second.end, second.days, second.rate) == (
        date(2025, 1, 1),
        date(2025, 2, 13),
        44,
        D("11.27"),
    )
    assert (first.rounded, second.rounded) == (D("155.90"), D("135.86"))
    assert result.total == D("291.76")
    assert result.days == 90


def test_leap_year_days_still_count_one_365th() -> None:
    # 2024 is a leap year; act/366 would give 155.47 for the first period.
    result = default_interest(D("10000.00"), date(2024, 11, 16), date(2025, 1, 1), consumer=False)
    assert result.total == D("155.90")


def test_rounding_once_at_the_end_differs_by_a_cent_in_the_worked_example() -> None:
    result = default_interest(
        D("10000.00"),
        date(2024, 11, 16),
        date(2025, 2, 14),
        consumer=False,
        rounding=Rounding.TOTAL,
    )
    assert result.total == D("291.75")
    assert [p.rounded for p in result.periods] == [D("155.90"), D("135.86")]


def test_research_examples_for_consumers_hold() -> None:
    two = default_interest(D("1200.00"), date(2025, 6, 1), date(2025, 8, 31), consumer=True)
    assert (two.total, [p.rounded for p in two.periods]) == (D("19.74"), [D("7.17"), D("12.57")])
    three = default_interest(D("500.00"), date(2025, 10, 1), date(2026, 1, 31), consumer=True)
    assert three.total == D("10.48")


def test_credit_day_bears_no_interest() -> None:
    one_day = default_interest(D("36500.00"), date(2025, 3, 1), date(2025, 3, 2), points=D(5))
    assert one_day.days == 1
    assert one_day.total == D("7.27")  # 36,500 × 7.27 % / 365


def test_paid_on_first_day_of_default_costs_nothing() -> None:
    result = default_interest(D("1000.00"), date(2025, 3, 1), date(2025, 3, 1), points=D(5))
    assert result.total == D("0.00")
    assert result.periods == ()


def test_partial_payment_lowers_the_principal_from_its_credit_day() -> None:
    steps = [(date(2025, 5, 16), D("1000.00")), (date(2025, 7, 1), D("400.00"))]
    result = default_interest(steps, date(2025, 5, 16), date(2025, 8, 15), consumer=True)
    assert [(p.principal, p.days) for p in result.periods] == [
        (D("1000.00"), 46),
        (D("400.00"), 45),
    ]
    assert result.total == D("9.16") + D("3.09")


def test_principal_change_within_a_rate_period_splits_it() -> None:
    steps = [(date(2025, 1, 1), D("1000.00")), (date(2025, 2, 1), D("500.00"))]
    result = default_interest(steps, date(2025, 1, 10), date(2025, 3, 1), points=D(5))
    assert [(p.start, p.end, p.principal) for p in result.periods] == [
        (date(2025, 1, 10), date(2025, 1, 31), D("1000.00")),
        (date(2025, 2, 1), date(2025, 2, 28), D("500.00")),
    ]


def test_principal_unknown_at_default_start_is_refused() -> None:
    with pytest.raises(ValueError, match="principal"):
        default_interest(
            [(date(2025, 2, 1), D("1.00"))], date(2025, 1, 1), date(2025, 3, 1), points=D(5)
        )


def test_policy_points_above_base_are_applied_per_day() -> None:
    result = default_interest(D("1000.00"), date(2025, 6, 1), date(2025, 7, 31), points=D(2))
    assert [p.rate for p in result.periods] == [D("4.27"), D("3.27")]


def test_statutory_interest_needs_the_consumer_flag() -> None:
    with pytest.raises(ValueError, match="consumer"):
        default_interest(D("1.00"), date(2025, 1, 1), date(2025, 2, 1))


def test_other_money_debt_between_businesses_bears_base_plus_five() -> None:
    result = default_interest(
        D("1000.00"),
        date(2025, 5, 16),
        date(2025, 8, 15),
        consumer=False,
        payment_for_goods_or_services=False,
    )
    assert result.total == D("16.89")


def test_negative_total_rate_counts_as_zero() -> None:
    result = default_interest(D("1000.00"), date(2020, 1, 1), date(2020, 3, 1), points=D("0.5"))
    assert result.periods[0].rate == 0
    assert result.total == D("0.00")


def test_days_after_the_last_published_rate_are_provisional() -> None:
    result = default_interest(D("1000.00"), date(2026, 6, 1), date(2026, 9, 1), consumer=True)
    assert result.provisional
    assert [p.provisional for p in result.periods] == [False, True]
    assert result.periods[1].start == date(2026, 7, 1)


days = st.dates(min_value=date(2002, 1, 1), max_value=date(2027, 12, 31))
amounts = st.decimals(min_value=D("0.01"), max_value=D("10000000"), places=2)


@given(
    principal=amounts,
    start=days,
    length=st.integers(0, 3000),
    cut=st.integers(0, 3000),
    points=st.sampled_from([D(5), D(9), D(2), D("0.5")]),
)
def test_interest_is_additive_over_split_periods_before_rounding(
    principal: Decimal, start: date, length: int, cut: int, points: Decimal
) -> None:
    end = start + timedelta(days=length)
    middle = start + timedelta(days=min(cut, length))
    whole = default_interest(principal, start, end, points=points)
    left = default_interest(principal, start, middle, points=points)
    right = default_interest(principal, middle, end, points=points)
    assert abs(whole.unrounded - (left.unrounded + right.unrounded)) < D("1e-20")
    assert whole.days == left.days + right.days == length


@given(principal=amounts, start=days, length=st.integers(0, 3000))
def test_total_is_within_half_a_cent_per_period_of_the_exact_sum(
    principal: Decimal, start: date, length: int
) -> None:
    result = default_interest(principal, start, start + timedelta(days=length), points=D(9))
    assert result.total >= 0
    assert abs(result.total - result.unrounded) <= D("0.005") * max(len(result.periods), 1)
    assert result.total == sum((p.rounded for p in result.periods), D(0))


# ---------------------------------------------------------------------------
# Boundaries found by mutation testing (issue 20): each fails if the rule breaks
# ---------------------------------------------------------------------------


def test_a_half_cent_is_rounded_up_not_to_the_even_cent() -> None:
    """1,825.00 EUR for 30 days at 7.27 % is exactly 10.905 EUR: the letter says 10.91."""
    result = default_interest(D("1825.00"), date(2025, 3, 1), date(2025, 3, 31), consumer=True)
    (period,) = result.periods
    assert (period.days, period.rate, period.amount) == (30, D("7.27"), D("10.905"))
    assert period.rounded == result.total == D("10.91")


def test_each_line_carries_the_base_rate_and_the_surcharge_it_was_computed_with() -> None:
    result = default_interest(D("1000.00"), date(2025, 5, 16), date(2025, 8, 15), consumer=True)
    assert [(p.base_rate, p.points, p.rate) for p in result.periods] == [
        (D("2.27"), D(5), D("7.27")),
        (D("1.27"), D(5), D("6.27")),
    ]
    assert result.rounding is Rounding.PER_PERIOD


def test_nothing_owed_is_zero_euros_and_zero_cents_a_decimal() -> None:
    """Money is a Decimal to the cent even when nothing accrued (the letter prints 0,00)."""
    result = default_interest(D("1000.00"), date(2025, 3, 1), date(2025, 3, 1), points=D(5))
    assert isinstance(result.total, Decimal) and str(result.total) == "0.00"


def test_a_part_payment_that_clears_the_principal_ends_the_interest_on_its_credit_day() -> None:
    steps = [(date(2025, 3, 1), D("36500.00")), (date(2025, 3, 3), D("0.00"))]
    result = default_interest(steps, date(2025, 3, 1), date(2025, 3, 10), points=D(5))
    assert [(p.principal, p.days) for p in result.periods] == [
        (D("36500.00"), 2), (D("0.00"), 7),
    ]
    assert result.total == D("14.54")  # two days at 7.27 EUR, nothing after


def test_three_principal_steps_each_bear_interest_for_their_own_days() -> None:
    """Two part payments: 1,000 EUR, 600 EUR from 1 Feb, 200 EUR from 1 Mar (§ 367)."""
    steps = [
        (date(2025, 1, 1), D("1000.00")), (date(2025, 2, 1), D("600.00")),
        (date(2025, 3, 1), D("200.00")),
    ]
    result = default_interest(steps, date(2025, 1, 1), date(2025, 3, 11), points=D(5))
    assert [(p.start, p.end, p.principal) for p in result.periods] == [
        (date(2025, 1, 1), date(2025, 1, 31), D("1000.00")),
        (date(2025, 2, 1), date(2025, 2, 28), D("600.00")),
        (date(2025, 3, 1), date(2025, 3, 10), D("200.00")),
    ]


def test_a_principal_that_is_not_a_decimal_or_is_negative_is_refused_with_the_reason() -> None:
    with pytest.raises(TypeError, match="principal must be a Decimal, not float"):
        default_interest([(date(2025, 1, 1), 1.5)], date(2025, 1, 1), date(2025, 2, 1),
                         points=D(5))
    with pytest.raises(ValueError, match="negative principal -1.00"):
        default_interest(D("-1.00"), date(2025, 1, 1), date(2025, 2, 1), points=D(5))
    needs_flag = "^statutory interest needs to know whether a consumer is a party$"
    with pytest.raises(ValueError, match=needs_flag):
        default_interest(D("1.00"), date(2025, 1, 1), date(2025, 2, 1))
