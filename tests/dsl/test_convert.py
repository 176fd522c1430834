"""`mahnwerk policy convert` loses nothing: text -> IR -> text/YAML -> IR is the identity.

Hypothesis builds random policies of every shape the readers can produce —
states with every kind of trigger and action, guards from random expression
trees (money, durations, dates, lists, nested and/or/not and arithmetic),
segments, limits, event rules and extra transitions — writes each in both
forms and reads it back.  Names come from the grammar's keywords and YAML's
traps (`on`, `no`, `yes`, `null`) too, since a contextual lexer and a YAML 1.1
reader are exactly where such a round trip breaks.
"""

from __future__ import annotations

import re
from datetime import time
from decimal import Decimal

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mahnwerk.dsl import ir
from mahnwerk.dsl.errors import Collector
from mahnwerk.dsl.expr import (
    ALIASES,
    FACTS,
    Binary,
    Duration,
    Expr,
    ListExpr,
    Lit,
    Money,
    Ref,
    Type,
    Unary,
    format_expr,
    grammar_parser,
    parse_expr,
)
from mahnwerk.dsl.text_reader import read_text
from mahnwerk.dsl.writers import to_text, to_yaml
from mahnwerk.dsl.yaml_reader import read_yaml

#: Every word the grammar spells out (`state`, `after`, `no`, `on`, ...).
KEYWORDS = sorted(
    {
        t.pattern.value
        for t in grammar_parser().terminals
        if t.pattern.type == "str" and re.fullmatch(r"[a-z_]+", t.pattern.value)
    }
)
#: Words YAML 1.1 (or 1.2) reads as something other than text.
YAML_TRAPS = ["yes", "Yes", "NO", "No", "ON", "Off", "OFF", "y", "n", "Y", "N", "null", "Null"]
YAML_TRAPS += ["NULL", "True", "FALSE", "nan", "inf", "transitions"]
CURRENCIES = ["EUR", "USD", "CHF", "GBP", "PLN", "CZK", "DKK", "SEK", "NOK"]
OPERATORS = ["and", "or", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "in", "not in"]

RUNS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def read_back_text(text: str) -> ir.Policy | None:
    c = Collector("converted.mahn")
    policy = read_text(text, "converted.mahn", c)
    assert not c.errors, "\n".join(d.render(text) for d in c.errors) + "\n\n" + text
    return policy


def read_back_yaml(text: str) -> ir.Policy | None:
    c = Collector("converted.yaml")
    policy = read_yaml(text, "converted.yaml", c)
    assert not c.errors, "\n".join(d.render(text) for d in c.errors) + "\n\n" + text
    return policy


# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------

#: Names where the grammar wants a NAME; keywords are tested on their own below.
names = st.one_of(
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,9}", fullmatch=True).filter(
        lambda n: n not in KEYWORDS
    ),
    st.sampled_from(YAML_TRAPS),
)
#: Free texts: titles, templates, agencies, the time zone; no line breaks.
texts = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=12
)
typical_texts = st.one_of(texts, st.sampled_from(["Zahlungserinnerung", "1. Mahnung", "a: b"]))
decimals = st.builds(
    lambda digits, exp: Decimal(digits).scaleb(exp), st.integers(0, 10**7), st.integers(-3, 2)
)
money = st.builds(Money, decimals, st.sampled_from(CURRENCIES))
days = st.builds(Duration, st.integers(0, 400), st.booleans())
signed_days = st.builds(Duration, st.integers(-400, 400), st.booleans())


def _negated(value: Decimal) -> Decimal:
    return -value


