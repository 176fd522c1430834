"""The core step as a pure function: every trigger and event, with plain values."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from mahnwerk.dsl.compile import compile_source
from mahnwerk.dsl.ir import EventKind
from mahnwerk.engine.state import Customer, Event, Invoice
from mahnwerk.engine.step import step

POLICY = """
policy "test" version 1 {
  currency EUR  timezone "Europe/Berlin"  calendar DE region from customer  language de
  limits { minimum balance 5.00 EUR  letters at least 14 days apart  fees at most 2.50 EUR }
  segment business when customer.type == B2B use b2b
  segment default use standard
  ladder standard {
    state vorab at 3d before due { email "vorab_hinweis" }
    state erinnerung at 7d after due { email "zahlungserinnerung" }
    state mahnung_1 after 14d in erinnerung { letter "mahnung_1"; fee 1.00 EUR; interest statutory }
    state mahnung_2 after 14d in mahnung_1 { letter "mahnung_2"; fee 1.00 EUR }
    state inkasso after 14d in mahnung_2 when principal >= 50 EUR {
      approval by 2 when balance > 1000 EUR else 1
      handover to "Inkasso GmbH"
    }
    state klein after 14d in mahnung_2 when principal < 50 EUR { notify "team"; wait }
  }
  ladder b2b {
    state erinnerung at 7d after due { email "zahlungserinnerung" }
    state mahnung_1 after 14d in erinnerung { letter "mahnung_1"; lump sum; interest statutory }
    state letzte after 14d in mahnung_1 { letter "letzte_mahnung" }
    state gericht after 14d in letzte { approval by 1; court order; wait }
  }
  on dispute_opened pause
  on dispute_resolved resume
  on promise_made pause until promised_date + 3 business days
  on promise_broken resume
  on plan_agreed pause
  on instalment_missed resume
  on hold pause
  on release resume
  on insolvency stop -> insolvent
  on write_off stop -> written_off
}
"""

COMPILED = compile_source(POLICY, "test.mahn")
ISSUE = date(2025, 4, 1)
DUE = date(2025, 4, 15)
CONSUMER = Customer(id="K1", name="Erika Mustermann", type="B2C", region="BE")
BUSINESS = Customer(id="K2", name="Muster GmbH", type="B2B", region="BY")


def invoice(amount: str = "1000.00", **kw) -> Invoice:
    return Invoice(
        id="R1", customer_id="K1", issue_date=ISSUE, due_date=DUE, amount=Decimal(amount), **kw
    )


def advance(days: list[date], inv=None, cust=CONSUMER, events=(), record=None):
    """Run the step on each day in turn, as the daily runner would (events once each)."""
    inv = inv or invoice()
    waiting = list(events)
    outcomes = []
    for day in days:
        pending = [e for e in waiting if e.on <= day]
        waiting = [e for e in waiting if e.on > day]
        out = step(record, inv, cust, pending, day, COMPILED)
        outcomes.append(out)
        record = out.record
    return record, outcomes


def daily(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def test_first_step_chooses_the_segment_and_books_the_principal():
    out = step(None, invoice(), CONSUMER, [], ISSUE, COMPILED)
    assert out.record.segment == "default"
    assert out.record.principal_open == Decimal("1000.00")
    assert [c.kind for c in out.charges] == ["principal"]
    assert out.record.next_check_on == DUE - timedelta(days=3)


def test_pre_due_note_three_days_before_due():
    record, outs = advance(daily(ISSUE, DUE - timedelta(days=3)))
    assert record.state == "vorab"
    assert [m.template for o in outs for m in o.messages] == ["vorab_hinweis"]


#: A9: three TARGET2 days after Tue 15 April 2025 — Good Friday and Easter Monday are closed —
#: end on Tue 22 April, so "7d after due" escalates on Wed 23 April.
GRACE_OVER = date(2025, 4, 23)


def test_reminder_a_week_after_due_waits_for_the_payment_grace():
    record, _ = advance(daily(ISSUE, DUE + timedelta(days=7)))
    assert record.state == "vorab"  # a transfer made on the due date may still be on its way
    record, _ = advance([GRACE_OVER], record=record)
    assert record.state == "erinnerung"


def test_reminder_after_due_is_free_and_starts_default():
    record, outs = advance(daily(ISSUE, GRACE_OVER))
    assert record.state == "erinnerung"
    assert record.fees_open == 0
    # § 286 Abs. 1 BGB: default from the day after the e-mail reminder arrived
    assert record.default_since == GRACE_OVER + timedelta(days=1)


def test_first_mahnung_charges_the_letter_fee_and_starts_interest():
    record, outs = advance(daily(ISSUE, GRACE_OVER + timedelta(days=14)))
    assert record.state == "mahnung_1"
    assert record.fees_open == Decimal("1.00")
    assert record.interest_active
    fee_rules = [c.rule for o in outs for c in o.charges if c.kind == "fee"]
    assert fee_rules == ["test.mahn:10"]


def test_transitions_cite_the_policy_line():
    _, outs = advance(daily(ISSUE, GRACE_OVER + timedelta(days=14)))
    rules = [(t.target, t.rule) for o in outs for t in o.transitions]
    assert rules == [
        ("vorab", "test.mahn:8"),
        ("erinnerung", "test.mahn:9"),
        ("mahnung_1", "test.mahn:10"),
    ]


def test_an_invoice_first_seen_late_skips_the_pre_due_note():
    out = step(None, invoice(), CONSUMER, [], DUE + timedelta(days=10), COMPILED)
    assert out.record.state == "erinnerung"
    assert [m.template for m in out.messages] == ["zahlungserinnerung"]


def test_full_payment_ends_paid():
    pay = Event(EventKind.PAYMENT_PARTIAL, DUE + timedelta(days=2), Decimal("1000.00"))
    record, _ = advance(daily(ISSUE, DUE + timedelta(days=30)), events=[pay])
    assert record.state == "paid"
    assert record.next_check_on is None


def test_partial_payment_pays_costs_then_interest_then_principal():
    # in mahnung_1 with a 1.00 fee and running interest
    record, _ = advance(daily(ISSUE, DUE + timedelta(days=25)))
    assert record.state == "mahnung_1"
    pay = Event(EventKind.PAYMENT_PARTIAL, DUE + timedelta(days=26), Decimal("100.00"))
    out = step(record, invoice(), CONSUMER, [pay], DUE + timedelta(days=26), COMPILED)
    r = out.record
    assert r.fees_open == 0 and r.interest_open == 0
    interest = sum(c.amount for c in out.charges if c.kind == "interest") + record.interest_open
    assert r.principal_open == Decimal("1000.00") - (Decimal("100.00") - Decimal("1.00") - interest)
    assert r.state == "mahnung_1"


def test_dispute_freezes_escalation_until_resolved():
    opened = Event(EventKind.DISPUTE_OPENED, DUE + timedelta(days=10))
    record, _ = advance(daily(ISSUE, DUE + timedelta(days=60)), events=[opened])
    assert record.state == "erinnerung"
    assert record.next_check_on is None
    resolved = Event(EventKind.DISPUTE_RESOLVED, DUE + timedelta(days=61))
    out = step(record, invoice(), CONSUMER, [resolved], DUE + timedelta(days=61), COMPILED)
    assert out.record.state == "mahnung_1"


def test_promise_to_pay_pauses_until_promised_date_plus_three_business_days():
    promise = Event(
        EventKind.PROMISE_MADE, GRACE_OVER + timedelta(days=1), promised_date=date(2025, 5, 9)
    )  # a Friday
    record, _ = advance(daily(ISSUE, date(2025, 5, 14)), events=[promise])
    assert record.state == "erinnerung"  # paused: mahnung_1 would have come on 2025-05-06
    record, _ = advance(daily(date(2025, 5, 15), date(2025, 5, 15)), record=record)
    assert record.state == "mahnung_1"  # 3 business days after Fri 9 May = Wed 14 May


def test_insolvency_stops_everything():
    ins = Event(EventKind.INSOLVENCY, DUE + timedelta(days=3))
    record, outs = advance(daily(ISSUE, DUE + timedelta(days=60)), events=[ins])
    assert record.state == "insolvent"
    assert [t.kind for o in outs for t in o.tasks] == ["file_claim"]
    assert not [m for o in outs for m in o.messages if m.on > DUE + timedelta(days=3)]


def test_handover_waits_for_approval():
    inv = invoice("500.00")
    record, outs = advance(daily(ISSUE, DUE + timedelta(days=63)), inv=inv)
    assert record.state == "mahnung_2"
    assert record.pending_approval == "inkasso"
    requests = [a for o in outs for a in o.approvals]
    assert len(requests) == 1 and requests[0].required == 1
    approved = record.evolve(
        pending_approval=None, approved_target="inkasso", next_check_on=DUE + timedelta(days=70)
    )
    out = step(approved, inv, CONSUMER, [], DUE + timedelta(days=70), COMPILED)
    assert out.record.state == "handed_over"
    assert [t.kind for t in out.tasks] == ["handover"]


def test_four_eyes_above_one_thousand():
    record, outs = advance(daily(ISSUE, DUE + timedelta(days=63)), inv=invoice("1500.00"))
    assert [a.required for o in outs for a in o.approvals] == [2]


def test_lump_sum_only_for_businesses_and_once():
    inv = invoice("1000.00", due_date_agreed=True)
    record, outs = advance(daily(ISSUE, DUE + timedelta(days=60)), inv=inv, cust=BUSINESS)
    lump = [c for o in outs for c in o.charges if c.kind == "lump_sum"]
    assert [c.amount for c in lump] == [Decimal("40.00")]
    assert record.default_since == DUE + timedelta(days=1)  # A1: agreed calendar date


def test_vulnerable_customer_needs_a_person_before_a_fee_step_and_pays_no_fee():
    cust = Customer(id="K3", type="B2C", vulnerable=True)
    record, outs = advance(daily(ISSUE, DUE + timedelta(days=30)), cust=cust)
    assert record.state == "erinnerung"
    assert record.pending_approval == "mahnung_1"  # D5: nothing beyond reminders unapproved
    approved = record.evolve(
        pending_approval=None, approved_target="mahnung_1", next_check_on=DUE + timedelta(days=31)
    )
    later, _ = advance(
        daily(DUE + timedelta(days=31), DUE + timedelta(days=40)), cust=cust, record=approved
    )
    assert later.state == "mahnung_1"
    assert later.fees_open == 0 and later.interest_open == 0 and not later.interest_active


def test_email_opt_out_falls_back_to_a_letter():
    cust = Customer(id="K4", type="B2C", opted_out=frozenset({"email"}))
    _, outs = advance(daily(ISSUE, DUE + timedelta(days=7)), cust=cust)
    assert {m.channel for o in outs for m in o.messages} == {"letter"}


def test_rerun_for_the_same_day_does_nothing():
    record, _ = advance(daily(ISSUE, DUE + timedelta(days=21)))
    again = step(record, invoice(), CONSUMER, [], DUE + timedelta(days=21), COMPILED)
    assert again.record == record
    assert not again.actions


def test_catch_up_moves_one_letter_level_and_times_the_next_from_it():
    """Daily runs send the 1st Mahnung on 7 May; after an outage until 25 May the run sends
    the reminder due (not the pre-due note, whose date passed) and the Mahnung follows 14 days
    after the reminder actually went out, with its fee on that day."""
    back = DUE + timedelta(days=40)
    record, outs = advance([ISSUE, back])
    assert record.state == "erinnerung" and record.entered_on == back
    assert [(m.template, m.on) for m in outs[-1].messages] == [("zahlungserinnerung", back)]
    assert record.fees_open == 0
    assert any("vorab: not sent, its purpose expired" in n.text for n in outs[-1].notes)
    assert record.next_check_on == back + timedelta(days=14)
    record, later = advance(daily(back + timedelta(days=1), back + timedelta(days=14)),
                            record=record)
    assert [(m.template, m.on) for o in later for m in o.messages] == [
        ("mahnung_1", back + timedelta(days=14))
    ]
    assert [(c.kind, c.amount, c.on) for o in later for c in o.charges if c.kind == "fee"] == [
        ("fee", Decimal("1.00"), back + timedelta(days=14))
    ]


def test_write_off_books_the_balance_away():
    w = Event(EventKind.WRITE_OFF, DUE + timedelta(days=30))
    record, outs = advance(daily(ISSUE, DUE + timedelta(days=31)), events=[w])
    assert record.state == "written_off"
    assert record.balance == 0


@pytest.mark.parametrize("kind", [EventKind.HOLD])
def test_hold_stops_until_release(kind):
    hold = Event(kind, DUE + timedelta(days=1))
    record, _ = advance(daily(ISSUE, DUE + timedelta(days=40)), events=[hold])
    assert record.state == "open" or record.state == "vorab"
    rel = Event(EventKind.RELEASE, DUE + timedelta(days=41))
    out = step(record, invoice(), CONSUMER, [rel], DUE + timedelta(days=41), COMPILED)
    assert out.record.state == "erinnerung"


PLAN = (
    (date(2025, 5, 15), Decimal("500.00")),
    (date(2025, 6, 16), Decimal("500.00")),
)


def test_payment_plan_paid_on_time_keeps_dunning_paused():
    agreed = Event(EventKind.PLAN_AGREED, DUE + timedelta(days=10), instalments=PLAN)
    pays = [
        Event(EventKind.PAYMENT_PARTIAL, date(2025, 5, 20), Decimal("500.00")),  # within grace
        Event(EventKind.PAYMENT_PARTIAL, date(2025, 6, 16), Decimal("500.00")),
    ]
    record, outs = advance(daily(ISSUE, date(2025, 6, 10)), events=[agreed, *pays])
    assert record.state == "erinnerung" and record.plan_active
    assert not [a for o in outs for a in o.transitions if a.target == "mahnung_1"]


def test_a_missed_instalment_resumes_dunning_after_five_business_days():
    agreed = Event(EventKind.PLAN_AGREED, DUE + timedelta(days=10), instalments=PLAN)
    record, outs = advance(daily(ISSUE, date(2025, 5, 30)), events=[agreed])
    # due Thu 15 May, + 5 business days = Thu 22 May; missed from Fri 23 May
    missed = [n for o in outs for n in o.notes if "resumed" in n.text]
    assert missed and missed[0].on == date(2025, 5, 23)
    assert not record.plan_active
    assert record.state == "mahnung_1"


def test_the_policy_sets_the_payment_grace():
    """A9: `payment grace 5 business days` waits five TARGET2 days after the due date."""
    src = POLICY.replace(
        "fees at most 2.50 EUR }", "fees at most 2.50 EUR  payment grace 5 business days }"
    )
    assert src != POLICY
    longer = compile_source(src, "test.mahn")
    # due Tue 15 April 2025: 16, 17, 22, 23, 24 April are TARGET2 days (Easter closed)
    days = daily(ISSUE, date(2025, 4, 24))
    record = None
    for day in days:
        record = step(record, invoice(), CONSUMER, [], day, longer).record
    assert record.state == "vorab"
    record = step(record, invoice(), CONSUMER, [], date(2025, 4, 25), longer).record
    assert record.state == "erinnerung"
