"""Payments against Skonto terms in the pure step: earned in time, deducted too late."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

from skonto_policy import (
    BUSINESS,
    CONSUMER,
    DUE,
    ISSUE,
    compiled,
    invoice,
    pay,
    run_days,
)

from mahnwerk.engine.state import Charge, Message, Note, Transition


def _charges(actions, kind):
    return [a for a in actions if isinstance(a, Charge) and a.kind == kind]


def _messages(actions):
    return [a for a in actions if isinstance(a, Message)]


def test_skonto_in_time_settles_and_books_the_discount():
    paid_on = ISSUE + timedelta(days=10)  # the last day of the 2 % tier
    record, actions = run_days(invoice(), BUSINESS, [pay("1176.00", paid_on)], date(2026, 6, 1))
    assert record.state == "paid"
    assert record.balance == 0
    (skonto,) = _charges(actions, "skonto")
    assert skonto.amount == Decimal("-24.00") and skonto.on == paid_on
    assert "Skonto 2 % (10 Tage, bis 2026-03-12)" in skonto.note and "Z1" in skonto.note
    assert _messages(actions) == []  # no reminder follows
    assert any("earned" in a.text and "Z1" in a.text for a in actions if isinstance(a, Note))


def test_the_second_tier_applies_after_the_first_one_ended():
    paid_on = ISSUE + timedelta(days=15)
    record, actions = run_days(invoice(), BUSINESS, [pay("1188.00", paid_on)], date(2026, 6, 1))
    assert record.state == "paid"
    assert [c.amount for c in _charges(actions, "skonto")] == [Decimal("-12.00")]


def test_within_the_tolerance_settles_outside_it_does_not():
    paid_on = ISSUE + timedelta(days=5)
    record, actions = run_days(invoice(), BUSINESS, [pay("1175.96", paid_on)], paid_on)
    assert record.state == "paid"
    assert [c.amount for c in _charges(actions, "skonto")] == [Decimal("-24.04")]
    record, actions = run_days(invoice(), BUSINESS, [pay("1175.90", paid_on)], paid_on)
    assert record.state != "paid" and record.balance == Decimal("24.10")
    assert _charges(actions, "skonto") == []


def test_the_policy_sets_the_tolerance():
    policy = compiled("skonto tolerance 0.20 EUR")
    paid_on = ISSUE + timedelta(days=5)
    record, _ = run_days(invoice(), BUSINESS, [pay("1175.90", paid_on)], paid_on, policy)
    assert record.state == "paid"


def test_one_day_late_leaves_the_deduction_open_and_sends_the_skonto_letter_only():
    paid_on = ISSUE + timedelta(days=21)  # both tiers over (the 1 % tier ended on day 20)
    record, actions = run_days(invoice(), BUSINESS, [pay("1188.00", paid_on)], date(2026, 7, 1))
    assert record.state == "open" and record.balance == Decimal("12.00")
    assert record.deduction_on == paid_on
    assert json.loads(record.deduction_note) == {
        "kind": "skonto",
        "percent": "1.00",
        "days": 20,
        "last_day": "2026-03-22",
        "paid": "1188.00",
        "paid_on": "2026-03-23",
        "deducted": "12.00",
        "rule": None,
    }
    (letter,) = _messages(actions)
    assert (letter.channel, letter.template) == ("letter", "skonto_nachforderung")
    # months later: no reminder, no fee, no lump sum, no agency
    assert [a for a in actions if isinstance(a, Transition)] == []
    assert _charges(actions, "fee") == []
    assert _charges(actions, "skonto") == []


def test_paying_the_deduction_afterwards_closes_the_invoice():
    late = ISSUE + timedelta(days=21)
    events = [pay("1188.00", late), pay("12.00", late + timedelta(days=9), "Z2")]
    record, _ = run_days(invoice(), BUSINESS, events, date(2026, 5, 1))
    assert record.state == "paid" and record.balance == 0


def test_a_small_late_deduction_is_written_off_when_the_policy_says_so():
    policy = compiled("late skonto write off below 15.00 EUR")
    late = ISSUE + timedelta(days=21)
    record, actions = run_days(invoice(), BUSINESS, [pay("1188.00", late)], late, policy)
    assert record.state == "written_off"
    assert [c.amount for c in _charges(actions, "write_off")] == [Decimal("-12.00")]
    assert _messages(actions) == []
    # above the threshold: the letter
    record, actions = run_days(invoice(), BUSINESS, [pay("1176.00", late)], late, policy)
    assert record.state == "open" and [m.template for m in _messages(actions)] == [
        "skonto_nachforderung"
    ]


def test_only_an_explicit_policy_line_sends_a_late_deduction_up_the_ladder():
    policy = compiled("late skonto ladder")
    late = ISSUE + timedelta(days=21)
    record, actions = run_days(
        invoice(), BUSINESS, [pay("1188.00", late)], date(2026, 5, 1), policy
    )
    assert record.state == "mahnung_1"
    assert [m.template for m in _messages(actions)] == ["zahlungserinnerung", "mahnung_1"]


def test_the_policy_names_its_own_skonto_letter():
    policy = compiled('late skonto letter "skonto_brief"')
    late = ISSUE + timedelta(days=21)
    _, actions = run_days(invoice(), BUSINESS, [pay("1188.00", late)], late, policy)
    assert [m.template for m in _messages(actions)] == ["skonto_brief"]


def test_a9_a_consumer_credit_in_transit_still_counts_a_business_one_does_not():
    credited = date(2026, 3, 13)  # the 2 % tier ended on Thursday 12 March
    record, _ = run_days(invoice(), CONSUMER, [pay("1176.00", credited)], credited)
    assert record.state == "paid"
    record, _ = run_days(invoice(), BUSINESS, [pay("1176.00", credited)], credited)
    assert record.state == "open" and record.deduction_on == credited


def test_default_and_reminders_run_from_the_net_due_date_not_the_skonto_date():
    record, actions = run_days(invoice(), BUSINESS, [], DUE + timedelta(days=10))
    (first,) = _messages(actions)
    assert first.template == "zahlungserinnerung" and first.on >= DUE + timedelta(days=7)
    assert record.default_since is None or record.default_since > DUE


def test_a_full_payment_or_one_matching_no_tier_is_an_ordinary_payment():
    day = ISSUE + timedelta(days=3)
    record, actions = run_days(invoice(), BUSINESS, [pay("1200.00", day)], day)
    assert record.state == "paid" and _charges(actions, "skonto") == []
    record, actions = run_days(invoice(), BUSINESS, [pay("600.00", day)], day)
    assert record.balance == Decimal("600.00") and record.deduction_on is None
