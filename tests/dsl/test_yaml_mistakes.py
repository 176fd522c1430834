"""The YAML form's mistakes, each pointed at: syntax errors in plain words, YAML 1.1
traps the composed tree avoids, wrong keys and wrong shapes named with their fix.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from textwrap import dedent

import pytest
from yaml_cases import EVENTS, HEAD, LADDER, hint, ok, only, policy_with_state, problems, read

from mahnwerk.dsl import ir
from mahnwerk.dsl.expr import Binary, Lit, Money, Ref, Type

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
