"""D3 over the database: which messages and conversations count for a customer (ContactBook).

The batch loader reads a batch's recent contacts in one query per 900 customers; these tests
pin down what it must count (this customer's queued and sent messages, their conversations)
and what it must not (another customer's, cancelled ones).  Mutation testing (issue 20) found
the loader untested by the contact rules' own tests.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import insert

from mahnwerk.dsl.expr import Duration
from mahnwerk.dsl.ir import Limits
from mahnwerk.engine.contacts import ContactBook, look_back_days
from mahnwerk.engine.models import CUST, INBOX, INV, OUTBOX

MONDAY = date(2025, 9, 1)
WEDNESDAY = MONDAY + timedelta(days=2)
ZONE = "Europe/Berlin"


def _at(day: date) -> datetime:
    return datetime.combine(day, time(9), UTC)


def _customers(conn, count: int) -> list[int]:
    rows = [{"external_id": f"K{n}", "name": f"Kunde {n}", "type": "B2C"} for n in range(count)]
    conn.execute(insert(CUST), rows)
    return list(conn.execute(CUST.select().order_by(CUST.c.id)).scalars())


def _letter(
    conn, customer: int, day: date, status: str = "sent", payload: str = "{}",
    at: datetime | None = None,
) -> None:
    conn.execute(insert(OUTBOX).values(
        idempotency_key=uuid.uuid4().hex, customer_id=customer, channel="letter",
        template="mahnung_1", language="de", status=status, not_before=at or _at(day),
        created_at=at or _at(day), payload=payload,
    ))


def _conversation(conn, customer: int, day: date) -> None:
    invoice = conn.execute(insert(INV).values(
        external_id=f"R{customer}", customer_id=customer, issue_date=day - timedelta(days=30),
        due_date=day - timedelta(days=16), amount="100.00",
    )).inserted_primary_key[0]
    conn.execute(insert(INBOX).values(
        invoice_id=invoice, kind="conversation", occurred_on=day, recorded_at=_at(day),
        actor="anna",
    ))


def _slot(book: ContactBook, customer: int, channel: str):
    return book.plan(customer, WEDNESDAY, channel, ZONE, "DE", "BE", Limits())


def test_only_this_customers_letters_use_up_the_weekly_reminder(engine):
    """D3: one written reminder per 7 days per customer: another customer's letter and a
    cancelled one do not count; this customer's letter of Monday moves Wednesday's to Monday."""
    with engine.begin() as conn:
        anna, ben = _customers(conn, 2)
        _letter(conn, ben, MONDAY)
        _letter(conn, anna, MONDAY, status="cancelled")
        book = ContactBook(conn, [anna, ben], WEDNESDAY, [Limits()])
    assert _slot(book, anna, "letter").at.date() == WEDNESDAY
    assert _slot(book, ben, "letter").at.date() == MONDAY + timedelta(days=7)


def test_only_this_customers_conversation_stops_calls_for_seven_days(engine):
    with engine.begin() as conn:
        anna, ben = _customers(conn, 2)
        _conversation(conn, anna, MONDAY)
        book = ContactBook(conn, [anna, ben], WEDNESDAY, [Limits()])
    assert _slot(book, ben, "call").at.date() == WEDNESDAY
    anna_call = _slot(book, anna, "call")
    assert anna_call.at.date() == MONDAY + timedelta(days=7)
    assert "after a conversation (D3)" in (anna_call.reason or "")


def test_a_batch_of_two_thousand_customers_sees_the_letters_of_every_one(engine):
    """Loaded 900 customers per query: the first, one at a chunk border and the last count."""
    with engine.begin() as conn:
        ids = _customers(conn, 2000)
        marked = [ids[0], ids[899], ids[900], ids[1850], ids[-1]]
        for customer in marked:
            _letter(conn, customer, MONDAY)
        book = ContactBook(conn, ids, WEDNESDAY, [Limits()])
    for customer in marked:
        assert _slot(book, customer, "letter").at.date() == MONDAY + timedelta(days=7)
    assert _slot(book, ids[1], "letter").at.date() == WEDNESDAY


def test_a_queued_note_before_the_due_date_does_not_use_up_the_weekly_reminder(engine):
    """D3 is about dunning: Monday's queued 'payment due soon' letter (its payload carries
    the due date) leaves Wednesday free for a reminder; Monday's reminder does not."""
    with engine.begin() as conn:
        anna, ben = _customers(conn, 2)
        _letter(conn, anna, MONDAY, status="queued",
                payload=json.dumps({"before_due": "2025-09-05"}))
        _letter(conn, ben, MONDAY, status="queued", payload=json.dumps({"amount": "5.00"}))
        book = ContactBook(conn, [anna, ben], WEDNESDAY, [Limits()])
    assert _slot(book, anna, "letter").at.date() == WEDNESDAY
    assert _slot(book, ben, "letter").at.date() == MONDAY + timedelta(days=7)


