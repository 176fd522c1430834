"""The policy checker, the graphs it builds, segment selection and the renderers.

One test per check of `dsl/compile.py` (and of the text reader's own checks),
each on a small policy that is fine except for the one thing under test; then
the shape of a small ladder's graph, `select_segment`, the shipped policies and
the three renderers.
"""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from pathlib import Path

import networkx as nx
import pytest

from mahnwerk.dsl import ir
from mahnwerk.dsl.compile import (
    CompiledPolicy,
    compile_policy,
    compile_source,
    load_policy,
    may_hold_consumers,
    state_sources,
)
from mahnwerk.dsl.errors import PolicyError
from mahnwerk.dsl.expr import Duration, Money
from mahnwerk.dsl.render import RENDERERS
from mahnwerk.dsl.segments import select_segment

POLICIES = Path(__file__).resolve().parents[2] / "policies"

HEAD = """policy "t" version 1 {
  currency EUR
  timezone "Europe/Berlin"
  calendar DE region from customer
  language de
"""
EVENTS = """
  on dispute_opened pause
  on insolvency stop -> insolvent
"""
SEGMENTS = "  segment default use standard\n"
LADDER = """
  ladder standard {
    state erinnerung at 7d after due { email "zahlungserinnerung" }
    state mahnung_1 after 14d in erinnerung { letter "mahnung_1"; fee 1.00 EUR }
    state inkasso after 14d in mahnung_1 { approval by 1; handover to "Inkasso GmbH" }
  }
"""


def policy(
    ladders: str = LADDER,
    segments: str = SEGMENTS,
    events: str = EVENTS,
    limits: str = "",
    head: str = HEAD,
) -> str:
    """A whole text policy from its parts; every default part is valid."""
    lim = f"  limits {{\n{limits}\n  }}\n" if limits else ""
    return head + lim + segments + ladders + events + "}\n"


def diagnostics(source: str, path: str = "t.mahn", templates=None) -> list:
    try:
        compiled = compile_source(source, path, templates)
    except PolicyError as exc:
        return exc.diagnostics + exc.warnings
    return list(compiled.warnings)


def errors(source: str, **kw) -> list[tuple[str, str]]:
    return [(d.code, d.message) for d in diagnostics(source, **kw) if d.severity == "error"]


def warnings(source: str) -> list[tuple[str, str]]:
    return [(d.code, d.message) for d in diagnostics(source) if d.severity == "warning"]


def the_error(source: str, code: str, **kw) -> str:
    """The message of the one error `source` has, which must carry `code`."""
    found = errors(source, **kw)
    assert len(found) == 1, found
    assert found[0][0] == code, found
    return found[0][1]


def compiled(source: str) -> CompiledPolicy:
    return compile_source(source, "t.mahn")


def rewrite(source: str, old: str, new: str) -> str:
    assert source.count(old) == 1, old
    return source.replace(old, new)


# ---------------------------------------------------------------------------
# A valid policy compiles
# ---------------------------------------------------------------------------


def test_a_small_valid_policy_compiles_without_diagnostics():
    assert diagnostics(policy()) == []


def test_every_error_of_a_file_is_reported_at_once():
    src = policy(
        segments="  segment a when customer.risk > 5 use nowhere\n  segment default use standard\n"
    )
    codes = sorted(code for code, _ in errors(src))
    assert codes == ["E021", "E031"]


def test_errors_point_at_the_line_and_column_of_the_mistake():
    src = policy(segments="  segment default use standrad\n")
    (d,) = [d for d in diagnostics(src) if d.severity == "error"]
    line = src.splitlines().index("  segment default use standrad") + 1
    assert (d.span.path, d.span.line, d.span.col) == ("t.mahn", line, 3)
    assert "did you mean 'standard'?" in d.hint


# ---------------------------------------------------------------------------
# Reader checks
# ---------------------------------------------------------------------------


def test_a_syntax_error_names_what_would_have_been_accepted():
    msg = the_error(policy(limits="    fees at most lots"), "E001")
    assert "unexpected 'lots'" in msg and "an amount like 5.00 EUR" in msg


def test_a_decimal_comma_is_answered_with_the_decimal_point():
    msg = the_error(policy(limits="    fees at most 2,50 EUR"), "E001")
    assert msg == "amounts use a decimal point: write 2.50 EUR, not 2,50 EUR"


def test_contains_is_answered_with_the_in_form():
    seg = '  segment vip when customer.tags contains "key_account" use standard\n'
    msg = the_error(policy(segments=seg + SEGMENTS), "E001")
    assert msg == (
        '`contains` is not a word of the policy language: write "key_account" in customer.tags'
    )


def test_a_date_that_does_not_exist_is_refused():
    seg = "  segment a when invoice.due_date < 2025-02-30 use standard\n"
    src = policy(segments=seg + SEGMENTS)
    assert "not a valid date: 2025-02-30" in the_error(src, "E002")


def test_a_clock_time_that_does_not_exist_is_refused():
    msg = the_error(policy(limits="    no sms between 20:00 and 24:30"), "E002")
    assert "not a time of day: 24:30" in msg


def test_a_payment_plan_needs_at_least_two_instalments():
    src = rewrite(policy(), "fee 1.00 EUR }", "fee 1.00 EUR; offer payment plan of 1 instalments }")
    assert "instalments must be a whole number ≥ 2" in the_error(src, "E002")


def test_an_unknown_event_is_refused_with_a_suggestion():
    msg = the_error(policy(events=EVENTS + "  on dispute_closed resume\n"), "E010")
    assert "unknown event 'dispute_closed'" in msg


def test_a_setting_given_twice_is_refused():
    src = rewrite(policy(), "  language de\n", "  language de\n  language en\n")
    assert "language is set twice" in the_error(src, "E011")


def test_a_limit_given_twice_is_refused():
    src = policy(limits="    fees at most 2.50 EUR\n    fees at most 2.00 EUR")
    assert "this limit is set twice" in the_error(src, "E011")


def test_a_policy_must_say_its_currency():
    src = rewrite(policy(), "  currency EUR\n", "")
    assert "does not say its currency" in the_error(src, "E012")


# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------


def test_a_segment_defined_twice_is_refused():
    src = policy(segments="  segment a when customer.vulnerable use standard\n" * 2 + SEGMENTS)
    assert "segment 'a' is defined twice" in the_error(src, "E020")


def test_a_ladder_defined_twice_is_refused():
    src = policy(ladders=LADDER + LADDER)
    assert "ladder 'standard' is defined twice" in the_error(src, "E020")


def test_a_state_defined_twice_in_a_ladder_is_refused():
    src = rewrite(
        policy(),
        "    state inkasso",
        '    state erinnerung at 9d after due { email "zahlungserinnerung" }\n    state inkasso',
    )
    assert "state 'erinnerung' is defined twice" in the_error(src, "E020")


