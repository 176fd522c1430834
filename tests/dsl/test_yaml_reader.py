"""The YAML form: read into the same IR as the text form, every mistake pointed at.

Positions are 1-based `line:col` of the user's own file; a condition's type
error points at the operand inside the YAML string, through quotes, escapes
and values folded over several lines, just as it does in the text form.

This file: the schema read right and conditions located; the mistakes are in
`test_yaml_mistakes.py`.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from textwrap import dedent

import pytest
from yaml_cases import HEAD, LADDER, checked, ok, only, policy_with_state

from mahnwerk.dsl import ir
from mahnwerk.dsl.errors import Collector
from mahnwerk.dsl.expr import Duration, Money
from mahnwerk.dsl.text_reader import read_text

# ---------------------------------------------------------------------------
# The schema, read right
# ---------------------------------------------------------------------------

FULL_YAML = """\
policy: de-b2c-standard        # name
version: 3
currency: EUR
timezone: Europe/Berlin
calendar: { country: DE, region: from customer }
language: de
limits:
  minimum_balance: 5.00 EUR
  contacts: at most 3 per 7 days
  letter_gap: 10 days
  quiet_hours: { sms: "20:00-08:00", call: 20:00-08:00 }
  fee_cap: 2.50 EUR
  fee_share: 30%
  minimum_handover: 50 EUR
segments:
  - name: vulnerable
    when: customer.vulnerable
    ladder: gentle
    tone: friendly
    language: en
  - { name: default, ladder: standard }
ladders:
  standard:
    vorab:
      after: 3d before due
      send: { channel: email, template: vorab }
      offer: { kind: skonto, percent: 2%, within: 10d, when: "balance > 100 EUR" }
    erinnerung:
      title: Zahlungserinnerung
      after: 10 business days after issue
      from: [vorab, open]
      when: not invoice.disputed
      send:
        - { channel: email, template: zahlungserinnerung }
        - { channel: sms, template: kurz }
    brief_erinnerung:
      on: delivery_failed
      send: { channel: letter, template: zahlungserinnerung }
    letzte_mahnung:
      after: 14d in erinnerung
      notify: [sales, legal]
      wait: true
      handover: inkasso-partner
      approval: { approvers: 2, when: balance > 1000 EUR, otherwise: 1 }
      interest: 9 points above base
      offer: { kind: payment_plan, instalments: 6 }
      lump_sum: true
      fee: 1.50 EUR
      stop_credit: true
      report: schufa
      court_order: true
    abschreibung:
      after: 30d in letzte_mahnung
      interest: statutory
      approval: 2
      write_off: true
    transitions:
      - { on: delivery_failed, in: erinnerung, to: brief_erinnerung, when: "balance > 5 EUR",
          priority: 1 }
      - { after: 30d, in: letzte_mahnung, to: abschreibung }
  gentle:
    erinnerung:
      after: 14d after due
      send: { channel: letter, template: sanft }
on:
  dispute_opened: pause
  dispute_resolved: resume
  promise_made: pause until promised_date + 3 business days
  insolvency: stop -> insolvent
  hold: pause
  release: resume
  write_off: stop -> written_off
  delivery_failed: goto brief_erinnerung
  payment_partial: ignore