def test_a_letter_counts_on_the_customers_local_day(engine):
    """Contacts are stored in UTC: a letter queued for Monday 23:30 UTC is Tuesday in Berlin,
    so a Wednesday reminder waits until the next Tuesday, not Monday."""
    with engine.begin() as conn:
        (anna,) = _customers(conn, 1)
        _letter(conn, anna, MONDAY, at=datetime.combine(MONDAY, time(23, 30), UTC))
        book = ContactBook(conn, [anna], WEDNESDAY, [Limits()])
    assert _slot(book, anna, "letter").at.date() == MONDAY + timedelta(days=8)


def test_a_withdrawn_note_frees_the_day_it_held(engine):
    """A note before the due date that cannot go out in time is withdrawn: under
    `at most 1 contacts per 7 days` it held Wednesday and pushed an SMS to the next week;
    withdrawn, a call may take Wednesday."""
    limits = Limits(max_contacts=1, contact_window=Duration(7))
    with engine.begin() as conn:
        (anna,) = _customers(conn, 1)
        book = ContactBook(conn, [anna], WEDNESDAY, [limits])
    note = book.plan(anna, WEDNESDAY, "email", ZONE, "DE", "BE", limits, dunning=False)
    assert note.at.date() == WEDNESDAY
    held = book.plan(anna, WEDNESDAY, "sms", ZONE, "DE", "BE", limits)
    assert held.at.date() == WEDNESDAY + timedelta(days=7)
    book.withdraw(anna, "email", WEDNESDAY)
    book.withdraw(anna, "email", WEDNESDAY)  # twice, or one never planned: nothing happens
    freed = book.plan(anna, WEDNESDAY, "call", ZONE, "DE", "BE", limits)
    assert freed.at.date() == WEDNESDAY and freed.reason is None
    # the call holds Wednesday now: another SMS joins the one of next Wednesday
    assert book.plan(anna, WEDNESDAY, "sms", ZONE, "DE", "BE", limits).at.date() == (
        WEDNESDAY + timedelta(days=7)
    )


def test_only_a_conversation_stops_calls_not_other_events_of_the_customer(engine):
    """A dispute, a promise or a payment recorded for the customer's invoice is no
    conversation: calls go on."""
    with engine.begin() as conn:
        (anna,) = _customers(conn, 1)
        _conversation(conn, anna, MONDAY)
        conn.execute(INBOX.update().values(kind="dispute_opened"))
        book = ContactBook(conn, [anna], WEDNESDAY, [Limits()])
    assert _slot(book, anna, "call").at.date() == WEDNESDAY


def test_a_conversation_stops_calls_in_a_policy_with_long_contact_windows(engine):
    """`at most 1 contacts per 50 days`: a letter 45 days ago still counts."""
    limits = Limits(max_contacts=1, contact_window=Duration(50))
    with engine.begin() as conn:
        (anna,) = _customers(conn, 1)
        _letter(conn, anna, WEDNESDAY - timedelta(days=45))
        book = ContactBook(conn, [anna], WEDNESDAY, [limits])
    slot = book.plan(anna, WEDNESDAY, "sms", ZONE, "DE", "BE", limits)
    assert slot.at.date() == WEDNESDAY + timedelta(days=5)


def test_the_customers_region_decides_the_holidays(engine):
    """D2: 15 August 2025 is a holiday in Bavaria, not in Berlin."""
    with engine.begin() as conn:
        (anna,) = _customers(conn, 1)
        book = ContactBook(conn, [anna], date(2025, 8, 15), [Limits()])
    slot = book.plan(anna, date(2025, 8, 15), "call", ZONE, "DE", "BY", Limits())
    assert slot.at.date() == date(2025, 8, 16)
    slot = book.plan(anna, date(2025, 8, 15), "sms", ZONE, "DE", "BE", Limits())
    assert slot.at.date() == date(2025, 8, 15)