@pytest.mark.parametrize("name", ["paid", "open", "paused", "handed_over"])
def test_a_built_in_state_name_cannot_be_a_ladder_step(name: str):
    src = rewrite(policy(), "state inkasso", f"state {name}")
    src = src.replace("in inkasso", f"in {name}")
    assert any(code == "E020" and "built-in state" in msg for code, msg in errors(src))


def test_two_rules_for_the_same_event_are_refused():
    src = policy(events=EVENTS + "  on dispute_opened ignore\n")
    assert "two rules for the event 'dispute_opened'" in the_error(src, "E020")


# ---------------------------------------------------------------------------
# Segments
# ---------------------------------------------------------------------------


def test_a_segment_using_an_unknown_ladder_is_refused():
    msg = the_error(policy(segments="  segment default use standrad\n"), "E021")
    assert "uses the unknown ladder 'standrad'" in msg


def test_a_policy_without_segments_is_refused():
    assert "has no segments" in the_error(policy(segments=""), "E022")


def test_a_policy_without_a_default_segment_is_refused():
    src = policy(segments="  segment b2b when customer.type == B2B use standard\n")
    assert "no default segment" in the_error(src, "E022")


def test_a_segment_after_the_default_can_never_match_and_is_refused():
    src = policy(segments=SEGMENTS + "  segment late when customer.vulnerable use standard\n")
    assert "comes after the default segment 'default'" in the_error(src, "E023")


def test_a_ladder_no_segment_uses_is_a_warning():
    src = policy(ladders=LADDER + LADDER.replace("ladder standard", "ladder unused"))
    assert errors(src) == []
    assert [msg for _, msg in warnings(src)] == ["ladder 'unused' is used by no segment"]


# ---------------------------------------------------------------------------
# Ladders and their graphs
# ---------------------------------------------------------------------------


def test_a_ladder_without_states_is_refused():
    src = policy(ladders=LADDER + "  ladder leer { }\n", segments="  segment default use leer\n")
    msgs = [msg for code, msg in errors(src) if code == "E025"]
    assert msgs == ["ladder 'leer' has no states"]


def test_a_state_timed_on_an_unknown_state_is_refused():
    src = rewrite(policy(), "after 14d in mahnung_1", "after 14d in mahnung_2")
    assert "unknown state 'mahnung_2' in ladder 'standard'" in the_error(src, "E021")


def test_a_state_timed_on_itself_is_refused():
    src = rewrite(policy(), "after 14d in mahnung_1", "after 14d in inkasso")
    assert "cannot be timed on itself" in the_error(src, "E026")


def test_an_unknown_source_state_is_refused():
    src = rewrite(policy(), "after 14d in mahnung_1 {", "after 14d in mahnung_1 from mahnung_9 {")
    assert "unknown source state 'mahnung_9'" in the_error(src, "E021")


def test_a_transition_to_an_unknown_state_is_refused():
    src = rewrite(policy(), "  }\n", "    on delivery_failed in erinnerung -> brief\n  }\n")
    assert "unknown state 'brief' in a transition" in the_error(src, "E021")


def test_an_unknown_template_is_refused_when_templates_are_known():
    known = {"zahlungserinnerung", "mahnung_1"}
    src = rewrite(policy(), '"mahnung_1"', '"mahnung_eins"')
    assert "unknown template 'mahnung_eins'" in the_error(src, "E021", templates=known)
    assert errors(policy(), templates=known) == []


def test_a_skonto_of_100_percent_or_more_is_refused():
    src = rewrite(
        policy(),
        '{ email "zahlungserinnerung" }',
        '{ email "zahlungserinnerung"; offer skonto 100% within 7d }',
    )
    assert "Skonto must be between 0 % and 100 %" in the_error(src, "E033")


def test_an_unreachable_state_is_refused():
    src = rewrite(
        policy(),
        "    state inkasso",
        '    state telefon after 7d in rueckruf { call "anruf" }\n'
        '    state rueckruf on delivery_failed from telefon { letter "rueckruf" }\n'
        "    state inkasso",
    )
    found = errors(src)
    assert [c for c, _ in found] == ["E024", "E024"]
    assert "state 'telefon' can never be reached" in found[0][1]


def test_a_state_with_no_way_out_is_refused():
    src = rewrite(policy(), '{ approval by 1; handover to "Inkasso GmbH" }', '{ letter "x" }')
    assert "state 'inkasso' has no way out" in the_error(src, "E025")


def test_a_state_that_waits_for_a_person_needs_no_way_out():
    src = rewrite(
        policy(),
        '{ approval by 1; handover to "Inkasso GmbH" }',
        '{ notify "forderungsmanagement"; wait }',
    )
    assert errors(src) == []
    assert compiled(src).ladder_graphs["standard"].nodes["inkasso"]["kind"] == "manual"


def test_a_write_off_is_a_way_out():
    src = rewrite(policy(), '{ approval by 1; handover to "Inkasso GmbH" }', "{ write off }")
    g = compiled(src).ladder_graphs["standard"]
    assert g.has_edge("inkasso", "written_off")


def test_a_cycle_of_time_triggers_is_refused():
    src = rewrite(policy(), "  }\n", "    after 30d in inkasso -> mahnung_1\n  }\n")
    src = rewrite(src, '{ approval by 1; handover to "Inkasso GmbH" }', '{ letter "x" }')
    assert "time triggers form a cycle: mahnung_1 -> inkasso -> mahnung_1" in the_error(src, "E026")


def test_an_event_transition_back_is_not_a_time_cycle():
    src = rewrite(policy(), "  }\n", "    on promise_broken in inkasso -> mahnung_1\n  }\n")
    assert errors(src) == []


def test_two_unguarded_triggers_firing_together_are_refused():
    src = rewrite(
        policy(),
        "    state inkasso",
        '    state telefon after 14d in mahnung_1 { call "anruf"; wait }\n    state inkasso',
    )
    msg = the_error(src, "E027")
    assert "from 'mahnung_1' this fires together with the rule at line" in msg


def test_guards_and_distinct_priorities_separate_triggers_that_fire_together():
    src = rewrite(
        policy(),
        "    state inkasso after 14d in mahnung_1 {",
        "    state telefon after 14d in mahnung_1 when balance < 50 EUR "
        '{ call "anruf"; wait }\n'
        "    state inkasso after 14d in mahnung_1 when balance >= 50 EUR {",
    )
    assert errors(src) == []


def test_an_explicit_priority_settles_two_transitions_that_fire_together():
    base = rewrite(
        policy(),
        "    state inkasso",
        '    state brief on delivery_failed from erinnerung { letter "b" }\n'
        '    state anruf on delivery_failed from mahnung_1 { call "a"; wait }\n'
        "    state inkasso",
    )
    extra = (
        "    after 14d in brief -> mahnung_1{}\n"
        "    after 14d in brief -> anruf when balance > 100 EUR{}\n  }}\n"
    )
    clash = rewrite(base, "  }\n", extra.format("", ""))
    assert "fires together" in the_error(clash, "E027")
    settled = rewrite(base, "  }\n", extra.format(" priority 1", " priority 2"))
    assert errors(settled) == []


# ---------------------------------------------------------------------------
# Event handlers
# ---------------------------------------------------------------------------


