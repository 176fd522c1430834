"""D1–D3: when a queued message may reach the customer."""

from __future__ import annotations

from datetime import date, time
from zoneinfo import ZoneInfo

from mahnwerk.dsl.expr import Duration
from mahnwerk.dsl.ir import Channel, Limits, QuietHours
from mahnwerk.engine.contacts import Contact, plan

BERLIN = "Europe/Berlin"
NO_LIMITS = Limits()


def local(slot) -> tuple[date, time]:
    at = slot.at.astimezone(ZoneInfo(BERLIN))
    return at.date(), at.time()


def test_a_call_due_on_a_bavarian_holiday_moves_to_the_next_morning():
    # D2: 15 August is a holiday in Bavaria, not in Berlin.
    taken: list[Contact] = []
    slot = plan(date(2025, 8, 15), "call", BERLIN, "DE", "BY", NO_LIMITS, taken)
    assert local(slot) == (date(2025, 8, 16), time(8, 0))
    assert slot.reason and "D2" in slot.reason
    slot = plan(date(2025, 8, 15), "call", BERLIN, "DE", "BE", NO_LIMITS, [])
    assert local(slot) == (date(2025, 8, 15), time(8, 0)) and slot.reason is None


def test_nothing_goes_out_on_a_sunday_not_even_a_letter():
    slot = plan(date(2025, 8, 17), "letter", BERLIN, "DE", "BE", NO_LIMITS, [])
    assert local(slot) == (date(2025, 8, 18), time(8, 0))


def test_the_policy_quiet_hours_of_a_channel_apply_in_the_customer_zone():
    limits = Limits(quiet_hours=(QuietHours(Channel.SMS, time(20, 0), time(9, 30)),))
    slot = plan(date(2025, 8, 18), "sms", "America/New_York", "US", None, limits, [])
    at = slot.at.astimezone(ZoneInfo("America/New_York"))
    assert (at.date(), at.time()) == (date(2025, 8, 18), time(9, 30))
    # letters have no quiet hours
    slot = plan(date(2025, 8, 18), "letter", BERLIN, "DE", "BE", limits, [])
    assert local(slot) == (date(2025, 8, 18), time(8, 0))


def test_one_written_reminder_per_seven_days_per_customer():
    taken = [Contact("letter", date(2025, 8, 18))]  # Monday
    slot = plan(date(2025, 8, 21), "email", BERLIN, "DE", "BE", NO_LIMITS, taken)
    assert local(slot)[0] == date(2025, 8, 25)  # seven days after the letter
    assert "written reminders" in slot.reason


def test_messages_of_one_day_and_channel_are_one_contact():
    taken = [Contact("letter", date(2025, 8, 18))]
    slot = plan(date(2025, 8, 18), "letter", BERLIN, "DE", "BE", NO_LIMITS, taken)
    assert local(slot)[0] == date(2025, 8, 18) and slot.reason is None
    assert taken == [Contact("letter", date(2025, 8, 18))]  # bundled, not a second contact
    # the e-mail copy of the same reminder on the same day is the same reminder
    slot = plan(date(2025, 8, 18), "email", BERLIN, "DE", "BE", NO_LIMITS, taken)
    assert local(slot)[0] == date(2025, 8, 18)


def test_the_policy_cap_over_all_channels():
    limits = Limits(max_contacts=2, contact_window=Duration(7))
    taken = [Contact("sms", date(2025, 8, 18)), Contact("call", date(2025, 8, 19))]
    slot = plan(date(2025, 8, 20), "sms", BERLIN, "DE", "BE", limits, taken)
    assert local(slot)[0] == date(2025, 8, 25)  # the window 18..24 holds two already
    assert "at most 2 contacts per 7 days" in slot.reason


def test_calls_about_several_invoices_on_one_day_are_one_attempt():
    taken: list[Contact] = []
    for _ in range(3):
        slot = plan(date(2025, 9, 2), "call", BERLIN, "DE", "BE", NO_LIMITS, taken)
        assert local(slot) == (date(2025, 9, 2), time(8, 0))
    assert taken == [Contact("call", date(2025, 9, 2))]


def test_no_call_for_seven_days_after_a_conversation():
    taken = [Contact("conversation", date(2025, 9, 2))]
    slot = plan(date(2025, 9, 4), "call", BERLIN, "DE", "BE", NO_LIMITS, taken)
    assert local(slot) == (date(2025, 9, 9), time(8, 0))
    assert "after a conversation (D3)" in slot.reason
    # a letter is not a call: it may go
    slot = plan(date(2025, 9, 4), "letter", BERLIN, "DE", "BE", NO_LIMITS, taken)
    assert local(slot)[0] == date(2025, 9, 4)
