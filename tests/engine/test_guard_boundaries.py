"""Legal guards at their boundaries, on both sides, and under policies silent about them.

Issue 20 found these survived deliberate bugs: the letter gap of 7 days (D4) moved to 6, a call
allowed on the day of a conversation (D3), insolvency stopping only when the policy has an
`on insolvency` line (C5 applies always).  Each test states the day before and the day of.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from mahnwerk.dsl.compile import compile_source
from mahnwerk.dsl.errors import PolicyError
from mahnwerk.dsl.ir import EventKind, Limits
from mahnwerk.engine.contacts import Contact, plan
from mahnwerk.engine.state import Customer, Event, Invoice
from mahnwerk.engine.step import step

ISSUE = date(2025, 6, 2)
DUE = date(2025, 6, 16)  # a Monday; no holidays in Berlin around it
CONSUMER = Customer(id="K1", type="B2C", region="BE")
INVOICE = Invoice("R1", "K1", ISSUE, DUE, Decimal("500.00"), due_date_agreed=True)


def ladder(second_after: int, limits: str = "", events: str = "") -> str:
    return f"""
policy "grenzen" version 1 {{
  currency EUR  timezone "Europe/Berlin"  calendar DE region from customer  language de
  {limits}
  segment alle use standard
  ladder standard {{
    state erinnerung at 10d after due {{ letter "zahlungserinnerung" }}
    state mahnung_1 after {second_after}d in erinnerung {{ letter "mahnung_1"; wait }}
  }}
  on dispute_opened pause
  {events}
}}
"""


def letters(source: str, until: date) -> list[tuple[str, date]]:
    """Run daily from the issue date to `until`; the letters with their days."""
    compiled = compile_source(source, "grenzen.mahn")
    record, sent = None, []
    day = ISSUE
    while day <= until:
        out = step(record, INVOICE, CONSUMER, (), day, compiled)
        sent += [(m.template, m.on) for m in out.messages]
        record = out.record
        day += timedelta(days=1)
    return sent


FIRST = DUE + timedelta(days=10)  # Thu 26 June 2025


@pytest.mark.parametrize(
    ("after", "second"),
    [
        (6, FIRST + timedelta(days=7)),  # the ladder says 6 days: the engine waits for 7
        (7, FIRST + timedelta(days=7)),  # exactly 7 days is allowed
    ],
)
def test_two_letters_about_one_invoice_are_at_least_seven_days_apart(after: int, second: date):
    """D4: whatever the ladder says, the second letter is never sent on day 6 after the first,
    and on day 7 it is sent (a policy compiled before lint L004 existed still gets the gap)."""
    sent = letters(ladder(after), FIRST + timedelta(days=10))
    assert sent == [("zahlungserinnerung", FIRST), ("mahnung_1", second)]


@pytest.mark.parametrize(("days", "refused"), [(6, True), (7, False)])
def test_the_policy_check_refuses_letters_six_days_apart_and_takes_seven(days: int, refused):
    """D4, lint L004: `letters at least 6 days apart` is an error; 7 days is fine."""
    source = ladder(14, limits=f"limits {{ letters at least {days} days apart }}")
    if refused:
        with pytest.raises(PolicyError) as error:
            compile_source(source, "grenzen.mahn")
        assert "L004" in str(error.value) and "at least 7 days (D4)" in str(error.value)
    else:
        compile_source(source, "grenzen.mahn")


BERLIN = "Europe/Berlin"
TALK = date(2025, 9, 2)  # a Tuesday


@pytest.mark.parametrize(
    ("call_on", "goes_on"),
    [
        (TALK, TALK + timedelta(days=7)),  # the day of the conversation itself: no call
        (TALK + timedelta(days=6), TALK + timedelta(days=7)),  # the last day of the rest
        (TALK + timedelta(days=7), TALK + timedelta(days=7)),  # seven days later: allowed
    ],
)
def test_no_call_on_the_day_of_a_conversation_nor_the_six_after(call_on: date, goes_on: date):
    """D3: no call attempt for 7 days after a conversation, counting the conversation's day."""
    taken = [Contact("conversation", TALK)]
    slot = plan(call_on, "call", BERLIN, "DE", "BE", Limits(), taken)
    assert slot.at.date() == goes_on  # 08:00 in Berlin is the same day in UTC
    if goes_on != call_on:
        assert "after a conversation (D3)" in (slot.reason or "")


