"""The step's legal questions, answered by `engine.law` — each rule's boundary on both sides.

Expected figures are worked by hand from the statute (base rate 2.27 % in the first half of
2025, 1.27 % in the second; simple interest per day, each rate period rounded half-up to
the cent), never taken from the function under test.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from mahnwerk.dsl import ir
from mahnwerk.engine import law
from mahnwerk.engine.state import Customer, Invoice, Record


def test_interest_counts_both_end_days_at_one_rate():
    """1,000.00 EUR from 1 to 30 June 2025 for a consumer: 30 days at 2.27 + 5 = 7.27 %,
    1000 × 7.27 % × 30 / 365 = 5.975… → 5.98."""
    result = law.interest(D("1000.00"), date(2025, 6, 1), date(2025, 6, 30), True, None)
    assert (result.total, result.rate, result.provisional) == (D("5.98"), D("7.27"), False)
    assert result.describe() == "Verzugszinsen 30 T. à 7.27 %"
    one_day = law.interest(D("1000.00"), date(2025, 6, 30), date(2025, 6, 30), True, None)
    assert one_day.total == D("0.20")  # 1000 × 7.27 % / 365 = 0.199…


def test_interest_over_a_rate_change_has_no_single_rate():
    """A business debt 21 June – 10 July 2025: 10 days at 11.27 % (3.087… → 3.09) and
    10 days at 10.27 % (2.813… → 2.81): 5.90, two rates, so none to print as 'the' rate."""
    result = law.interest(D("1000.00"), date(2025, 6, 21), date(2025, 7, 10), False, None)
    assert (result.total, result.rate) == (D("5.90"), None)
    assert result.describe() == "Verzugszinsen 10 T. à 11.27 %, 10 T. à 10.27 %"


def test_a_provisional_rate_is_marked_as_such():
    result = law.InterestResult(D("1.00"), D("7.27"), True, ())
    assert result.describe() == "Verzugszinsen  (vorläufig)"


def test_the_policys_surcharge_wins_else_the_statutory_one():
    """A4: 5 points for a consumer and for a business's debt that is no payment for goods
    or services, 9 points for a business's payment for goods or services (§ 288 BGB)."""
    assert law.points(True, True, D("3")) == D("3")
    assert law.points(False, True, D("0")) == D("0")
    assert law.points(True, True, None) == D("5")
    assert law.points(False, True, None) == D("9")
    assert law.points(False, False, None) == D("5")


def test_interest_lines_book_only_the_days_after_the_last_booking():
    """A run from 21 June booked to 25 June (5 days at 11.27 % = 1.543… → 1.54 of the June
    period) books to 10 July: June's period, now 10 days (3.09), adds 1.55 and continues the
    line already booked; July's 10 days at 10.27 % are a new line of 2.81."""
    lines = law.interest_lines(
        D("1000.00"), date(2025, 6, 21), date(2025, 6, 25), date(2025, 7, 10), D("9")
    )
    assert [(ln.start, ln.end, ln.rate, ln.amount, ln.continues) for ln in lines] == [
        (date(2025, 6, 26), date(2025, 6, 30), D("11.27"), D("1.55"), True),
        (date(2025, 7, 1), date(2025, 7, 10), D("10.27"), D("2.81"), False),
    ]
    assert all(ln.principal == D("1000.00") and not ln.provisional for ln in lines)


def test_interest_lines_from_the_first_day_of_a_run():
    lines = law.interest_lines(D("1000.00"), date(2025, 7, 1), None, date(2025, 7, 10), D("9"))
    assert [(ln.start, ln.amount, ln.continues) for ln in lines] == [
        (date(2025, 7, 1), D("2.81"), False)
    ]
    # a booking that ended before this run began belongs to another run: ignored
    again = law.interest_lines(
        D("1000.00"), date(2025, 7, 1), date(2025, 6, 30), date(2025, 7, 10), D("9")
    )
    assert again == lines


def test_interest_lines_are_empty_when_nothing_is_left_to_book():
    run = date(2025, 7, 1)
    assert law.interest_lines(D("1000.00"), run, None, run - timedelta(days=1), D("9")) == ()
    assert law.interest_lines(D("1000.00"), run, date(2025, 7, 10), date(2025, 7, 10), D("9")) == ()
    assert law.interest_lines(D("1000.00"), run, date(2025, 7, 10), date(2025, 7, 9), D("9")) == ()
    one = law.interest_lines(D("1000.00"), run, date(2025, 7, 10), date(2025, 7, 11), D("9"))
    assert [(ln.start, ln.end, ln.continues) for ln in one] == [
        (date(2025, 7, 11), date(2025, 7, 11), True)
    ]
    assert law.interest_lines(D("1000.00"), run, None, run, D("9"))[0].start == run


DEFAULTED = Record(
    invoice_id="R1",
    principal_open=D("1000.00"),
    default_since=date(2025, 7, 1),
    interest_active=True,
)


