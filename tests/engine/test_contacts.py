"""D1–D3: when a queued message may reach the customer."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mahnwerk.dsl.expr import Duration
from mahnwerk.dsl.ir import Channel, Limits, QuietHours
from mahnwerk.engine.calendar import is_rest_day, next_allowed_contact
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


# ---------------------------------------------------------------------------
# D1/D2 as a relation over random clocks and zones (issue 20)
# ---------------------------------------------------------------------------

ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe",
         "Pacific/Chatham"]
OPENS, CLOSES = time(8, 0), time(20, 0)


def _allowed(local: datetime) -> bool:
    """D1 and D2 for calls and SMS: Mon–Sat 08:00–20:00 local, no Sunday, no holiday (DE-BE)."""
    return not is_rest_day(local.date(), "DE", "BE") and OPENS <= local.time() < CLOSES


@given(
    start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31),
                       timezones=st.just(UTC)),
    zone=st.sampled_from(ZONES),
    channel=st.sampled_from(["call", "sms"]),
)
def test_a_call_or_sms_goes_at_the_first_allowed_moment_in_the_customers_zone(
    start: datetime, zone: str, channel: str
):
    """Whatever the clock and zone: the moment chosen is allowed, not before the message was
    due, and the first such moment — the due time itself if allowed, else 08:00 local on the
    next day that is neither Sunday nor a holiday."""
    tz = ZoneInfo(zone)
    at = next_allowed_contact(start, channel, tz, "DE", "BE")
    local_start, local_at = start.astimezone(tz), at.astimezone(tz)
    assert at >= start and _allowed(local_at), (local_start, local_at)
    if _allowed(local_start):
        assert at == start
        return
    assert local_at.time() == OPENS
    day = local_start.date()
    if not is_rest_day(day, "DE", "BE") and local_start.time() < OPENS:
        assert local_at.date() == day
        return
    day += timedelta(days=1)
    while day < local_at.date():
        assert is_rest_day(day, "DE", "BE"), (local_start, local_at, day)
        day += timedelta(days=1)


# ---------------------------------------------------------------------------
# D3's boundaries on both sides (issue 20: mutation testing)
# ---------------------------------------------------------------------------

TUESDAY = date(2025, 9, 2)  # the conversation below is on this Tuesday


def _call_day(on: date, taken: list[Contact]) -> date:
    return local(plan(on, "call", BERLIN, "DE", "BE", NO_LIMITS, taken))[0]


def test_no_call_on_the_day_of_a_conversation_nor_on_the_sixth_day_after_it():
    """D3: 'no call for 7 days after a conversation': the day of it and the six after are
    closed, the seventh is open again; a conversation planned for later does not block."""
    talk = [Contact("conversation", TUESDAY)]
    assert _call_day(TUESDAY, list(talk)) == TUESDAY + timedelta(days=7)
    assert _call_day(TUESDAY + timedelta(days=6), list(talk)) == TUESDAY + timedelta(days=7)
    assert _call_day(TUESDAY + timedelta(days=7), list(talk)) == TUESDAY + timedelta(days=7)
    # the day before the conversation is not after it
    assert _call_day(TUESDAY - timedelta(days=1), list(talk)) == TUESDAY - timedelta(days=1)


def test_the_second_written_reminder_goes_on_the_seventh_day_not_the_sixth():
    """D3: one written reminder per seven days: a letter on Monday the 18th leaves the
    window 18..24 full; an e-mail asked for on Sunday the 24th waits for Monday the 25th,
    one asked for on the 25th goes that day.  A letter planned for later (Friday the 29th)
    blocks the six days before it as well (its window would hold two), not the seventh."""
    letter = [Contact("letter", date(2025, 8, 18))]
    slot = plan(date(2025, 8, 23), "email", BERLIN, "DE", "BE", NO_LIMITS, list(letter))
    assert local(slot)[0] == date(2025, 8, 25)
    slot = plan(date(2025, 8, 25), "email", BERLIN, "DE", "BE", NO_LIMITS, list(letter))
    assert local(slot)[0] == date(2025, 8, 25) and slot.reason is None
    later = [Contact("letter", date(2025, 8, 29))]  # a Friday
    slot = plan(date(2025, 8, 22), "email", BERLIN, "DE", "BE", NO_LIMITS, list(later))
    assert local(slot)[0] == date(2025, 8, 22) and slot.reason is None  # seven days before
    slot = plan(date(2025, 8, 23), "email", BERLIN, "DE", "BE", NO_LIMITS, list(later))
    assert local(slot)[0] == date(2025, 8, 29)  # six days before: goes with the letter
    assert slot.reason == "at most 1 written reminders per 7 days (D3)"


def test_a_note_before_the_due_date_neither_waits_for_nor_uses_up_the_weekly_reminder():
    """D3 is about dunning: a 'payment due soon' note on Monday does not move Wednesday's
    reminder, and a reminder on Monday does not move Wednesday's note."""
    note = [Contact("email", date(2025, 8, 18), dunning=False)]
    slot = plan(date(2025, 8, 20), "letter", BERLIN, "DE", "BE", NO_LIMITS, note)
    assert local(slot)[0] == date(2025, 8, 20) and slot.reason is None
    reminder = [Contact("letter", date(2025, 8, 18))]
    slot = plan(date(2025, 8, 20), "email", BERLIN, "DE", "BE", NO_LIMITS, reminder, False)
    assert local(slot)[0] == date(2025, 8, 20) and slot.reason is None


def test_calls_and_sms_are_not_written_reminders():
    """D3's weekly allowance counts letters and e-mails only: a call and an SMS on the day
    after a letter go that day (without a policy cap)."""
    for channel in ("call", "sms"):
        taken = [Contact("letter", date(2025, 8, 18))]
        slot = plan(date(2025, 8, 19), channel, BERLIN, "DE", "BE", NO_LIMITS, taken)
        assert local(slot)[0] == date(2025, 8, 19) and slot.reason is None, channel