def test_a_note_before_the_due_date_neither_waits_for_nor_uses_the_weekly_reminder():
    """D3 is about dunning: a pre-due note goes out beside a reminder of the same week, and a
    reminder is not pushed back by a pre-due note sent two days earlier."""
    reminder = [Contact("letter", date(2025, 8, 11))]
    note = plan(date(2025, 8, 12), "email", BERLIN, "DE", "BE", Limits(), reminder, dunning=False)
    assert note.at.date() == date(2025, 8, 12) and note.reason is None
    notes = [Contact("email", date(2025, 8, 12), dunning=False)]
    later = plan(date(2025, 8, 14), "letter", BERLIN, "DE", "BE", Limits(), notes)
    assert later.at.date() == date(2025, 8, 14) and later.reason is None
    # two reminders in one week still do not go: the allowance holds for dunning
    again = plan(date(2025, 8, 14), "letter", BERLIN, "DE", "BE", Limits(), reminder)
    assert again.at.date() == date(2025, 8, 18)


def test_insolvency_stops_dunning_under_a_policy_without_an_insolvency_rule():
    """C5 applies whatever the policy says: no `on insolvency` line, and still the claim stops
    at once, a filing task is created, and no later letter is written."""
    source = ladder(14)
    assert "on insolvency" not in source
    compiled = compile_source(source, "grenzen.mahn")
    record = None
    for day in (ISSUE, FIRST):
        record = step(record, INVOICE, CONSUMER, (), day, compiled).record
    assert record.state == "erinnerung"
    opened = Event(EventKind.INSOLVENCY, FIRST + timedelta(days=3))
    out = step(record, INVOICE, CONSUMER, (opened,), FIRST + timedelta(days=3), compiled)
    assert out.record.state == "insolvent"
    assert [t.kind for t in out.tasks] == ["file_claim"]
    later = step(out.record, INVOICE, CONSUMER, (), FIRST + timedelta(days=30), compiled)
    assert later.record.state == "insolvent" and not later.messages and not later.charges


def test_a_dispute_stops_dunning_under_a_policy_without_a_dispute_rule():
    """C1 applies whatever the policy says: no `on dispute_opened` line, and a claim disputed
    the day before its 1st Mahnung gets no letter and no fee until a person resolves it; the
    letter goes out on the day of the resolution, not back-dated."""
    source = ladder(14).replace("on dispute_opened pause", "")
    assert "dispute_opened" not in source
    compiled = compile_source(source, "grenzen.mahn")
    record, sent = None, []
    disputed, resolved = FIRST + timedelta(days=13), FIRST + timedelta(days=40)
    day = ISSUE
    while day <= resolved:
        events = ()
        if day == disputed:
            events = (Event(EventKind.DISPUTE_OPENED, day),)
        elif day == resolved:
            events = (Event(EventKind.DISPUTE_RESOLVED, day),)
        out = step(record, INVOICE, CONSUMER, events, day, compiled)
        sent += [(m.template, m.on) for m in out.messages]
        assert not [c for c in out.charges if c.kind == "fee" and disputed <= c.on < resolved]
        record = out.record
        day += timedelta(days=1)
    assert sent == [("zahlungserinnerung", FIRST), ("mahnung_1", resolved)]