def test_accrued_interest_runs_from_default_to_the_day_before():
    """In default since 1 July, asked on 11 July: 1–10 July, business debt, 2.81."""
    lines = law.accrued(DEFAULTED, False, True, date(2025, 7, 11))
    assert [(ln.start, ln.end, ln.amount) for ln in lines] == [
        (date(2025, 7, 1), date(2025, 7, 10), D("2.81"))
    ]
    assert law.unbooked_interest(DEFAULTED, False, True, date(2025, 7, 11)) == D("2.81")
    # on the first day of default nothing has accrued yet; the next day one day has
    assert law.accrued(DEFAULTED, False, True, date(2025, 7, 1)) == ()
    assert law.accrued(DEFAULTED, False, True, date(2025, 7, 2))[0].end == date(2025, 7, 1)


def test_accrued_interest_continues_after_what_is_booked():
    booked = replace(DEFAULTED, interest_to=date(2025, 7, 5), interest_run_from=date(2025, 7, 1))
    lines = law.accrued(booked, False, True, date(2025, 7, 11))
    assert [(ln.start, ln.end, ln.continues) for ln in lines] == [
        (date(2025, 7, 6), date(2025, 7, 10), True)
    ]
    assert sum(ln.amount for ln in lines) == D("2.81") - D("1.41")  # 5 days: 1.406… → 1.41
    assert law.accrued(booked, False, True, date(2025, 7, 6)) == ()


def test_accrued_interest_uses_the_claimed_surcharge_only_while_claimed():
    """A policy claiming 3 points: 1000 × (1.27 + 3) % × 10 / 365 = 1.169… → 1.17; before
    it claims, the statutory 9 points."""
    claimed = replace(DEFAULTED, interest_points=D("3"))
    assert law.accrued(claimed, False, True, date(2025, 7, 11))[0].amount == D("1.17")
    unclaimed = replace(claimed, interest_active=False)
    assert law.accrued(unclaimed, False, True, date(2025, 7, 11))[0].amount == D("2.81")
    assert law.unbooked_interest(unclaimed, False, True, date(2025, 7, 11)) == D("0.00")


def test_no_interest_without_default_or_on_a_paid_principal():
    assert law.accrued(replace(DEFAULTED, default_since=None), False, True, date(2025, 7, 11)) == ()
    assert law.accrued(replace(DEFAULTED, principal_open=D("0.00")), False, True,
                       date(2025, 7, 11)) == ()
    cent = law.accrued(replace(DEFAULTED, principal_open=D("0.01")), False, True,
                       date(2025, 7, 11))
    assert len(cent) == 1 and cent[0].amount == D("0.00")


def test_default_by_reminder_starts_the_next_day():
    assert law.default_by_reminder(date(2025, 12, 31)) == date(2026, 1, 1)


def test_default_at_start_from_an_agreed_date_or_thirty_days():
    """A1: an agreed calendar date puts the debtor in default the next day; A3: a business
    is in default 30 days after due date and receipt (received = issue date if unknown);
    a consumer only if the invoice pointed this out; without either nothing is known."""
    cal = law.Calendar("DE", "BE")
    inv = Invoice("R1", "K1", date(2025, 3, 1), date(2025, 3, 15), D("100.00"))
    business, consumer = Customer("K1", type="B2B"), Customer("K1", type="B2C")
    agreed = replace(inv, due_date_agreed=True)
    assert law.default_at_start(agreed, consumer, cal) == date(2025, 3, 16)
    assert law.default_at_start(inv, business, cal) == date(2025, 4, 15)  # 31 March + 30 days
    assert law.default_at_start(inv, consumer, cal) is None
    told = replace(inv, notice_30_days=True, received_on=date(2025, 3, 3))
    assert law.default_at_start(told, consumer, cal) == date(2025, 4, 15)
    assert law.default_at_start(replace(inv, goods_or_services=False), business, cal) is None


def test_a_claim_is_time_barred_from_the_first_day_of_the_fourth_year():
    assert law.time_barred_from(date(2025, 12, 31)) == date(2029, 1, 1)
    assert law.time_barred_from(date(2026, 1, 1)) == date(2030, 1, 1)


FIRST = date(2025, 3, 3)
REPORT_DAY = FIRST + timedelta(days=28)


def test_a_credit_report_is_allowed_when_all_four_conditions_hold():
    """§ 31 Abs. 2 Nr. 4 BDSG: two reminders, the first four weeks old to the day, notice
    given on the day of the first reminder, not disputed."""
    assert law.credit_report_problems(2, FIRST, False, REPORT_DAY, notice_on=FIRST) == []
    assert law.credit_report_problems(
        2, FIRST, False, REPORT_DAY, notice_on=REPORT_DAY - timedelta(days=1)
    ) == []
    assert law.credit_report_problems(2, FIRST, False, REPORT_DAY, notice_required=False) == []


