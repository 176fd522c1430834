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


# Boundaries of C4 on both sides (legal-rules.md): the first day of the period, its last
# day, the first barred day, a one-day suspension; every reason as the audit trail shows it.


def test_restart_on_the_first_day_of_the_period_counts_the_day_before_does_not() -> None:
    due = date(2023, 3, 15)  # the period runs 2024-01-01 .. 2026-12-31
    assert time_barred_from(due, [Restart(date(2024, 1, 1))]) == date(2027, 1, 2)
    assert time_barred_from(due, [Restart(date(2023, 12, 31))]) == date(2027, 1, 1)


def test_restart_on_the_last_day_of_the_period_counts_on_the_first_barred_day_not() -> None:
    due = date(2023, 3, 15)
    assert time_barred_from(due, [Restart(date(2026, 12, 31))]) == date(2030, 1, 1)
    assert time_barred_from(due, [Restart(date(2027, 1, 1))]) == date(2027, 1, 1)


def test_every_late_payment_on_a_barred_claim_is_listed_as_ignored() -> None:
    events = [Restart(date(2024, 2, 1), "part payment"), Restart(date(2024, 3, 1), "interest")]
    result = limitation(date(2020, 3, 15), events)
    assert result.barred_from == date(2024, 1, 1)
    assert result.reasons[1:] == (
        "2024-02-01 part payment: ignored, the claim was already time-barred",
        "2024-03-01 interest: ignored, the claim was already time-barred",
    )


def test_an_early_payment_does_not_hide_a_later_one() -> None:
    events = [Restart(date(2023, 5, 1)), Restart(date(2024, 5, 10))]
    assert time_barred_from(date(2023, 3, 15), events) == date(2027, 5, 11)


def test_each_acknowledgement_restarts_the_period_again() -> None:
    events = [Restart(date(2024, 5, 10)), Restart(date(2025, 6, 1))]
    assert time_barred_from(date(2023, 3, 15), events) == date(2028, 6, 2)


def test_a_deferral_after_a_restart_adds_its_days_to_the_new_period() -> None:
    events = [Restart(date(2024, 5, 10)), deferral(date(2025, 1, 1), date(2025, 1, 10))]
    assert time_barred_from(date(2023, 3, 15), events) == date(2027, 5, 21)


def test_a_deferral_from_the_first_day_of_the_period_counts_every_day() -> None:
    due = date(2023, 3, 15)
    assert time_barred_from(due, [deferral(date(2024, 1, 1), date(2024, 1, 10))]) == date(
        2027, 1, 11
    )
    # begun before the period: only its days from 2024-01-01 count
    assert time_barred_from(due, [deferral(date(2023, 12, 20), date(2024, 1, 10))]) == date(
        2027, 1, 11
    )


def test_a_one_day_deferral_adds_one_day() -> None:
    events = [deferral(date(2025, 1, 1), date(2025, 1, 1))]
    assert time_barred_from(date(2023, 3, 15), events) == date(2027, 1, 2)


def test_a_longer_period_is_passed_through() -> None:
    # e.g. ten years (§ 199 Abs. 4 BGB): due 2023 → barred from 2034-01-01
    due = date(2023, 3, 15)
    assert time_barred_from(due, years=10) == date(2034, 1, 1)
    assert not is_time_barred(date(2033, 12, 31), due, years=10)
    assert is_time_barred(date(2034, 1, 1), due, years=10)


def test_the_reasons_tell_the_history_with_its_paragraphs() -> None:
    events = [
        Restart(date(2023, 5, 1), "part payment"),
        Restart(date(2024, 5, 10), "part payment"),
        deferral(date(2025, 1, 1), date(2025, 1, 10)),
        negotiations(date(2025, 3, 1), date(2025, 3, 10)),
        court_procedure(date(2026, 1, 5), date(2026, 2, 1)),
    ]
    result = limitation(date(2023, 3, 15), events)
    assert result.reasons == (
        "due 2023-03-15: 3 years from the end of 2023, ends 2026-12-31 (§§ 195, 199 BGB)",
        "2023-05-01 part payment: before the period began, no effect",
        "2024-05-10 part payment: period restarts, ends 2027-05-10 (§ 212 Abs. 1 BGB)",
        "2025-01-01–2025-01-10 agreed deferral (§ 205 BGB): suspended, now ends 2027-05-20"
        " (§ 209 BGB)",
        "2025-03-01–2025-03-10 negotiations (§ 203 BGB): suspended, now ends 2027-05-30"
        " (§ 209 BGB)",
        "2026-01-05–2026-08-01 court payment order served (§ 204 Abs. 1 Nr. 3 BGB): suspended,"
        " now ends 2027-12-25 (§ 209 BGB)",  # 209 days from 05-30
    )
    assert result.barred_from == date(2027, 12, 26)


def test_an_open_suspension_says_its_end_is_not_known() -> None:
    result = limitation(date(2023, 3, 15), [negotiations(date(2025, 3, 1))])
    assert result.reasons[1:] == (
        "2025-03-01 negotiations (§ 203 BGB): suspended, end not known",
    )