def test_stop_must_end_in_a_terminal_state():
    src = policy(events=EVENTS + "  on write_off stop -> inkasso\n")
    assert "`stop` must end in a terminal state, not 'inkasso'" in the_error(src, "E021")


def test_goto_an_unknown_state_is_refused():
    src = policy(events=EVENTS + "  on promise_broken goto mahnung_9\n")
    assert "unknown state 'mahnung_9'" in the_error(src, "E021")


def test_a_policy_wide_goto_needs_its_target_in_every_ladder():
    other = (
        LADDER.replace("ladder standard", "ladder sanft")
        .replace("state mahnung_1", "state erinnerung_2")
        .replace("in mahnung_1", "in erinnerung_2")
    )
    src = policy(
        ladders=LADDER + other,
        segments="  segment v when customer.vulnerable use sanft\n" + SEGMENTS,
        events=EVENTS + "  on promise_broken goto mahnung_1\n",
    )
    assert "does not exist in ladder(s) sanft" in the_error(src, "E021")


def test_a_policy_without_an_insolvency_rule_gets_a_warning():
    src = policy(events="  on dispute_opened pause\n")
    assert [c for c, _ in warnings(src)] == ["W010"]


def test_a_policy_without_a_dispute_rule_gets_a_warning():
    src = policy(events="  on insolvency stop -> insolvent\n")
    assert [c for c, _ in warnings(src)] == ["W011"]


# ---------------------------------------------------------------------------
# Limits
# ---------------------------------------------------------------------------


def test_letters_less_than_seven_days_apart_are_refused():
    msg = the_error(policy(limits="    letters at least 5 days apart"), "L004")
    assert "at least 7 days (D4)" in msg


def test_quiet_hours_for_letters_are_a_warning():
    src = policy(limits="    no letter between 20:00 and 08:00")
    assert [c for c, _ in warnings(src)] == ["W012"]


def test_a_fee_share_above_100_percent_is_refused():
    src = policy(limits="    fees at most 120% of principal")
    assert "between 0 % and 100 %" in the_error(src, "E033")


def test_a_contact_limit_needs_both_count_and_window():
    p = compiled(policy()).policy
    broken = dataclasses.replace(p, limits=ir.Limits(max_contacts=3))
    with pytest.raises(PolicyError) as exc:
        compile_policy(broken)
    assert [d.code for d in exc.value.diagnostics] == ["E033"]


def test_an_approval_by_nobody_is_refused():
    p = compiled(policy()).policy
    ladder = p.ladders[0]
    inkasso = ladder.states[2]
    actions = tuple(ir.Approval(0) if isinstance(a, ir.Approval) else a for a in inkasso.actions)
    states = ladder.states[:2] + (dataclasses.replace(inkasso, actions=actions),)
    broken = dataclasses.replace(p, ladders=(dataclasses.replace(ladder, states=states),))
    with pytest.raises(PolicyError) as exc:
        compile_policy(broken)
    assert "at least one approver" in exc.value.diagnostics[0].message


def test_the_limits_are_kept_in_the_ir():
    src = policy(
        limits="""    minimum balance 5.00 EUR
    at most 3 contacts per 7 days
    letters at least 14 days apart
    no sms between 20:00 and 08:00
    fees at most 2.50 EUR
    fees at most 30% of principal
    no handover below 50.00 EUR
    payment grace 5 business days"""
    )
    lim = compiled(src).policy.limits
    assert lim.minimum_balance == Money(Decimal("5.00"))
    assert (lim.max_contacts, lim.contact_window) == (3, Duration(7))
    assert lim.letter_gap == Duration(14)
    assert [(q.channel, str(q.start), str(q.end)) for q in lim.quiet_hours] == [
        (ir.Channel.SMS, "20:00:00", "08:00:00")
    ]
    assert lim.fee_cap == Money(Decimal("2.50"))
    assert lim.fee_share == Decimal(30)
    assert lim.minimum_handover == Money(Decimal("50.00"))
    assert lim.payment_grace == Duration(5, business=True)


# ---------------------------------------------------------------------------
# Conditions and money
# ---------------------------------------------------------------------------


def test_money_compared_with_a_date_is_refused():
    src = policy(segments="  segment a when invoice.due_date > 50 EUR use standard\n" + SEGMENTS)
    assert "cannot compare a date with an amount of money" in the_error(src, "E030")


def test_and_over_a_number_is_refused():
    src = policy(
        segments="  segment a when customer.risk_score and customer.vulnerable "
        "use standard\n" + SEGMENTS
    )
    assert "`and` joins yes/no conditions, not a number" in the_error(src, "E030")


def test_a_condition_that_is_not_yes_or_no_is_refused():
    src = policy(segments="  segment a when balance use standard\n" + SEGMENTS)
    assert "this condition is an amount of money" in the_error(src, "E030")


def test_pause_until_needs_a_date():
    src = policy(events=EVENTS + "  on promise_made pause until balance\n")
    assert "a date is needed here" in the_error(src, "E030")


def test_pause_until_a_date_plus_business_days_is_accepted():
    src = policy(events=EVENTS + "  on promise_made pause until promised_date + 3 business days\n")
    assert errors(src) == []
    handler = compiled(src).policy.handlers[-1]
    assert handler.action is ir.HandlerAction.PAUSE and handler.until is not None


def test_an_unknown_fact_is_refused_with_a_suggestion():
    src = policy(segments="  segment a when customer.risc_score >= 70 use standard\n" + SEGMENTS)
    diag = next(d for d in diagnostics(src) if d.code == "E031")
    assert "unknown fact 'customer.risc_score'" in diag.message
    assert "customer.risk_score" in diag.hint


def test_an_amount_in_another_currency_is_refused():
    src = policy(segments="  segment a when balance > 50 CHF use standard\n" + SEGMENTS)
    assert "50 CHF is not in the policy's currency EUR" in the_error(src, "E032")


def test_a_negative_amount_is_refused():
    src = policy(segments="  segment a when balance > -5 EUR use standard\n" + SEGMENTS)
    assert "cannot be negative" in the_error(src, "E033")


# ---------------------------------------------------------------------------
# Legal lints
# ---------------------------------------------------------------------------

B2B_FIRST = "  segment b2b when customer.type == B2B use b2b\n  segment default use standard\n"


def b2b_policy(extra_actions: str, segments: str = B2B_FIRST, limits: str = "") -> str:
    b2b = LADDER.replace("ladder standard", "ladder b2b").replace(
        "fee 1.00 EUR", f"fee 1.00 EUR; {extra_actions}"
    )
    return policy(ladders=LADDER + b2b, segments=segments, limits=limits)


def test_lump_sum_is_accepted_in_a_segment_restricted_to_businesses():
    assert errors(b2b_policy("lump sum; interest statutory")) == []


def test_lump_sum_is_refused_in_a_segment_that_can_hold_consumers():
    segs = "  segment b2b when customer.type == B2B or customer.vulnerable use b2b\n" + SEGMENTS
    msg = the_error(b2b_policy("lump sum", segments=segs), "L002")
    assert "§ 288 Abs. 5 BGB" in msg and "can hold consumers" in msg