def test_a_credit_report_names_each_condition_that_fails():
    assert law.credit_report_problems(1, FIRST, False, REPORT_DAY, notice_on=FIRST) == [
        "1 written reminder(s) after due, two needed"
    ]
    assert law.credit_report_problems(
        2, FIRST, False, REPORT_DAY - timedelta(days=1), notice_on=FIRST
    ) == ["the first reminder is less than four weeks old"]
    assert law.credit_report_problems(2, None, False, REPORT_DAY, notice_required=False) == [
        "the first reminder is less than four weeks old"
    ]
    told_too_early = law.credit_report_problems(
        2, FIRST, False, REPORT_DAY, notice_on=FIRST - timedelta(days=1)
    )
    told_too_late = law.credit_report_problems(2, FIRST, False, REPORT_DAY, notice_on=REPORT_DAY)
    never_told = law.credit_report_problems(2, FIRST, False, REPORT_DAY)
    for problems in (told_too_early, told_too_late, never_told):
        assert problems == ["the debtor was not told of the possible report beforehand"]
    assert law.credit_report_problems(2, FIRST, True, REPORT_DAY, notice_on=FIRST) == [
        "the claim is disputed"
    ]
    assert law.credit_report_problems(0, None, True, REPORT_DAY) == [
        "0 written reminder(s) after due, two needed",
        "the first reminder is less than four weeks old",
        "the debtor was not told of the possible report beforehand",
        "the claim is disputed",
    ]


def test_a_payment_pays_costs_then_interest_then_principal():
    """§ 367 BGB, amounts to the cent (a fraction of a cent is rounded half-up first)."""
    split = law.allocate(D("50.005"), D("5.00"), D("2.50"), D("100.00"))
    assert split == law.Split(D("5.00"), D("2.50"), D("42.51"), D("0.00"))
    over = law.allocate(D("120.00"), D("5.00"), D("2.50"), D("100.00"))
    assert over == law.Split(D("5.00"), D("2.50"), D("100.00"), D("12.50"))
    short = law.allocate(D("6.00"), D("5.00"), D("2.50"), D("100.00"))
    assert short == law.Split(D("5.00"), D("1.00"), D("0.00"), D("0.00"))


@pytest.mark.parametrize(
    ("from_customer", "country", "region", "expected"),
    [(True, "AT", "9", ("AT", "9")), (True, None, "BY", ("DE", "BY")),
     (False, "AT", "9", ("DE", "BE"))],
)
def test_the_calendar_is_the_customers_when_the_policy_says_so(
    from_customer, country, region, expected
):
    policy = ir.Calendar(country="DE", region="BE", region_from_customer=from_customer)
    customer = Customer("K1", country=country, region=region)
    cal = law.Calendar.for_customer(policy, customer)
    assert (cal.country, cal.region) == expected


def test_business_days_skip_the_regions_holidays():
    """15 August 2025 (a Friday) is a holiday in Bavaria, not in Berlin."""
    thursday = date(2025, 8, 14)
    assert law.Calendar("DE", "BY").add_business_days(thursday, 1) == date(2025, 8, 18)
    assert law.Calendar("DE", "BE").add_business_days(thursday, 1) == date(2025, 8, 15)


def test_the_thirty_days_end_on_the_next_working_day_where_the_customer_lives():
    """A3 with § 193 BGB: due 16 July 2025, the 30 days end on Friday 15 August — a holiday
    in Bavaria and in Austria, not in Berlin: default from 16 August in Berlin, from
    19 August (after the weekend) in Bavaria and Austria."""
    inv = Invoice("R1", "K1", date(2025, 7, 2), date(2025, 7, 16), D("100.00"))
    business = Customer("K1", type="B2B")
    assert law.default_at_start(inv, business, law.Calendar("DE", "BE")) == date(2025, 8, 16)
    assert law.default_at_start(inv, business, law.Calendar("DE", "BY")) == date(2025, 8, 19)
    assert law.default_at_start(inv, business, law.Calendar("AT", None)) == date(2025, 8, 19)


def test_interest_at_a_base_rate_not_yet_published_is_provisional():
    """A5: for 2027 no base rate is published yet: the last one is used and the result, each
    line and the letter's wording say 'vorläufig'."""
    result = law.interest(D("1000.00"), date(2027, 1, 1), date(2027, 1, 10), False, D("9"))
    assert result.provisional and result.describe().endswith(" (vorläufig)")
    (line,) = law.interest_lines(D("1000.00"), date(2027, 1, 1), None, date(2027, 1, 10), D("9"))
    assert line.provisional is True


def test_a_consumers_unbooked_interest_runs_at_five_points():
    """1000 × (1.27 + 5) % × 10 / 365 = 1.717… → 1.72 (a business would owe 2.81)."""
    assert law.unbooked_interest(DEFAULTED, True, True, date(2025, 7, 11)) == D("1.72")
    nothing = law.unbooked_interest(DEFAULTED, True, True, date(2025, 7, 1))
    assert str(nothing) == "0.00"
