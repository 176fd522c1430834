"""Limitation of claims (spec C4; §§ 195, 199, 203–205, 209, 212 BGB)."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from mahnwerk.engine.limitation import (
    Restart,
    Suspension,
    add_months,
    court_procedure,
    deferral,
    is_time_barred,
    limitation,
    negotiations,
    time_barred_from,
)


def test_claim_due_march_2023_is_time_barred_from_2027() -> None:
    assert time_barred_from(date(2023, 3, 15)) == date(2027, 1, 1)
    assert not is_time_barred(date(2026, 12, 31), date(2023, 3, 15))
    assert is_time_barred(date(2027, 1, 1), date(2023, 3, 15))


def test_period_runs_from_the_end_of_the_year_the_claim_fell_due() -> None:
    assert time_barred_from(date(2022, 12, 31)) == date(2026, 1, 1)
    assert time_barred_from(date(2023, 1, 1)) == date(2027, 1, 1)


def test_part_payment_restarts_a_full_three_years_from_the_next_day() -> None:
    events = [Restart(date(2024, 5, 10), "part payment")]
    assert time_barred_from(date(2023, 3, 15), events) == date(2027, 5, 11)


def test_acknowledgement_on_leap_day_ends_on_28_february() -> None:
    events = [Restart(date(2024, 2, 29))]
    assert time_barred_from(date(2023, 3, 15), events) == date(2027, 3, 1)


def test_restart_before_the_period_begins_does_not_shorten_it() -> None:
    events = [Restart(date(2023, 5, 1), "part payment")]
    assert time_barred_from(date(2023, 3, 15), events) == date(2027, 1, 1)


def test_payment_on_a_barred_claim_does_not_revive_it() -> None:
    result = limitation(date(2020, 3, 15), [Restart(date(2024, 2, 1), "part payment")])
    assert result.barred_from == date(2024, 1, 1)
    assert any("already time-barred" in r for r in result.reasons)


def test_court_service_stops_the_clock_until_six_months_after_the_procedure() -> None:
    # served 2026-11-01, procedure ended 2027-03-01 → suspended until 2027-09-01
    # 61 days of the period were left (2026-11-01..2026-12-31); they run again from
    # 2027-09-02 → last day 2027-11-01
    events = [court_procedure(date(2026, 11, 1), date(2027, 3, 1))]
    assert events[0].end == date(2027, 9, 1)
    assert time_barred_from(date(2023, 3, 15), events) == date(2027, 11, 2)


def test_open_court_procedure_keeps_the_claim_alive() -> None:
    result = limitation(date(2023, 3, 15), [court_procedure(date(2026, 11, 1))])
    assert result.barred_from is None
    assert not result.is_time_barred(date(2040, 1, 1))


def test_deferral_adds_its_days_inclusive() -> None:
    events = [deferral(date(2025, 1, 1), date(2025, 1, 10))]
    assert time_barred_from(date(2023, 3, 15), events) == date(2027, 1, 11)


def test_negotiations_end_no_earlier_than_three_months_after() -> None:
    events = [negotiations(date(2026, 12, 20), date(2026, 12, 28))]
    result = limitation(date(2023, 3, 15), events)
    assert result.barred_from == date(2027, 3, 29)


def test_overlapping_suspensions_count_each_day_once() -> None:
    events = [
        Suspension(date(2025, 1, 1), date(2025, 1, 10), "a"),
        Suspension(date(2025, 1, 5), date(2025, 1, 20), "b"),
    ]
    assert time_barred_from(date(2023, 3, 15), events) == date(2027, 1, 21)


def test_suspension_before_the_period_begins_does_not_count() -> None:
    events = [deferral(date(2023, 4, 1), date(2023, 6, 30))]
    assert time_barred_from(date(2023, 3, 15), events) == date(2027, 1, 1)


def test_restart_during_a_suspension_runs_from_its_end() -> None:
    events = [deferral(date(2025, 1, 1), date(2025, 3, 31)), Restart(date(2025, 2, 1))]
    assert time_barred_from(date(2023, 3, 15), events) == date(2028, 4, 1)


def test_add_months_clamps_to_the_last_day_of_the_month() -> None:
    assert add_months(date(2025, 8, 31), 6) == date(2026, 2, 28)
    assert add_months(date(2025, 11, 15), 3) == date(2026, 2, 15)


@given(
    due=st.dates(min_value=date(2015, 1, 1), max_value=date(2030, 12, 31)),
    restart=st.dates(min_value=date(2015, 1, 1), max_value=date(2035, 12, 31)),
)
def test_a_restart_never_makes_the_claim_bar_earlier(due: date, restart: date) -> None:
    plain = time_barred_from(due)
    with_restart = time_barred_from(due, [Restart(restart)])
    assert plain is not None and with_restart is not None
    assert with_restart >= plain