def test_after_an_outage_two_levels_timed_from_the_due_date_go_out_one_per_run():
    """A letter not sent never happened: both levels below are timed from the due date, and
    after an outage past both the run sends the e-mail reminder only; the Mahnung with its
    fee goes out with the next run, so no fee is charged for a letter nobody got."""
    source = ladder(14).replace(
        'state erinnerung at 10d after due { letter "zahlungserinnerung" }',
        'state erinnerung at 10d after due { email "zahlungserinnerung" }',
    ).replace(
        'state mahnung_1 after 14d in erinnerung { letter "mahnung_1"; wait }',
        'state mahnung_1 at 24d after due { letter "mahnung_1"; fee 1.00 EUR; wait }',
    )
    compiled = compile_source(source, "grenzen.mahn")
    back = DUE + timedelta(days=30)
    record = step(None, INVOICE, CONSUMER, (), ISSUE, compiled).record
    out = step(record, INVOICE, CONSUMER, (), back, compiled)
    assert [(m.template, m.on) for m in out.messages] == [("zahlungserinnerung", back)]
    assert out.record.state == "erinnerung" and not out.charges
    sent, record, day = [], out.record, back + timedelta(days=1)
    while day <= back + timedelta(days=10):
        later = step(record, INVOICE, CONSUMER, (), day, compiled)
        sent += [(m.template, m.on) for m in later.messages]
        record, day = later.record, day + timedelta(days=1)
    assert sent == [("mahnung_1", back + timedelta(days=1))]


# ---------------------------------------------------------------------------
# Events and timing on both sides of their boundaries (issue 20: the step's event handlers
# and guards under mutation testing)
# ---------------------------------------------------------------------------


def run_days(compiled, start: date, end: date, events=(), record=None, invoice=INVOICE):
    """Daily runs from `start` to `end`; each event on its day; all outcomes."""
    outs = []
    day = start
    while day <= end:
        todays = tuple(e for e in events if e.on == day)
        out = step(record, invoice, CONSUMER, todays, day, compiled)
        outs.append(out)
        record = out.record
        day += timedelta(days=1)
    return record, outs


def sent(outs) -> list[tuple[str, date]]:
    return [(m.template, m.on) for o in outs for m in o.messages]


def test_a_death_notice_pauses_six_weeks_under_a_policy_without_a_line_for_it():
    """C6: a death notice the day before the 1st Mahnung was due holds it six weeks: not on
    the 42nd day after the notice, on the 43rd."""
    compiled = compile_source(ladder(14), "grenzen.mahn")
    notice = FIRST + timedelta(days=13)
    end = notice + timedelta(days=43)
    _, outs = run_days(compiled, ISSUE, end, (Event(EventKind.DEATH_NOTICE, notice),))
    assert sent(outs) == [("zahlungserinnerung", FIRST), ("mahnung_1", end)]


def test_a_third_promise_to_pay_does_not_pause_again():
    """D6: two promises pause dunning; the third is noted and the ladder goes on."""
    compiled = compile_source(
        ladder(14, events="on promise_made pause until promised_date + 2 days\n"
                          "  on promise_broken resume"),
        "grenzen.mahn",
    )
    day = FIRST + timedelta(days=1)
    # each pause (to the promised day + 2) is over before the next promise
    days = [day + timedelta(days=n) for n in (0, 5, 10)]
    promises = [Event(EventKind.PROMISE_MADE, on, promised_date=on) for on in days]
    record, outs = run_days(compiled, ISSUE, day + timedelta(days=11), promises)
    assert record.promises == 2
    assert record.pause_reason is None
    notes = [n.text for o in outs for n in o.notes]
    assert "promise 3 noted; at most 2 pause (D6)" in notes
    assert sum(1 for n in notes if n.startswith("paused on promise_made")) == 2


def test_an_overpayment_pays_the_invoice_and_keeps_the_rest_as_credit():
    compiled = compile_source(ladder(14), "grenzen.mahn")
    pay = Event(EventKind.PAYMENT_FULL, FIRST + timedelta(days=2), Decimal("520.00"), ref="P7")
    record, outs = run_days(compiled, ISSUE, FIRST + timedelta(days=2), (pay,))
    assert record.state == "paid"
    charges = [(c.kind, c.amount, c.note) for o in outs for c in o.charges if c.kind != "principal"]
    assert charges[-2:] == [
        ("payment", Decimal("-520.00"), "Zahlung P7"),
        ("credit", Decimal("20.00"), "Überzahlung: Guthaben des Kunden"),
    ]