literals = st.one_of(
    st.builds(Lit, st.one_of(decimals, decimals.map(_negated)), st.just(Type.NUMBER)),
    st.builds(
        Lit,
        st.one_of(money, money.map(lambda m: Money(-m.amount, m.currency))),
        st.just(Type.MONEY),
    ),
    st.builds(Lit, signed_days, st.just(Type.DURATION)),
    st.builds(Lit, st.dates(), st.just(Type.DATE)),
    st.builds(Lit, st.booleans(), st.just(Type.BOOL)),
    st.builds(Lit, texts, st.just(Type.STRING)),
    st.builds(Lit, st.from_regex(r"[A-Z][A-Z0-9_]{0,4}", fullmatch=True), st.just(Type.STRING)),
)
#: Facts and aliases, plus a few words the contextual lexer must read as names.
refs = st.builds(
    Ref,
    st.sampled_from(
        sorted(FACTS) + sorted(ALIASES) + ["use", "when", "priority", "else", "in", "or"]
    ),
)


def _is_number_literal(e: Expr) -> bool:
    return isinstance(e, Lit) and e.type in (Type.NUMBER, Type.MONEY, Type.DURATION)


def _compound(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    return st.one_of(
        st.builds(Unary, st.just("not"), children),
        # the reader folds `-5` into a literal, so `-` never stands before one
        st.builds(Unary, st.just("-"), children.filter(lambda e: not _is_number_literal(e))),
        st.builds(Binary, st.sampled_from(OPERATORS), children, children),
        st.builds(ListExpr, st.lists(children, max_size=3).map(tuple)),
    )


exprs = st.recursive(st.one_of(literals, refs), _compound, max_leaves=8)
maybe_exprs = st.one_of(st.none(), exprs)


def _chain(parts: list[Expr], ops: list[str]) -> Expr:
    out = parts[0]
    for op, part in zip(ops, parts[1:], strict=False):
        out = Binary(op, out, part)
    return out


#: Long and/or chains, so the writers must cut conditions over several lines
#: (never inside a quoted text like "x and y").
long_conditions = st.integers(4, 9).flatmap(
    lambda n: st.builds(
        _chain,
        st.lists(
            st.one_of(
                exprs,
                st.builds(
                    Binary,
                    st.just("=="),
                    refs,
                    st.builds(Lit, st.just("Müller and Söhne or not"), st.just(Type.STRING)),
                ),
            ),
            min_size=n,
            max_size=n,
        ),
        st.lists(st.sampled_from(["and", "or"]), min_size=n, max_size=n),
    )
)
guards = st.one_of(st.none(), exprs, long_conditions)


@st.composite
def time_triggers(draw) -> ir.TimeTrigger:
    anchor = draw(st.sampled_from(list(ir.Anchor)))
    if anchor is ir.Anchor.STATE:
        return ir.TimeTrigger(draw(days), anchor, draw(names))
    return ir.TimeTrigger(draw(signed_days), anchor)


event_triggers = st.builds(ir.EventTrigger, st.sampled_from(list(ir.EventKind)))
triggers = st.one_of(time_triggers(), event_triggers)


@st.composite
def offers(draw) -> ir.Offer:
    if draw(st.booleans()):
        anchor = draw(st.sampled_from([ir.Anchor.DUE, ir.Anchor.ISSUE]))
        return ir.Offer(
            "discount",
            percent=draw(decimals),
            until=ir.TimeTrigger(draw(signed_days), anchor),
            when=draw(maybe_exprs),
        )
    if draw(st.booleans()):
        return ir.Offer(
            "skonto",
            percent=draw(decimals),
            within=draw(st.one_of(st.none(), days)),
            when=draw(maybe_exprs),
        )
    instalments = draw(st.one_of(st.none(), st.integers(2, 60)))
    return ir.Offer("payment_plan", instalments=instalments, when=draw(maybe_exprs))


@st.composite
def approvals(draw) -> ir.Approval:
    approvers = draw(st.integers(1, 5))
    when = draw(maybe_exprs)
    if when is None:  # `approval by 2`: the same number either way
        return ir.Approval(approvers, None, approvers)
    return ir.Approval(approvers, when, draw(st.integers(0, 5)))


def _some(strategy: st.SearchStrategy, most: int) -> st.SearchStrategy[list]:
    return st.lists(strategy, max_size=most)


@st.composite
def actions(draw) -> tuple:
    found: list = []
    found += draw(_some(st.builds(ir.Send, st.sampled_from(list(ir.Channel)), typical_texts), 2))
    found += draw(_some(offers(), 2))
    found += draw(_some(st.builds(ir.Fee, money), 1))
    found += draw(_some(st.just(ir.LumpSum()), 1))
    interest = st.one_of(
        st.just(ir.Interest(True, None)), st.builds(ir.Interest, st.just(False), decimals)
    )
    found += draw(_some(interest, 1))
    found += draw(_some(approvals(), 1))
    found += draw(_some(st.builds(ir.Notify, typical_texts), 2))
    found += draw(_some(st.just(ir.StopCredit()), 1))
    found += draw(_some(st.builds(ir.CreditReport, typical_texts), 2))
    found += draw(_some(st.just(ir.CourtOrder()), 1))
    found += draw(_some(st.builds(ir.Handover, typical_texts), 1))
    found += draw(_some(st.just(ir.WriteOff()), 1))
    return ir.canonical_actions(draw(st.permutations(found)))


states = st.builds(
    ir.State,
    name=names,
    trigger=triggers,
    actions=actions(),
    guard=guards,
    title=st.one_of(st.none(), typical_texts),
    sources=st.lists(names, max_size=3).map(tuple),
    manual=st.booleans(),
)


@st.composite
def transitions(draw) -> ir.Transition:
    source = draw(names)
    if draw(st.booleans()):
        trigger: ir.Trigger = ir.TimeTrigger(draw(days), ir.Anchor.STATE, source)
    else:
        trigger = draw(event_triggers)
    priority = draw(st.one_of(st.none(), st.integers(0, 1000)))
    return ir.Transition(source, draw(names), trigger, draw(maybe_exprs), priority)


ladders = st.builds(
    ir.Ladder,
    name=names,
    states=st.lists(states, max_size=4).map(tuple),
    transitions=st.lists(transitions(), max_size=2).map(tuple),
)
segments = st.builds(
    ir.Segment,
    name=names,
    ladder=names,
    when=guards,
    tone=st.one_of(st.none(), names),
    language=st.one_of(st.none(), names),
)


@st.composite
def handlers(draw) -> ir.Handler:
    event = draw(st.sampled_from(list(ir.EventKind)))
    action = draw(st.sampled_from(list(ir.HandlerAction)))
    if action in (ir.HandlerAction.STOP, ir.HandlerAction.GOTO):
        return ir.Handler(event, action, draw(names))
    if action is ir.HandlerAction.PAUSE:
        return ir.Handler(event, action, None, draw(maybe_exprs))
    return ir.Handler(event, action)


@st.composite
def limits(draw) -> ir.Limits:
    def maybe(strategy):
        return draw(st.one_of(st.none(), strategy))

    contacts = maybe(st.tuples(st.integers(1, 50), days))
    clocks = st.builds(time, st.integers(0, 23), st.integers(0, 59))
    quiet = st.builds(ir.QuietHours, st.sampled_from(list(ir.Channel)), clocks, clocks)
    return ir.Limits(
        minimum_balance=maybe(money),
        max_contacts=contacts[0] if contacts else None,
        contact_window=contacts[1] if contacts else None,
        letter_gap=maybe(days),
        quiet_hours=tuple(draw(st.lists(quiet, max_size=4))),
        fee_cap=maybe(money),
        fee_share=maybe(decimals),
        minimum_handover=maybe(money),
        payment_grace=maybe(days),
        residual=maybe(st.builds(ir.Residual, money, st.sampled_from(list(ir.ResidualAction)))),
        skonto_tolerance=maybe(money),
        late_skonto_letter=maybe(typical_texts),
        late_skonto_write_off=maybe(money),
        late_skonto_ladder=draw(st.booleans()),
    )


@st.composite
def calendars(draw) -> ir.Calendar:
    country = draw(names)
    kind = draw(st.sampled_from(["none", "region", "customer"]))
    if kind == "region":
        return ir.Calendar(country, region=draw(names))
    return ir.Calendar(country, region_from_customer=kind == "customer")


policies = st.builds(
    ir.Policy,
    name=typical_texts,
    version=st.integers(1, 10**6),
    currency=st.one_of(st.sampled_from(CURRENCIES), names),
    timezone=st.one_of(st.just("Europe/Berlin"), texts),
    calendar=calendars(),
    language=names,
    segments=st.lists(segments, max_size=3).map(tuple),
    ladders=st.lists(ladders, max_size=2).map(tuple),
    handlers=st.lists(handlers(), max_size=5).map(tuple),
    limits=limits(),
)


# ---------------------------------------------------------------------------
# The round trips
# ---------------------------------------------------------------------------


@RUNS
@given(policies)
def test_the_text_form_reads_back_to_the_same_policy(p: ir.Policy):
    assert read_back_text(to_text(p)) == p


@RUNS
@given(policies)
def test_the_yaml_form_reads_back_to_the_same_policy(p: ir.Policy):
    assert read_back_yaml(to_yaml(p)) == p


@RUNS
@given(policies)
def test_text_to_yaml_and_back_keeps_the_policy(p: ir.Policy):
    through_text = read_back_text(to_text(p))
    assert through_text is not None
    assert read_back_yaml(to_yaml(through_text)) == p


#: Keys whose values the YAML form writes as YAML numbers or booleans on purpose.
INTEGER_KEYS = {"version", "approvers", "otherwise", "instalments", "priority", "approval"}
FLAG_KEYS = {"lump_sum", "stop_credit", "court_order", "write_off", "wait"}


def _leaves(node, key=None):
    """(key, value) of every scalar in a loaded YAML tree; keys are checked on the way."""
    if isinstance(node, dict):
        for k, v in node.items():
            assert isinstance(k, str), f"the key {k!r} did not load as text"
            yield from _leaves(v, k)
    elif isinstance(node, list):
        for item in node:
            yield from _leaves(item, key)
    else:
        yield key, node


@RUNS
@given(policies)
def test_any_yaml_reader_sees_the_texts_we_wrote(p: ir.Policy):
    loaded = yaml.safe_load(to_yaml(p))  # YAML 1.1: `on`, `no`, `08:00`, `1e3` are traps
    events = loaded.pop("on", {})  # event names like `write_off` are no flags here
    assert [(e, type(rule)) for e, rule in events.items()] == [
        (e, str) for e in dict.fromkeys(h.event.value for h in p.handlers)
    ]
    for key, value in _leaves(loaded):
        if key in INTEGER_KEYS:
            assert type(value) is int, (key, value)
        elif key in FLAG_KEYS:
            assert value is True, (key, value)
        else:
            assert isinstance(value, str), (key, value)
    assert (loaded["policy"], loaded["currency"], loaded["language"]) == (
        p.name,
        p.currency,
        p.language,
    )
    assert loaded["calendar"]["country"] == p.calendar.country
    assert set(loaded["ladders"]) == {ladder.name for ladder in p.ladders}
    assert [s["name"] for s in loaded["segments"]] == [s.name for s in p.segments]
    ladder_names = [ladder.name for ladder in p.ladders]
    for ladder in p.ladders:
        if ladder_names.count(ladder.name) == 1:  # a name given twice loads as one key
            assert {s.name for s in ladder.states} <= set(loaded["ladders"][ladder.name] or ())


@RUNS
@given(exprs)
def test_every_condition_prints_to_source_that_reads_back_equal(e: Expr):
    c = Collector("condition")
    assert parse_expr(format_expr(e), c) == e, [d.message for d in c.items]


# ---------------------------------------------------------------------------
# Names that are keywords of the grammar or traps of YAML
# ---------------------------------------------------------------------------


def _policy_named(word: str, region: str = "BY") -> ir.Policy:
    """A small policy with `word` in every place that takes a name."""
    state = ir.State(
        word,
        ir.TimeTrigger(Duration(3), ir.Anchor.STATE, word),
        (ir.Send(ir.Channel.LETTER, word),),
        guard=Binary("==", Ref("customer.type"), Lit("B2C", Type.STRING)),
        sources=(word, word),
    )
    timed = ir.Transition(word, word, ir.TimeTrigger(Duration(3), ir.Anchor.STATE, word))
    on_event = ir.Transition(word, word, ir.EventTrigger(ir.EventKind.HOLD), priority=1)
    return ir.Policy(
        name=word,
        version=1,
        currency=word,
        timezone=word,
        calendar=ir.Calendar(word, region=region),
        language=word,
        segments=(ir.Segment(word, word, Ref("customer.vulnerable"), word, word),),
        ladders=(ir.Ladder(word, (state,), (timed, on_event)),),
        handlers=(
            ir.Handler(ir.EventKind.HOLD, ir.HandlerAction.GOTO, word),
            ir.Handler(ir.EventKind.INSOLVENCY, ir.HandlerAction.STOP, word),
        ),
    )


@pytest.mark.parametrize("word", KEYWORDS + YAML_TRAPS)
def test_a_keyword_or_yaml_trap_works_as_a_name_in_both_forms(word: str):
    p = _policy_named(word, region=word if word != "from" else "BY")
    assert read_back_text(to_text(p)) == p
    assert read_back_yaml(to_yaml(p)) == p


def test_a_region_called_from_cannot_be_written_as_text():
    # `calendar DE region from` would read as the start of `region from customer`
    with pytest.raises(ValueError, match="'from'"):
        to_text(_policy_named("x", region="from"))


@pytest.mark.parametrize("word", ["not", "true", "false"])
def test_words_of_the_condition_language_are_no_fact_names(word: str):
    # the one place a keyword cannot be a name: a fact in a condition
    c = Collector("condition")
    assert parse_expr(word, c) != Ref(word)


# ---------------------------------------------------------------------------
# What the writers refuse rather than write wrongly
# ---------------------------------------------------------------------------

BASE = _policy_named("standard")


def _with_state(**changes) -> ir.Policy:
    ladder = BASE.ladders[0]
    state = ir.State(**{**_state_fields(ladder.states[0]), **changes})
    return ir.Policy(**{**_policy_fields(BASE), "ladders": (ir.Ladder(ladder.name, (state,)),)})


def _state_fields(state: ir.State) -> dict:
    return {f: getattr(state, f) for f in ir.State.__dataclass_fields__}


def _policy_fields(policy: ir.Policy) -> dict:
    return {f: getattr(policy, f) for f in ir.Policy.__dataclass_fields__}


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        (_with_state(name="mahnung 1"), "is not a name"),
        (_with_state(title="two\nlines"), "line break"),
        (_with_state(trigger=ir.TimeTrigger(Duration(-3), ir.Anchor.STATE, "a")), "negative"),
        (_with_state(actions=(ir.Interest(True, Decimal(9)),)), "statutory or"),
        (_with_state(actions=(ir.Offer("bargain"),)), "unknown kind of offer"),
        (_with_state(actions=(ir.Offer("discount", percent=Decimal(2)),)), "a last day"),
        (_with_state(actions=(ir.Approval(0),)), "approvers must be a whole number ≥ 1"),
        (_with_state(actions=(ir.Offer("payment_plan", instalments=1),)), "≥ 2, not 1"),
    ],
)
def test_the_writers_refuse_what_no_reader_could_have_produced(policy, message):
    for write in (to_text, to_yaml):
        with pytest.raises(ValueError, match=message):
            write(policy)


def test_the_yaml_form_refuses_two_fees_in_one_state():
    fees = (ir.Fee(Money(Decimal(1))), ir.Fee(Money(Decimal(2))))
    with pytest.raises(ValueError, match="one Fee per state"):
        to_yaml(_with_state(actions=fees))
