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
from mahnwerk.engine.state import Charge, Customer, Event, Invoice, Note, Transition
from mahnwerk.engine.step import step

ISSUE = date(2025, 6, 2)
DUE = date(2025, 6, 16)
FIRST = DUE + timedelta(days=10)  # Thursday 26 June: the reminder
CONSUMER = Customer(id="K1", type="B2C", region="BE")
INVOICE = Invoice("R1", "K1", ISSUE, DUE, Decimal("500.00"), due_date_agreed=True)


def custom(states: str, events: str = "") -> str:
    return f"""
policy "zeit" version 1 {{
  currency EUR  timezone "Europe/Berlin"  calendar DE region from customer  language de
  segment alle use standard
  ladder standard {{
{states}
  }}
  {events}
}}
"""


REMINDER = '    state erinnerung at 10d after due { letter "zahlungserinnerung" }\n'
MAHNUNG = '    state mahnung_1 after 14d in erinnerung { letter "mahnung_1"; fee 1.00 EUR; wait }'


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


PLAN = ((date(2025, 7, 1), Decimal("250.00")), (date(2025, 8, 1), Decimal("250.00")))
ON_PLAN = "on plan_agreed pause\n  on instalment_missed resume"


@pytest.mark.parametrize(
    ("paid", "last_kept", "missed"),
    [((), date(2025, 7, 8), date(2025, 7, 9)),
     ((Event(EventKind.PAYMENT_PARTIAL, date(2025, 7, 1), Decimal("250.00")),
       Event(EventKind.PAYMENT_PARTIAL, date(2025, 8, 1), Decimal("200.00"))),
      date(2025, 8, 8), date(2025, 8, 9))],
)  # fmt: skip
def test_a_missed_instalment_counts_in_the_run_of_the_first_day_after_its_grace(
    paid, last_kept, missed
):
    """D6: 250.00 due Tuesday 1 July and 250.00 Friday 1 August, each with five business
    days' grace.  Nothing paid: the plan holds on 8 July and is missed in the run of 9 July.
    250.00 and then 200.00 paid: 450.00 of 500.00 owed by the second date — the plan is not
    complete; it holds until 8 August and is missed on Saturday 9 August."""
    compiled = compile_source(custom(REMINDER + MAHNUNG, ON_PLAN), "zeit.mahn")
    events = (Event(EventKind.PLAN_AGREED, date(2025, 6, 27), instalments=PLAN), *paid)
    record, _ = run_days(compiled, ISSUE, last_kept, events)
    assert record.plan_active and record.pause_reason == "plan_agreed"
    assert record.next_check_on == missed  # looked at again on the day it counts as missed
    record, outs = run_days(compiled, ISSUE, missed, events)
    assert not record.plan_active and record.pause_reason is None
    assert outs[-1].notes[0] == Note(missed, "resumed on instalment_missed", "zeit.mahn:10")


def test_a_payment_on_the_day_the_mahnung_is_due_comes_first_no_letter_no_fee():
    """The 1. Mahnung (1.00 EUR fee) is due on 10 July; 500.00 arrive that day: the invoice
    is paid before the ladder acts — no letter, no fee."""
    compiled = compile_source(custom(REMINDER + MAHNUNG), "zeit.mahn")
    day = date(2025, 7, 10)
    payment = Event(EventKind.PAYMENT_FULL, day, Decimal("500.00"), ref="P1")
    record, outs = run_days(compiled, ISSUE, day, (payment,))
    assert outs[-1].actions == (
        Charge("payment", Decimal("-500.00"), day, None, note="Zahlung P1"),
        Transition("erinnerung", "paid", day, "zeit.mahn:5", "paid in full"),
    )
    assert record.state == "paid" and record.balance == 0


def test_a_part_payment_during_a_promises_pause_is_booked_and_the_review_waits_for_its_end():
    """Promise made 8 July to pay by 15 July (the pause ends that day, and holds on it); the
    team's review due on 10 July waits; 100.00 paid on 12 July are booked that day; the pause
    is over and the review taken on 16 July."""
    review = '    state pruefung after 14d in erinnerung { notify "team"; wait }'
    compiled = compile_source(
        custom(REMINDER + review, "on promise_made pause until promised_date\n"
               "  on promise_broken resume"), "zeit.mahn",
    )  # fmt: skip
    promised = Event(EventKind.PROMISE_MADE, date(2025, 7, 8), promised_date=date(2025, 7, 15))
    part = Event(EventKind.PAYMENT_PARTIAL, date(2025, 7, 12), Decimal("100.00"), ref="P1")
    record, _ = run_days(compiled, ISSUE, date(2025, 7, 15), (promised, part))
    assert record.pause_reason == "promise_made"  # the promised day itself is still paused
    assert record.next_check_on == date(2025, 7, 16)
    record, outs = run_days(compiled, ISSUE, date(2025, 7, 16), (promised, part))
    assert outs[-1].notes[0] == Note(date(2025, 7, 16), "pause over (promise_made)")
    assert [c for o in outs for c in o.charges if c.on >= date(2025, 7, 8)] == [
        Charge("payment", Decimal("-100.00"), date(2025, 7, 12), None, note="Zahlung P1")
    ]
    assert transitions(outs) == [("erinnerung", FIRST), ("pruefung", date(2025, 7, 16))]
    assert record.principal_open == Decimal("400.00")


