"""Entering a state, action by action, each outcome compared whole against a hand-worked one.

Issue 20: mutation testing of `engine/step/actions.py` showed that most of its broken
variants went unnoticed because no test compared the whole `Charge`, `Task`, `Note` or
`Message` the step emits — a wrong date, rule, period or reason text passed.  Here every
expected value is worked by hand from `docs/legal-rules.md` (rates from A5, RVG values from
B2) and the whole action is compared: amount, day, policy line, period, rate and words.

All invoices: issued Monday 2 June 2025, due Monday 16 June 2025 (Berlin, no holiday near).
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

import pytest

from mahnwerk.dsl.compile import compile_source
from mahnwerk.dsl.expr import Money
from mahnwerk.dsl.ir import EventKind
from mahnwerk.engine.state import (
    ApprovalRequest,
    Charge,
    Customer,
    Event,
    Invoice,
    Message,
    Note,
    Task,
    Transition,
)
from mahnwerk.engine.step import step

D = Decimal
ISSUE = date(2025, 6, 2)
DUE = date(2025, 6, 16)
CONSUMER = Customer(id="K1", type="B2C", region="BE")
BUSINESS = Customer(id="K2", type="B2B", region="BE")


def policy(states: str, limits: str = "", segments: str = "segment alle use standard"):
    """One ladder `standard` (its first state on line 6) under `segments`."""
    return compile_source(
        f"""
