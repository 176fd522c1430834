"""The compiled form of a policy: a `Rule` (trigger, guard, priority and source
position of one way out of a state), the `CompiledPolicy`, and the state graph
built from a ladder (the engine walks its rules, `render` draws it).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

import networkx as nx

from mahnwerk.dsl import ir
from mahnwerk.dsl.errors import Diagnostic, Span
from mahnwerk.dsl.expr import (
    Expr,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Rule:
    """One way to move an invoice from `source` to `target`.

    `kind` is `ladder` (a state's own trigger), `transition` (an explicit
    extra edge), `handler` (a policy-wide `on <event>` rule), `builtin`
    (full payment ends in `paid`) or `auto` (a handover ends `handed_over`).
    Among rules that fire together, the highest `priority` wins.
    """

    source: str
    target: str
    kind: str
    trigger: ir.Trigger | None
    guard: Expr | None
    priority: int
    span: Span
    handler: ir.Handler | None = None

    @property
    def event(self) -> ir.EventKind | None:
        return self.trigger.event if isinstance(self.trigger, ir.EventTrigger) else None


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """A checked policy and its graphs; immutable and shared by every invoice."""

    policy: ir.Policy
    graphs: MappingProxyType  # segment name -> nx.DiGraph (frozen)
    ladder_graphs: MappingProxyType  # ladder name -> nx.DiGraph (frozen)
    warnings: tuple[Diagnostic, ...]
    source: str = field(repr=False)
    sha256: str = ""
    #: (segment, state) -> its outgoing rules, highest priority first; the engine's hot path
    outgoing: MappingProxyType = field(default_factory=lambda: MappingProxyType({}), repr=False)
    #: (segment, state) -> the ladder's `ir.State` (not the terminal states): the step asks
    #: for it several times per invoice, and the graph library's node views cost ~10x a dict
    states: MappingProxyType = field(default_factory=lambda: MappingProxyType({}), repr=False)
    #: what the engine derives from the policy once and reads per invoice (`derived`)
    _derived: dict = field(init=False, default_factory=dict, compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.policy.name

    def graph(self, segment: str) -> nx.DiGraph:
        return self.graphs[segment]

    def rules_from(self, segment: str, state: str) -> tuple[Rule, ...]:
        """Every rule leaving `state` in `segment`'s graph, highest priority first."""
        return self.outgoing.get((segment, state), ())

    def derived(self, key: Hashable, build: Callable[[], T]) -> T:
        """`build()`, made once per compiled policy and `key`: the engine's per-invoice
        questions about the policy itself (which facts the segments read, a ladder prepared
        for the D9 look-ahead) are answered once, not for every invoice of the run."""
        try:
            return self._derived[key]
        except KeyError:
            value = self._derived[key] = build()
            return value


def state_sources(ladder: ir.Ladder, index: int) -> tuple[str, ...]:
    """Where the ladder's `index`-th state can be entered from.

    An explicit `from` wins.  `14d in X` comes from X.  A state timed on the
    due or issue date comes from the state before it *and* from every earlier
    state that is timed on those dates too (and `open`): an invoice imported
    already 20 days overdue goes straight to the step due on that day instead
    of receiving a pre-due note after the fact.  An event-entered state can be
    entered from any earlier state.
    """
    state = ladder.states[index]
    if state.sources:
        return state.sources
    trigger = state.trigger
    if isinstance(trigger, ir.TimeTrigger) and trigger.anchor is ir.Anchor.STATE:
        return (trigger.state or "",)
    previous = [ir.INITIAL_STATE] + [s.name for s in ladder.states[:index]]
    if isinstance(trigger, ir.EventTrigger):
        return tuple(previous)
    out = [ir.INITIAL_STATE]
    for earlier in ladder.states[:index]:
        t = earlier.trigger
        if isinstance(t, ir.TimeTrigger) and t.anchor is not ir.Anchor.STATE:
            out.append(earlier.name)
    if previous[-1] not in out:
        out.append(previous[-1])
    return tuple(out)


def ladder_rules(policy: ir.Policy, ladder: ir.Ladder) -> Iterator[Rule]:
    """Every rule of one ladder, before any checking of names."""
    n = len(ladder.states)
    for i, state in enumerate(ladder.states):
        for source in state_sources(ladder, i):
            yield Rule(
                source, state.name, "ladder", state.trigger, state.guard, 100 + i, state.span
            )
        for action in state.actions:
            if isinstance(action, ir.Handover):
                target = ir.Terminal.HANDED_OVER.value
                yield Rule(state.name, target, "auto", None, None, 1000, action.span)
            elif isinstance(action, ir.WriteOff):
                target = ir.Terminal.WRITTEN_OFF.value
                yield Rule(state.name, target, "auto", None, None, 1000, action.span)
    for t in ladder.transitions:
        prio = t.priority if t.priority is not None else 100 + n
        yield Rule(t.source, t.target, "transition", t.trigger, t.guard, prio, t.span)
    movable = [ir.INITIAL_STATE] + [s.name for s in ladder.states]
    for h in policy.handlers:
        trigger = ir.EventTrigger(h.event, h.span)
        if h.action is ir.HandlerAction.STOP and h.target:
            for s in movable:
                yield Rule(s, h.target, "handler", trigger, None, 50, h.span, h)
        elif h.action is ir.HandlerAction.GOTO and h.target:
            for s in movable:
                if s != h.target:
                    yield Rule(s, h.target, "handler", trigger, None, 50, h.span, h)
        elif h.action is ir.HandlerAction.PAUSE:
            for s in movable:
                yield Rule(s, ir.PAUSED_STATE, "handler", trigger, h.until, 50, h.span, h)
    if not any(h.event is ir.EventKind.PAYMENT_FULL for h in policy.handlers):
        paid = ir.EventTrigger(ir.EventKind.PAYMENT_FULL, ladder.span)
        for s in movable:
            yield Rule(s, ir.Terminal.PAID.value, "builtin", paid, None, 10, ladder.span)


def build_graph(policy: ir.Policy, ladder: ir.Ladder) -> nx.DiGraph:
    g = nx.DiGraph(policy=policy.name, ladder=ladder.name)
    g.add_node(ir.INITIAL_STATE, kind="initial", title="offen", span=ladder.span, state=None)
    for state in ladder.states:
        g.add_node(
            state.name,
            kind="manual" if state.manual else "step",
            title=state.title or state.name,
            span=state.span,
            state=state,
        )
    for rule in ladder_rules(policy, ladder):
        for node in (rule.source, rule.target):
            if node not in g:
                kind = "pause" if node == ir.PAUSED_STATE else "terminal"
                g.add_node(node, kind=kind, title=node, span=rule.span, state=None)
        if g.has_edge(rule.source, rule.target):
            g.edges[rule.source, rule.target]["rules"].append(rule)
        else:
            g.add_edge(rule.source, rule.target, rules=[rule])
    return g