def test_a_catch_up_run_applies_a_missed_instalment_before_a_later_payment():
    """D6: 250.00 were due 1 July (grace to 8 July); the customer pays them on 10 July, and
    the engine next runs on 12 July: the instalment was missed on 9 July, before the payment
    — the plan is broken, and the 250.00 are booked as a part payment on 10 July."""
    compiled = compile_source(custom(REMINDER + MAHNUNG, ON_PLAN), "zeit.mahn")
    agreed = Event(EventKind.PLAN_AGREED, date(2025, 6, 27), instalments=PLAN)
    record, _ = run_days(compiled, ISSUE, date(2025, 6, 27), (agreed,))
    late = Event(EventKind.PAYMENT_PARTIAL, date(2025, 7, 10), Decimal("250.00"), ref="P1")
    out = step(record, INVOICE, CONSUMER, (late,), date(2025, 7, 12), compiled)
    assert [a for a in out.actions if not isinstance(a, Transition)][:2] == [
        Note(date(2025, 7, 9), "resumed on instalment_missed", "zeit.mahn:10"),
        Charge("payment", Decimal("-250.00"), date(2025, 7, 10), None, note="Zahlung P1"),
    ]
    assert not out.record.plan_active and out.record.principal_open == Decimal("250.00")


def test_a_timed_edge_with_a_low_priority_still_fires_on_its_day():
    """`priority 1` ranks the edge below the policy-wide dispute handler (50) and the built-in
    payment rule (10) out of the same state; neither is due, so the edge is taken on its day,
    26 July (30 days after the reminder)."""
    src = custom(
        REMINDER + '    state mahnung_1 after 60d in erinnerung { letter "mahnung_1"; wait }\n'
        '    state pruefung after 90d in erinnerung { notify "team"; wait }\n'
        "    after 30d in erinnerung -> pruefung priority 1",
        "on dispute_opened pause",
    )
    _, outs = run_days(compile_source(src, "zeit.mahn"), ISSUE, date(2025, 7, 26))
    assert transitions(outs) == [("erinnerung", FIRST), ("pruefung", date(2025, 7, 26))]


def test_two_rules_of_one_priority_landing_on_one_day_take_the_one_written_first():
    """`at 40d after due` (the ladder's second state, priority 101) and an edge `after 30d in
    erinnerung … priority 101` both fall on 26 July; the checker (E027) compares rules of one
    anchor only, so the step decides: the one written first, the Mahnung."""
    src = custom(
        REMINDER + '    state mahnung_1 at 40d after due { letter "mahnung_1"; wait }\n'
        '    state pruefung after 90d in erinnerung { notify "team"; wait }\n'
        "    after 30d in erinnerung -> pruefung priority 101",
    )
    _, outs = run_days(compile_source(src, "zeit.mahn"), ISSUE, date(2025, 7, 26))
    assert transitions(outs) == [("erinnerung", FIRST), ("mahnung_1", date(2025, 7, 26))]


def test_a_plan_kept_to_its_last_instalment_ends_that_day_by_the_policys_line():
    """A settlement: 400.00 in two instalments (1 July, 1 August), the rest written off when
    the plan is kept (`on plan_completed stop -> written_off`).  Both paid on their days:
    on 1 August the plan is complete and 100.00 are written off; the day before, not yet."""
    plan = ((date(2025, 7, 1), Decimal("200.00")), (date(2025, 8, 1), Decimal("200.00")))
    compiled = compile_source(
        custom(REMINDER + MAHNUNG, ON_PLAN + "\n  on plan_completed stop -> written_off"),
        "zeit.mahn",
    )
    events = (Event(EventKind.PLAN_AGREED, date(2025, 6, 27), instalments=plan),
              Event(EventKind.PAYMENT_PARTIAL, date(2025, 7, 1), Decimal("200.00")),
              Event(EventKind.PAYMENT_PARTIAL, date(2025, 8, 1), Decimal("200.00")))  # fmt: skip
    record, _ = run_days(compiled, ISSUE, date(2025, 7, 31), events)
    assert record.plan_active and record.state == "erinnerung"
    day = date(2025, 8, 1)
    record, outs = run_days(compiled, ISSUE, day, events)
    assert outs[-1].actions == (
        Charge("payment", Decimal("-200.00"), day, None, note="Zahlung"),
        Transition("erinnerung", "written_off", day, "zeit.mahn:11", "on plan_completed"),
        Charge("write_off", Decimal("-100.00"), day, "zeit.mahn:11", note="Ausbuchung"),
    )
    assert record.state == "written_off" and record.balance == 0 and not record.plan_active