def test_a_part_payment_restarts_limitation_and_the_cent_below_the_balance_keeps_dunning():
    """C4: a part payment acknowledges the claim (§ 212 BGB); 499.99 of 500.00 leaves the
    invoice open, its ladder going on."""
    compiled = compile_source(ladder(14), "grenzen.mahn")
    paid_on = FIRST + timedelta(days=2)
    part = Event(EventKind.PAYMENT_PARTIAL, paid_on, Decimal("499.99"))
    record, outs = run_days(compiled, ISSUE, FIRST + timedelta(days=14), (part,))
    assert record.limitation_restart_on == paid_on
    assert record.principal_open == Decimal("0.01") and record.state == "mahnung_1"
    assert not [c for o in outs for c in o.charges if c.kind == "credit"]


def test_money_for_a_closed_invoice_becomes_the_customers_credit():
    """A payment after the write-off is never dropped: booked and credited, with notes a
    bookkeeper reads; other events for a closed invoice are noted as ignored."""
    compiled = compile_source(ladder(14), "grenzen.mahn")
    gone = FIRST + timedelta(days=2)
    record, _ = run_days(compiled, ISSUE, gone, (Event(EventKind.WRITE_OFF, gone),))
    assert record.state == "written_off"
    later = gone + timedelta(days=5)
    out = step(record, INVOICE, CONSUMER, (
        Event(EventKind.PAYMENT_PARTIAL, later, Decimal("50.00"), ref="P9"),
        Event(EventKind.DISPUTE_OPENED, later),
    ), later, compiled)
    assert [(c.kind, c.amount, c.on, c.note) for c in out.charges] == [
        ("payment", Decimal("-50.00"), later, "Zahlung P9 nach Abschluss"),
        ("credit", Decimal("50.00"), later, "Guthaben: Rechnung ist bereits written_off"),
    ]
    assert [(n.on, n.text) for n in out.notes] == [
        (later, "dispute_opened ignored: the invoice is written_off")
    ]
    no_ref = step(record, INVOICE, CONSUMER, (
        Event(EventKind.PAYMENT_PARTIAL, later, Decimal("5.00")),), later, compiled)
    assert no_ref.charges[0].note == "Zahlung nach Abschluss"


def test_a_calendar_day_payment_grace_holds_escalation_to_the_day_after_it():
    """A9 with `payment grace 5 days` (calendar days): due Monday 16 June, the grace runs to
    Saturday 21 June; a level due 1 day after the due date waits until Sunday the 22nd's run
    (rest days hold the letter's delivery, not the level)."""
    source = ladder(14, limits="limits { payment grace 5 days }").replace(
        "at 10d after due", "at 1d after due"
    )
    compiled = compile_source(source, "grenzen.mahn")
    record, _ = run_days(compiled, ISSUE, DUE + timedelta(days=5))
    assert record.state == "open"
    record, _ = run_days(compiled, DUE + timedelta(days=6), DUE + timedelta(days=6),
                         record=record)
    assert record.state == "erinnerung" and record.entered_on == DUE + timedelta(days=6)


def test_letters_some_business_days_apart_count_as_calendar_days_rounded_up():
    """D4 with `letters at least 8 business days apart`: 8 × 7 / 5 = 11.2 → 12 calendar
    days, more than the 7-day minimum; the ladder's 7 days after the first letter wait."""
    source = ladder(7, limits="limits { letters at least 8 business days apart }")
    letters_sent = letters(source, FIRST + timedelta(days=20))
    assert letters_sent == [("zahlungserinnerung", FIRST),
                            ("mahnung_1", FIRST + timedelta(days=12))]


def test_a_policy_letter_gap_longer_than_seven_days_is_kept_to_the_day():
    source = ladder(7, limits="limits { letters at least 9 days apart }")
    assert letters(source, FIRST + timedelta(days=20)) == [
        ("zahlungserinnerung", FIRST), ("mahnung_1", FIRST + timedelta(days=9))
    ]


# ---------------------------------------------------------------------------
# Entering a state: the floors and what the letter starts (issue 20: the step's actions)
# ---------------------------------------------------------------------------


def invoice_of(amount: str, **kw) -> Invoice:
    return Invoice("R1", "K1", ISSUE, DUE, Decimal(amount), **kw)


