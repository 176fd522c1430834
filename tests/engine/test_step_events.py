"""What an event does to an invoice, each outcome compared whole against a hand-worked one.

Issue 20: mutation testing of `engine/step/events.py` found the court handlers (objection,
enforcement) reached by no test and most other handlers' notes, tasks and dates never compared
whole.  Here: the payment order from service to enforcement or lapse (C3, §§ 692, 694, 699,
701 ZPO, § 204 BGB), the policy's pause and resume lines (D6), insolvency (C5), a write-off
with the person's words, a `goto` handler, and a payment that arrives late in the books.

All invoices: issued Monday 2 June 2025, due Monday 16 June 2025 (agreed), 500.00 EUR, a
consumer in Berlin.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from mahnwerk.dsl.compile import compile_source
from mahnwerk.dsl.ir import EventKind
from mahnwerk.engine.state import Charge, Customer, Event, Invoice, Note, Task, Transition
from mahnwerk.engine.step import step

D = Decimal
ISSUE, DUE = date(2025, 6, 2), date(2025, 6, 16)
CONSUMER = Customer(id="K1", type="B2C", region="BE")
INVOICE = Invoice("R1", "K1", ISSUE, DUE, D("500.00"), due_date_agreed=True)
FIRST = date(2025, 6, 26)  # the 1. Mahnung, 10 days after the due date
SECOND = date(2025, 7, 10)  # 14 days later

COURT = compile_source(
    """
policy "gericht" version 1 {
  currency EUR  timezone "Europe/Berlin"  calendar DE region from customer  language de
  ladder standard {
    state mahnung_1 at 10d after due { letter "mahnung_1" }
    state gericht after 14d in mahnung_1 { approval by 1; court order; wait }
  }
  segment alle use standard
}
""",
    "gericht.mahn",
)

HANDLERS = compile_source(
    """
