"""Behaviour figures and the scorecard, on plain values a person can check by hand."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from mahnwerk.engine.behaviour import behaviour_of
from mahnwerk.engine.history import PastInvoice
from mahnwerk.engine.risk import POINTS_NO_HISTORY, scorecard


def inv(n: int, issued: date, late: int | None, *, disputed: bool = False, parts: int = 1):
    due = issued + timedelta(days=30)
    return PastInvoice(
        "K1",
        f"R{n}",
        issued,
        due,
        Decimal("100.00"),
        paid_on=None if late is None else due + timedelta(days=late),
        disputed=disputed,
        payments=0 if late is None else parts,
    )


def monthly(lates: list[int | None], start: date = date(2025, 1, 1)) -> list[PastInvoice]:
    return [inv(i, start + timedelta(days=30 * i), d) for i, d in enumerate(lates)]


def test_average_median_and_share_late_count_paid_invoices_only():
    history = monthly([0, 0, 10, 20, None])
    b = behaviour_of("K1", history, date(2025, 12, 31))
    assert b.paid == 4 and b.open_invoices == 1
    assert b.avg_days_late == Decimal("7.50")
    assert b.median_days_late == Decimal("5.00")
    assert b.late_share == Decimal("0.5000")
    assert b.open_amount == Decimal("100.00") and b.overdue_invoices == 1


def test_a_payment_after_the_day_is_not_known_on_that_day():
    history = monthly([0, 25])
    due_of_second = history[1].due_date
    before = behaviour_of("K1", history, due_of_second + timedelta(days=10))
    after = behaviour_of("K1", history, due_of_second + timedelta(days=25))
    assert before.paid == 1 and before.late_share == Decimal("0.0000")
    assert before.overdue_invoices == 1 and before.max_days_overdue == 10
    assert after.paid == 2 and after.late_share == Decimal("0.5000")


def test_trend_compares_the_last_five_with_the_earlier_ones():
    history = monthly([0, 0, 0, 10, 10, 10, 10, 10])
    b = behaviour_of("K1", history, date(2026, 12, 31))
    assert b.trend_days == Decimal("10.00")
    assert behaviour_of("K1", history[:6], date(2026, 12, 31)).trend_days is None


def test_a_regular_customer_who_stopped_buying_has_gone_quiet():
    history = monthly([0, 0, 0, 0, 0])
    last = history[-1].issue_date
    assert not behaviour_of("K1", history, last + timedelta(days=60)).gone_quiet
    assert behaviour_of("K1", history, last + timedelta(days=91)).gone_quiet


def test_disputes_and_part_payments_are_counted():
    history = [
        inv(1, date(2025, 1, 1), 5, disputed=True),
        inv(2, date(2025, 2, 1), 0, parts=2),
        inv(3, date(2025, 3, 1), 0),
    ]
    b = behaviour_of("K1", history, date(2025, 12, 31))
    assert b.disputes == 1 and b.partial_payments == 1


def test_every_scorecard_point_has_its_reason_and_they_add_up():
    history = monthly([0, 10, 20, 30, None], start=date(2025, 1, 1))
    score = scorecard(behaviour_of("K1", history, date(2025, 12, 31)))
    assert score.total == sum(p for _, p in score.reasons)
    assert any("paid late" in why for why, _ in score.reasons)
    assert any("overdue now" in why for why, _ in score.reasons)
    assert len(score.explain()) == len(score.reasons)


def test_a_customer_who_always_pays_late_is_high_risk_and_a_punctual_one_is_not():
    late = scorecard(behaviour_of("K1", monthly([20] * 6), date(2026, 1, 1)))
    punctual = scorecard(behaviour_of("K1", monthly([0] * 6), date(2026, 1, 1)))
    assert late.total >= 70
    assert punctual.total == 0 and punctual.reasons == ()


def test_no_history_is_neither_safe_nor_risky():
    score = scorecard(behaviour_of("K1", [], date(2026, 1, 1)))
    assert score.total == POINTS_NO_HISTORY
