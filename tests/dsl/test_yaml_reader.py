"""The YAML form: read into the same IR as the text form, every mistake pointed at.

Positions are 1-based `line:col` of the user's own file; a condition's type
error points at the operand inside the YAML string, through quotes, escapes
and values folded over several lines, just as it does in the text form.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from textwrap import dedent

import pytest

from mahnwerk.dsl import ir
from mahnwerk.dsl.compile import compile_source
from mahnwerk.dsl.errors import Collector, PolicyError
from mahnwerk.dsl.expr import Binary, Duration, Lit, Money, Ref, Type
from mahnwerk.dsl.text_reader import read_text
from mahnwerk.dsl.yaml_reader import read_yaml

PATH = "policy.yaml"

HEAD = """\
policy: test
version: 1
currency: EUR
timezone: Europe/Berlin
calendar: { country: DE }
language: de
segments:
  - name: default
    ladder: standard
"""
# HEAD is lines 1-9; `ladders:` below starts at line 10.
LADDER = """\
ladders:
  standard:
    erinnerung:
      after: 7d after due
      send: { channel: email, template: zahlungserinnerung }
    klaerung:
      after: 14d in erinnerung
      notify: forderungsmanagement
      wait: true
"""
EVENTS = """\
on:
  dispute_opened: pause
  insolvency: stop -> insolvent
