"""The step's timing (`engine/step/timing.py`) where issue 20's mutants survived.

Each test is a situation a user would check: the next look at an invoice whose rule's guard
failed, a condition that cannot be evaluated, an invoice first seen after its level's day,
an event after the close that is no money.  All invoices: issued Monday 2 June 2025, due
Monday 16 June 2025 (Berlin, no holiday near), due date agreed.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from mahnwerk.dsl.compile import compile_source
from mahnwerk.dsl.ir import EventKind
from mahnwerk.engine.state import Customer, Event, Invoice
from mahnwerk.engine.step import step

ISSUE = date(2025, 6, 2)
DUE = date(2025, 6, 16)
FIRST = DUE + timedelta(days=10)  # Thursday 26 June: the reminder
CONSUMER = Customer(id="K1", type="B2C", region="BE")
INVOICE = Invoice("R1", "K1", ISSUE, DUE, Decimal("500.00"), due_date_agreed=True)


def custom(states: str) -> str:
    return f"""
policy "zeit" version 1 {{
  currency EUR  timezone "Europe/Berlin"  calendar DE region from customer  language de
  segment alle use standard
  ladder standard {{
{states}
  }}
}}
"""


def run_days(compiled, start: date, end: date, events=()):  # type: ignore[no-untyped-def]
    """Daily runs from `start` to `end`, each event on its day: the record, every outcome."""
    record, outs, day = None, [], start
    while day <= end:
        out = step(record, INVOICE, CONSUMER, [e for e in events if e.on == day], day, compiled)
        outs.append(out)
        record, day = out.record, day + timedelta(days=1)
    return record, outs


def transitions(outs) -> list[tuple[str, date]]:  # type: ignore[no-untyped-def]
    return [(t.target, t.on) for o in outs for t in o.transitions]


def test_a_guard_on_the_customer_with_another_rule_later_is_asked_again_on_that_rules_day():
    """The Mahnung is for businesses only; the same state also leads to a write-off 30 days
    after the reminder.  For a consumer the Mahnung's guard fails on 10 July and, reading only
    fixed facts, is not asked again; the next look is the write-off's day, 26 July (not
    never, which would leave the invoice unlooked-at)."""
    src = custom('    state erinnerung at 10d after due { letter "zahlungserinnerung" }\n'
                 "    state mahnung_1 after 14d in erinnerung when customer.type == B2B "
                 '{ letter "mahnung_1"; wait }\n'
                 "    after 30d in erinnerung -> written_off")  # fmt: skip
    compiled = compile_source(src, "zeit.mahn")
    record, _ = run_days(compiled, ISSUE, FIRST + timedelta(days=14))
    assert record.state == "erinnerung" and record.next_check_on == date(2025, 7, 26)
    record, outs = run_days(compiled, ISSUE, date(2025, 7, 26))
    assert transitions(outs) == [("erinnerung", FIRST), ("written_off", date(2025, 7, 26))]


@pytest.mark.parametrize(
    ("guard", "next_check"),
    [("event.amount > 10 EUR", None),
     ("event.amount > 10 EUR and balance > 10 EUR", date(2025, 7, 11))],
)  # fmt: skip
def test_a_condition_that_cannot_be_evaluated_is_noted_once_a_run_and_treated_as_false(
    guard, next_check
):
    """A time rule reading an event's amount has no event to read on its day: the Mahnung is
    not sent, the audit trail says why once (not once per retry of the same day), and the
    next look is tomorrow if the guard also reads the balance, else only an event."""
    src = custom('    state erinnerung at 10d after due { letter "zahlungserinnerung" }\n'
                 f"    state mahnung_1 after 14d in erinnerung when {guard} "
                 '{ letter "mahnung_1"; wait }')  # fmt: skip
    day = FIRST + timedelta(days=14)
    record, outs = run_days(compile_source(src, "zeit.mahn"), ISSUE, day)
    assert [(n.on, n.text, n.rule) for n in outs[-1].notes] == [
        (day, "condition not evaluable, treated as false: fact 'event.amount' is not known "
         "for this invoice", None)
    ]  # fmt: skip
    assert record.state == "erinnerung" and record.next_check_on == next_check


def test_a_silent_level_of_an_invoice_first_seen_after_its_day_is_not_dated_back():
    """An invoice the engine first sees on 1 July (imported late): the team's task `at 10d
    after due` (26 June) is taken on 1 July, the day the invoice came in — a level nobody is
    written to keeps its own date only within the invoice's life here."""
    src = custom('    state intern at 10d after due { notify "team"; wait }')
    came = date(2025, 7, 1)
    record, outs = run_days(compile_source(src, "zeit.mahn"), came, came)
    assert transitions(outs) == [("intern", came)]
    assert [(t.kind, t.on) for o in outs for t in o.tasks] == [("notify", came)]


def test_an_event_with_an_amount_that_is_no_payment_after_the_close_books_no_money():
    """Money arriving after an invoice is paid becomes the customer's credit; a write-off
    entered with an amount after that is no money and is only noted as ignored."""
    src = custom('    state erinnerung at 10d after due { letter "zahlungserinnerung"; wait }')
    paid, late = FIRST + timedelta(days=2), FIRST + timedelta(days=4)
    events = (Event(EventKind.PAYMENT_FULL, paid, Decimal("500.00"), ref="P1"),
              Event(EventKind.WRITE_OFF, late, Decimal("5.00")))  # fmt: skip
    record, outs = run_days(compile_source(src, "zeit.mahn"), ISSUE, late, events)
    assert record.state == "paid" and record.balance == 0
    assert not outs[-1].charges
    assert [(n.on, n.text) for n in outs[-1].notes] == [
        (late, "write_off ignored: the invoice is paid")
    ]