"""

FULL_TEXT = """\
policy "de-b2c-standard" version 3 {
  currency EUR  timezone "Europe/Berlin"  calendar DE region from customer  language de
  limits {
    minimum balance 5.00 EUR
    at most 3 contacts per 7 days
    letters at least 10 days apart
    no sms between 20:00 and 08:00
    no call between 20:00 and 08:00
    fees at most 2.50 EUR
    fees at most 30% of principal
    no handover below 50 EUR
  }
  segment vulnerable when customer.vulnerable use gentle tone friendly language en
  segment default use standard
  ladder standard {
    state vorab at 3d before due {
      email "vorab"; offer skonto 2% within 10d when balance > 100 EUR
    }
    state erinnerung "Zahlungserinnerung" at 10 business days after issue from vorab, open
        when not invoice.disputed {
      email "zahlungserinnerung"; sms "kurz"
    }
    state brief_erinnerung on delivery_failed { letter "zahlungserinnerung" }
    state letzte_mahnung after 14d in erinnerung {
      fee 1.50 EUR; lump sum; interest 9 points above base; offer payment plan of 6 instalments
      approval by 2 when balance > 1000 EUR else 1; notify "sales"; notify "legal"
      stop credit; report to "schufa"; court order; handover to "inkasso-partner"; wait
    }
    state abschreibung after 30d in letzte_mahnung {
      interest statutory; approval by 2; write off
    }
    on delivery_failed in erinnerung -> brief_erinnerung when balance > 5 EUR priority 1
    after 30d in letzte_mahnung -> abschreibung
  }
  ladder gentle {
    state erinnerung at 14d after due { letter "sanft" }
  }
  on dispute_opened pause
  on dispute_resolved resume
  on promise_made pause until promised_date + 3 business days
  on insolvency stop -> insolvent
  on hold pause
  on release resume
  on write_off stop -> written_off
  on delivery_failed goto brief_erinnerung
  on payment_partial ignore
}
"""


def test_the_yaml_schema_reads_to_the_same_policy_as_the_text_form():
    c = Collector("p.mahn")
    from_text = read_text(FULL_TEXT, "p.mahn", c)
    assert not c.items, [d.message for d in c.items]
    assert ok(FULL_YAML) == from_text


def test_the_settings_and_limits_mean_what_they_say():
    p = ok(FULL_YAML)
    assert (p.name, p.version, p.currency, p.timezone, p.language) == (
        "de-b2c-standard",
        3,
        "EUR",
        "Europe/Berlin",
        "de",
    )
    assert p.calendar == ir.Calendar("DE", region_from_customer=True)
    lim = p.limits
    assert lim.minimum_balance == Money(Decimal("5.00"))
    assert (lim.max_contacts, lim.contact_window) == (3, Duration(7))
    assert lim.letter_gap == Duration(10)
    assert lim.quiet_hours == (
        ir.QuietHours(ir.Channel.SMS, time(20), time(8)),
        ir.QuietHours(ir.Channel.CALL, time(20), time(8)),
    )
    assert lim.fee_share == Decimal(30)


def test_before_due_is_a_negative_offset_and_business_days_stay_business_days():
    standard = ok(FULL_YAML).ladder("standard")
    vorab, erinnerung = standard.states[0], standard.states[1]
    assert vorab.trigger == ir.TimeTrigger(Duration(-3), ir.Anchor.DUE)
    assert erinnerung.trigger == ir.TimeTrigger(Duration(10, business=True), ir.Anchor.ISSUE)
    assert erinnerung.sources == ("vorab", "open")


def test_the_actions_are_kept_in_the_canonical_order_whatever_the_key_order():
    state = ok(FULL_YAML).ladder("standard").states[3]
    assert [type(a) for a in state.actions] == [
        ir.Offer,
        ir.Fee,
        ir.LumpSum,
        ir.Interest,
        ir.Approval,
        ir.Notify,
        ir.Notify,
        ir.StopCredit,
        ir.CreditReport,
        ir.CourtOrder,
        ir.Handover,
    ]
    assert state.actions == ir.canonical_actions(state.actions)
    assert state.manual


def test_a_bare_approval_count_needs_that_many_approvers_always():
    state = ok(FULL_YAML).ladder("standard").states[4]
    assert ir.Approval(2, None, 2) in state.actions


def test_an_approval_with_when_and_no_otherwise_needs_nobody_otherwise():
    p = ok(
        policy_with_state("after: 7d after due\napproval: { approvers: 2, when: balance > 5 EUR }")
    )
    (approval,) = p.ladders[0].states[0].actions
    assert (approval.approvers, approval.otherwise) == (2, 0)


def test_a_percentage_may_be_written_with_or_without_the_percent_sign():
    with_sign = policy_with_state("after: 7d after due\noffer: { kind: skonto, percent: 2.5% }")
    without = with_sign.replace("2.5%", "2.5")
    assert ok(with_sign) == ok(without)
    assert ok(without).ladders[0].states[0].actions[0].percent == Decimal("2.5")


def test_transitions_hold_extra_edges_and_a_state_may_still_be_called_transitions():
    source = HEAD + dedent(
        """\
        ladders:
          standard:
            transitions:
              after: 7d after due
              wait: true
            transitions:
              - { after: 3d, in: transitions, to: paid }
        """
    )
    ladder = ok(source).ladders[0]
    assert [s.name for s in ladder.states] == ["transitions"]
    (t,) = ladder.transitions
    assert t.trigger == ir.TimeTrigger(Duration(3), ir.Anchor.STATE, "transitions")


def test_quiet_hours_may_repeat_a_channel_in_a_list():
    source = HEAD + dedent(
        """\
        limits:
          quiet_hours:
            - { sms: ["20:00-08:00", "12:00 - 13:00"] }
            - { call: "21:00-07:30" }
            - { sms: "14:00-15:00" }
        """
    )
    assert [(q.channel.value, q.start, q.end) for q in ok(source).limits.quiet_hours] == [
        ("sms", time(20), time(8)),
        ("sms", time(12), time(13)),
        ("call", time(21), time(7, 30)),
        ("sms", time(14), time(15)),
    ]


def test_every_ir_node_knows_its_line_and_column():
    p = ok(FULL_YAML)
    standard = p.ladder("standard")
    letzte = standard.states[3]
    assert (p.span.line, p.span.col) == (1, 1)
    assert (p.calendar.span.line, p.calendar.span.col) == (5, 1)
    assert (p.limits.span.line, p.limits.span.col) == (7, 1)
    assert (p.limits.quiet_hours[1].span.line, p.limits.quiet_hours[1].span.col) == (11, 38)
    assert (p.segments[1].span.line, p.segments[1].span.col) == (21, 5)
    assert (standard.span.line, standard.span.col) == (23, 3)
    assert (letzte.span.line, letzte.span.col) == (39, 5)
    assert (letzte.trigger.span.line, letzte.trigger.span.col) == (40, 7)
    notify = [a for a in letzte.actions if isinstance(a, ir.Notify)]
    assert [(a.span.line, a.span.col) for a in notify] == [(41, 16), (41, 23)]
    fee = next(a for a in letzte.actions if isinstance(a, ir.Fee))
    assert (fee.span.line, fee.span.col, fee.span.end_col) == (48, 7, 20)
    sends = standard.states[1].actions
    assert [(a.span.line, a.span.col) for a in sends] == [(34, 11), (35, 11)]
    t0, t1 = standard.transitions
    assert (t0.span.line, t0.span.col, t1.span.line) == (58, 9, 60)
    assert (t1.trigger.span.line, t1.trigger.span.col) == (60, 11)
    promise = p.handlers[2]
    assert (promise.span.line, promise.span.col) == (68, 3)
    assert promise.until is not None
    assert (promise.until.span.line, promise.until.span.col) == (68, 29)


# ---------------------------------------------------------------------------
# Conditions: located inside the YAML string
# ---------------------------------------------------------------------------


def test_a_type_error_in_a_plain_condition_points_at_the_operand():
    source = policy_with_state(
        """\
        after: 7d after due
        when: balance > 5 EUR and invoice.due_date > 100 EUR
        send: { channel: email, template: x }
        wait: true
        """
    )
    assert checked(source) == [(14, 33, "E030", "cannot compare a date with an amount of money")]


def test_a_condition_in_double_quotes_is_located_past_the_quote_and_escapes():
    source = policy_with_state(
        r"""
        after: 7d after due
        when: "customer.type == \"B2C\" and customer.riskscore > 5"
        wait: true
        """
    )
    assert checked(source) == [(14, 43, "E031", "unknown fact 'customer.riskscore'")]


def test_a_condition_in_single_quotes_with_a_doubled_quote_is_located_exactly():
    source = policy_with_state(
        """\
        after: 7d after due
        when: 'customer.name == "O''Neil" or amount > today'
        wait: true
        """
    )
    assert checked(source) == [(14, 44, "E030", "cannot compare an amount of money with a date")]


def test_a_condition_folded_over_several_lines_is_located_on_its_own_line():
    source = policy_with_state(
        """\
        after: 7d after due
        when: principal >= 50 EUR and principal < 10000 EUR
          and not disputed and not invoice.time_barrd
        wait: true
        """
    )
    assert checked(source) == [(15, 34, "E031", "unknown fact 'invoice.time_barrd'")]


@pytest.mark.parametrize("indicator", ["|", ">-", "|  # a comment: with b"])
def test_a_condition_in_a_block_scalar_is_located_in_the_block(indicator: str):
    source = policy_with_state(
        f"""\
        after: 7d after due
        when: {indicator}
          balance > 5 EUR and
            balanse < 9 EUR
        wait: true
        """
    )
    assert checked(source) == [(16, 11, "E031", "unknown fact 'balanse'")]


def test_a_syntax_error_in_a_condition_is_located_in_the_yaml_file():
    source = policy_with_state(
        """\
        after: 7d after due
        when: balance > > 5 EUR and disputed
        wait: true
        """
    )
    line, col, code, message = only(source)
    assert (line, col, code) == (14, 23, "E001")
    assert message.startswith("unexpected '>': expected")


def test_a_condition_that_ends_too_early_is_located_after_its_last_word():
    source = policy_with_state("after: 7d after due\nwhen: 'balance >'\nwait: true")
    line, col, code, message = only(source)
    assert (line, code) == (14, "E001") and "ends too early" in message
    assert col == 22  # `>`, the last thing written


def test_a_pause_until_condition_is_located_after_the_words_before_it():
    source = HEAD + LADDER + "on:\n  promise_made: pause until promised_date + 3 EUR\n"
    assert checked(source) == [(20, 29, "E030", "cannot compute a date + an amount of money")]


def test_an_impossible_date_in_a_condition_points_at_the_date():
    source = policy_with_state("after: 7d after due\nwhen: today > 2025-02-30\nwait: true")
    line, col, _code, message = only(source)
    assert (line, col) == (14, 21)
    assert message.startswith("not a valid date: 2025-02-30")
