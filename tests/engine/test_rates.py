"""The § 247 BGB base-rate table and the § 288 BGB surcharges (spec A4, A5)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from mahnwerk.engine.rates import (
    RateUnknownError,
    base_rate_on,
    base_rate_table,
    known_until,
    parse_base_rates,
    statutory_points,
    statutory_rate_on,
)


@pytest.mark.parametrize(
    ("day", "rate"),
    [
        ("2016-07-01", "-0.88"),
        ("2022-12-31", "-0.88"),
        ("2023-01-01", "1.62"),
        ("2023-07-01", "3.12"),
        ("2024-01-01", "3.62"),
        ("2024-07-01", "3.37"),
        ("2024-12-31", "3.37"),
        ("2025-01-01", "2.27"),
        ("2025-06-30", "2.27"),
        ("2025-07-01", "1.27"),
        ("2026-03-15", "1.27"),
        ("2002-01-01", "2.57"),
        ("2010-06-30", "0.12"),
    ],
)
def test_base_rate_on_a_day_is_the_last_announced_value(day: str, rate: str) -> None:
    assert base_rate_on(date.fromisoformat(day)) == Decimal(rate)


def test_packaged_table_loads_from_installed_package_data() -> None:
    table = base_rate_table()
    assert table.rates[0].effective_from == date(2002, 1, 1)
    assert all(r.source.startswith("Deutsche Bundesbank") for r in table.rates)


def test_known_until_is_the_end_of_the_last_published_half_year() -> None:
    assert known_until() == date(2026, 6, 30)
    assert not base_rate_table().is_provisional(date(2026, 6, 30))
    assert base_rate_table().is_provisional(date(2026, 7, 1))


def test_days_after_known_until_use_the_last_value() -> None:
    assert base_rate_on(date(2027, 2, 1)) == Decimal("1.27")


def test_a_new_rate_is_one_more_csv_line() -> None:
    text = "effective_from,base_rate_percent,source\n2026-01-01,1.27,x\n2026-07-01,1.52,y\n"
    table = parse_base_rates(text)
    assert table.rate_on(date(2026, 7, 1)) == Decimal("1.52")
    assert table.known_until == date(2026, 12, 31)


def test_rate_before_the_table_is_refused() -> None:
    with pytest.raises(RateUnknownError):
        base_rate_on(date(2001, 12, 31))


def test_unchanged_announcements_do_not_split_rate_periods() -> None:
    periods = list(base_rate_table().periods(date(2025, 10, 1), date(2026, 5, 31)))
    assert [(p.start, p.end, p.base_rate) for p in periods] == [
        (date(2025, 10, 1), date(2026, 5, 31), Decimal("1.27"))
    ]


def test_provisional_days_form_their_own_period() -> None:
    periods = list(base_rate_table().periods(date(2026, 6, 1), date(2026, 8, 31)))
    assert [(p.end, p.provisional) for p in periods] == [
        (date(2026, 6, 30), False),
        (date(2026, 8, 31), True),
    ]


def test_consumer_party_gets_base_plus_five() -> None:
    assert statutory_points(consumer=True, payment_for_goods_or_services=True) == 5
    rate = statutory_rate_on(date(2025, 8, 1), consumer=True)
    assert rate == Decimal("6.27")


def test_business_payment_claim_gets_base_plus_nine() -> None:
    rate = statutory_rate_on(date(2024, 11, 20), consumer=False)
    assert rate == Decimal("12.37")


def test_other_money_debt_between_businesses_gets_base_plus_five() -> None:
    assert statutory_points(consumer=False, payment_for_goods_or_services=False) == 5
