"""Business days, § 193 BGB, TARGET2 grace (A9) and the contact guards (D1, D2)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mahnwerk.dsl.ir import Channel, QuietHours
from mahnwerk.engine.calendar import (
    add_business_days,
    add_target2_days,
    holidays_in,
    is_business_day,
    is_holiday,
    is_rest_day,
    is_target2_day,
    next_allowed_contact,
    next_business_day,
    payment_grace_end,
    shift_period_end,
)

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def test_bavaria_has_epiphany_and_assumption_berlin_has_neither() -> None:
    for day in (date(2025, 1, 6), date(2025, 8, 15)):
        assert is_holiday(day, "DE", "DE-BY")
        assert not is_holiday(day, "DE", "DE-BE")


def test_region_may_be_given_with_or_without_country_prefix() -> None:
    assert holidays_in("DE", "BY", 2025) == holidays_in("de", "de-by", 2025)


def test_unknown_region_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown holiday calendar"):
        holidays_in("DE", "XX", 2025)


def test_holiday_sets_are_cached_per_country_region_and_year() -> None:
    assert holidays_in("DE", "BE", 2025) is holidays_in("DE", "BE", 2025)


def test_weekends_and_holidays_are_not_business_days() -> None:
    assert is_business_day(date(2025, 8, 14), "DE", "BY")  # Thursday
    assert not is_business_day(date(2025, 8, 15), "DE", "BY")  # Assumption
    assert is_business_day(date(2025, 8, 15), "DE", "BE")
    assert not is_business_day(date(2025, 8, 16), "DE", "BE")  # Saturday


def test_next_business_day_skips_weekend_and_holiday() -> None:
    assert next_business_day(date(2025, 8, 14), "DE", "BY") == date(2025, 8, 18)
    assert next_business_day(date(2025, 8, 14), "DE", "BE") == date(2025, 8, 15)


def test_period_end_on_a_saturday_moves_to_monday_per_193() -> None:
    assert shift_period_end(date(2025, 5, 3), "DE") == date(2025, 5, 5)
    assert shift_period_end(date(2025, 5, 5), "DE") == date(2025, 5, 5)
    assert shift_period_end(date(2025, 12, 25), "DE", "BE") == date(2025, 12, 29)


def test_add_business_days_counts_forward_and_back() -> None:
    assert add_business_days(date(2025, 12, 23), 2, "DE", "BE") == date(2025, 12, 29)
    assert add_business_days(date(2025, 12, 29), -2, "DE", "BE") == date(2025, 12, 23)
    assert add_business_days(date(2025, 12, 25), 0, "DE", "BE") == date(2025, 12, 25)


def test_target2_is_closed_on_exactly_its_six_days() -> None:
    closed_2025 = {
        date(2025, 1, 1),
        date(2025, 4, 18),
        date(2025, 4, 21),
        date(2025, 5, 1),
        date(2025, 12, 25),
        date(2025, 12, 26),
    }
    weekdays = [date(2025, 1, 1) + timedelta(days=i) for i in range(365)]
    weekdays = [d for d in weekdays if d.weekday() < 5]
    assert {d for d in weekdays if not is_target2_day(d)} == closed_2025
    assert is_target2_day(date(2025, 10, 3))  # German Unity Day is a TARGET2 day


def test_payment_grace_is_three_target2_days_after_due() -> None:
    # Thu 17 counts, Good Friday and Easter Monday do not: Tue 22, Wed 23
    assert payment_grace_end(date(2025, 4, 16)) == date(2025, 4, 23)
    assert payment_grace_end(date(2025, 6, 2)) == date(2025, 6, 5)
    assert add_target2_days(date(2025, 12, 24), 1) == date(2025, 12, 29)


def test_call_on_bavarian_holiday_moves_to_next_day_at_eight() -> None:
    moved = next_allowed_contact(
        berlin(2025, 8, 15, 10, 0), Channel.CALL, "Europe/Berlin", "DE", "DE-BY"
    )
    assert moved == berlin(2025, 8, 16, 8, 0)
    assert moved.tzinfo == BERLIN


def test_same_call_in_berlin_goes_at_once() -> None:
    at = berlin(2025, 8, 15, 10, 0)
    assert next_allowed_contact(at, "call", BERLIN, "DE", "DE-BE") == at


def test_sms_after_eight_pm_waits_until_eight_next_morning() -> None:
    at = berlin(2025, 8, 13, 20, 0)
    assert next_allowed_contact(at, "sms", BERLIN, "DE", "BE") == berlin(2025, 8, 14, 8, 0)


def test_call_early_morning_waits_until_eight() -> None:
    at = berlin(2025, 8, 13, 7, 59)
    assert next_allowed_contact(at, "call", BERLIN, "DE", "BE") == berlin(2025, 8, 13, 8, 0)


def test_saturday_evening_call_waits_until_monday() -> None:
    at = berlin(2025, 8, 16, 20, 30)
    assert next_allowed_contact(at, "call", BERLIN, "DE", "BE") == berlin(2025, 8, 18, 8, 0)


def test_letters_ignore_quiet_hours_but_not_sundays_and_holidays() -> None:
    late = berlin(2025, 8, 13, 23, 0)
    assert next_allowed_contact(late, "letter", BERLIN, "DE", "BE") == late
    sunday = berlin(2025, 8, 17, 12, 0)
    assert next_allowed_contact(sunday, "letter", BERLIN, "DE", "BE") == berlin(2025, 8, 18)
    saturday = berlin(2025, 8, 16, 12, 0)
    assert next_allowed_contact(saturday, "letter", BERLIN, "DE", "BE") == saturday


def test_email_follows_the_letter_rule_unless_configured() -> None:
    holiday = berlin(2025, 12, 25, 9, 0)
    assert next_allowed_contact(holiday, "email", BERLIN, "DE", "BE") == berlin(2025, 12, 27)
    allowed = next_allowed_contact(
        holiday, "email", BERLIN, "DE", "BE", rest_day_channels={Channel.CALL, Channel.SMS}
    )
    assert allowed == holiday


def test_policy_window_replaces_the_default_for_its_channel_only() -> None:
    windows = (QuietHours(Channel.SMS, time(21, 0), time(9, 0)),)
    at = berlin(2025, 8, 13, 8, 30)
    assert next_allowed_contact(at, "sms", BERLIN, "DE", "BE", windows) == berlin(2025, 8, 13, 9, 0)
    assert next_allowed_contact(at, "call", BERLIN, "DE", "BE", windows) == at


def test_time_is_judged_in_the_customers_time_zone() -> None:
    at = datetime(2025, 8, 13, 5, 30, tzinfo=UTC)  # 07:30 in Berlin
    assert next_allowed_contact(at, "call", "Europe/Berlin", "DE", "BE") == berlin(
        2025, 8, 13, 8, 0
    )


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_allowed_contact(datetime(2025, 8, 13, 12), "call", BERLIN, "DE", "BE")


@given(
    at=st.datetimes(
        min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    channel=st.sampled_from(list(Channel)),
)
def test_allowed_contact_is_never_earlier_and_never_on_a_rest_day(
    at: datetime, channel: Channel
) -> None:
    allowed = next_allowed_contact(at, channel, BERLIN, "DE", "BY")
    assert allowed >= at
    assert not is_rest_day(allowed.date(), "DE", "BY")
    if channel in (Channel.CALL, Channel.SMS):
        assert time(8, 0) <= allowed.time() < time(20, 0)