"""


def read(source: str) -> tuple[ir.Policy | None, Collector]:
    c = Collector(PATH, source)
    return read_yaml(source, PATH, c), c


def ok(source: str) -> ir.Policy:
    policy, c = read(source)
    assert not c.items, "\n".join(d.render(source) for d in c.items)
    assert policy is not None
    return policy


def problems(source: str) -> list[tuple[int, int, str, str]]:
    """(line, col, code, message) of every error the reader reports."""
    policy, c = read(source)
    assert c.errors, "expected errors"
    assert policy is None
    return [(d.span.line, d.span.col, d.code, d.message) for d in c.errors]


def only(source: str) -> tuple[int, int, str, str]:
    found = problems(source)
    assert len(found) == 1, found
    return found[0]


def hint(source: str) -> str | None:
    _, c = read(source)
    assert len(c.errors) == 1, [d.message for d in c.errors]
    return c.errors[0].hint


def checked(source: str) -> list[tuple[int, int, str, str]]:
    """Errors of the whole check (reader and compiler), as the CLI shows them."""
    with pytest.raises(PolicyError) as info:
        compile_source(source, PATH)
    return [(d.span.line, d.span.col, d.code, d.message) for d in info.value.diagnostics]


def policy_with_state(body: str) -> str:
    """HEAD, a ladder whose first state `s` has `body` (indented 6), then EVENTS.

    `s:` is on line 12, so the first line of `body` is line 13.
    """
    lines = "".join(f"      {line}\n" for line in dedent(body).strip("\n").splitlines())
    return HEAD + "ladders:\n  standard:\n    s:\n" + lines + EVENTS


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


# ---------------------------------------------------------------------------
# YAML syntax errors: one error, at PyYAML's mark, in plain words
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "where", "words"),
    [
        ("policy: x\n\tversion: 1\n", (2, 1), "a tab character"),
        (
            "policy: x\nversion 1\ncurrency: EUR\n",
            (3, 1),
            "without its ':' (the key began at line 2)",
        ),
        ("policy: x\n  version: 1\n", (2, 10), "a ':' where no `key: value`"),
        ("policy: x\nlimits:\n  fee_cap: 1 EUR\n letter_gap: 7d\n", (4, 2), "does not line up"),
        ("policy: 'x\nversion: 1\n", (3, 1), "the file ends inside a quoted text"),
        (
            "calendar: { country: DE\nversion: 1\n",
            (2, 8),
            "not closed where it should be (the `{` is at line 1)",
        ),
        ("policy: x\n---\npolicy: y\n", (2, 1), "more than one YAML document"),
        ("policy: *x\n", (1, 9), "a '*' names no anchor"),
        ("policy: x\nversion: 1\x07\n", (2, 11), "control character U+0007"),
    ],
)
def test_a_yaml_syntax_error_is_one_error_at_the_problem(source, where, words):
    line, col, code, message = only(source)
    assert (line, col, code) == (*where, "E001")
    assert words in message


def test_a_comment_in_the_middle_of_a_value_is_explained():
    source = policy_with_state(
        """\
        after: 7d after due
        when: balance > 5 EUR    # big ones only
          and not disputed
        wait: true
        """
    )
    line, col, _, message = only(source)
    assert (line, col) == (15, 9)
    assert "a comment ends it" in message


def test_an_unclosed_quote_says_where_it_began():
    assert "at line 1" in only("policy: 'x\nversion: 1\n")[3]


# ---------------------------------------------------------------------------
# YAML 1.1 traps: the composed tree keeps what was written
# ---------------------------------------------------------------------------


def test_the_key_on_is_the_event_rules_not_the_boolean_true():
    p = ok(HEAD + LADDER + EVENTS)
    assert [h.event for h in p.handlers] == [ir.EventKind.DISPUTE_OPENED, ir.EventKind.INSOLVENCY]


def test_no_yes_and_off_are_names_where_names_are_expected():
    source = dedent(
        """\
        policy: yes
        version: 1
        currency: EUR
        timezone: Europe/Berlin
        calendar: { country: NO, region: off }
        language: no
        segments:
          - { name: on, ladder: no, language: NO }
        ladders:
          no:
            no:
              after: 7d after due
              wait: yes
            off:
              on: hold
              wait: on
        """
    )
    p = ok(source)
    assert (p.name, p.language) == ("yes", "no")
    assert p.calendar == ir.Calendar("NO", region="off")
    assert (p.segments[0].name, p.segments[0].ladder, p.segments[0].language) == ("on", "no", "NO")
    assert [s.name for s in p.ladders[0].states] == ["no", "off"]
    assert all(s.manual for s in p.ladders[0].states)


def test_a_time_of_day_unquoted_is_not_a_number_of_minutes():
    # YAML 1.1 reads 20:00 as the sexagesimal number 1200
    p = ok(HEAD + "limits:\n  quiet_hours: { sms: 20:00-08:00, call: 9:30 - 12:00 }\n")
    assert [(q.start, q.end) for q in p.limits.quiet_hours] == [
        (time(20), time(8)),
        (time(9, 30), time(12)),
    ]


def test_numbers_stay_as_written():
    p = ok(HEAD.replace("version: 1", "version: 010") + "limits:\n  fee_share: 08\n")
    assert p.version == 10  # not YAML 1.1's octal 8
    assert p.limits.fee_share == Decimal(8)


def test_false_switches_leave_the_action_out():
    p = ok(policy_with_state("after: 7d after due\nlump_sum: false\nwrite_off: no\nwait: off"))
    state = p.ladders[0].states[0]
    assert state.actions == () and not state.manual


# ---------------------------------------------------------------------------
# Wrong keys and wrong shapes: an error at the node, naming the key and the fix
# ---------------------------------------------------------------------------


def test_an_unknown_key_suggests_the_nearest_known_one():
    source = HEAD.replace("currency:", "curency:")
    found = problems(source)
    assert (2 + 1, 1, "E001", "unknown key 'curency' in the policy") in found
    assert (1, 1, "E012", "the policy does not say its currency") in found


@pytest.mark.parametrize(
    ("body", "key", "suggestion"),
    [
        ("after: 7d after due\nnotfiy: sales", "notfiy", "did you mean 'notify'?"),
        ("after: 7d after due\nemail: x", "email", "send: { channel: email"),
        ("after: 7d after due\nat: 3d before due", "at", "after: 3d before due"),
        ("after: 7d after due\nguard: balance > 5 EUR", "guard", "`when:`"),
    ],
)
def test_an_unknown_state_key_says_what_to_write(body, key, suggestion):
    line, col, code, message = only(policy_with_state(body))
    assert (line, col, code, message) == (14, 7, "E001", f"unknown key {key!r} in state 's'")
    assert suggestion in (hint(policy_with_state(body)) or "")


def test_unknown_keys_inside_a_send_and_an_offer():
    source = policy_with_state(
        """\
        after: 7d after due
        send: { chanel: email, template: x }
        offer: { kind: skonto, precent: 2% }
        """
    )
    assert problems(source) == [
        (14, 15, "E001", "unknown key 'chanel' in `send`"),
        (14, 7, "E012", "`send` does not say its channel"),
        (15, 30, "E001", "unknown key 'precent' in `offer`"),
        (15, 7, "E012", "a skonto offer does not say its percentage"),
    ]


@pytest.mark.parametrize(
    ("amount", "words", "fix"),
    [
        ("2,50 EUR", "'2,50 EUR' has a decimal comma", "fee: 2.50 EUR"),
        ("1.000,50 EUR", "has a decimal comma", "fee: 1000.50 EUR"),
        ("2.5", "the amount '2.5' has no currency", "fee: 2.5 EUR"),
        ("2.50", "has no currency", "fee: 2.50 EUR"),
        ("EUR 2.50", "the currency goes after the number", "fee: 2.50 EUR"),
        ("2.50 €", "write the currency as its code EUR, not '€'", "fee: 2.50 EUR"),
        ("€2,50", "has a decimal comma", "fee: 2.50 EUR"),
        ("2.50 eur", "write the currency in capitals", "fee: 2.50 EUR"),
        ("2.50 XYZ", "unknown currency 'XYZ'", "fee: 2.50 EUR"),
        ("-1 EUR", "cannot be negative", "fee: 1 EUR"),
        ("a lot", "not an amount", "fee: 2.50 EUR"),
    ],
)
def test_a_wrong_amount_gets_a_specific_message_and_the_amount_to_write(amount, words, fix):
    source = policy_with_state(f"after: 7d after due\nfee: {amount}")
    line, col, code, message = only(source)
    assert (line, col, code) == (14, 12, "E001")
    assert message.startswith("`fee`: ") and words in message
    assert hint(source) == f"write e.g. `{fix}`"


def test_a_number_in_a_money_limit_needs_its_currency():
    line, col, code, message = only(HEAD + "limits:\n  fee_cap: 2.5\n")
    assert (line, col, code) == (11, 12, "E001")
    assert message == "`fee_cap`: the amount '2.5' has no currency"


@pytest.mark.parametrize(
    ("after", "col", "words"),
    [
        ("7 after due", 14, "the duration 7 needs a unit"),
        ("seven days after due", 14, "not a duration: 'seven days'"),
        ("7d after christmas", 23, "time is counted from `due` or `issue`, not 'christmas'"),
        ("7d in mahnung 1", 14, "`after` must read like"),
        ("7d", 14, "`after` must read like"),
        ("7d in 1st", 20, "'1st' is not a state name"),
    ],
)
def test_a_wrong_time_trigger_is_pointed_at_inside_the_value(after, col, words):
    line, found_col, code, message = only(policy_with_state(f"after: {after}\nwait: true"))
    assert (line, found_col, code) == (13, col, "E001")
    assert words in message


@pytest.mark.parametrize(
    ("body", "where", "words"),
    [
        ("after: 7d after due\nsend: email", (14, 13), "`send` must be a mapping, not 'email'"),
        ("after: 7d after due\nfrom: a, b", (14, 13), "`from` must be a list, not 'a, b'"),
        ("after: 7d after due\nwait: maybe", (14, 13), "`wait` must be true or false"),
        ("after: 7d after due\nlump_sum:", (14, 16), "`lump_sum` must be true or false, not empty"),
        ("after: [7d after due]", (13, 14), "must be a time like 7d after due, not a list"),
        ("after: 7d after due\napproval: two", (14, 17), "`approval` must be a whole number"),
        ("after: 7d after due\napproval: 0", (14, 17), "the number of approvers must be a whole"),
        ("after: 7d after due\ninterest: 5%", (14, 17), "`interest` must be `statutory` or like"),
        ("after: 7d after due\ntitle: [a]", (14, 14), "`title` must be a text, not a list"),
        ("after: 7d after due\nhandover:", (14, 16), "`handover` must be a text, not empty"),
        ("after: 7d after due\nfrom: [mahnung 1]", (14, 14), "`from` must be a name of letters"),
        ("after: 7d after due\noffer: payment_plan", (14, 14), "`offer` must be a mapping"),
        (
            "after: 7d after due\noffer: { kind: plan }",
            (14, 22),
            "unknown kind 'plan'",
        ),
        (
            "after: 7d after due\noffer: { kind: payment_plan, instalments: 1 }",
            (14, 49),
            "the number of instalments must be a whole number ≥ 2, not 1",
        ),
        (
            "after: 7d after due\noffer: { kind: skonto, percent: 2%, instalments: 3 }",
            (14, 43),
            "`instalments` belongs to a payment_plan offer, not to a skonto offer",
        ),
        (
            "after: 7d after due\noffer: { kind: skonto, percent: -2% }",
            (14, 39),
            "`percent` cannot be negative",
        ),
        (
            "after: 7d after due\napproval: { approvers: 2, otherwise: 1 }",
            (14, 33),
            "`otherwise` needs a `when`",
        ),
        (
            "after: 7d after due\nsend: { channel: fax, template: x }",
            (14, 24),
            "unknown channel 'fax'",
        ),
        ("after: 7d after due\non: hold", (14, 7), "state 's' has two triggers"),
        ("title: x", (12, 5), "state 's' does not say when an invoice enters it"),
        ("on: dispute_closed", (13, 11), "unknown event 'dispute_closed'"),
    ],
)
def test_a_wrong_shape_is_reported_at_its_node(body, where, words):
    line, col, _code, message = only(policy_with_state(body))
    assert (line, col) == where, message
    assert words in message


def test_an_unknown_event_is_E010_with_a_hint():
    source = HEAD + LADDER + "on:\n  dispute_open: pause\n"
    assert only(source) == (20, 3, "E010", "unknown event 'dispute_open'")
    assert hint(source) == "did you mean 'dispute_opened'?"


@pytest.mark.parametrize(
    ("rule", "col", "words"),
    [
        ("stop", 11, "must be one of pause"),
        ("stop insolvent", 11, "must be one of pause"),
        ("goto mahnung 1", 11, "must be one of pause"),
        ("goto 1st", 16, "'1st' is not a state name"),
        ("pause until", 11, "must be one of pause"),
        ("wait", 11, "must be one of pause"),
    ],
)
def test_a_wrong_event_rule_says_which_forms_exist(rule, col, words):
    line, found_col, code, message = only(HEAD + LADDER + f"on:\n  hold:   {rule}\n")
    assert (line, found_col, code) == (20, col, "E001")
    assert words in message


def test_stop_without_an_arrow_hints_at_the_terminals():
    source = HEAD + LADDER + "on:\n  insolvency: stop insolvent\n"
    assert "stop -> <terminal>" in (hint(source) or "")


@pytest.mark.parametrize(
    ("text", "where", "code", "words"),
    [
        ("ladders:\n  - standard", (11, 3), "E001", "`ladders` must be a mapping"),
        ("ladders:\n  standard: [a, b]", (11, 13), "E001", "ladder 'standard' must map state"),
        ("ladders:\n  standard:\n    s: 7d after due", (12, 8), "E001", "state 's' must be a"),
        ("ladders:\n  mahnung-1: {}", (11, 3), "E001", "`ladder name` must be a name"),
        ("on: [pause]", (10, 5), "E001", "`on` must be a mapping"),
        ("limits: 5 EUR", (10, 9), "E001", "`limits` must be a mapping"),
        ("limits:\n  contacts: 3", (11, 13), "E001", "`contacts` must be a contact limit"),
        ("limits:\n  contacts: at most 0 per 7 days", (11, 21), "E002", "contacts must be"),
        ("limits:\n  contacts: at most 3 per week", (11, 27), "E001", "not a duration: 'week'"),
        ("limits:\n  letter_gap: 14", (11, 15), "E001", "the duration 14 needs a unit"),
        ("limits:\n  fee_share: thirty", (11, 14), "E001", "`fee_share` must be a percentage"),
        ("limits:\n  fee_share: 2,5%", (11, 14), "E001", "must be written with a decimal point"),
        ("limits:\n  quiet_hours: { fax: 20:00-08:00 }", (11, 18), "E001", "unknown key 'fax'"),
        ("limits:\n  quiet_hours: { sms: 20:00 }", (11, 23), "E001", "`sms` must be a time range"),
        ("limits:\n  quiet_hours: { sms: 25:00-08:00 }", (11, 23), "E002", "not a time of day"),
        ("limits:\n  quiet_hours: { sms: 20:00-08:75 }", (11, 29), "E002", "not a time of day"),
        ("limits:\n  quiet_hours: sms", (11, 16), "E001", "`quiet_hours` must be a mapping"),
        ("limits:\n  fee_cap: 1 EUR\n  fee_cap: 2 EUR", (12, 3), "E011", "`fee_cap` is set twice"),
    ],
)
def test_wrong_shapes_outside_the_ladders(text, where, code, words):
    line, col, found_code, message = only(HEAD + text + "\n")
    assert ((line, col), found_code) == (where, code), message
    assert words in message


@pytest.mark.parametrize(
    ("replace", "by", "where", "code", "words"),
    [
        ("version: 1", "version: one", (2, 10), "E001", "`version` must be a whole number"),
        ("version: 1", "version: 0", (2, 10), "E002", "the version must be a whole number ≥ 1"),
        ("version: 1", "version: 1e999999999", (2, 10), "E001", "`version` must be a whole"),
        ("version: 1", "version: 1.5", (2, 10), "E002", "the version must be a whole number ≥ 1"),
        ("currency: EUR", "currency: [EUR]", (3, 11), "E001", "`currency` must be a name"),
        ("timezone: Europe/Berlin", "timezone:", (4, 10), "E001", "`timezone` must be a text"),
        ("calendar: { country: DE }", "calendar: DE", (5, 11), "E001", "`calendar` must be a"),
        ("calendar: { country: DE }", "calendar: { region: BY }", (5, 1), "E012", "its country"),
        ("{ country: DE }", "{ country: DE, region: from }", (5, 34), "E001", "`region: from`"),
        ("{ country: DE }", "{ country: DE, reigon: BY }", (5, 26), "E001", "unknown key"),
        ("language: de", "language: de\nlanguage: en", (7, 1), "E011", "`language` is set twice"),
    ],
)
def test_wrong_settings(replace, by, where, code, words):
    line, col, found_code, message = only(HEAD.replace(replace, by) + LADDER)
    assert ((line, col), found_code) == (where, code), message
    assert words in message


@pytest.mark.parametrize(
    ("text", "where", "code", "words"),
    [
        ("segments:\n  default: { ladder: x }", (8, 3), "E001", "`segments` must be a list"),
        ("segments:\n  - default", (8, 5), "E001", "a segment must be a mapping"),
        ("segments:\n  - { name: x }", (8, 5), "E012", "this segment does not say its ladder"),
        ("segments:\n  - { name: 1st, ladder: x }", (8, 13), "E001", "`name` must be a name"),
    ],
)
def test_wrong_segments(text, where, code, words):
    settings = HEAD.split("segments:")[0]
    line, col, found_code, message = only(settings + text + "\n")
    assert ((line, col), found_code) == (where, code), message
    assert words in message


def test_a_transition_needs_its_states_and_one_trigger():
    source = HEAD + dedent(
        """\
        ladders:
          standard:
            s: { after: 7d after due, wait: true }
            transitions:
              - { in: s, to: paid }
              - { after: 3d after due, in: s, to: paid }
              - { on: hold, after: 3d, in: s, to: paid }
              - { on: hold, to: paid, priority: -1 }
              - s
        """
    )
    assert problems(source) == [
        (14, 9, "E012", "this transition does not say when it fires"),
        (15, 18, "E001", "`after`: not a duration: '3d after due'"),
        (16, 11, "E001", "a transition has one trigger: `after:` or `on:`"),
        (17, 9, "E012", "this transition does not say `in:` which state"),
        (17, 41, "E002", "the priority must be a whole number ≥ 0, not -1"),
        (18, 9, "E001", "a transition must be a mapping, not 's'"),
    ]


def test_a_text_must_fit_on_one_line():
    source = policy_with_state('after: 7d after due\nhandover: "Inkasso\\nPartner"')
    assert only(source) == (14, 17, "E001", "`handover` must fit on one line")


def test_missing_settings_use_the_text_readers_messages():
    source = "policy: x\nversion: 1\n" + LADDER
    assert problems(source) == [
        (1, 1, "E012", f"the policy does not say its {key}")
        for key in ("currency", "timezone", "calendar", "language")
    ]
    assert problems("currency: EUR\n")[:2] == [
        (1, 1, "E012", "the policy does not say its name"),
        (1, 1, "E012", "the policy does not say its version"),
    ]


def test_an_empty_file_or_a_list_is_no_policy():
    assert only("# nothing but a comment\n") == (1, 1, "E012", "the file holds no policy")
    line, col, code, message = only("- policy: x\n")
    assert (line, col, code) == (1, 1, "E001") and "not a list" in message


def test_every_mistake_of_a_file_is_reported_at_once():
    source = dedent(
        """\
        policy: x
        version: 0
        currency: EUR
        timezone: Europe/Berlin
        calendar: { country: DE }
        language: de
        limits:
          fee_cap: 2,50 EUR
        segments:
          - { name: default, ladder: standard, when: balance >> 5 EUR }
        ladders:
          standard:
            erinnerung:
              after: 7 after due
              send: { channel: fax, template: x }
        on:
          dispute_opend: pause
          insolvency: stop insolvent
        """
    )
    assert [(line, col, code) for line, col, code, _ in problems(source)] == [
        (2, 10, "E002"),
        (8, 12, "E001"),
        (10, 55, "E001"),
        (14, 14, "E001"),
        (15, 24, "E001"),
        (17, 3, "E010"),
        (18, 15, "E001"),
    ]


def test_the_rendered_error_shows_the_yaml_line_and_a_caret_under_the_mistake():
    source = policy_with_state("after: 7d after due\nfee: 2,50 EUR")
    _, c = read(source)
    rendered = c.errors[0].render(source)
    assert rendered.splitlines()[1:3] == ["          fee: 2,50 EUR", "               ^^^^^^^^"]


def test_the_shipped_yaml_policy_reads_without_a_word():
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "policies" / "de_b2b_standard.yaml"
    p = ok(path.read_text(encoding="utf-8"))
    assert p.name == "de-b2b-standard"
    inkasso = next(s for s in p.ladder("standard").states if s.name == "inkasso")
    assert inkasso.guard is not None
    assert Binary(">=", Ref("principal"), Lit(Money(Decimal(50)), Type.MONEY)) in (
        inkasso.guard.left.left.left,  # type: ignore[union-attr]
    )