policy "ereignisse" version 1 {
  currency EUR  timezone "Europe/Berlin"  calendar DE region from customer  language de
  ladder standard {
    state mahnung_1 at 10d after due { letter "mahnung_1" }
    state mahnung_2 after 14d in mahnung_1 { letter "mahnung_2" }
    state klaerung on delivery_failed from mahnung_2 { notify "team"; wait }
    after 30d in mahnung_2 -> written_off
  }
  segment alle use standard
  on promise_made pause until promised_date + 3 business days
  on promise_broken resume
  on insolvency stop -> insolvent
  on write_off stop -> written_off
  on callback_requested goto klaerung
}
""",
    "ereignisse.mahn",
)


def run(compiled, until: date, events=(), start: date = ISSUE):
    """Daily runs; each event in the run of its day (or of the day given as its `key`); a
    step waiting for approval is approved the day it asks.  The record and all actions."""
    record, actions, day = None, [], start
    while day <= until:
        todays = [e for seen, e in events if seen == day]
        out = step(record, INVOICE, CONSUMER, todays, day, compiled)
        actions += out.actions
        record = out.record
        if record.pending_approval:
            record = record.evolve(
                pending_approval=None, approved_target=record.pending_approval, approved_on=day
            )
            out = step(record, INVOICE, CONSUMER, (), day, compiled)
            actions += out.actions
            record = out.record
        day += timedelta(days=1)
    return record, actions


def on_its_day(*events: Event) -> list[tuple[date, Event]]:
    return [(e.on, e) for e in events]


def after(actions, kind, since: date):
    return [a for a in actions if isinstance(a, kind) and a.on >= since]


# --- C3: the court payment order --------------------------------------------------------------

SERVED = date(2025, 7, 21)  # a Monday; the order was applied for on 10 July


def test_service_suspends_limitation_and_opens_two_weeks_for_an_objection():
    """§ 692 ZPO, § 204 Abs. 1 Nr. 3 BGB: served on 21 July, the debtor may object until
    4 August; limitation is suspended while the procedure runs (no time-bar date)."""
    record, actions = run(COURT, SERVED, on_its_day(Event(EventKind.COURT_ORDER_SERVED, SERVED)))
    assert after(actions, Task, SECOND) == [
        Task("court_order", SECOND, "gericht.mahn:6", "500.00 EUR (§ 688 ZPO)")
    ]
    assert after(actions, Note, SERVED) == [
        Note(
            SERVED,
            "payment order served: limitation suspended (§ 204 Abs. 1 Nr. 3 BGB); objection "
            "possible until 2025-08-04 (§ 692 ZPO)",
        )
    ]
    assert record.court_stage == "served" and record.court_served_on == SERVED
    assert record.time_barred_from is None
    assert record.next_check_on == date(2025, 8, 5)


@pytest.mark.parametrize(("until", "task"), [(date(2025, 8, 4), False), (date(2025, 8, 5), True)])
def test_without_an_objection_the_enforcement_order_is_due_the_day_after_the_two_weeks(until, task):
    """§ 699 ZPO: on 4 August the debtor may still object; on 5 August a person is asked to
    apply for the enforcement order before the order lapses, six months after service."""
    _, actions = run(COURT, until, on_its_day(Event(EventKind.COURT_ORDER_SERVED, SERVED)))
    expected = Task(
        "enforcement_order",
        date(2025, 8, 5),
        "engine",
        "no objection within two weeks: apply for the enforcement order (§ 699 ZPO) before "
        "2026-01-21 (§ 701 ZPO)",
    )
    assert after(actions, Task, SERVED) == ([expected] if task else [])


def test_an_objection_makes_the_claim_disputed_and_asks_a_person_about_contested_proceedings():
    """§ 694 ZPO, C1: an objection on the last day (4 August) stops the procedure's deadline
    and the ladder; a person decides whether to go to contested proceedings."""
    objected = date(2025, 8, 4)
    record, actions = run(
        COURT,
        date(2025, 8, 20),
        on_its_day(
            Event(EventKind.COURT_ORDER_SERVED, SERVED), Event(EventKind.OBJECTION_FILED, objected)
        ),
    )
    assert after(actions, Task, SERVED) == [
        Task("court_objection", objected, "engine", "§ 694 ZPO: decide on contested proceedings")
    ]
    assert after(actions, Note, objected) == [
        Note(objected, "the debtor objected to the payment order: treated as disputed (C1)")
    ]
    assert record.court_stage == "objected" and record.disputed
    assert record.next_check_on is None


def test_an_enforcement_order_applied_for_ends_the_procedures_deadlines():
    applied = date(2025, 8, 6)
    record, actions = run(
        COURT,
        date(2026, 3, 1),
        on_its_day(
            Event(EventKind.COURT_ORDER_SERVED, SERVED),
            Event(EventKind.ENFORCEMENT_APPLIED, applied),
        ),
    )
    assert after(actions, Note, applied) == [
        Note(applied, "enforcement order applied for (§ 699 ZPO)")
    ]
    assert record.court_stage == "enforcement" and record.next_check_on is None


def test_a_payment_order_that_lapses_lets_limitation_run_again_six_months_later():
    """§ 701 ZPO: no enforcement order by 21 January 2026, six months after service: the order
    lapses.  § 204 Abs. 2, § 209 BGB: the suspension ends six months later (21 July 2026);
    the three years that would have begun on 1 January 2026 run from 22 July 2026, so the
    claim is time-barred from 22 July 2029 instead of 1 January 2029."""
    lapse = date(2026, 1, 21)
    record, actions = run(COURT, lapse, on_its_day(Event(EventKind.COURT_ORDER_SERVED, SERVED)))
    assert after(actions, Note, lapse) == [
        Note(
            lapse,
            "no enforcement order applied for within six months of service: the payment order "
            "lapsed (§ 701 ZPO); limitation runs again six months later (§ 204 Abs. 2)",
        )
    ]
    assert record.court_stage == "lapsed" and record.time_barred_from == date(2029, 7, 22)


# --- the policy's own lines for an event ------------------------------------------------------


def test_a_promise_pauses_to_its_date_plus_three_business_days_and_a_broken_one_resumes():
    """D6: promised on 1 July for 8 July: paused until Friday 11 July (3 business days); the
    promise is broken on 4 July, so the 2. Mahnung goes on its own day, 10 July."""
    made = Event(EventKind.PROMISE_MADE, date(2025, 7, 1), promised_date=date(2025, 7, 8))
    broken = Event(EventKind.PROMISE_BROKEN, date(2025, 7, 4))
    record, actions = run(HANDLERS, SECOND, on_its_day(made, broken))
    assert after(actions, Note, FIRST) == [
        Note(date(2025, 7, 1), "paused on promise_made until 2025-07-11", "ereignisse.mahn:11"),
        Note(date(2025, 7, 4), "resumed on promise_broken", "ereignisse.mahn:12"),
    ]
    assert after(actions, Transition, date(2025, 7, 1)) == [
        Transition("mahnung_1", "mahnung_2", SECOND, "ereignisse.mahn:6", "after 14d in mahnung_1")
    ]
    assert record.promises == 1 and record.pause_reason is None


def test_a_kept_pause_holds_the_next_level_to_the_day_after_it():
    made = Event(EventKind.PROMISE_MADE, date(2025, 7, 1), promised_date=date(2025, 7, 8))
    record, actions = run(HANDLERS, date(2025, 7, 12), on_its_day(made))
    assert [(t.target, t.on) for t in after(actions, Transition, date(2025, 7, 1))] == [
        ("mahnung_2", date(2025, 7, 12))
    ]
    assert after(actions, Note, date(2025, 7, 12)) == [
        Note(date(2025, 7, 12), "pause over (promise_made)")
    ]


def test_a_promise_without_a_date_pauses_without_end_and_says_why():
    made = Event(EventKind.PROMISE_MADE, date(2025, 7, 1))
    record, actions = run(HANDLERS, date(2025, 8, 20), on_its_day(made))
    assert after(actions, Note, date(2025, 7, 1)) == [
        Note(
            date(2025, 7, 1),
            "pause without end: fact 'promised_date' is not known for this invoice",
            "ereignisse.mahn:11",
        ),
        Note(date(2025, 7, 1), "paused on promise_made", "ereignisse.mahn:11"),
    ]
    assert record.state == "mahnung_1" and record.paused_until is None
    assert record.next_check_on is None


def test_insolvency_files_the_claim_and_ends_dunning_by_the_policys_line():
    """C5: the task to file with the administrator (§ 174 InsO), then `insolvent`, citing
    the policy's line for the event."""
    opened = date(2025, 7, 1)
    record, actions = run(HANDLERS, opened, on_its_day(Event(EventKind.INSOLVENCY, opened)))
    assert after(actions, Task, opened) == [Task("file_claim", opened, "engine", "InsO § 174")]
    assert after(actions, Transition, opened) == [
        Transition(
            "mahnung_1", "insolvent", opened, "ereignisse.mahn:13", "insolvency proceedings opened"
        )
    ]
    assert record.state == "insolvent" and record.next_check_on is None