def test_lump_sum_is_refused_in_the_default_segments_ladder():
    src = rewrite(policy(), "fee 1.00 EUR", "fee 1.00 EUR; lump sum")
    assert "only due from businesses" in the_error(src, "L002")


def test_interest_above_the_consumer_rate_is_refused():
    src = rewrite(policy(), "fee 1.00 EUR", "fee 1.00 EUR; interest 6 points above base")
    msg = the_error(src, "L003")
    assert "base + 5 (§ 288 BGB) for consumers" in msg


def test_business_interest_of_nine_points_is_accepted_but_not_more():
    assert errors(b2b_policy("interest 9 points above base")) == []
    msg = the_error(b2b_policy("interest 10 points above base"), "L003")
    assert "above the statutory base + 9" in msg


def test_a_fee_above_the_policy_cap_is_refused():
    src = rewrite(policy(limits="    fees at most 1.50 EUR"), "fee 1.00 EUR", "fee 2.00 EUR")
    assert "above the cap of 1.50 EUR" in the_error(src, "L001")


def test_consumer_fees_are_capped_at_2_50_eur_even_without_a_cap():
    src = rewrite(policy(), "fee 1.00 EUR", "fee 3.00 EUR")
    assert "above the cap of 2.50 EUR" in the_error(src, "L001")


def test_a_fee_cap_above_the_consumer_cap_is_refused_when_consumers_may_be_dunned():
    msg = the_error(policy(limits="    fees at most 5.00 EUR"), "L001")
    assert "above the 2.50 EUR a consumer may be charged" in msg


def test_a_fee_on_an_email_only_state_is_refused():
    src = rewrite(
        policy(), '{ email "zahlungserinnerung" }', '{ email "zahlungserinnerung"; fee 1.00 EUR }'
    )
    assert "a dunning fee needs a letter" in the_error(src, "L005")


def test_no_fee_or_interest_before_the_due_date():
    vorab = '    state vorab at 3d before due { letter "vorab_hinweis"; interest statutory }\n'
    src = rewrite(policy(), "    state erinnerung", vorab + "    state erinnerung")
    assert "before the invoice is due (§ 286 BGB)" in the_error(src, "L006")


@pytest.mark.parametrize(
    ("step", "label"),
    [
        ("court order; wait", "court payment order"),
        ('report to "Creditreform"; wait', "credit-bureau report"),
        ('handover to "Inkasso GmbH"', "collection handover"),
    ],
)
def test_court_bureau_and_handover_steps_need_a_persons_approval(step: str, label: str):
    src = rewrite(policy(), '{ approval by 1; handover to "Inkasso GmbH" }', f"{{ {step} }}")
    assert f"{label}" in the_error(src, "L007")


def test_a_court_order_may_not_go_without_approval_below_an_amount():
    src = rewrite(
        policy(),
        '{ approval by 1; handover to "Inkasso GmbH" }',
        "{ approval by 2 when balance > 5000 EUR else 0; court order; wait }",
    )
    assert "always need at least one approver" in the_error(src, "L007")


def test_a_handover_may_need_no_approval_below_an_amount():
    src = rewrite(policy(), "approval by 1;", "approval by 2 when balance > 1000 EUR else 0;")
    assert errors(src) == []


@pytest.mark.parametrize(
    ("condition", "consumers"),
    [
        (None, True),
        ("customer.type == B2B", False),
        ("customer.type != B2C", False),
        ("customer.type == B2C", True),
        ("customer.type == B2B and customer.risk_score >= 70", False),
        ("customer.risk_score >= 70 and customer.type == B2B", False),
        ("customer.type == B2B or customer.vulnerable", True),
        ("customer.type == B2B or customer.type != B2C", False),
        ("not customer.vulnerable", True),
    ],
)
def test_which_segments_may_hold_consumers(condition: str | None, consumers: bool):
    seg = f"  segment s when {condition} use standard\n" if condition else ""
    p = compiled(policy(segments=seg + SEGMENTS)).policy
    assert may_hold_consumers(p.segments[0]) is consumers


# ---------------------------------------------------------------------------
# Graph shape
# ---------------------------------------------------------------------------

SHAPE = """
  ladder standard {
    state vorab at 3d before due { email "vorab_hinweis" }
    state erinnerung at 7d after due { email "zahlungserinnerung" }
    state brief on delivery_failed from erinnerung { letter "zahlungserinnerung" }
    after 14d in brief -> mahnung_1 priority 5
    state mahnung_1 after 14d in erinnerung { letter "mahnung_1"; fee 1.00 EUR }
    state spaet at 60d after due { letter "letzte_mahnung"; fee 1.00 EUR }
    state inkasso after 14d in spaet { approval by 1; handover to "Inkasso GmbH" }
  }
"""


@pytest.fixture(scope="module")
def shape() -> CompiledPolicy:
    return compiled(policy(ladders=SHAPE))


def test_the_graph_has_a_node_per_state_plus_open_terminals_and_paused(shape):
    g = shape.graph("default")
    kinds = {n: d["kind"] for n, d in g.nodes(data=True)}
    assert kinds == {
        "open": "initial",
        "vorab": "step",
        "erinnerung": "step",
        "brief": "step",
        "mahnung_1": "step",
        "spaet": "step",
        "inkasso": "step",
        "handed_over": "terminal",
        "paused": "pause",
        "insolvent": "terminal",
        "paid": "terminal",
    }
    assert g.nodes["mahnung_1"]["state"].name == "mahnung_1"
    assert g.nodes["mahnung_1"]["span"].line == 13


def test_the_ladder_edges_and_their_priorities(shape):
    g = shape.graph("default")
    ladder = {
        (u, v): sorted((r.kind, r.priority) for r in d["rules"])
        for u, v, d in g.edges(data=True)
        if any(r.kind in ("ladder", "transition", "auto") for r in d["rules"])
    }
    assert ladder == {
        ("open", "vorab"): [("ladder", 100)],
        ("open", "erinnerung"): [("ladder", 101)],
        ("vorab", "erinnerung"): [("ladder", 101)],
        ("erinnerung", "brief"): [("ladder", 102)],
        ("erinnerung", "mahnung_1"): [("ladder", 103)],
        ("brief", "mahnung_1"): [("transition", 5)],
        ("open", "spaet"): [("ladder", 104)],
        ("vorab", "spaet"): [("ladder", 104)],
        ("erinnerung", "spaet"): [("ladder", 104)],
        ("mahnung_1", "spaet"): [("ladder", 104)],
        ("spaet", "inkasso"): [("ladder", 105)],
        ("inkasso", "handed_over"): [("auto", 1000)],
    }