@pytest.mark.parametrize(("amount", "escalates"), [("4.99", False), ("5.00", True)])
def test_a_balance_a_cent_below_the_minimum_gets_one_reminder_and_no_more(amount, escalates):
    """C7 with `minimum balance 5.00 EUR`: 4.99 EUR gets its reminder, then no Mahnung; 5.00
    EUR is not below the minimum and escalates."""
    compiled = compile_source(ladder(14, limits="limits { minimum balance 5.00 EUR }"),
                              "grenzen.mahn")
    record, outs = run_days(compiled, ISSUE, FIRST + timedelta(days=20),
                            invoice=invoice_of(amount, due_date_agreed=True))
    templates = [m.template for o in outs for m in o.messages]
    if escalates:
        assert templates == ["zahlungserinnerung", "mahnung_1"]
        return
    assert templates == ["zahlungserinnerung"]
    assert record.pause_reason == "below minimum balance"
    notes = [n.text for o in outs for n in o.notes]
    assert "balance 4.99 below the minimum 5.00 EUR: no escalation" in notes


HANDOVER = """
policy "abgabe" version 1 {{
  currency {currency}  timezone "Europe/Berlin"  calendar DE region from customer  language de
  limits {{ no handover below 100.00 {currency} }}
  segment alle use standard
  ladder standard {{
    state mahnung_1 at 10d after due {{ letter "mahnung_1" }}
    state {name} after 14d in mahnung_1 {{ approval by 1; {step} }}
  }}
}}
"""


def _to_the_end(amount: str, step_text: str, currency: str = "EUR", name: str = "inkasso"):
    """Daily runs until the last step asks for approval; then approved and taken."""
    compiled = compile_source(
        HANDOVER.format(currency=currency, name=name, step=step_text), "abgabe.mahn"
    )
    inv = invoice_of(amount, due_date_agreed=True, currency=currency)
    asked = FIRST + timedelta(days=14)
    record, outs = run_days(compiled, ISSUE, asked, invoice=inv)
    if record.pending_approval is None:
        return record, outs
    approved = record.evolve(pending_approval=None, approved_target=name, approved_on=asked)
    out = step(approved, inv, CONSUMER, (), asked, compiled)
    return out.record, [*outs, out]


@pytest.mark.parametrize(("amount", "handed_over"), [("99.99", False), ("100.00", True)])
def test_no_handover_for_a_principal_a_cent_below_the_policys_minimum(amount, handed_over):
    """D10 with `no handover below 100.00 EUR`: 99.99 EUR stays for a person to decide,
    100.00 EUR goes to the agency."""
    record, outs = _to_the_end(amount, 'handover to "Inkasso GmbH"')
    tasks = [t.kind for o in outs for t in o.tasks]
    if handed_over:
        assert record.state == "handed_over" and tasks == ["handover"]
        return
    assert record.state == "mahnung_1" and tasks == []
    assert record.pause_reason == "below minimum for handover (D10)"
    assert "principal 99.99 below 100.00 EUR: no handover or court step (D10); a person " \
        "decides" in [n.text for o in outs for n in o.notes]


def test_the_agency_is_told_the_claim_and_the_most_it_may_add():
    """B2: the handover task names the agency, the claim and the RVG cap on its costs: for
    500.00 EUR (RVG table from 1 June 2025) one fee is 51.50, 0.9 of it 46.35, expenses 20 %
    of that 9.27, together 55.62 EUR."""
    _, outs = _to_the_end("500.00", 'handover to "Inkasso GmbH"')
    (task,) = [t for o in outs for t in o.tasks]
    assert task.detail == (
        "Inkasso GmbH: claim 500.00 EUR; recoverable collection costs at most 55.62 EUR "
        "(RVG 0.9 fee 46.35 + expenses 9.27, B2)"
    )