@pytest.mark.parametrize(
    ("note", "reason"), [("Kunde verzogen, unbekannt", "Kunde verzogen, unbekannt"),
                         ("", "written off")]
)  # fmt: skip
def test_a_write_off_is_recorded_with_the_persons_words(note, reason):
    day = date(2025, 7, 1)
    record, actions = run(HANDLERS, day, on_its_day(Event(EventKind.WRITE_OFF, day, note=note)))
    assert after(actions, Transition, day) == [
        Transition("mahnung_1", "written_off", day, "ereignisse.mahn:14", reason)
    ]
    assert after(actions, Charge, day) == [
        Charge("write_off", D("-500.00"), day, "ereignisse.mahn:14", note="Ausbuchung")
    ]
    assert record.balance == 0


def test_a_goto_line_moves_the_invoice_on_the_events_day_and_carries_out_the_state():
    asked = date(2025, 7, 15)
    record, actions = run(
        HANDLERS, asked, on_its_day(Event(EventKind.CALLBACK_REQUESTED, asked, note="ab 17 Uhr"))
    )
    assert after(actions, Transition, asked) == [
        Transition("mahnung_2", "klaerung", asked, "ereignisse.mahn:15", "on callback_requested")
    ]
    assert after(actions, Task, asked) == [
        Task("callback", asked, "engine", "ab 17 Uhr"),
        Task("notify", asked, "ereignisse.mahn:7", "team"),
    ]
    assert record.state == "klaerung"


# --- A8: a payment booked on the day it was credited --------------------------------------


def test_a_payment_known_only_days_later_is_booked_on_the_day_it_was_credited():
    """A6, A8: 100.00 credited on 5 July reaches the books on 12 July, after the 2. Mahnung of
    10 July: the payment is dated 5 July, and limitation restarts from that day (§ 212 BGB) —
    a restart before the three years began (1 January 2026) does not shorten them; the ladder
    goes on from where it is."""
    credited = date(2025, 7, 5)
    paid = Event(EventKind.PAYMENT_PARTIAL, credited, D("100.00"), ref="P5")
    record, actions = run(HANDLERS, date(2025, 7, 12), [(date(2025, 7, 12), paid)])
    assert after(actions, Charge, credited) == [
        Charge("payment", D("-100.00"), credited, None, note="Zahlung P5")
    ]
    assert record.principal_open == D("400.00") and record.state == "mahnung_2"
    assert record.limitation_restart_on == credited
    assert record.time_barred_from == date(2029, 1, 1)


def test_a_death_notice_pauses_six_weeks_and_says_why():
    """C6: a death notice on 1 July holds dunning to 12 August (six weeks), and the invoice
    says why it waits — what an operator reads in `show` and the TUI."""
    notice = date(2025, 7, 1)
    record, _ = run(HANDLERS, notice, on_its_day(Event(EventKind.DEATH_NOTICE, notice)))
    assert (record.pause_reason, record.paused_until) == ("death notice (C6)", date(2025, 8, 12))


def test_a_cent_paid_too_much_is_the_customers_credit():
    """500.01 paid on the due date: the invoice is paid and the one cent is booked as the
    customer's credit on that day — an overpayment is never kept, however small."""
    paid = Event(EventKind.PAYMENT_FULL, DUE, D("500.01"), ref="P1")
    record, actions = run(HANDLERS, DUE, on_its_day(paid))
    assert [a for a in actions if isinstance(a, Charge)] == [
        Charge("principal", D("500.00"), ISSUE, None, note="Rechnung R1"),
        Charge("payment", D("-500.01"), DUE, None, note="Zahlung P1"),
        Charge("credit", D("0.01"), DUE, None, note="Überzahlung: Guthaben des Kunden"),
    ]
    assert record.state == "paid" and record.balance == 0