def test_due_anchored_states_can_be_entered_straight_from_open(shape):
    ladder = shape.policy.ladder("standard")
    names = [s.name for s in ladder.states]
    sources = {name: state_sources(ladder, i) for i, name in enumerate(names)}
    assert sources == {
        "vorab": ("open",),
        "erinnerung": ("open", "vorab"),
        "brief": ("erinnerung",),  # an explicit `from` wins
        "mahnung_1": ("erinnerung",),  # `14d in erinnerung` comes from erinnerung
        # due-anchored: open, every earlier due-anchored state and the state before it
        "spaet": ("open", "vorab", "erinnerung", "mahnung_1"),
        "inkasso": ("spaet",),
    }


def test_an_event_entered_state_comes_from_every_earlier_state():
    src = policy(
        ladders=LADDER.replace(
            "    state inkasso",
            '    state brief on delivery_failed { letter "b"; wait }\n    state inkasso',
        )
    )
    ladder = compiled(src).policy.ladder("standard")
    assert state_sources(ladder, 2) == ("open", "erinnerung", "mahnung_1")


def test_event_rules_lead_from_every_step_to_paused_terminals_and_paid(shape):
    g = shape.graph("default")
    steps = ["open", "vorab", "erinnerung", "brief", "mahnung_1", "spaet", "inkasso"]
    for s in steps:
        kinds = {
            v: [(r.kind, r.priority, r.event.value) for r in d["rules"]]
            for _, v, d in g.out_edges(s, data=True)
            if v in ("paused", "insolvent", "paid")
        }
        assert kinds == {
            "paused": [("handler", 50, "dispute_opened")],
            "insolvent": [("handler", 50, "insolvency")],
            "paid": [("builtin", 10, "payment_full")],
        }


def test_rules_from_a_state_come_highest_priority_first(shape):
    rules = shape.rules_from("default", "erinnerung")
    assert [r.priority for r in rules] == sorted((r.priority for r in rules), reverse=True)
    assert {r.target for r in rules} >= {"mahnung_1", "brief", "spaet", "paid"}
    assert shape.rules_from("default", "no_such_state") == ()


def test_each_segment_gets_its_own_frozen_copy_of_its_ladders_graph():
    segs = "  segment v when customer.vulnerable use standard\n" + SEGMENTS
    c = compiled(policy(segments=segs))
    assert set(c.graphs) == {"v", "default"}
    assert c.graph("v").graph["segment"] == "v"
    assert c.graph("default").graph["ladder"] == "standard"
    assert c.graph("v") is not c.graph("default")
    assert nx.is_frozen(c.graph("v")) and nx.is_frozen(c.ladder_graphs["standard"])
    with pytest.raises(nx.NetworkXError):
        c.graph("v").add_node("x")


def test_the_compiled_policy_remembers_its_source_and_hash():
    import hashlib

    src = policy()
    c = compiled(src)
    assert c.source == src
    assert c.sha256 == hashlib.sha256(src.encode()).hexdigest()
    assert c.name == "t"


# ---------------------------------------------------------------------------
# select_segment
# ---------------------------------------------------------------------------

SELECT = """  segment vulnerable when customer.vulnerable use standard
  segment high_risk when customer.risk_score >= 70 use standard
  segment b2b when customer.type == B2B use standard
  segment default use standard
"""


@pytest.fixture(scope="module")
def selecting() -> ir.Policy:
    return compiled(policy(segments=SELECT)).policy


def facts(**kw) -> dict:
    base = {
        "customer.vulnerable": False,
        "customer.risk_score": Decimal(10),
        "customer.type": "B2C",
    }
    base.update({k.replace("__", "."): v for k, v in kw.items()})
    return base


def test_the_first_segment_whose_condition_holds_wins(selecting):
    both = facts(customer__vulnerable=True, customer__risk_score=Decimal(90))
    choice = select_segment(selecting, both)
    assert choice.segment.name == "vulnerable"
    assert len(choice.reasons) == 1 and "holds" in choice.reasons[0]


def test_segments_are_tried_in_order(selecting):
    choice = select_segment(selecting, facts(customer__risk_score=Decimal(70)))
    assert choice.segment.name == "high_risk"
    assert "does not hold" in choice.reasons[0]
    assert "t.mahn:" in choice.reasons[1]


def test_an_invoice_matching_no_condition_falls_to_the_default(selecting):
    choice = select_segment(selecting, facts())
    assert choice.segment.name == "default"
    assert len(choice.reasons) == 4
    assert "is the default" in choice.reasons[-1]


def test_a_missing_fact_means_not_this_segment(selecting):
    choice = select_segment(selecting, {"customer.type": "B2B"})
    assert choice.segment.name == "b2b"
    assert "not applicable" in choice.reasons[0]
    assert "customer.vulnerable" in choice.reasons[0]


def test_without_a_default_segment_selection_fails_loudly(selecting):
    no_default = dataclasses.replace(selecting, segments=selecting.segments[:-1])
    with pytest.raises(LookupError):
        select_segment(no_default, facts())


# ---------------------------------------------------------------------------
# The shipped policies
# ---------------------------------------------------------------------------

SHIPPED = {
    "de_b2c_standard.mahn": (
        ["vulnerable", "high_risk", "good_payers", "default"],
        ["standard", "zuegig", "sanft"],
    ),
    "key_account.mahn": (["key_account", "default"], ["key_account", "pruefung"]),
    "de_b2b_standard.yaml": (
        ["vulnerable", "high_risk", "good_payers", "business", "default"],
        ["standard", "zuegig", "kulant", "pruefung"],
    ),
}


def _load_shipped(name: str) -> CompiledPolicy:
    return load_policy(POLICIES / name)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_the_shipped_policy_compiles_clean_with_its_segments_and_ladders(name: str):
    c = _load_shipped(name)
    assert c.warnings == ()
    segments, ladders = SHIPPED[name]
    assert [s.name for s in c.policy.segments] == segments
    assert [ladder.name for ladder in c.policy.ladders] == ladders
    assert c.policy.currency == "EUR" and c.policy.language == "de"
    events = {h.event for h in c.policy.handlers}
    assert {
        ir.EventKind.INSOLVENCY,
        ir.EventKind.DISPUTE_OPENED,
        ir.EventKind.PROMISE_MADE,
        ir.EventKind.INSTALMENT_MISSED,
        ir.EventKind.DEATH_NOTICE,
    } <= events


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_the_shipped_policy_keeps_the_legal_guards(name: str):
    p = _load_shipped(name).policy
    lim = p.limits
    assert lim.minimum_balance == Money(Decimal("5.00"))
    assert lim.letter_gap is not None and lim.letter_gap.days >= 10
    assert lim.fee_cap is not None and lim.fee_cap.amount <= Decimal("2.50")
    assert lim.fee_share == Decimal(30)
    assert lim.minimum_handover is not None and lim.minimum_handover.amount >= 50
    assert {q.channel for q in lim.quiet_hours} == {ir.Channel.SMS, ir.Channel.CALL}
    for ladder in p.ladders:
        for state in ladder.states:
            kinds = {type(a) for a in state.actions}
            if kinds & {ir.Handover, ir.CourtOrder, ir.CreditReport}:
                assert ir.Approval in kinds, (ladder.name, state.name)