def test_a_court_order_is_applied_for_in_euro_only():
    """§ 688 ZPO: a payment order for a fixed sum in euros; a claim in another currency is
    left to a person, with the reason."""
    record, outs = _to_the_end("500.00", "court order; wait", name="gericht")
    assert [(t.kind, t.detail) for o in outs for t in o.tasks] == [
        ("court_order", "500.00 EUR (§ 688 ZPO)")
    ]
    record, outs = _to_the_end("500.00", "court order; wait", currency="CHF", name="gericht")
    assert not [t for o in outs for t in o.tasks]
    assert "a court payment order only for a fixed sum in euros (§ 688 ZPO); this claim is " \
        "in CHF: a person decides" in [n.text for o in outs for n in o.notes]


def test_a_letter_puts_the_debtor_in_default_the_day_after_it_arrives():
    """§ 286 Abs. 1 BGB: without an agreed date, a reminder letter sent on the 26th arrives
    three days later (the 29th); default runs from the 30th.  An e-mail arrives the day it is
    sent."""
    plain = Invoice("R1", "K1", ISSUE, DUE, Decimal("500.00"))  # no agreed date, no notice
    compiled = compile_source(ladder(14), "grenzen.mahn")
    record, _ = run_days(compiled, ISSUE, FIRST, invoice=plain)
    assert record.first_reminder_on == FIRST + timedelta(days=3)
    assert record.default_since == FIRST + timedelta(days=4)
    assert record.written_reminders == 1 and record.last_letter_on == FIRST
    by_email = compile_source(ladder(14).replace('letter "zahlungserinnerung"',
                                                 'email "zahlungserinnerung"'), "grenzen.mahn")
    record, _ = run_days(by_email, ISSUE, FIRST, invoice=plain)
    assert record.first_reminder_on == FIRST and record.default_since == FIRST + timedelta(days=1)
    assert record.last_letter_on is None


def test_a_note_on_the_due_date_is_no_reminder():
    """A message sent on the due date itself does not count as a reminder after it."""
    source = ladder(14).replace("at 10d after due", "at 0d after due")
    plain = Invoice("R1", "K1", ISSUE, DUE, Decimal("500.00"))
    record, _ = run_days(compile_source(source, "grenzen.mahn"), ISSUE, DUE, invoice=plain)
    assert record.state == "erinnerung"
    assert record.written_reminders == 0 and record.default_since is None


# ---------------------------------------------------------------------------
# When rules take effect (issue 20: survivors of the timing run)
# ---------------------------------------------------------------------------


def custom(states: str, limits: str = "", events: str = "on dispute_opened pause") -> str:
    return f"""
policy "zeit" version 1 {{
  currency EUR  timezone "Europe/Berlin"  calendar DE region from customer  language de
  {limits}
  segment alle use standard
  ladder standard {{
{states}
  }}
  {events}
}}
"""


def transitions(outs) -> list[tuple[str, date]]:
    return [(t.target, t.on) for o in outs for t in o.transitions]


def test_a_level_timed_from_the_issue_date_or_in_business_days_fires_on_its_day():
    """`at 30d after issue`: 2 July 2025; `at 3 business days after due`: due Monday 16 June,
    Thursday 19 June (the A9 grace of 3 TARGET2 days ends the 19th: the 20th)."""
    src = custom('    state hinweis at 30d after issue { email "zahlungserinnerung"; wait }')
    _, outs = run_days(compile_source(src, "zeit.mahn"), ISSUE, ISSUE + timedelta(days=40))
    assert transitions(outs) == [("hinweis", ISSUE + timedelta(days=30))]
    src = custom('    state hinweis at 5 business days after due { email "zahlungserinnerung"; '
                 "wait }")
    _, outs = run_days(compile_source(src, "zeit.mahn"), ISSUE, DUE + timedelta(days=10))
    assert transitions(outs) == [("hinweis", date(2025, 6, 23))]  # Mon 16 + 5 = Mon 23