def test_two_notes_of_one_day_are_one_contact_and_withdrawn_as_one(engine):
    """Two invoices' notes before the due date on one day and channel are one contact: when
    it is withdrawn, the day is free again under `at most 1 contacts per 7 days`; withdrawing
    for a customer with nothing planned does nothing."""
    limits = Limits(max_contacts=1, contact_window=Duration(7))
    with engine.begin() as conn:
        anna, ben = _customers(conn, 2)
        book = ContactBook(conn, [anna, ben], WEDNESDAY, [limits])
    for _ in range(2):
        note = book.plan(anna, WEDNESDAY, "email", ZONE, "DE", "BE", limits, dunning=False)
        assert note.at.date() == WEDNESDAY
    book.withdraw(anna, "email", WEDNESDAY)
    book.withdraw(ben, "email", WEDNESDAY)
    assert book.plan(anna, WEDNESDAY, "call", ZONE, "DE", "BE", limits).at.date() == WEDNESDAY


def test_four_contacts_per_90_days_count_contacts_of_85_days_ago(engine):
    """`at most 4 contacts per 90 days`: letters 85, 80, 75 and 70 days before Wednesday
    3 September fill the window, so a fifth goes out only when the first of them has left
    it: Monday 8 September (day 90 after 10 June).  The book looked back 60 days only and
    sent it on Wednesday, a fifth contact within 90 days (issue 20)."""
    limits = Limits(max_contacts=4, contact_window=Duration(90))
    with engine.begin() as conn:
        (anna,) = _customers(conn, 1)
        for days in (85, 80, 75, 70):
            _letter(conn, anna, WEDNESDAY - timedelta(days=days))
        book = ContactBook(conn, [anna], WEDNESDAY, [Limits(), limits])
    slot = book.plan(anna, WEDNESDAY, "letter", ZONE, "DE", "BE", limits)
    assert (slot.at.date(), slot.reason) == (
        date(2025, 9, 8),
        "at most 4 contacts per 90 days (D3)",
    )


def test_a_business_day_window_looks_back_seven_days_for_every_five(engine):
    """`per 60 business days` is 84 calendar days: a call 83 days ago still counts."""
    limits = Limits(max_contacts=1, contact_window=Duration(60, business=True))
    with engine.begin() as conn:
        (anna,) = _customers(conn, 1)
        _letter(conn, anna, WEDNESDAY - timedelta(days=83))
        book = ContactBook(conn, [anna], WEDNESDAY, [limits])
    assert book.plan(anna, WEDNESDAY, "sms", ZONE, "DE", "BE", limits).at.date() == (
        WEDNESDAY + timedelta(days=1)
    )


def test_the_look_back_is_the_longest_window_and_a_day_for_the_time_zone():
    """The weekly reminder and the rest after a conversation (7 days) unless a policy
    counts longer; one day more, as a local day can begin on the UTC day before."""
    assert look_back_days([]) == 8
    assert look_back_days([Limits(), Limits(max_contacts=3, contact_window=Duration(5))]) == 8
    ninety = Limits(max_contacts=4, contact_window=Duration(90))
    assert look_back_days([Limits(), ninety]) == 91
    assert look_back_days([Limits(max_contacts=1, contact_window=Duration(10, True))]) == 15


def test_limits_longer_than_the_book_was_loaded_for_are_refused(engine):
    """A caller that loads the book for one policy and plans under another with a longer
    window would count too few contacts: refused instead of planned wrong."""
    with engine.begin() as conn:
        (anna,) = _customers(conn, 1)
        book = ContactBook(conn, [anna], WEDNESDAY, [Limits()])
    ninety = Limits(max_contacts=4, contact_window=Duration(90))
    with pytest.raises(ValueError) as refused:
        book.plan(anna, WEDNESDAY, "letter", ZONE, "DE", "BE", ninety)
    assert str(refused.value) == (
        "the contacts were loaded for 8 days back, but the limits count 91: pass every "
        "policy's limits to ContactBook"
    )