policy "stufen" version 1 {{
  currency EUR  timezone "Europe/Berlin"  calendar DE region from customer  language de
  limits {{ {limits} }}
  ladder standard {{
{states}
  }}
  {segments}
}}
""",
        "stufen.mahn",
    )


#: A business ladder: only businesses may meet `lump sum` (lint L002), others a person.
FIRMS = (
    "segment firmen when customer.type == B2B use standard\n"
    "  segment andere use pruefung\n  ladder pruefung { state pruefen at 7d after due "
    '{ notify "team"; wait } }'
)


def invoice(amount: str = "500.00", agreed: bool = True, **kw) -> Invoice:
    return Invoice("R1", "K1", ISSUE, DUE, D(amount), due_date_agreed=agreed, **kw)


def run(compiled, until: date, inv=None, customer=CONSUMER, events=(), start=ISSUE):
    """Daily runs from `start` to `until`; a step waiting for approval is approved by a
    person the day it asks and taken that day.  The record and every action, in order."""
    inv = inv or invoice()
    record, actions, day = None, [], start
    while day <= until:
        out = step(record, inv, customer, [e for e in events if e.on == day], day, compiled)
        actions += out.actions
        record = out.record
        if record.pending_approval:
            approved = record.evolve(
                pending_approval=None, approved_target=record.pending_approval, approved_on=day
            )
            out = step(approved, inv, customer, (), day, compiled)
            actions += out.actions
            record = out.record
        day += timedelta(days=1)
    return record, actions


def only(actions, kind, since: date = ISSUE):
    return [a for a in actions if isinstance(a, kind) and a.on >= since]


FIRST = DUE + timedelta(days=10)  # Thursday 26 June: the first letter
SECOND = FIRST + timedelta(days=14)  # Thursday 10 July
THIRD = SECOND + timedelta(days=14)  # Thursday 24 July


# --- B1, A7, A6: what the first Mahnung to a business charges ------------------------------

BUSINESS_LADDER = """\
    state erinnerung at 10d after due { letter "zahlungserinnerung" }
    state mahnung_1 after 14d in erinnerung {
      letter "mahnung_1"; fee 1.00 EUR; lump sum; interest statutory
    }
    state mahnung_2 after 14d in mahnung_1 { letter "mahnung_2"; fee 1.00 EUR; lump sum }
    state inkasso after 14d in mahnung_2 {
      approval by 2 when balance > 1000 EUR else 1; handover to "Inkasso GmbH"
    }"""


def test_a_businesss_first_mahnung_charges_fee_lump_sum_and_the_interest_accrued_so_far():
    """1,000.00 EUR for goods, due date agreed: in default from 17 June (A1).  The Mahnung of
    10 July charges the letter's 1.00 EUR (B1), the 40 EUR lump sum (A7), and claims the
    interest accrued since default at base + 9 points (A4), one line per base rate (A5, A6):
    17–30 June, 14 days at 2.27 + 9 = 11.27 %: 1000 × 11.27 % × 14/365 = 4.3227 → 4.32;
    1–9 July, 9 days at 1.27 + 9 = 10.27 %: 1000 × 10.27 % × 9/365 = 2.5323 → 2.53."""
    compiled = policy(BUSINESS_LADDER, segments=FIRMS)
    record, actions = run(compiled, SECOND, invoice("1000.00"), BUSINESS)
    assert record.fees_open == D("41.00") and record.interest_open == D("6.85")
    assert only(actions, Transition, SECOND) == [
        Transition("erinnerung", "mahnung_1", SECOND, "stufen.mahn:7", "after 14d in erinnerung")
    ]
    assert only(actions, Charge, SECOND) == [
        Charge("fee", D("1.00"), SECOND, "stufen.mahn:8", note="Mahngebühr"),
        Charge("lump_sum", D("40.00"), SECOND, "stufen.mahn:8", note="Pauschale § 288 Abs. 5 BGB"),
        Charge(
            "interest", D("4.32"), SECOND, "stufen.mahn:8",
            period_from=date(2025, 6, 17), period_to=date(2025, 6, 30), rate=D("11.27"),
            note="Verzugszinsen 2025-06-17–2025-06-30 auf 1000.00",
        ),
        Charge(
            "interest", D("2.53"), SECOND, "stufen.mahn:8",
            period_from=date(2025, 7, 1), period_to=date(2025, 7, 9), rate=D("10.27"),
            note="Verzugszinsen 2025-07-01–2025-07-09 auf 1000.00",
        ),
    ]  # fmt: skip


def test_the_lump_sum_is_charged_once_per_claim_and_the_agency_credits_it():
    """A7: the 2. Mahnung names `lump sum` again and charges none (nor says why: nothing
    happened).  B2 + A7: the agency may add at most the RVG costs for 1,000 EUR — a 0.9 fee
    of 93.00 = 83.70 plus 20 % expenses 16.74 = 100.44 — less the 40 EUR already charged:
    60.44.  D8: the balance is above 1,000 EUR (1,000 + 2 fees + 40 + interest), so two
    people approve."""
    compiled = policy(BUSINESS_LADDER, segments=FIRMS)
    asked = THIRD + timedelta(days=14)
    record, actions = run(compiled, asked, invoice("1000.00"), BUSINESS)
    assert [c.kind for c in only(actions, Charge, THIRD) if c.on == THIRD] == ["interest", "fee"]
    assert not only(actions, Note, SECOND)
    assert only(actions, ApprovalRequest) == [
        ApprovalRequest(
            "inkasso", 2, 'mahnung_2 -> inkasso: handover to "Inkasso GmbH"', "stufen.mahn:11",
            asked,
        )
    ]  # fmt: skip
    assert only(actions, Task) == [
        Task(
            "handover", asked, "stufen.mahn:12",
            "Inkasso GmbH: claim 1000.00 EUR; recoverable collection costs at most 100.44 EUR "
            "(RVG 0.9 fee 83.70 + expenses 16.74, B2); the 40.00 EUR lump sum is credited: at "
            "most 60.44 EUR more (A7)",
        )
    ]  # fmt: skip
    assert record.state == "handed_over"
    assert [c.kind for c in only(actions, Charge, asked)] == ["interest"]  # nothing written off
    assert only(actions, Transition, asked)[-1] == Transition(
        "inkasso", "handed_over", asked, "stufen.mahn:12", "the step is done"
    )


def test_one_person_approves_a_handover_of_a_balance_up_to_one_thousand():
    """D8 at its threshold: 500.00 EUR plus fees and interest stay below 1,000 EUR: one."""
    compiled = policy(BUSINESS_LADDER, segments=FIRMS)
    _, actions = run(compiled, THIRD + timedelta(days=14), invoice("500.00"), BUSINESS)
    assert [a.required for a in only(actions, ApprovalRequest)] == [1]


def test_a_claim_above_the_rvg_table_is_handed_over_with_the_reason_its_costs_are_unknown():
    """B2: the packaged RVG table ends at 30,000 EUR; the agency is told the claim and why no
    cap can be given, rather than a made-up one."""
    compiled = policy(BUSINESS_LADDER, segments=FIRMS)
    _, actions = run(compiled, THIRD + timedelta(days=14), invoice("30000.01"), BUSINESS)
    (task,) = only(actions, Task)
    assert task.detail == (
        "Inkasso GmbH: claim 30000.01 EUR; collection costs not computable: claim value "
        "30000.01 EUR is above the last bracket (30000 EUR) of the RVG table from 2025-06-01; "
        "extend data/rvg_fees.csv"
    )


def test_a_loan_owes_interest_but_no_lump_sum():
    """§ 288 Abs. 5 BGB: the lump sum is for payment for goods or services; a loan's Mahnung
    says why none is charged, and its interest is base + 5 (§ 288 Abs. 1, A4): 17–30 June at
    7.27 %: 1000 × 7.27 % × 14/365 = 2.7885 → 2.79; 1–9 July at 6.27 %: 1.5460 → 1.55."""
    compiled = policy(BUSINESS_LADDER, segments=FIRMS)
    _, actions = run(compiled, SECOND, invoice("1000.00", goods_or_services=False), BUSINESS)
    assert only(actions, Note, SECOND) == [
        Note(
            SECOND,
            "no lump sum: not payment for goods or services (§ 288 Abs. 5 BGB)",
            "stufen.mahn:8",
        )
    ]
    assert [(c.kind, c.amount, c.rate) for c in only(actions, Charge, SECOND)] == [
        ("fee", D("1.00"), None),
        ("interest", D("2.79"), D("7.27")),
        ("interest", D("1.55"), D("6.27")),  # 1000 × 6.27 % × 9/365 = 1.5460 → 1.55
    ]


# --- B1, D5, D7: consumers' letters ----------------------------------------------------------

CONSUMER_LADDER = """\
    state erinnerung at 10d after due { letter "zahlungserinnerung"; fee 1.00 EUR }
    state mahnung_1 after 14d in erinnerung {
      letter "mahnung_1"; fee 2.00 EUR
      offer payment plan of 6 instalments when balance > 200 EUR
    }
    state mahnung_2 after 14d in mahnung_1 { email "mahnung_2"; interest statutory; wait }"""


def test_the_reminder_that_creates_default_is_free_the_next_letter_is_not():
    """B1, § 286 Abs. 1 BGB: no agreed date, so the first letter (sent 26 June, received the
    29th) puts the debtor in default from the 30th; its fee line charges nothing, and says
    why.  The Mahnung of 10 July charges its 2.00 EUR in full (at the policy's cap)."""
    compiled = policy(CONSUMER_LADDER, limits="fees at most 2.00 EUR")
    record, actions = run(compiled, SECOND, invoice(agreed=False))
    assert record.default_since == date(2025, 6, 30)
    assert only(actions, Note, FIRST) == [
        Note(
            FIRST,
            "no fee: the reminder that creates default is free (§ 286 Abs. 1 BGB)",
            "stufen.mahn:6",
        )
    ]
    assert only(actions, Charge, FIRST) == [
        Charge("fee", D("2.00"), SECOND, "stufen.mahn:8", note="Mahngebühr")
    ]


@pytest.mark.parametrize(
    ("customer", "segment", "language"),
    [
        (CONSUMER, "segment alle use standard tone streng language en", "en"),
        (CONSUMER, "segment alle use standard tone streng", "de"),
        (Customer(id="K1", type="B2C", region="BE", language="fr"),
         "segment alle use standard tone streng", "fr"),
        (Customer(id="K1", type="B2C", region="BE", language=""),
         "segment alle use standard", "de"),
    ],
)  # fmt: skip
def test_a_letter_carries_the_segments_tone_the_language_and_the_offers_that_hold(
    customer, segment, language
):
    """The message names its channel, template, level and policy line, in the segment's tone
    and language — else the customer's, else the policy's — with the offers whose condition
    holds on the day (500 EUR > 200 EUR: the payment plan)."""
    compiled = policy(CONSUMER_LADDER, limits="fees at most 2.00 EUR", segments=segment)
    _, actions = run(compiled, SECOND, customer=customer)
    tone = "streng" if "tone" in segment else None
    assert only(actions, Message) == [
        Message("letter", "zahlungserinnerung", FIRST, "erinnerung", "stufen.mahn:6",
                tone=tone, language=language),
        Message("letter", "mahnung_1", SECOND, "mahnung_1", "stufen.mahn:8", tone=tone,
                language=language,
                offers=("offer payment plan of 6 instalments when balance > 200 EUR",)),
    ]  # fmt: skip


def test_no_offer_rides_in_a_letter_when_its_condition_does_not_hold():
    compiled = policy(CONSUMER_LADDER, limits="fees at most 2.00 EUR")
    _, actions = run(compiled, SECOND, invoice("150.00"))
    assert [m.offers for m in only(actions, Message)] == [(), ()]


def test_a_vulnerable_customer_gets_letters_only_after_a_person_agrees_and_pays_no_fee():
    """D5: a level with a fee waits for one person; the letter then goes, with no fee and no
    interest claimed, each with its reason.  D7: the e-mail the customer opted out of goes
    as a letter."""
    vulnerable = Customer(id="K1", type="B2C", region="BE", vulnerable=True,
                          opted_out=frozenset({"email"}))  # fmt: skip
    compiled = policy(CONSUMER_LADDER, limits="fees at most 2.00 EUR")
    record, actions = run(compiled, THIRD, customer=vulnerable)
    assert only(actions, ApprovalRequest) == [
        ApprovalRequest("erinnerung", 1, 'open -> erinnerung: letter "zahlungserinnerung", '
                        "fee 1.00 EUR", "stufen.mahn:6", FIRST),
        ApprovalRequest("mahnung_1", 1, 'erinnerung -> mahnung_1: letter "mahnung_1", offer '
                        "payment plan of 6 instalments when balance > 200 EUR, fee 2.00 EUR",
                        "stufen.mahn:7", SECOND),
    ]  # fmt: skip
    assert only(actions, Note, FIRST) == [
        Note(FIRST, "no fees for a vulnerable customer (D5)", "stufen.mahn:6"),
        Note(SECOND, "no fees for a vulnerable customer (D5)", "stufen.mahn:8"),
        Note(THIRD, "email opted out (D7): sent as a letter instead", "stufen.mahn:11"),
        Note(THIRD, "no interest claimed from a vulnerable customer (D5)", "stufen.mahn:11"),
    ]
    assert [(m.channel, m.template, m.on) for m in only(actions, Message)] == [
        ("letter", "zahlungserinnerung", FIRST),
        ("letter", "mahnung_1", SECOND),
        ("letter", "mahnung_2", THIRD),
    ]
    assert only(actions, Charge, FIRST) == []
    assert record.fees_open == 0 and record.interest_open == 0 and not record.interest_active


def test_an_email_to_a_customer_who_did_not_opt_out_goes_as_an_email_and_claims_interest():
    """The consumer rate is base + 5 (A4); default from 17 June (agreed date); interest is
    claimed on 24 July for 17–30 June (7.27 %: 500 × 7.27 % × 14/365 = 1.3942 → 1.39) and
    1–23 July (6.27 %: 500 × 6.27 % × 23/365 = 1.9755 → 1.98)."""
    compiled = policy(CONSUMER_LADDER, limits="fees at most 2.00 EUR")
    record, actions = run(compiled, THIRD)
    assert only(actions, Message, THIRD) == [
        Message("email", "mahnung_2", THIRD, "mahnung_2", "stufen.mahn:11", language="de")
    ]
    assert only(actions, Charge, THIRD) == [
        Charge("interest", D("1.39"), THIRD, "stufen.mahn:11", period_from=date(2025, 6, 17),
               period_to=date(2025, 6, 30), rate=D("7.27"),
               note="Verzugszinsen 2025-06-17–2025-06-30 auf 500.00"),
        Charge("interest", D("1.98"), THIRD, "stufen.mahn:11", period_from=date(2025, 7, 1),
               period_to=date(2025, 7, 23), rate=D("6.27"),
               note="Verzugszinsen 2025-07-01–2025-07-23 auf 500.00"),
    ]  # fmt: skip
    assert record.interest_open == D("3.37") and record.interest_active
    assert record.interest_rule == "stufen.mahn:11" and record.last_contact_on == THIRD


# --- C2: the credit-bureau report, stop credit, a team's task ----------------------------


def reporting(after: int, extra: str = 'stop credit; notify "team"; '):
    return policy(
        '    state mahnung_1 at 10d after due { letter "mahnung_1" }\n'
        '    state mahnung_2 after 14d in mahnung_1 { letter "mahnung_2" }\n'
        f"    state meldung after {after}d in mahnung_2 {{ approval by 1; {extra}"
        'report to "SCHUFA"; wait }'
    )


@pytest.mark.parametrize(("after", "reported"), [(16, False), (17, True)])
def test_a_credit_report_four_weeks_after_the_first_reminder_arrived_not_a_day_earlier(
    after, reported
):
    """C2, § 31 Abs. 2 Nr. 4 BDSG: the first letter (26 June, announcing the report) arrives
    on the 29th; two letters; the report goes from 27 July (29 June + 28 days), on the 26th
    the step says why not.  Either way the customer's credit is stopped and the team told."""
    day = SECOND + timedelta(days=after)
    record, actions = run(reporting(after), day)
    assert record.report_notice_on == date(2025, 6, 29)
    assert record.first_reminder_on == date(2025, 6, 29) and record.written_reminders == 2
    assert only(actions, Message) == [  # D9: each letter may announce the report (C2 can hold)
        Message("letter", "mahnung_1", FIRST, "mahnung_1", "stufen.mahn:6", language="de",
                announces=("credit_report",)),
        Message("letter", "mahnung_2", SECOND, "mahnung_2", "stufen.mahn:7", language="de",
                announces=("credit_report",)),
    ]  # fmt: skip
    tasks = [Task("notify", day, "stufen.mahn:8", "team"),
             Task("stop_credit", day, "stufen.mahn:8", "K1")]  # fmt: skip
    if reported:
        assert only(actions, Task) == [*tasks, Task("credit_report", day, "stufen.mahn:8",
                                                    "SCHUFA")]  # fmt: skip
        assert not only(actions, Note, day)
    else:
        assert only(actions, Task) == tasks
        assert only(actions, Note, day) == [
            Note(day, "no credit-bureau report (§ 31 BDSG): the first reminder is less than "
                 "four weeks old", "stufen.mahn:8")
        ]  # fmt: skip
    assert record.credit_stopped and record.state == "meldung"


def test_a_credit_report_after_a_single_reminder_names_every_missing_condition():
    compiled = policy(
        '    state mahnung_1 at 10d after due { letter "mahnung_1" }\n'
        '    state meldung after 30d in mahnung_1 { approval by 1; report to "SCHUFA"; wait }'
    )
    day = FIRST + timedelta(days=30)
    record, actions = run(compiled, day)
    assert only(actions, Note, day) == [
        Note(day, "no credit-bureau report (§ 31 BDSG): 1 written reminder(s) after due, two "
             "needed; the first reminder is less than four weeks old", "stufen.mahn:7")
    ]  # fmt: skip
    assert not only(actions, Task) and not record.credit_stopped


# --- C3, C4: the court payment order ----------------------------------------------------------

OLD = Invoice("R9", "K1", date(2021, 12, 1), date(2021, 12, 15), D("500.00"),
              due_date_agreed=True)  # fmt: skip  # time-barred from 1 January 2025 (C4)


@pytest.mark.parametrize(("day", "applied"), [(date(2024, 12, 31), True),
                                              (date(2025, 1, 1), False)])  # fmt: skip
def test_no_court_order_for_a_claim_time_barred_that_day(day, applied):
    """C4: due 15 December 2021, time-barred from 1 January 2025: on New Year's Eve the court
    order is applied for (the balance to the cent, § 688 ZPO); on New Year's Day not."""
    compiled = policy("    state gericht at 10d after due { approval by 1; court order; wait }")
    record, actions = run(compiled, day, OLD, start=day)
    if applied:
        assert only(actions, Task, day) == [
            Task("court_order", day, "stufen.mahn:6", "500.00 EUR (§ 688 ZPO)")
        ]
        assert record.court_stage == "applied"
    else:
        assert not only(actions, Task, day) and record.court_stage is None
        assert only(actions, Note, day)[-1] == Note(
            day, "claim time-barred (§§ 195, 199 BGB): no court order", "stufen.mahn:6"
        )


# --- leaving the ladder: an expired note, a write-off, a residual --------------------------

CLOSING = """\
    state vorab at 3d before due { email "vorab_hinweis" }
    state erinnerung at 10d after due { letter "zahlungserinnerung" }
    state mahnung_1 after 14d in erinnerung { letter "mahnung_1"; fee 1.00 EUR; interest statutory }
    after 14d in mahnung_1 -> written_off"""


def test_a_note_before_the_due_date_caught_up_after_it_is_passed_with_the_reason():
    compiled = policy(CLOSING)
    record = step(None, invoice(), CONSUMER, (), ISSUE, compiled).record
    out = step(record, invoice(), CONSUMER, (), DUE + timedelta(days=1), compiled)
    assert out.actions == (
        Transition("open", "vorab", date(2025, 6, 13), "stufen.mahn:6", "at 3d before due"),
        Note(date(2025, 6, 13), "vorab: not sent, its purpose expired — the due date "
             "2025-06-16 passed before it could go out", "stufen.mahn:6"),
    )  # fmt: skip
    assert out.record.last_contact_on is None


def test_a_write_off_books_the_interest_to_the_day_before_then_the_whole_balance_away():
    """Written off on 24 July: interest for 10–23 July first (the run 1–23 July at 6.27 % is
    500 × 6.27 % × 23/365 = 1.9755 → 1.98, of which 0.77 was claimed on the 10th: 1.21),
    then the balance 500.00 + 1.00 fee + 1.39 + 0.77 + 1.21 interest = 504.37 EUR."""
    compiled = policy(CLOSING)
    record, actions = run(compiled, THIRD)
    assert only(actions, Charge, THIRD) == [
        Charge("interest", D("1.21"), THIRD, "stufen.mahn:8", period_from=date(2025, 7, 10),
               period_to=date(2025, 7, 23), rate=D("6.27"), note="Verzugszinsen 14 T. à 6.27 %"),
        Charge("write_off", D("-504.37"), THIRD, "stufen.mahn:9", note="Ausbuchung"),
    ]  # fmt: skip
    assert record.state == "written_off" and record.balance == 0
    assert record.next_check_on is None


RESIDUAL = """\
    state erinnerung at 10d after due { letter "zahlungserinnerung" }
    state mahnung_1 after 14d in erinnerung { letter "mahnung_1"; fee 1.00 EUR }
    state mahnung_2 after 14d in mahnung_1 { letter "mahnung_2"; fee 1.00 EUR; wait }"""


def test_the_fee_left_after_the_invoice_amount_is_paid_is_written_off_at_the_next_step():
    """Issue 11: 500.00 paid on 15 July settles the 1.00 fee first (§ 367 BGB), leaving 1.00
    on the principal; on the 2. Mahnung's day that residual is written off and the invoice is
    paid — no letter, no fee."""
    compiled = policy(RESIDUAL, limits="residual up to 1.00 EUR write off")
    paid = Event(EventKind.PAYMENT_FULL, date(2025, 7, 15), D("500.00"), ref="P1")
    record, actions = run(compiled, THIRD, events=(paid,))
    assert only(actions, Charge, THIRD) == [
        Charge("write_off", D("-1.00"), THIRD, "stufen.mahn:4",
               note="Ausbuchung Restbetrag (Zinsen, Kosten)")
    ]  # fmt: skip
    assert only(actions, Transition, THIRD) == [
        Transition("mahnung_1", "paid", THIRD, "stufen.mahn:4", "paid; residual 1.00 written off")
    ]
    assert [n.on for n in only(actions, Note, THIRD)] == [THIRD]
    assert record.state == "paid" and record.balance == 0 and not only(actions, Message, THIRD)


def test_a_residual_to_ask_for_in_the_next_letter_parks_the_invoice_once():
    compiled = policy(RESIDUAL, limits="residual up to 1.00 EUR ask in next letter")
    paid = Event(EventKind.PAYMENT_FULL, date(2025, 7, 15), D("500.00"), ref="P1")
    record, actions = run(compiled, THIRD + timedelta(days=5), events=(paid,))
    assert only(actions, Note, THIRD) == [
        Note(THIRD, "residual 1.00 EUR of interest and fees after the invoice's amount was "
             "paid: within the tolerance 1.00 EUR (policy line stufen.mahn:4), asked for in the "
             "next letter, parked; never escalated (issue 11)", "stufen.mahn:4")
    ]  # fmt: skip
    assert record.state == "mahnung_1" and record.balance == D("1.00")
    assert record.pause_reason == "residual asked in the next letter (issue 11)"
    assert not only(actions, Charge, THIRD) and not only(actions, Message, THIRD)


# --- A4, A6: the rate the policy claims, and lines of a part-paid claim -----------------------


def test_interest_at_the_policys_own_points_applies_to_every_day_it_claims():
    """A4: a policy may claim less than the statutory rate (`interest 5 points above base`
    from a business, whose statutory rate is base + 9; L003 refuses more).  Every day claimed
    is at base + 5, the days before the Mahnung too, and A6 rounds each period once.  700 EUR:
    17–30 June at 7.27 %: 700 × 7.27 % × 14/365 = 1.9520 → 1.95; 1–9 July at 6.27 %: 1.0822 →
    1.08; the period 1–23 July is 700 × 6.27 % × 23/365 = 2.7656 → 2.77, so 10–23 July adds
    2.77 − 1.08 = 1.69 (not 1.68, the 14 days rounded on their own)."""
    compiled = policy(
        '    state erinnerung at 10d after due { letter "zahlungserinnerung" }\n'
        '    state mahnung_1 after 14d in erinnerung { letter "mahnung_1"; '
        "interest 5 points above base }\n"
        '    state mahnung_2 after 14d in mahnung_1 { letter "mahnung_2"; wait }',
        segments=FIRMS,
    )
    record, actions = run(compiled, THIRD, invoice("700.00"), BUSINESS)
    assert [
        (c.on, c.amount, c.period_from, c.period_to, c.rate, c.note)
        for c in only(actions, Charge)
        if c.kind == "interest"
    ] == [
        (SECOND, D("1.95"), date(2025, 6, 17), date(2025, 6, 30), D("7.27"),
         "Verzugszinsen 2025-06-17–2025-06-30 auf 700.00"),
        (SECOND, D("1.08"), date(2025, 7, 1), date(2025, 7, 9), D("6.27"),
         "Verzugszinsen 2025-07-01–2025-07-09 auf 700.00"),
        (THIRD, D("1.69"), date(2025, 7, 10), date(2025, 7, 23), D("6.27"),
         "Verzugszinsen 14 T. à 6.27 %"),
    ]  # fmt: skip
    assert record.interest_points == D("5") and record.interest_open == D("4.72")


def test_interest_claimed_again_at_fewer_points_starts_a_new_run_and_claims_nothing_twice():
    """A business claimed at base + 9 from the 1. Mahnung (10 July); the 2. Mahnung (24 July)
    books 10–23 July at 10.27 % (the period 1–23 July: 1000 × 10.27 % × 23/365 = 6.4715 →
    6.47, less 2.53 booked: 3.94) and then claims base + 5: a new run from 24 July, so the
    write-off on 7 August books 24 July–6 August at 6.27 %: 1000 × 6.27 % × 14/365 = 2.4049
    → 2.40.  Nothing claimed at the 1. Mahnung is claimed again."""
    compiled = policy(
        '    state erinnerung at 10d after due { letter "zahlungserinnerung" }\n'
        '    state mahnung_1 after 14d in erinnerung { letter "mahnung_1"; interest statutory }\n'
        '    state mahnung_2 after 14d in mahnung_1 { letter "mahnung_2"; '
        "interest 5 points above base }\n"
        "    after 14d in mahnung_2 -> written_off",
        segments=FIRMS,
    )
    end = THIRD + timedelta(days=14)
    _, actions = run(compiled, end, invoice("1000.00"), BUSINESS)
    assert [
        (c.on, c.amount, c.period_from, c.period_to, c.rate, c.rule)
        for c in only(actions, Charge)
        if c.kind == "interest"
    ] == [
        (SECOND, D("4.32"), date(2025, 6, 17), date(2025, 6, 30), D("11.27"), "stufen.mahn:7"),
        (SECOND, D("2.53"), date(2025, 7, 1), date(2025, 7, 9), D("10.27"), "stufen.mahn:7"),
        (THIRD, D("3.94"), date(2025, 7, 10), date(2025, 7, 23), D("10.27"), "stufen.mahn:7"),
        (end, D("2.40"), date(2025, 7, 24), date(2025, 8, 6), D("6.27"), "stufen.mahn:8"),
    ]  # fmt: skip


def test_interest_claimed_after_a_part_payment_has_a_line_per_principal_and_none_of_zero():
    """A6, A8: 490.00 credited on 30 June pays the 1.00 fee and 489.00 principal; 11.00 stay
    open.  Claimed on 24 July: 17–29 June on 500.00 at 7.27 % (500 × 7.27 % × 13/365 =
    1.2945 → 1.29), 30 June on 11.00 (0.0022 → 0.00: no line), 1–23 July on 11.00 at 6.27 %
    (11 × 6.27 % × 23/365 = 0.0435 → 0.04)."""
    compiled = policy(
        '    state erinnerung at 10d after due { letter "zahlungserinnerung"; fee 1.00 EUR }\n'
        '    state mahnung_1 after 14d in erinnerung { letter "mahnung_1" }\n'
        '    state mahnung_2 after 14d in mahnung_1 { email "mahnung_2"; interest statutory; '
        "wait }"
    )
    part = Event(EventKind.PAYMENT_PARTIAL, date(2025, 6, 30), D("490.00"), ref="P1")
    record, actions = run(compiled, THIRD, events=(part,))
    assert only(actions, Charge, THIRD) == [
        Charge("interest", D("1.29"), THIRD, "stufen.mahn:8", period_from=date(2025, 6, 17),
               period_to=date(2025, 6, 29), rate=D("7.27"),
               note="Verzugszinsen 2025-06-17–2025-06-29 auf 500.00"),
        Charge("interest", D("0.04"), THIRD, "stufen.mahn:8", period_from=date(2025, 7, 1),
               period_to=date(2025, 7, 23), rate=D("6.27"),
               note="Verzugszinsen 2025-07-01–2025-07-23 auf 11.00"),
    ]  # fmt: skip
    assert record.balance == D("12.33") and record.report_notice_on is None


# --- D10, C7: the floors, noted in full --------------------------------------------------------


def test_the_fee_share_cut_and_the_minimum_for_a_handover_are_noted_with_their_policy_line():
    """D10 on a 5.00 EUR invoice: 30 % is 1.50, so the 2. Mahnung's 1.00 is cut to 0.50 and
    says so; `no handover below 100.00 EUR` then stops the agency step for a person."""
    compiled = policy(
        '    state mahnung_1 at 10d after due { letter "mahnung_1"; fee 1.00 EUR }\n'
        '    state mahnung_2 after 14d in mahnung_1 { letter "mahnung_2"; fee 1.00 EUR }\n'
        '    state inkasso after 14d in mahnung_2 { approval by 1; handover to "Inkasso GmbH" }',
        limits="no handover below 100.00 EUR",
    )
    record, actions = run(compiled, THIRD, invoice("5.00"))
    assert [c.amount for c in only(actions, Charge) if c.kind == "fee"] == [D("1.00"), D("0.50")]
    assert only(actions, Note, FIRST) == [
        Note(SECOND, "fee 0.50 of 1.00: letter fee after default: material costs (§§ 280, 286 "
             "BGB); cut to stay within 30 % of the principal (D10)", "stufen.mahn:7"),
        Note(THIRD, "principal 5.00 below 100.00 EUR: no handover or court step (D10); a person "
             "decides", "stufen.mahn:4"),
    ]  # fmt: skip
    assert record.state == "mahnung_2" and not only(actions, Task)


def test_interest_claimed_but_not_yet_booked_lifts_a_balance_to_the_minimum():
    """C7 counts the whole balance: 4.99 EUR with interest claimed from default (17 June) owes
    more than a cent by 10 July, so the Mahnung goes; without the interest it stays."""

    def ladder(extra: str) -> object:
        return policy(
            f'    state erinnerung at 10d after due {{ letter "zahlungserinnerung"{extra} }}\n'
            '    state mahnung_1 after 14d in erinnerung { letter "mahnung_1"; wait }',
            limits="minimum balance 5.00 EUR",
        )

    record, actions = run(ladder("; interest statutory"), SECOND, invoice("4.99"))
    assert record.state == "mahnung_1"
    record, actions = run(ladder(""), SECOND, invoice("4.99"))
    assert record.state == "erinnerung" and record.pause_reason == "below minimum balance"
    assert only(actions, Note, FIRST) == [
        Note(SECOND, "balance 4.99 below the minimum 5.00 EUR: no escalation", "stufen.mahn:4")
    ]


# --- after a segment change: nothing twice ----------------------------------------------------


WECHSEL = """
policy "wechsel" version 1 {
  currency EUR  timezone "Europe/Berlin"  calendar DE region from customer  language de
  ladder standard {
    state erinnerung at 10d after due { letter "zahlungserinnerung" }
    state mahnung_1 after 14d in erinnerung { letter "mahnung_1"%s }
    state mahnung_2 after 14d in mahnung_1 { letter "mahnung_2"; fee 1.00 EUR; wait }
  }
  ladder zuegig {
    state erinnerung at 5d after due { letter "zahlungserinnerung" }
    state mahnung_1 after 7d in erinnerung { letter "mahnung_1"; fee 1.00 EUR }
    state letzte after 7d in mahnung_1 { letter "letzte"; fee 1.00 EUR; wait }
  }
  segment riskant when customer.risk_score >= 70 use zuegig
  segment alle use standard
  on segment change move to start
}
"""
"""Two ladders; `%s` is the rest of the slower ladder's Mahnung (its fee, or nothing)."""


def _risky_from_12_july(standard_fee: str):  # type: ignore[no-untyped-def]
    """The invoice stepped daily to 31 July; its customer turns risky on 12 July."""
    compiled = compile_source(WECHSEL % standard_fee, "wechsel.mahn")
    risky = Customer(id="K1", type="B2C", region="BE", risk_score=D(80))
    record, actions, day = None, [], ISSUE
    while day <= date(2025, 7, 31):
        out = step(record, invoice(), CONSUMER if day < date(2025, 7, 12) else risky, (), day,
                   compiled)  # fmt: skip
        actions += out.actions
        record, day = out.record, day + timedelta(days=1)
    return record, actions


def test_after_a_move_to_the_start_of_a_stricter_ladder_no_letter_or_fee_comes_twice():
    """The customer turns risky after the 1. Mahnung (10 July, 1.00 EUR fee) and the invoice
    starts the quicker ladder on 12 July: its reminder and Mahnung were already sent and the
    first fee level was charged, so those levels pass with a note; its last letter is new."""
    record, actions = _risky_from_12_july("; fee 1.00 EUR")
    moved = date(2025, 7, 12)
    assert only(actions, Note, moved) == [
        Note(date(2025, 7, 17), "'zahlungserinnerung' not sent again: the invoice had it before "
             "its segment change", "wechsel.mahn:10"),
        Note(date(2025, 7, 24), "'mahnung_1' not sent again: the invoice had it before its "
             "segment change", "wechsel.mahn:11"),
        Note(date(2025, 7, 24), "fee level 1 not charged: 1 fee(s) were charged before the "
             "segment change", "wechsel.mahn:11"),
    ]  # fmt: skip
    assert only(actions, Charge, moved) == [
        Charge("fee", D("1.00"), date(2025, 7, 31), "wechsel.mahn:12", note="Mahngebühr")
    ]
    assert [(m.template, m.on) for m in only(actions, Message, moved)] == [
        ("letzte", date(2025, 7, 31))
    ]
    assert record.written_reminders == 3


def test_a_fee_due_at_a_level_whose_letter_is_not_sent_again_is_not_charged_and_says_why():
    """The old ladder's 1. Mahnung was free; after the move the quicker ladder's Mahnung asks
    a fee, but its letter went before the move and is not sent again: nothing goes out on
    24 July, so there are no material costs and no fee, and the note says so (it used to say
    "email has no material costs", though no e-mail went either)."""
    _, actions = _risky_from_12_july("")
    assert only(actions, Note, date(2025, 7, 24)) == [
        Note(date(2025, 7, 24), "'mahnung_1' not sent again: the invoice had it before its "
             "segment change", "wechsel.mahn:11"),
        Note(date(2025, 7, 24), "no fee: no message goes out at this step, so no material "
             "costs (VIII ZR 95/18)", "wechsel.mahn:11"),
    ]  # fmt: skip
    assert only(actions, Charge, date(2025, 7, 12)) == [
        Charge("fee", D("1.00"), date(2025, 7, 31), "wechsel.mahn:12", note="Mahngebühr")
    ]


# --- issue 19: a discount offered by a letter --------------------------------------------------


def test_a_discount_offer_becomes_a_term_until_its_last_day_and_is_noted():
    """`offer discount 3 % until 21d after due`: the Mahnung of 26 June offers 3 % if paid by
    7 July; a condition that does not hold offers nothing; for an invoice first seen after
    that day the step says why it offers nothing."""

    def ladder(until: str, when: str = "") -> object:
        return policy(
            '    state mahnung_1 at 10d after due { letter "mahnung_1"; '
            f"offer discount 3% until {until} after due{when}; wait }}"
        )

    record, actions = run(ladder("21d"), FIRST)
    assert only(actions, Note, FIRST) == [
        Note(FIRST, "discount offered: 3 % if paid by 2025-07-07", "stufen.mahn:6")
    ]
    assert [(o.until, o.percent, o.offered_on) for o in record.discount_offers] == [
        (date(2025, 7, 7), D("3"), FIRST)
    ]
    record, actions = run(ladder("21d", " when balance > 600 EUR"), FIRST)
    assert record.discount_offers == () and not only(actions, Note, FIRST)
    late = FIRST + timedelta(days=20)  # first seen on 16 July: the offer's day has passed
    record, actions = run(ladder("21d"), late, start=late)
    assert record.discount_offers == ()
    assert only(actions, Note, late)[-1] == Note(
        late, "discount offer not made: its last day 2025-07-07 has passed", "stufen.mahn:6"
    )


# --- closing while paused, and a small write-off ----------------------------------------------


def test_an_invoice_paid_during_a_pause_is_paid_and_no_longer_paused():
    """C6: the heirs pay during the six weeks' pause after a death notice; the invoice is paid,
    and nothing says it is still paused."""
    compiled = policy(CONSUMER_LADDER, limits="fees at most 2.00 EUR")
    notice = Event(EventKind.DEATH_NOTICE, FIRST + timedelta(days=2))
    paid = Event(EventKind.PAYMENT_FULL, FIRST + timedelta(days=5), D("501.00"), ref="P2")
    record, _ = run(compiled, FIRST + timedelta(days=5), events=(notice, paid))
    assert record.state == "paid" and record.balance == 0
    assert record.pause_reason is None and record.next_check_on is None


def test_a_person_writes_off_the_last_fifty_cents():
    compiled = policy(CONSUMER_LADDER, limits="fees at most 2.00 EUR")
    day = FIRST + timedelta(days=5)
    events = (Event(EventKind.PAYMENT_PARTIAL, FIRST + timedelta(days=3), D("499.50")),
              Event(EventKind.WRITE_OFF, day))  # fmt: skip
    record, actions = run(compiled, day, invoice(agreed=False), events=events)
    assert only(actions, Charge, day) == [
        Charge("write_off", D("-0.50"), day, "engine", note="Ausbuchung")
    ]
    assert record.state == "written_off" and record.balance == 0


# --- guards for what a policy cannot say (or said before the checker refused it) ------------


def test_a_fee_above_the_policys_cap_is_cut_to_it_for_a_policy_compiled_before_the_check():
    """B1: `fees at most 2.00 EUR` with a 2.50 EUR fee line is refused today (L001); a policy
    compiled before that check still charges 2.00 and says why."""
    compiled = policy(CONSUMER_LADDER.replace("fee 2.00 EUR", "fee 2.50 EUR"))
    limits = dataclasses.replace(compiled.policy.limits, fee_cap=Money(D("2.00"), "EUR"))
    old = dataclasses.replace(compiled, policy=dataclasses.replace(compiled.policy, limits=limits))
    _, actions = run(old, SECOND)
    assert only(actions, Note, SECOND) == [
        Note(SECOND, "fee limited to the policy's 2.00 EUR per letter", "stufen.mahn:8")
    ]
    assert only(actions, Charge, SECOND) == [
        Charge("fee", D("2.00"), SECOND, "stufen.mahn:8", note="Mahngebühr")
    ]


def test_a_customer_corrected_to_a_consumer_is_charged_no_lump_sum():
    """A7: never from a consumer.  A business on the business ladder until the 1. Mahnung, then
    corrected to a consumer (the invoice stays on its level): the 2. Mahnung's `lump sum`
    charges nothing and says why."""
    compiled = policy(
        '    state mahnung_1 at 10d after due { letter "mahnung_1"; fee 1.00 EUR }\n'
        '    state mahnung_2 after 14d in mahnung_1 { letter "mahnung_2"; lump sum; wait }',
        segments=FIRMS,
    )
    record, actions, day = None, [], ISSUE
    while day <= SECOND:
        who = BUSINESS if day <= FIRST else CONSUMER
        out = step(record, invoice("1000.00"), who, (), day, compiled)
        actions += out.actions
        record, day = out.record, day + timedelta(days=1)
    assert only(actions, Note, SECOND)[-1] == Note(
        SECOND, "no lump sum from a consumer (§ 288 Abs. 5 BGB)", "stufen.mahn:7"
    )
    assert not [c for c in only(actions, Charge) if c.kind == "lump_sum"]
    assert not record.lump_sum_charged


def test_interest_for_days_whose_base_rate_is_not_yet_published_is_provisional():
    """A5: the base rate from 1 July 2026 is not in the data yet: interest claimed for July
    2026 is marked provisional; June 2026 (1.27 %) is not.  Due 1 June 2026 (agreed):
    2–30 June at 6.27 %: 500 × 6.27 % × 29/365 = 2.4908 → 2.49."""
    inv = Invoice("R2", "K1", date(2026, 5, 18), date(2026, 6, 1), D("500.00"),
                  due_date_agreed=True)  # fmt: skip
    compiled = policy(
        '    state erinnerung at 10d after due { letter "zahlungserinnerung" }\n'
        '    state mahnung_1 after 40d in erinnerung { letter "mahnung_1"; interest statutory; '
        "wait }"
    )
    claimed = date(2026, 7, 21)
    _, actions = run(compiled, claimed, inv, start=date(2026, 5, 18))
    lines = [(c.amount, c.period_from, c.period_to, c.provisional)
             for c in only(actions, Charge, claimed) if c.kind == "interest"]  # fmt: skip
    assert lines[0] == (D("2.49"), date(2026, 6, 2), date(2026, 6, 30), False)
    assert [(start, end, provisional) for _, start, end, provisional in lines[1:]] == [
        (date(2026, 7, 1), date(2026, 7, 20), True)
    ]


def test_a_court_order_for_a_claim_in_another_currency_is_left_to_a_person():
    """§ 688 ZPO: only a fixed sum in euros."""
    compiled = compile_source(
        """
policy "franken" version 1 {
  currency CHF  timezone "Europe/Berlin"  calendar DE region from customer  language de
  ladder standard {
    state gericht at 10d after due { approval by 1; court order; wait }
  }
  segment alle use standard
}
""",
        "franken.mahn",
    )
    record, actions = run(compiled, FIRST, invoice(currency="CHF"))
    assert only(actions, Note, FIRST) == [
        Note(FIRST, "a court payment order only for a fixed sum in euros (§ 688 ZPO); this "
             "claim is in CHF: a person decides", "franken.mahn:5")
    ]  # fmt: skip
    assert not only(actions, Task) and record.court_stage is None


def test_a_balance_below_the_minimum_stays_stopped_after_an_earlier_dispute_was_resolved():
    """C7 after C1: a dispute opened and resolved before the reminder leaves the ladder a
    floor (the day before the resolution); the stop below the minimum holds all the same —
    one note, no Mahnung, nothing resumed the next days."""
    compiled = policy(RESIDUAL, limits="minimum balance 5.00 EUR")
    events = (Event(EventKind.DISPUTE_OPENED, date(2025, 6, 18)),
              Event(EventKind.DISPUTE_RESOLVED, date(2025, 6, 20)))  # fmt: skip
    record, actions = run(compiled, THIRD, invoice("4.99"), events=events)
    assert only(actions, Note, FIRST) == [
        Note(SECOND, "balance 4.99 below the minimum 5.00 EUR: no escalation", "stufen.mahn:4")
    ]
    assert record.state == "erinnerung" and record.pause_reason == "below minimum balance"
    assert record.paused_until is None


def test_a_residual_within_the_default_tolerance_is_written_off_in_the_invoices_currency():
    compiled = policy(RESIDUAL)
    paid = Event(EventKind.PAYMENT_FULL, date(2025, 7, 15), D("500.00"), ref="P1")
    _, actions = run(compiled, THIRD, events=(paid,))
    assert only(actions, Note, THIRD) == [
        Note(THIRD, "residual 1.00 EUR of interest and fees after the invoice's amount was "
             "paid: within the tolerance 1.00 EUR (the default), written off; never escalated "
             "(issue 11)", "engine")
    ]  # fmt: skip


def test_the_stop_before_a_small_handover_holds_after_an_earlier_dispute_was_resolved():
    """D10 after C1: the same for `no handover below 100.00 EUR` — one note, for a person."""
    compiled = policy(
        '    state mahnung_1 at 10d after due { letter "mahnung_1" }\n'
        '    state inkasso after 14d in mahnung_1 { approval by 1; handover to "Inkasso GmbH" }',
        limits="no handover below 100.00 EUR",
    )
    events = (Event(EventKind.DISPUTE_OPENED, date(2025, 6, 18)),
              Event(EventKind.DISPUTE_RESOLVED, date(2025, 6, 20)))  # fmt: skip
    record, actions = run(compiled, THIRD, invoice("99.99"), events=events)
    assert [n.on for n in only(actions, Note, FIRST)] == [SECOND]
    assert record.state == "mahnung_1" and record.paused_until is None
    assert record.pause_reason == "below minimum for handover (D10)"


# --- issue 20: what the mutants of `actions.py` still got past ------------------------------

DISPUTED_BEFORE_THE_FIRST_LETTER = (
    Event(EventKind.DISPUTE_OPENED, date(2025, 6, 18)),
    Event(EventKind.DISPUTE_RESOLVED, date(2025, 6, 20)),
)


def test_a_residual_parked_after_an_earlier_dispute_stays_parked_with_one_note():
    """The dispute of 18–20 June leaves the ladder a floor (19 June, the day before the
    resolution); parking the 1.00 residual on 24 July must not keep that old date as the end
    of its pause: else the next run finds the "pause" over, resumes and parks again, a note
    each day, and the invoice would show as paused until 19 June."""
    compiled = policy(RESIDUAL, limits="residual up to 1.00 EUR ask in next letter")
    paid = Event(EventKind.PAYMENT_FULL, date(2025, 7, 15), D("500.00"), ref="P1")
    record, actions = run(
        compiled, THIRD + timedelta(days=5), events=(*DISPUTED_BEFORE_THE_FIRST_LETTER, paid)
    )
    assert [(n.on, n.text[:29]) for n in only(actions, Note, THIRD)] == [
        (THIRD, "residual 1.00 EUR of interest")
    ]
    assert record.pause_reason == "residual asked in the next letter (issue 11)"
    assert record.paused_until is None and record.next_check_on is None
    assert record.state == "mahnung_1" and record.balance == D("1.00")


def test_a_residual_written_off_includes_the_interest_of_the_days_since_the_payment():
    """A consumer, due 16 June (agreed), in default from 17 June.  The Mahnung of 10 July
    claims 1.00 fee and interest 17–30 June at 7.27 % (500 × 7.27 % × 14/365 = 1.39) and
    1–9 July at 6.27 % (0.77).  500.00 paid on 15 July: interest 1–14 July first (500 × 6.27 %
    × 14/365 = 1.2025 → 1.20, less 0.77: 0.43), then § 367 puts 1.00 + 2.59 on fee and
    interest: 3.59 stay on the principal.  On 24 July the 2. Mahnung is due; the residual is
    3.59 plus interest 15–23 July on 3.59 (× 6.27 % × 9/365 = 0.0055 → 0.01, under the line
    that claims interest): 3.60, within the policy's 5.00, booked out whole — principal and
    interest — and the invoice is paid."""
    compiled = policy(
        RESIDUAL.replace(
            '"mahnung_1"; fee 1.00 EUR', '"mahnung_1"; fee 1.00 EUR; interest statutory'
        ),
        limits="residual up to 5.00 EUR write off",
    )
    paid = Event(EventKind.PAYMENT_FULL, date(2025, 7, 15), D("500.00"), ref="P1")
    record, actions = run(compiled, THIRD, events=(paid,))
    assert only(actions, Charge, THIRD) == [
        Charge("interest", D("0.01"), THIRD, "stufen.mahn:7", period_from=date(2025, 7, 15),
               period_to=date(2025, 7, 23), rate=D("6.27"), note="Verzugszinsen 9 T. à 6.27 %"),
        Charge("write_off", D("-3.60"), THIRD, "stufen.mahn:4",
               note="Ausbuchung Restbetrag (Zinsen, Kosten)"),
    ]  # fmt: skip
    assert only(actions, Transition, THIRD) == [
        Transition("mahnung_1", "paid", THIRD, "stufen.mahn:4", "paid; residual 3.60 written off")
    ]
    assert record.state == "paid" and record.balance == 0
    assert (record.principal_open, record.fees_open, record.interest_open) == (0, 0, 0)


def test_after_a_person_approved_a_step_a_change_of_segment_still_moves_the_invoice():
    """The 1. Mahnung of the slower ladder needs a person (approved on 10 July, the day it is
    due); the customer turns risky on 12 July: the invoice goes to the start of the quicker
    ladder that day.  An approval is for one step: once carried out it holds nothing back."""
    compiled = compile_source(WECHSEL % "; approval by 1", "wechsel.mahn")
    risky = Customer(id="K1", type="B2C", region="BE", risk_score=D(80))
    record, actions, day = None, [], ISSUE
    while day <= date(2025, 7, 12):
        who = CONSUMER if day < date(2025, 7, 12) else risky
        out = step(record, invoice(), who, (), day, compiled)
        actions += out.actions
        record = out.record
        if record.pending_approval:
            approved = record.evolve(
                pending_approval=None, approved_target=record.pending_approval, approved_on=day
            )
            out = step(approved, invoice(), who, (), day, compiled)
            actions += out.actions
            record = out.record
        day += timedelta(days=1)
    assert [(t.source, t.target, t.on) for t in only(actions, Transition, SECOND)] == [
        ("erinnerung", "mahnung_1", SECOND),
        ("mahnung_1", "open", date(2025, 7, 12)),
    ]
    assert (record.segment, record.ladder, record.state) == ("riskant", "zuegig", "open")
    assert record.approved_target is None


def report_on_a_broken_promise():  # type: ignore[no-untyped-def]
    """Two letters (26 June, announcing the report, and 10 July); a broken promise asks a
    person to approve the report (C2 holds from 27 July: two reminders, four weeks)."""
    return policy(
        '    state mahnung_1 at 10d after due { letter "mahnung_1" }\n'
        '    state mahnung_2 after 14d in mahnung_1 { letter "mahnung_2"; wait }\n'
        "    state meldung on promise_broken from mahnung_2 "
        '{ approval by 1; report to "SCHUFA"; wait }'
    )


@pytest.mark.parametrize(
    ("dispute", "taken"),
    [((), date(2025, 8, 25)),
     ((Event(EventKind.DISPUTE_OPENED, date(2025, 8, 20)),
       Event(EventKind.DISPUTE_RESOLVED, date(2025, 9, 1))), date(2025, 9, 1))],
)  # fmt: skip
def test_a_step_an_event_asked_for_is_carried_out_once_a_person_approves_it(dispute, taken):
    """The promise is broken on 25 August and a person approves the report that day: the
    invoice moves and the report goes that day — or, while the claim is disputed (C1), on
    the day the dispute is resolved.  (It used to stay approved and never move: only a time
    rule's approved step was carried out, and the next run found nothing to do.)"""
    events = (*dispute, Event(EventKind.PROMISE_BROKEN, date(2025, 8, 25)))
    record, actions = run(report_on_a_broken_promise(), date(2025, 9, 3), events=events)
    assert only(actions, ApprovalRequest) == [
        ApprovalRequest("meldung", 1, 'mahnung_2 -> meldung: report to "SCHUFA"',
                        "stufen.mahn:8", date(2025, 8, 25))
    ]  # fmt: skip
    assert only(actions, Transition, SECOND + timedelta(days=1)) == [
        Transition("mahnung_2", "meldung", taken, "stufen.mahn:8", "on promise_broken")
    ]
    assert only(actions, Task) == [Task("credit_report", taken, "stufen.mahn:8", "SCHUFA")]
    assert record.state == "meldung" and record.approved_target is None


@pytest.mark.parametrize("paid_on", [date(2025, 8, 25), date(2025, 8, 26)])
def test_a_catch_up_run_takes_the_approved_step_and_the_payments_in_date_order(paid_on):
    """The report asked for on 25 August is approved that day; the engine next runs on
    27 August and finds 500.00 paid.  Paid on the 25th: the payment comes first, the invoice
    is paid and nothing is reported.  Paid on the 26th: the report goes on the 25th, then
    the payment is booked on the 26th and the invoice is paid."""
    compiled = report_on_a_broken_promise()
    asked = date(2025, 8, 25)
    record, _ = run(compiled, asked - timedelta(days=1))
    record = step(
        record, invoice(), CONSUMER, (Event(EventKind.PROMISE_BROKEN, asked),), asked, compiled
    ).record
    assert record.pending_approval == "meldung"
    approved = record.evolve(pending_approval=None, approved_target="meldung", approved_on=asked)
    payment = Event(EventKind.PAYMENT_FULL, paid_on, D("500.00"), ref="P1")
    out = step(approved, invoice(), CONSUMER, (payment,), date(2025, 8, 27), compiled)
    reported = paid_on > asked
    assert [(t.target, t.on) for t in only(out.actions, Transition)] == (
        [("meldung", asked), ("paid", paid_on)] if reported else [("paid", paid_on)]
    )
    assert only(out.actions, Task) == (
        [Task("credit_report", asked, "stufen.mahn:8", "SCHUFA")] if reported else []
    )
    assert out.record.state == "paid" and out.record.balance == 0


def test_a_report_state_entered_on_an_event_while_the_claim_is_disputed_reports_nothing():
    """§ 31 Abs. 2 Nr. 4 BDSG, C2: no report of a claim the debtor disputes.  The customer
    disputed the claim on 20 August; a person approved the report when a promise was broken
    on 25 August (the approved step waits, C1); a promise broken again on 27 August takes
    the edge (the policy's answer to the event, disputed or not): the state is entered, and
    the report is refused with the reason."""
    compiled = report_on_a_broken_promise()
    reported = date(2025, 8, 27)
    events = (Event(EventKind.DISPUTE_OPENED, date(2025, 8, 20)),
              Event(EventKind.PROMISE_BROKEN, date(2025, 8, 25)),
              Event(EventKind.PROMISE_BROKEN, reported))  # fmt: skip
    record, actions = run(compiled, reported, events=events)
    assert only(actions, Transition, reported) == [
        Transition("mahnung_2", "meldung", reported, "stufen.mahn:8", "on promise_broken")
    ]
    assert only(actions, Note, reported) == [
        Note(reported, "no credit-bureau report (§ 31 BDSG): the claim is disputed",
             "stufen.mahn:8")
    ]  # fmt: skip
    assert not only(actions, Task) and record.state == "meldung"
