"""Which of one step's messages are queued (`action_writers.kept_messages`), issue 20.

A catch-up step may pass several levels; only the latest level's messages — every channel it
names, on its day — may reach the customer, and only while the invoice still stands where
they speak from.  Mutation testing found a broken filter here unnoticed; these are the cases
a finance person would name: the older level's letter is never sent with the newer one, the
letter and e-mail of one level go together, nothing goes out for an invoice paid, disputed,
held or paused in the same step, and the collection agency's announcement goes with the
handover it announces.
"""

from __future__ import annotations

from datetime import date, timedelta

from mahnwerk.engine.state import Message, Record, Transition
from mahnwerk.engine.store.action_writers import kept_messages

MON = date(2025, 9, 1)
TUE = MON + timedelta(days=1)


def msg(state: str, on: date, channel: str = "letter") -> Message:
    return Message(channel, state, on, state, "p.mahn:1")


def at(state: str, **more) -> Record:
    return Record(invoice_id="R1", state=state, **more)


def test_only_the_latest_levels_messages_are_queued_every_channel_of_it():
    older = msg("erinnerung", MON)
    letter, email = msg("mahnung_1", TUE), msg("mahnung_1", TUE, "email")
    kept = kept_messages([older, letter, email], at("mahnung_1"))
    assert kept == [letter, email]


def test_an_older_levels_message_of_the_same_day_is_not_queued():
    older, newer = msg("erinnerung", TUE), msg("mahnung_1", TUE)
    assert kept_messages([older, newer], at("mahnung_1")) == [newer]


def test_the_same_levels_message_of_an_earlier_day_is_not_queued():
    earlier, latest = msg("mahnung_1", MON), msg("mahnung_1", TUE)
    assert kept_messages([earlier, latest], at("mahnung_1")) == [latest]


def test_without_a_record_the_latest_level_speaks():
    older, newer = msg("erinnerung", MON), msg("mahnung_1", TUE)
    assert kept_messages([older, newer], None) == [newer]
    assert kept_messages([], at("mahnung_1")) == []


def test_nothing_is_queued_for_an_invoice_that_no_longer_stands_there():
    """Paid, moved on silently, disputed, held or paused in the same step: no reminder."""
    letter = msg("mahnung_1", TUE)
    for record in (
        at("paid"),
        at("inkasso_pruefung"),
        at("mahnung_1", disputed=True),
        at("mahnung_1", held=True),
        at("mahnung_1", pause_reason="Ratenzahlung"),
    ):
        assert kept_messages([letter], record) == [], record


def test_a_terminal_states_own_message_is_never_queued_from_the_terminal_state():
    farewell = msg("written_off", TUE)
    assert kept_messages([farewell], at("written_off")) == []


def test_the_agencys_announcement_goes_with_the_handover_it_announces():
    """A level whose letter announces the collection agency may lead into `handed_over` on
    the same day (an `auto` rule): the letter goes.  A handover on another day, from another
    level or without a transition does not carry the letter."""
    letter = msg("letzte_mahnung", TUE)
    same_day = Transition("letzte_mahnung", "handed_over", TUE, "p.mahn:9", "auto")
    assert kept_messages([letter, same_day], at("handed_over")) == [letter]
    assert kept_messages([letter, same_day], at("written_off")) == []
    later = Transition("letzte_mahnung", "handed_over", TUE + timedelta(days=1), "p", "auto")
    assert kept_messages([letter, later], at("handed_over")) == []
    other = Transition("mahnung_2", "handed_over", TUE, "p.mahn:9", "auto")
    assert kept_messages([letter, other], at("handed_over")) == []
    assert kept_messages([letter], at("handed_over")) == []
    # the last transition counts, not an earlier one
    assert kept_messages([letter, same_day, other], at("handed_over")) == []
    written_off = Transition("letzte_mahnung", "written_off", TUE, "p.mahn:9", "auto")
    assert kept_messages([letter, written_off], at("written_off")) == [letter]
    assert kept_messages([letter, same_day], at("paid")) == []