def test_the_lump_sum_appears_only_in_ladders_of_business_segments():
    for name in SHIPPED:
        p = _load_shipped(name).policy
        consumer_ladders = {s.ladder for s in p.segments if may_hold_consumers(s)}
        for ladder in p.ladders:
            has_lump = any(isinstance(a, ir.LumpSum) for s in ladder.states for a in s.actions)
            if has_lump:
                assert ladder.name not in consumer_ladders, (name, ladder.name)


def test_the_b2c_policy_sends_consumers_through_reminder_mahnungen_and_handover():
    c = _load_shipped("de_b2c_standard.mahn")
    order = [s.name for s in c.policy.ladder("standard").states]
    assert order[:2] == ["vorab", "erinnerung"]
    assert order.index("mahnung_1") < order.index("mahnung_2") < order.index("letzte_mahnung")
    erinnerung = c.policy.ladder("standard").states[1]
    assert not any(isinstance(a, ir.Fee) for a in erinnerung.actions)  # B1: free reminder
    assert nx.has_path(c.graph("default"), "open", "handed_over")
    assert "handed_over" not in c.graph("vulnerable")  # D5: no handover for the vulnerable


def test_the_b2c_policy_picks_segments_as_documented():
    p = _load_shipped("de_b2c_standard.mahn").policy
    base = {
        "customer.vulnerable": False,
        "customer.risk_score": Decimal(20),
        "customer.avg_days_late": Decimal(10),
    }
    pick = lambda **kw: select_segment(p, {**base, **kw}).segment.name  # noqa: E731
    assert pick() == "default"
    assert pick(**{"customer.avg_days_late": Decimal(2)}) == "good_payers"
    assert pick(**{"customer.risk_score": Decimal(75)}) == "high_risk"
    assert pick(**{"customer.vulnerable": True, "customer.risk_score": Decimal(75)}) == (
        "vulnerable"
    )


def test_the_key_account_policy_tells_sales_and_calls_before_any_letter():
    p = _load_shipped("key_account.mahn").policy
    ladder = p.ladder("key_account")
    first_letter = next(
        i
        for i, s in enumerate(ladder.states)
        if any(isinstance(a, ir.Send) and a.channel is ir.Channel.LETTER for a in s.actions)
    )
    before = ladder.states[:first_letter]
    assert any(isinstance(a, ir.Notify) for s in before for a in s.actions)
    assert any(
        isinstance(a, ir.Send) and a.channel is ir.Channel.CALL for s in before for a in s.actions
    )
    for state in ladder.states:
        for a in state.actions:
            if isinstance(a, ir.Approval):
                assert (a.approvers, a.when) == (2, None)  # always four eyes
    key = {"customer.type": "B2B", "customer.tags": ["key_account"]}
    assert select_segment(p, key).segment.name == "key_account"
    assert select_segment(p, {"customer.type": "B2B", "customer.tags": []}).segment.name == (
        "default"
    )