def test_after_the_court_order_is_served_the_next_look_is_the_ladders_earlier_step():
    """The payment order is applied for on 10 July and served on 14 July (objection period to
    28 July, § 692 ZPO); the team's review is due 7 days after the application, 17 July: the
    next look at the invoice is 17 July, not the end of the objection period."""
    src = custom(
        REMINDER + "    state gericht after 14d in erinnerung { approval by 1; court order }\n"
        '    state pruefung after 7d in gericht { notify "team"; wait }'
    )
    compiled = compile_source(src, "zeit.mahn")
    served = Event(EventKind.COURT_ORDER_SERVED, date(2025, 7, 14))
    record, day = None, ISSUE
    while day <= date(2025, 7, 14):
        out = step(record, INVOICE, CONSUMER, [served] if day == served.on else [], day, compiled)
        record = out.record
        if record.pending_approval:
            approved = record.evolve(
                pending_approval=None, approved_target=record.pending_approval, approved_on=day
            )
            record = step(approved, INVOICE, CONSUMER, (), day, compiled).record
        day += timedelta(days=1)
    assert record.state == "gericht" and record.court_stage == "served"
    assert record.next_check_on == date(2025, 7, 17)


@pytest.mark.parametrize(("waiting", "until"), [("held", date(2025, 7, 5)),
                                               ("approval", date(2025, 7, 12))])  # fmt: skip
def test_an_invoice_waiting_for_a_person_has_no_next_look_by_date(waiting, until):
    """On hold from 1 July (the Mahnung would be due 10 July), or with the Mahnung of 10 July
    waiting for a person's approval (a write-off would follow on 26 July): no date brings
    the invoice back — the release or the decision does."""
    approval = "approval by 1; " if waiting == "approval" else ""
    mahnung = (
        f'    state mahnung_1 after 14d in erinnerung {{ {approval}letter "mahnung_1"; wait }}'
    )
    later = "\n    after 30d in erinnerung -> written_off"
    compiled = compile_source(custom(REMINDER + mahnung + later), "zeit.mahn")
    hold = (Event(EventKind.HOLD, date(2025, 7, 1)),) if waiting == "held" else ()
    record, _ = run_days(compiled, ISSUE, until, hold)
    assert record.state == "erinnerung"
    assert (record.held, record.pending_approval) == (
        (True, None) if waiting == "held" else (False, "mahnung_1")
    )
    assert record.next_check_on is None


def test_a_missed_instalment_ends_the_plan_whole():
    """D6: 100.00 of the first 250.00 paid on 2 July, the rest missed: in the run of 9 July the
    plan is over — no instalments left, nothing counted as paid under it, not active (so a
    later plan starts from nothing); the 100.00 stay booked on the invoice."""
    compiled = compile_source(custom(REMINDER + MAHNUNG, ON_PLAN), "zeit.mahn")
    agreed = Event(EventKind.PLAN_AGREED, date(2025, 6, 27), instalments=PLAN)
    part = Event(EventKind.PAYMENT_PARTIAL, date(2025, 7, 2), Decimal("100.00"), ref="P1")
    record, _ = run_days(compiled, ISSUE, date(2025, 7, 8), (agreed, part))
    assert (record.plan, record.plan_paid, record.plan_active) == (PLAN, Decimal("100.00"), True)
    record, _ = run_days(compiled, ISSUE, date(2025, 7, 9), (agreed, part))
    assert (record.plan, record.plan_paid, record.plan_active) == ((), Decimal("0"), False)
    assert record.principal_open == Decimal("400.00")


def test_a_plan_agreed_anew_counts_only_what_is_paid_under_it():
    """D6: the first plan's 250.00 paid on 1 July; on 3 July the customer and the team agree
    a new plan for the rest (125.00 on 15 July and 15 August).  The 250.00 paid before belong
    to the old plan: under the new one nothing is paid yet, so missing 15 July's 125.00 (grace
    to 22 July) ends it in the run of 23 July."""
    compiled = compile_source(custom(REMINDER + MAHNUNG, ON_PLAN), "zeit.mahn")
    anew = ((date(2025, 7, 15), Decimal("125.00")), (date(2025, 8, 15), Decimal("125.00")))
    events = (
        Event(EventKind.PLAN_AGREED, date(2025, 6, 27), instalments=PLAN),
        Event(EventKind.PAYMENT_PARTIAL, date(2025, 7, 1), Decimal("250.00"), ref="P1"),
        Event(EventKind.PLAN_AGREED, date(2025, 7, 3), instalments=anew),
    )
    record, _ = run_days(compiled, ISSUE, date(2025, 7, 3), events)
    assert (record.plan, record.plan_paid, record.plan_active) == (anew, Decimal("0"), True)
    record, _ = run_days(compiled, ISSUE, date(2025, 7, 22), events)
    assert record.plan_active
    record, outs = run_days(compiled, ISSUE, date(2025, 7, 23), events)
    assert not record.plan_active
    missed = Note(date(2025, 7, 23), "resumed on instalment_missed", "zeit.mahn:10")
    assert outs[-1].notes[0] == missed