def test_a_silent_level_held_by_a_dispute_takes_effect_on_the_day_it_is_resolved():
    """C1: a level that sends nothing (a task for the team) due during a dispute is dated the
    day the dispute is resolved, not back-dated to when it fell due."""
    src = custom('    state erinnerung at 10d after due { letter "zahlungserinnerung" }\n'
                 '    state pruefung after 14d in erinnerung { notify "team"; wait }',
                 events="on dispute_opened pause\n  on dispute_resolved resume")
    compiled = compile_source(src, "zeit.mahn")
    opened, resolved = FIRST + timedelta(days=5), FIRST + timedelta(days=30)
    _, outs = run_days(compiled, ISSUE, resolved, (
        Event(EventKind.DISPUTE_OPENED, opened), Event(EventKind.DISPUTE_RESOLVED, resolved)))
    assert transitions(outs) == [("erinnerung", FIRST), ("pruefung", resolved)]


def test_after_an_outage_a_silent_level_follows_in_the_same_run_a_speaking_one_waits():
    """Catch-up moves at most one level that speaks per run; a silent level after it is no
    message and goes the same day.  The next speaking level is looked at the next day."""
    src = custom('    state erinnerung at 10d after due { letter "zahlungserinnerung" }\n'
                 '    state pruefung after 0d in erinnerung { notify "team" }\n'
                 '    state mahnung_1 after 7d in pruefung { letter "mahnung_1"; wait }')
    compiled = compile_source(src, "zeit.mahn")
    record = step(None, INVOICE, CONSUMER, (), ISSUE, compiled).record
    back = DUE + timedelta(days=60)
    out = step(record, INVOICE, CONSUMER, (), back, compiled)
    assert transitions([out]) == [("erinnerung", back), ("pruefung", back)]
    assert out.record.next_check_on == back + timedelta(days=7)
    src2 = src.replace('after 7d in pruefung { letter "mahnung_1"',
                       'after 0d in pruefung { email "mahnung_1"')  # no letter gap
    compiled2 = compile_source(src2, "zeit.mahn")
    out = step(step(None, INVOICE, CONSUMER, (), ISSUE, compiled2).record, INVOICE, CONSUMER,
               (), back, compiled2)
    assert transitions([out]) == [("erinnerung", back), ("pruefung", back)]
    assert out.record.next_check_on == back + timedelta(days=1)  # the Mahnung: next run


@pytest.mark.parametrize(("run_on", "sent"), [(DUE, True), (DUE + timedelta(days=1), False)])
def test_a_note_for_the_due_date_goes_on_the_due_date_and_never_after_it(run_on, sent):
    """A note timed on the due date itself is still meant on that day; caught up a day later
    it lost its purpose and is passed silently."""
    src = custom('    state hinweis at 0d after due { email "zahlungserinnerung" }\n'
                 '    state erinnerung at 10d after due { letter "zahlungserinnerung"; wait }')
    compiled = compile_source(src, "zeit.mahn")
    record = step(None, INVOICE, CONSUMER, (), ISSUE, compiled).record
    out = step(record, INVOICE, CONSUMER, (), run_on, compiled)
    assert [m.on for m in out.messages] == ([run_on] if sent else [])
    assert out.record.state == "hinweis"


def test_the_letter_gap_holds_letters_only_not_e_mails_or_a_write_off():
    """D4 is about letters: an e-mail level 3 days after a letter goes on its day, and so does
    a write-off; an e-mail to a customer who opted out of e-mail becomes a letter and waits
    the seven days."""
    src = custom('    state erinnerung at 10d after due { letter "zahlungserinnerung" }\n'
                 '    state mahnung_1 after 3d in erinnerung { email "mahnung_1" }\n'
                 '    after 3d in mahnung_1 -> written_off')
    compiled = compile_source(src, "zeit.mahn")
    _, outs = run_days(compiled, ISSUE, FIRST + timedelta(days=10))
    assert transitions(outs) == [("erinnerung", FIRST), ("mahnung_1", FIRST + timedelta(days=3)),
                                 ("written_off", FIRST + timedelta(days=6))]
    no_email = Customer(id="K1", type="B2C", region="BE", opted_out=frozenset({"email"}))
    record, day, outs = None, ISSUE, []
    while day <= FIRST + timedelta(days=10):
        out = step(record, INVOICE, no_email, (), day, compiled)
        outs.append(out)
        record, day = out.record, day + timedelta(days=1)
    assert transitions(outs)[:2] == [
        ("erinnerung", FIRST), ("mahnung_1", FIRST + timedelta(days=7))
    ]


