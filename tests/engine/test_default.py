"""When default starts: § 286 BGB (spec A1–A3)."""

from __future__ import annotations

from datetime import date

from mahnwerk.engine.default import default_start, thirty_day_period_end


def start(**overrides: object):  # noqa: ANN201 - test helper
    facts: dict[str, object] = {
        "due_date": date(2025, 5, 15),
        "due_date_agreed": False,
        "consumer": True,
        "received_on": None,
        "notice_30_days": False,
        "first_reminder_received": None,
    }
    facts.update(overrides)
    return default_start(**facts)  # type: ignore[arg-type]


def test_agreed_calendar_date_puts_debtor_in_default_the_next_day() -> None:
    result = start(due_date_agreed=True)
    assert result is not None
    assert result.start == date(2025, 5, 16)
    assert result.rule == "A1"
    assert "§ 286 Abs. 2 Nr. 1–2 BGB" in result.reason


def test_date_only_printed_on_invoice_creates_no_default_next_day() -> None:
    assert start() is None
    with_receipt = start(received_on=date(2025, 5, 2), notice_30_days=True)
    assert with_receipt is not None
    assert with_receipt.start > date(2025, 5, 16)


def test_reminder_after_due_date_starts_default_the_day_after_receipt() -> None:
    result = start(first_reminder_received=date(2025, 5, 20))
    assert result is not None
    assert (result.start, result.rule) == (date(2025, 5, 21), "A2")
    assert "§ 286 Abs. 1 BGB" in result.reason


def test_reminder_before_due_date_has_no_effect() -> None:
    assert start(first_reminder_received=date(2025, 5, 14)) is None


def test_consumer_invoice_with_notice_defaults_thirty_days_after_receipt() -> None:
    result = start(
        due_date=date(2025, 3, 3),
        received_on=date(2025, 3, 3),
        notice_30_days=True,
    )
    assert result is not None
    # day 1 = 03-04, day 30 = 04-02 (a Wednesday) → default from 04-03
    assert (result.start, result.rule) == (date(2025, 4, 3), "A3")
    assert "§ 286 Abs. 3 BGB" in result.reason


def test_consumer_invoice_without_notice_gets_no_default_from_thirty_day_rule() -> None:
    result = start(due_date=date(2025, 3, 3), received_on=date(2025, 3, 3), notice_30_days=False)
    assert result is None


def test_business_debtor_needs_no_notice_for_thirty_day_rule() -> None:
    result = start(due_date=date(2025, 3, 3), received_on=date(2025, 3, 3), consumer=False)
    assert result is not None and result.start == date(2025, 4, 3)


def test_thirty_days_count_from_the_later_of_due_date_and_receipt() -> None:
    assert thirty_day_period_end(date(2025, 3, 10), date(2025, 3, 3)) == date(2025, 4, 9)


def test_thirty_day_end_on_a_weekend_moves_to_monday_per_193() -> None:
    # 2025-03-05 + 30 days = Friday 04-04; 03-07 + 30 = Sunday 04-06 → Monday 04-07
    assert thirty_day_period_end(date(2025, 3, 7), date(2025, 3, 7)) == date(2025, 4, 7)


def test_thirty_day_end_on_a_regional_holiday_moves_on() -> None:
    # 2024-12-07 + 30 days = Monday 2025-01-06, Epiphany in Bavaria, not in Berlin
    assert thirty_day_period_end(date(2024, 12, 7), date(2024, 12, 7), "DE", "BY") == date(
        2025, 1, 7
    )
    assert thirty_day_period_end(date(2024, 12, 7), date(2024, 12, 7), "DE", "BE") == date(
        2025, 1, 6
    )


def test_thirty_day_rule_applies_only_to_payment_for_goods_or_services() -> None:
    result = start(
        received_on=date(2025, 5, 1),
        consumer=False,
        payment_for_goods_or_services=False,
    )
    assert result is None


def test_earliest_applicable_rule_wins() -> None:
    result = start(
        due_date=date(2025, 3, 3),
        received_on=date(2025, 3, 3),
        notice_30_days=True,
        first_reminder_received=date(2025, 3, 20),
    )
    assert result is not None and (result.start, result.rule) == (date(2025, 3, 21), "A2")


# Boundaries of A1–A3 on both sides (legal-rules.md) and the reasons as a letter cites them.


def test_reminder_received_on_the_due_date_counts_the_day_before_not() -> None:
    on_due = start(first_reminder_received=date(2025, 5, 15))
    assert on_due is not None and (on_due.start, on_due.rule) == (date(2025, 5, 16), "A2")
    assert start(first_reminder_received=date(2025, 5, 14)) is None


def test_the_thirty_day_rule_moves_past_a_regional_holiday_of_the_debtor() -> None:
    # day 30 is Monday 2025-01-06, Epiphany in Bavaria, a working day in Berlin
    facts = {"due_date": date(2024, 12, 7), "received_on": date(2024, 12, 7), "consumer": False}
    assert start(**facts, region="BY").start == date(2025, 1, 8)
    assert start(**facts, region="BE").start == date(2025, 1, 7)


def test_the_reasons_cite_the_rule_for_the_letter() -> None:
    assert start(due_date_agreed=True).reason == (
        "payment date 2025-05-15 agreed by calendar: default from the next day without "
        "reminder (§ 286 Abs. 2 Nr. 1–2 BGB)"
    )
    assert start(first_reminder_received=date(2025, 5, 20)).reason == (
        "reminder received 2025-05-20 after the claim was due (§ 286 Abs. 1 BGB); "
        "interest from the next day (§ 187 Abs. 1 BGB)"
    )
    consumer = start(received_on=date(2025, 5, 2), notice_30_days=True)
    assert consumer.reason == (
        "30 days after due date and receipt of the invoice (2025-05-02) ended 2025-06-16 "
        "(§ 286 Abs. 3 BGB; §§ 187, 188, 193 BGB), the invoice pointed this out to the consumer"
    )
    business = start(received_on=date(2025, 5, 2), consumer=False)
    assert business.reason == (
        "30 days after due date and receipt of the invoice (2025-05-02) ended 2025-06-16 "
        "(§ 286 Abs. 3 BGB; §§ 187, 188, 193 BGB)"
    )