def test_the_policy_cap_counts_a_note_before_the_due_date_too():
    """`at most 1 contacts per 7 days` counts every contact, a note before the due date too."""
    limits = Limits(max_contacts=1, contact_window=Duration(7))
    taken = [Contact("email", date(2025, 8, 18), dunning=False)]
    slot = plan(date(2025, 8, 19), "sms", BERLIN, "DE", "BE", limits, taken)
    assert local(slot)[0] == date(2025, 8, 25)
    assert slot.reason == "at most 1 contacts per 7 days (D3)"


def test_a_policy_cap_of_one_contact_per_day_allows_one_every_day():
    """`at most 1 contacts per 1 days`: Monday's SMS leaves Tuesday free; a second channel
    on Monday moves to Tuesday."""
    limits = Limits(max_contacts=1, contact_window=Duration(1))
    taken = [Contact("sms", date(2025, 8, 18))]
    slot = plan(date(2025, 8, 19), "call", BERLIN, "DE", "BE", limits, list(taken))
    assert local(slot)[0] == date(2025, 8, 19) and slot.reason is None
    slot = plan(date(2025, 8, 18), "call", BERLIN, "DE", "BE", limits, list(taken))
    assert local(slot)[0] == date(2025, 8, 19)
    assert slot.reason == "at most 1 contacts per 1 days (D3)"


@pytest.mark.parametrize(("business_days", "calendar_days"), [(3, 5), (5, 7)])
def test_a_policy_cap_in_business_days_counts_the_calendar_days_they_span(
    business_days: int, calendar_days: int
):
    """`at most 1 contacts per 3 business days` spans 5 calendar days (3 × 7 / 5, rounded
    up), 5 business days a week: an SMS on Monday the 18th keeps the next one until the
    23rd or the 25th."""
    limits = Limits(max_contacts=1, contact_window=Duration(business_days, business=True))
    taken = [Contact("sms", date(2025, 8, 18))]
    slot = plan(date(2025, 8, 19), "sms", BERLIN, "DE", "BE", limits, taken)
    assert local(slot)[0] == date(2025, 8, 18) + timedelta(days=calendar_days)
    assert slot.reason == f"at most 1 contacts per {calendar_days} days (D3)"


def test_the_policy_cap_window_is_any_run_of_days_not_a_calendar_week():
    """`at most 2 contacts per 7 days`: contacts on the 18th and the 24th fill every window
    holding both; a third contact may go on the 25th (18 has left) but not on the 21st."""
    limits = Limits(max_contacts=2, contact_window=Duration(7))
    taken = [Contact("sms", date(2025, 8, 18)), Contact("call", date(2025, 8, 24))]
    slot = plan(date(2025, 8, 21), "sms", BERLIN, "DE", "BE", limits, list(taken))
    assert local(slot)[0] == date(2025, 8, 25)
    slot = plan(date(2025, 8, 25), "sms", BERLIN, "DE", "BE", limits, list(taken))
    assert local(slot)[0] == date(2025, 8, 25) and slot.reason is None
    # a cap of 3 leaves room on the 21st
    limits3 = Limits(max_contacts=3, contact_window=Duration(7))
    slot = plan(date(2025, 8, 21), "sms", BERLIN, "DE", "BE", limits3, list(taken))
    assert local(slot)[0] == date(2025, 8, 21) and slot.reason is None


def test_a_third_contact_fits_between_two_that_are_a_week_apart():
    """`at most 2 contacts per 7 days`: SMS on the 18th and the 25th; a call on the 24th
    shares no seven-day window with both, so it goes that day."""
    limits = Limits(max_contacts=2, contact_window=Duration(7))
    taken = [Contact("sms", date(2025, 8, 18)), Contact("sms", date(2025, 8, 25))]
    slot = plan(date(2025, 8, 23), "call", BERLIN, "DE", "BE", limits, taken)
    assert local(slot)[0] == date(2025, 8, 23) and slot.reason is None


def test_the_e_mail_copy_of_a_letter_is_one_reminder_but_another_contact():
    """D3 counts a letter and an e-mail of one day as one written reminder; the policy's cap
    counts channels: with a letter and a call on Monday, `at most 2 contacts per 7 days` has
    no room for an e-mail that Monday."""
    limits = Limits(max_contacts=2, contact_window=Duration(7))
    taken = [Contact("letter", date(2025, 8, 18)), Contact("call", date(2025, 8, 18))]
    slot = plan(date(2025, 8, 18), "email", BERLIN, "DE", "BE", limits, taken)
    assert local(slot)[0] == date(2025, 8, 25)  # then the letter's week is over, too


def test_a_cap_no_day_can_keep_is_refused_with_the_channel():
    """A policy that allows no contact at all is an error naming the channel, not a loop."""
    limits = Limits(max_contacts=0, contact_window=Duration(7))
    try:
        plan(date(2025, 8, 18), "sms", BERLIN, "DE", "BE", limits, [])
    except ValueError as exc:
        assert str(exc) == "no day within 120 days keeps the contact limits for sms"
    else:
        raise AssertionError("a cap of 0 contacts was kept")


def test_a_reminder_moved_by_quiet_hours_or_rest_days_says_so():
    slot = plan(date(2025, 8, 17), "letter", BERLIN, "DE", "BE", NO_LIMITS, [])
    assert slot.reason == "quiet hours, Sunday or public holiday (D1, D2)"
    assert slot.at == datetime(2025, 8, 18, 6, 0, tzinfo=UTC)  # 08:00 in Berlin, summer