def test_a_guard_on_the_balance_is_asked_again_tomorrow_one_on_the_customer_waits_for_events():
    """A rule whose guard reads facts that change by themselves (the balance) is looked at
    again the next day; one whose guard reads only fixed facts (the customer type) waits for
    an event; of two rules due together the one whose guard holds is taken."""
    base = '    state erinnerung at 10d after due { letter "zahlungserinnerung" }\n'
    by_balance = custom(base + '    state mahnung_1 after 14d in erinnerung when balance > '
                        '600 EUR { letter "mahnung_1"; wait }')
    record, _ = run_days(compile_source(by_balance, "zeit.mahn"), ISSUE, FIRST + timedelta(days=20))
    assert record.state == "erinnerung"
    assert record.next_check_on == FIRST + timedelta(days=21)
    by_type = custom(base + '    state mahnung_1 after 14d in erinnerung when customer.type == '
                     'B2B { letter "mahnung_1"; wait }')
    record, _ = run_days(compile_source(by_type, "zeit.mahn"), ISSUE, FIRST + timedelta(days=20))
    assert record.state == "erinnerung" and record.next_check_on is None
    both = custom(base + '    state firma after 14d in erinnerung when customer.type == B2B '
                  '{ letter "mahnung_1"; wait }\n'
                  '    state privat after 14d in erinnerung when customer.type == B2C '
                  '{ letter "mahnung_1"; wait }')
    record, _ = run_days(compile_source(both, "zeit.mahn"), ISSUE, FIRST + timedelta(days=14))
    assert record.state == "privat" and record.entered_on == FIRST + timedelta(days=14)


def test_a_callback_request_is_a_task_for_the_operators_with_the_customers_words():
    """An event that asks a person to act becomes a task on its day, from the engine, with
    the note the operator typed (else the event's own explanation); the ladder goes on."""
    compiled = compile_source(ladder(14), "grenzen.mahn")
    asked = FIRST + timedelta(days=2)
    _, outs = run_days(compiled, ISSUE, asked, (
        Event(EventKind.CALLBACK_REQUESTED, asked, note="ab 17 Uhr"),))
    assert [(t.kind, t.on, t.rule, t.detail) for o in outs for t in o.tasks] == [
        ("callback", asked, "engine", "ab 17 Uhr")
    ]
    _, outs = run_days(compiled, ISSUE, asked, (Event(EventKind.CALLBACK_REQUESTED, asked),))
    assert [t.detail for o in outs for t in o.tasks] == [
        "The customer asks to be called back (a task for the operators; --note says when)."
    ]


def test_an_event_edge_moves_the_invoice_on_the_events_day_by_its_own_line():
    """`state brief on delivery_failed from erinnerung`: a failed e-mail moves the invoice to
    the letter on the day of the failure, recorded with the policy line that decided it; the
    same event in another state does nothing."""
    src = custom('    state erinnerung at 10d after due { email "zahlungserinnerung" }\n'
                 '    state brief on delivery_failed from erinnerung when balance > 100 EUR '
                 '{ letter "zahlungserinnerung"; wait }\n'
                 '    state mahnung_1 after 14d in erinnerung { letter "mahnung_1"; wait }')
    compiled = compile_source(src, "zeit.mahn")
    failed = FIRST + timedelta(days=2)
    _, outs = run_days(compiled, ISSUE, failed, (Event(EventKind.DELIVERY_FAILED, failed),))
    moves = [(t.target, t.on, t.rule, t.reason) for o in outs for t in o.transitions]
    assert moves[-1] == ("brief", failed, "zeit.mahn:8", "on delivery_failed")
    small = Invoice("R1", "K1", ISSUE, DUE, Decimal("100.00"), due_date_agreed=True)
    record, _ = run_days(compiled, ISSUE, failed, (Event(EventKind.DELIVERY_FAILED, failed),),
                         invoice=small)
    assert record.state == "erinnerung"  # the guard (balance > 100 EUR) does not hold