def test_the_policies_readme_lists_exactly_the_templates_the_shipped_policies_use():
    used = {
        a.template
        for name in SHIPPED
        for ladder in _load_shipped(name).policy.ladders
        for state in ladder.states
        for a in state.actions
        if isinstance(a, ir.Send)
    }
    readme = (POLICIES / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Template names used here", 1)[1]
    listed = set(re.findall(r"`([a-z0-9_]+)`", section))
    assert listed == used


# ---------------------------------------------------------------------------
# Renderers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_renderer_draws_every_state_of_each_shipped_policy(name: str, fmt: str):
    c = _load_shipped(name)
    for segment in c.policy.segments:
        ladder = c.policy.ladder(segment.ladder)
        drawn = RENDERERS[fmt](c.graph(segment.name))
        assert segment.name in drawn
        for state in ladder.states:
            assert state.name in drawn, (segment.name, state.name)
        with_events = RENDERERS[fmt](c.graph(segment.name), with_handlers=True)
        assert "paused" in with_events and "insolvent" in with_events


def test_the_text_renderer_says_what_each_state_does_and_where_it_is_written(shape):
    text = RENDERERS["text"](shape.graph("default"))
    assert "● mahnung_1  [t.mahn:13]" in text
    assert '│   does: letter "mahnung_1"' in text
    assert "├─▶ mahnung_1  after 14d in erinnerung" in text
    assert "├─▶ spaet  at 60d after due" in text


def test_the_mermaid_renderer_draws_a_state_diagram(shape):
    text = RENDERERS["mermaid"](shape.graph("default"))
    assert text.startswith("stateDiagram-v2\n")
    assert "    [*] --> open" in text
    assert "    erinnerung --> mahnung_1 : after 14d in erinnerung" in text
    assert "    handed_over --> [*]" in text


def test_the_dot_renderer_draws_a_digraph(shape):
    text = RENDERERS["dot"](shape.graph("default"))
    assert text.startswith('digraph "default" {')
    assert '"inkasso" -> "handed_over" [label="when done"];' in text
    assert '"handed_over" [label="handed_over", shape=doublecircle];' in text
    assert text.rstrip().endswith("}")


# ---------------------------------------------------------------------------
# The legal lints at their thresholds, on both sides (issue 20: mutation testing)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("fee", "refused"), [("2.50", False), ("2.51", True)])
def test_a_consumer_fee_of_exactly_2_50_eur_is_accepted_and_one_cent_more_refused(fee, refused):
    src = rewrite(policy(), "fee 1.00 EUR", f"fee {fee} EUR")
    if refused:
        assert the_error(src, "L001") == (
            f"a fee of {fee} EUR is above the cap of 2.50 EUR (only real material costs may be "
            "charged, § 309 Nr. 5 BGB)"
        )
    else:
        assert errors(src) == []


@pytest.mark.parametrize(("cap", "refused"), [("2.50", False), ("2.51", True)])
def test_a_fee_cap_of_exactly_2_50_eur_is_accepted_for_consumers(cap, refused):
    src = policy(limits=f"    fees at most {cap} EUR")
    if refused:
        assert the_error(src, "L001") == (
            f"a fee cap of {cap} EUR is above the 2.50 EUR a consumer may be charged per letter "
            "(§§ 280, 286, 309 Nr. 5 BGB; BGH VIII ZR 95/18)"
        )
    else:
        assert errors(src) == []


def test_a_ladder_only_businesses_reach_has_no_consumer_fee_cap():
    """B1 caps consumer fees; a ladder behind `customer.type == B2B` may charge more, the
    default segment's ladder may not."""
    b2b = LADDER.replace("ladder standard", "ladder b2b").replace("fee 1.00 EUR", "fee 9.00 EUR")
    assert errors(policy(ladders=LADDER + b2b, segments=B2B_FIRST)) == []
    both = LADDER.replace("fee 1.00 EUR", "fee 9.00 EUR") + b2b
    assert "above the cap of 2.50 EUR" in the_error(
        policy(ladders=both, segments=B2B_FIRST), "L001"
    )


def test_consumer_interest_of_five_points_is_accepted_but_not_more():
    five = rewrite(policy(), "fee 1.00 EUR", "fee 1.00 EUR; interest 5 points above base")
    assert errors(five) == []
    six = rewrite(policy(), "fee 1.00 EUR", "fee 1.00 EUR; interest 6 points above base")
    assert the_error(six, "L003") == (
        "interest of base + 6 points is above the statutory base + 5 (§ 288 BGB) for consumers"
    )
    assert the_error(b2b_policy("interest 10 points above base"), "L003") == (
        "interest of base + 10 points is above the statutory base + 9 (§ 288 BGB)"
    )


@pytest.mark.parametrize(("days", "refused"), [(6, True), (7, False)])
def test_letters_six_days_apart_are_refused_and_seven_accepted(days, refused):
    src = policy(limits=f"    letters at least {days} days apart")
    if refused:
        assert the_error(src, "L004") == "letters 6d apart is too close: at least 7 days (D4)"
    else:
        assert errors(src) == []


@pytest.mark.parametrize(("share", "refused"), [("0", False), ("100", False), ("101", True)])
def test_a_fee_share_from_0_to_100_percent_is_accepted(share, refused):
    src = policy(limits=f"    fees at most {share}% of principal")
    if refused:
        assert the_error(src, "E033") == "the fee share must be between 0 % and 100 %"
    else:
        assert errors(src) == []


def test_a_negative_fee_share_is_refused():
    p = compiled(policy()).policy
    broken = dataclasses.replace(p, limits=ir.Limits(fee_share=Decimal("-0.01")))
    with pytest.raises(PolicyError) as exc:
        compile_policy(broken)
    assert [(d.code, d.message) for d in exc.value.diagnostics] == [
        ("E033", "the fee share must be between 0 % and 100 %")
    ]


def test_a_fee_on_the_due_date_is_accepted_and_one_day_before_it_refused():
    on_due = '    state stichtag at 0d after due { letter "mahnung_1"; fee 1.00 EUR }\n'
    src = rewrite(policy(), "    state erinnerung", on_due + "    state erinnerung")
    assert not [c for c, _ in errors(src) if c == "L006"]
    before = '    state vorab at 1d before due { letter "vorab_hinweis"; fee 1.00 EUR }\n'
    src = rewrite(policy(), "    state erinnerung", before + "    state erinnerung")
    assert the_error(src, "L006") == (
        "no fee or default interest before the invoice is due (§ 286 BGB)"
    )


@pytest.mark.parametrize(("tolerance", "refused"), [("10.00", False), ("10.01", True)])
def test_a_residual_tolerance_up_to_ten_euro_is_accepted(tolerance, refused):
    src = policy(limits=f"    residual up to {tolerance} EUR write off")
    if refused:
        msg = the_error(src, "L009")
        assert msg == (
            f"a residual tolerance of {tolerance} EUR is more than 10.00 EUR: a tolerance is "
            "for cents left by rounding or a payment a little short, and the engine waives it "
            "unasked"
        )
    else:
        assert errors(src) == []


def test_asking_for_a_residual_needs_a_written_message_to_ask_in():
    calls = """
  ladder standard {
    state anruf at 7d after due { call "anruf" }
    state inkasso after 14d in anruf { approval by 1; handover to "Inkasso GmbH" }
  }
"""
    src = policy(ladders=calls, limits="    residual up to 1.00 EUR ask in next letter")
    assert the_error(src, "E038") == (
        "`ask in next letter`, but no state of this policy sends a letter or an e-mail to ask in"
    )
    assert errors(policy(limits="    residual up to 1.00 EUR ask in next letter")) == []


def test_a_state_with_two_fee_lines_is_refused_at_the_second():
    src = rewrite(policy(), "fee 1.00 EUR", "fee 1.00 EUR; fee 0.50 EUR")
    diags = [d for d in diagnostics(src) if d.code == "L008"]
    assert len(diags) == 1
    assert diags[0].message == (
        "state 'mahnung_1' already charges 1.00 EUR for its letter (line 10); a second fee line "
        "would charge one letter twice"
    )


# ---------------------------------------------------------------------------
# What an author reads: each lint's whole message and hint, and where (issue 20)
# ---------------------------------------------------------------------------

_CALLS = """
  ladder standard {
    state anruf at 7d after due { call "anruf" }
    state inkasso after 14d in anruf { approval by 1; handover to "Inkasso GmbH" }
  }
"""
_COURT_HINT = "add `approval by 1` (or `approval by 2 when balance > 1000 EUR else 1`)"
_NO_STEP = '{ approval by 1; handover to "Inkasso GmbH" }'
_VORAB = '    state vorab at 1d before due { letter "vorab_hinweis"; fee 1.00 EUR }\n'
LINT_CASES = {
    "fee cap above the consumer cap": (
        policy(limits="    fees at most 5.00 EUR"),
        ("L001", 7, 5, "a fee cap of 5.00 EUR is above the 2.50 EUR a consumer may be charged "
         "per letter (§§ 280, 286, 309 Nr. 5 BGB; BGH VIII ZR 95/18)",
         "lower the cap, or restrict the policy to business customers"),
    ),
    "fee above the cap": (
        rewrite(policy(), "fee 1.00 EUR", "fee 3.00 EUR"),
        ("L001", 10, 67, "a fee of 3.00 EUR is above the cap of 2.50 EUR (only real material "
         "costs may be charged, § 309 Nr. 5 BGB)", "charge at most 2.50 EUR"),
    ),
    "lump sum for consumers": (
        rewrite(policy(), "fee 1.00 EUR", "fee 1.00 EUR; lump sum"),
        ("L002", 10, 81, "the 40 EUR lump sum (§ 288 Abs. 5 BGB) is only due from businesses, "
         "but ladder 'standard' serves a segment that can hold consumers",
         "restrict the segment with `customer.type == B2B` or remove `lump sum`"),
    ),
    "interest above the statutory rate": (
        rewrite(policy(), "fee 1.00 EUR", "fee 1.00 EUR; interest 6 points above base"),
        ("L003", 10, 81, "interest of base + 6 points is above the statutory base + 5 "
         "(§ 288 BGB) for consumers", "write `interest statutory`"),
    ),
    "letters too close": (
        policy(limits="    letters at least 6 days apart"),
        ("L004", 7, 5, "letters 6d apart is too close: at least 7 days (D4)", None),
    ),
    "fee on an e-mail": (
        rewrite(policy(), '{ email "zahlungserinnerung" }',
                '{ email "zahlungserinnerung"; fee 1.00 EUR }'),
        ("L005", 9, 68, "a dunning fee needs a letter: e-mail and SMS cost nothing to send "
         "(§§ 280, 286 BGB allow only material costs)",
         "send a letter in this state or remove the fee"),
    ),
    "fee before due": (
        rewrite(policy(), "    state erinnerung", _VORAB + "    state erinnerung"),
        ("L006", 9, 60, "no fee or default interest before the invoice is due (§ 286 BGB)", None),
    ),
    "court order without approval": (
        rewrite(policy(), _NO_STEP, "{ court order; wait }"),
        ("L007", 11, 44, "a court payment order (§§ 688 ff. ZPO) needs a person's approval",
         _COURT_HINT),
    ),
    "credit report without approval": (
        rewrite(policy(), _NO_STEP, '{ report to "Creditreform"; wait }'),
        ("L007", 11, 44, "a credit-bureau report (§ 31 BDSG, GDPR Art. 22) needs a person's "
         "approval", _COURT_HINT),
    ),
    "handover without approval": (
        rewrite(policy(), _NO_STEP, '{ handover to "Inkasso GmbH" }'),
        ("L007", 11, 44, "a collection handover (D8) needs a person's approval", _COURT_HINT),
    ),
    "court order with no approver below an amount": (
        rewrite(policy(), _NO_STEP,
                "{ approval by 2 when balance > 5000 EUR else 0; court order; wait }"),
        ("L007", 11, 44, "court and credit-bureau steps always need at least one approver",
         None),
    ),
    "two fee lines": (
        rewrite(policy(), "fee 1.00 EUR", "fee 1.00 EUR; fee 0.50 EUR"),
        ("L008", 10, 81, "state 'mahnung_1' already charges 1.00 EUR for its letter (line 10); "
         "a second fee line would charge one letter twice", "write one `fee` line with the "
         "whole amount (at most 2.50 EUR a letter for consumers, § 309 Nr. 5 BGB)"),
    ),
    "residual tolerance above cents": (
        policy(limits="    residual up to 10.01 EUR write off"),
        ("L009", 7, 5, "a residual tolerance of 10.01 EUR is more than 10.00 EUR: a tolerance "
         "is for cents left by rounding or a payment a little short, and the engine waives it "
         "unasked", "lower it (the default is 1.00 EUR); larger amounts are written off by a "
         "person (`mahnwerk event write-off`)"),
    ),
    "quiet hours for letters": (
        policy(limits="    no letter between 20:00 and 08:00"),
        ("W012", 7, 5, "quiet hours do not apply to letters", None),
    ),
    "negative amount inside not": (
        policy(segments="  segment a when not (balance > -5 EUR) use standard\n" + SEGMENTS),
        ("E033", 6, 33, "an amount cannot be negative here: -5 EUR", None),
    ),
    "franc inside not": (
        policy(segments="  segment a when not (balance > 50 CHF) use standard\n" + SEGMENTS),
        ("E032", 6, 33, "50 CHF is not in the policy's currency EUR", None),
    ),
    "franc inside and-not": (
        policy(segments="  segment a when customer.type == B2B and not balance < 50 CHF use "
               "standard\n" + SEGMENTS),
        ("E032", 6, 57, "50 CHF is not in the policy's currency EUR", None),
    ),
    "franc on the left": (
        policy(segments="  segment a when 50 CHF < balance use standard\n" + SEGMENTS),
        ("E032", 6, 18, "50 CHF is not in the policy's currency EUR", None),
    ),
    "residual asked in no letter": (
        policy(ladders=_CALLS, limits="    residual up to 1.00 EUR ask in next letter"),
        ("E038", 7, 5, "`ask in next letter`, but no state of this policy sends a letter or an "
         "e-mail to ask in", "write `residual up to … write off`, or add a letter to a ladder"),
    ),
    "franc as a limit, on its own line": (
        policy(limits="    fees at most 2.50 EUR\n    minimum balance 5.00 CHF"),
        ("E032", 8, 5, "5.00 CHF is not in the policy's currency EUR", None),
    ),
    "second fee line below the first": (
        rewrite(policy(), "fee 1.00 EUR", "fee 1.00 EUR\n      fee 0.50 EUR"),
        ("L008", 11, 7, "state 'mahnung_1' already charges 1.00 EUR for its letter (line 10); "
         "a second fee line would charge one letter twice", "write one `fee` line with the "
         "whole amount (at most 2.50 EUR a letter for consumers, § 309 Nr. 5 BGB)"),
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", LINT_CASES, ids=list(LINT_CASES))
def test_each_lint_says_what_is_wrong_and_what_to_write_at_the_right_place(case: str):
    """The whole diagnostic, as `mahnwerk policy check` prints it: code, line, column,
    message and hint.  Tests that looked for a word in the message let mutation testing
    change the rest of it unnoticed (82.9 % on compile_lints)."""
    source, expected = LINT_CASES[case]
    found = [
        (d.code, d.span.line, d.span.col, d.message, d.hint)
        for d in diagnostics(source)
        if d.severity in ("error", "warning")
    ]
    assert found == [expected]


def test_a_franc_in_a_list_is_refused_as_a_franc_as_well_as_a_list_of_money():
    """Issue 20: a money literal in an `in` list is checked for currency too (the list is
    wrong anyway: lists hold texts)."""
    src = policy(segments='  segment a when "x" in [50 CHF] use standard\n' + SEGMENTS)
    assert [(c, m) for c, m in errors(src) if c == "E032"] == [
        ("E032", "50 CHF is not in the policy's currency EUR")
    ]


def test_a_contact_limit_without_a_window_is_refused():
    p = compiled(policy()).policy
    broken = dataclasses.replace(p, limits=ir.Limits(max_contacts=3))
    with pytest.raises(PolicyError) as exc:
        compile_policy(broken)
    assert [(d.code, d.message) for d in exc.value.diagnostics] == [
        ("E033", "a contact limit needs both a count and a window")
    ]


@pytest.mark.parametrize(
    ("condition", "consumers"),
    [
        ("balance == principal", True),
        ("balance + 1 EUR == principal + 1 EUR", True),
        ("customer.type == B2B and balance == principal", False),
        ("balance == principal and customer.type != B2C", False),
    ],
)
def test_a_comparison_without_customer_type_leaves_a_segment_open_to_consumers(
    condition: str, consumers: bool
):
    """Only `customer.type == B2B` (or `!= B2C`) closes a segment to consumers; comparing two
    facts, or two sums, says nothing about it — and must not trip the checker up."""
    segs = f"  segment b2b when {condition} use b2b\n" + SEGMENTS
    found = errors(b2b_policy("lump sum", segments=segs))
    assert [c for c, _ in found] == (["L002"] if consumers else [])


def test_zero_amounts_are_not_negative():
    """E033 is for amounts below zero: `minimum balance 0.00 EUR` and `balance > 0 EUR` are
    fine."""
    assert errors(policy(limits="    minimum balance 0.00 EUR")) == []
    assert (
        errors(policy(segments="  segment a when balance > 0 EUR use standard\n" + SEGMENTS)) == []
    )


@pytest.mark.parametrize(
    "approval", ["approval by 1", "approval by 2 when balance > 5000 EUR else 1"]
)
def test_a_court_order_with_one_approver_in_every_case_is_accepted(approval: str):
    """L007 wants at least one approver in every case; one is enough."""
    src = rewrite(
        policy(),
        '{ approval by 1; handover to "Inkasso GmbH" }',
        f"{{ {approval}; court order; wait }}",
    )
    assert errors(src) == []
