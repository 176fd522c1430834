"""The policy checker: every structural problem of a file at once, each at the
user's own text (unknown names, unreachable states, states with no way out,
cycles of time triggers, triggers that fire together with no priority, type
errors in conditions).  The legal lints are its `compile_lints` part.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

import networkx as nx

from mahnwerk.dsl import conditions, ir
from mahnwerk.dsl.compile_graph import Rule, build_graph
from mahnwerk.dsl.compile_lints import _LegalLints
from mahnwerk.dsl.errors import Collector
from mahnwerk.dsl.expr import (
    Expr,
    Type,
    check_expr,
    format_expr,
)


class _Checker(_LegalLints):
    def __init__(self, policy: ir.Policy, c: Collector, templates: set[str] | None):
        self.p = policy
        self.c = c
        self.templates = templates
        self.graphs: dict[str, nx.DiGraph] = {}  # built while checking, reused by the compiler

    def run(self) -> None:
        self.check_names()
        self.check_segments()
        for ladder in self.p.ladders:
            self.check_ladder(ladder)
        self.check_handlers()
        self.check_limits()
        self.check_expressions()
        if not self.c.errors:
            self.check_conditions()
        self.check_money()
        self.legal_lints()

    # names -----------------------------------------------------------------
    def _duplicates(self, items: Iterable[Any], what: str) -> None:
        seen: dict[str, Any] = {}
        for item in items:
            if item.name in seen:
                first = seen[item.name].span
                self.c.error(
                    item.span,
                    f"{what} {item.name!r} is defined twice (first at line {first.line})",
                    hint="rename one of them or merge them",
                    code="E020",
                )
            else:
                seen[item.name] = item

    def check_names(self) -> None:
        self._duplicates(self.p.segments, "segment")
        self._duplicates(self.p.ladders, "ladder")
        for ladder in self.p.ladders:
            self._duplicates(ladder.states, "state")
            for state in ladder.states:
                if state.name in ir.RESERVED_STATE_NAMES:
                    self.c.error(
                        state.span,
                        f"{state.name!r} is a built-in state and cannot be a ladder step",
                        hint="choose another name, e.g. " + f"{state.name}_step",
                        code="E020",
                    )

    def check_segments(self) -> None:
        ladders = {ladder.name for ladder in self.p.ladders}
        if not self.p.segments:
            self.c.error(
                self.p.span,
                "the policy has no segments",
                hint="add at least a default segment: `segment default use <ladder>`",
                code="E022",
            )
        default_seen: ir.Segment | None = None
        for seg in self.p.segments:
            if seg.ladder not in ladders:
                self.c.error(
                    seg.span,
                    f"segment {seg.name!r} uses the unknown ladder {seg.ladder!r}",
                    hint=_hint(seg.ladder, ladders),
                    code="E021",
                )
            if default_seen is not None:
                self.c.error(
                    seg.span,
                    f"segment {seg.name!r} comes after the default segment "
                    f"{default_seen.name!r} and can never match",
                    hint="move the default segment (the one without `when`) to the end",
                    code="E023",
                )
            if seg.when is None and default_seen is None:
                default_seen = seg
        if self.p.segments and default_seen is None:
            self.c.error(
                self.p.segments[-1].span,
                "no default segment: an invoice matching no segment would never be dunned",
                hint="add a last segment without a condition: `segment default use <ladder>`",
                code="E022",
            )
        used = {s.ladder for s in self.p.segments}
        for ladder in self.p.ladders:
            if ladder.name not in used:
                self.c.warning(
                    ladder.span, f"ladder {ladder.name!r} is used by no segment", code="W013"
                )

    def check_ladder(self, ladder: ir.Ladder) -> None:
        errors_before = len(self.c.errors)
        names = {s.name for s in ladder.states}
        known_sources = names | {ir.INITIAL_STATE}
        if not ladder.states:
            self.c.error(ladder.span, f"ladder {ladder.name!r} has no states", code="E025")
            return
        for state in ladder.states:
            t = state.trigger
            if isinstance(t, ir.TimeTrigger) and t.anchor is ir.Anchor.STATE:
                if t.state not in known_sources:
                    self.c.error(
                        t.span,
                        f"unknown state {t.state!r} in ladder {ladder.name!r}",
                        hint=_hint(t.state or "", names),
                        code="E021",
                    )
                elif t.state == state.name:
                    self.c.error(t.span, "a state cannot be timed on itself", code="E026")
                if t.offset.days < 0:
                    self.c.error(t.span, "time in a state cannot be negative", code="E033")
            for src in state.sources:
                if src not in known_sources:
                    self.c.error(
                        state.span,
                        f"unknown source state {src!r}",
                        hint=_hint(src, names),
                        code="E021",
                    )
            for action in state.actions:
                self.check_action(state, action)
        for t in ladder.transitions:
            for name in (t.source, t.target):
                if name not in known_sources | ir.TERMINAL_NAMES:
                    self.c.error(
                        t.span,
                        f"unknown state {name!r} in a transition",
                        hint=_hint(name, names),
                        code="E021",
                    )
        if len(self.c.errors) > errors_before or len(names) != len(ladder.states):
            return  # the graph checks need this ladder's names to be consistent
        g = build_graph(self.p, ladder)
        self.graphs[ladder.name] = g
        self.check_reachability(ladder, g)
        self.check_time_cycles(ladder, g)
        self.check_ambiguity(ladder, g)

    def check_action(self, state: ir.State, action: Any) -> None:
        if isinstance(action, ir.Send) and self.templates is not None:
            if action.template not in self.templates:
                self.c.error(
                    action.span,
                    f"unknown template {action.template!r}",
                    hint=_hint(action.template, self.templates),
                    code="E021",
                )
        if isinstance(action, ir.Offer):
            if action.kind == "skonto" and not (Decimal(0) < (action.percent or 0) < 100):
                self.c.error(action.span, "a Skonto must be between 0 % and 100 %", code="E033")
            if action.kind == "discount":
                self.check_discount(state, action)
        if isinstance(action, ir.Approval):
            if action.approvers < 1:
                self.c.error(action.span, "an approval needs at least one approver", code="E033")

    def check_discount(self, state: ir.State, action: ir.Offer) -> None:
        """`offer discount P % until …` (issue 19): a real discount, still open when offered."""
        if not Decimal(0) < (action.percent or 0) < 100:
            self.c.error(
                action.span,
                f"a discount must be between 0 % and 100 %, not {action.percent} %",
                hint="write e.g. `offer discount 2 % until 7d after due`",
                code="E033",
            )
        until, trigger = action.until, state.trigger
        if (
            until is not None
            and isinstance(trigger, ir.TimeTrigger)
            and trigger.anchor is until.anchor
            and trigger.offset.days > until.offset.days
            and not (trigger.offset.business or until.offset.business)
        ):
            self.c.error(
                action.span,
                f"the discount ends {until.offset.days}d from {until.anchor.value}, before "
                f"state {state.name!r} is entered ({trigger.offset.days}d): it is never offered",
                hint=f"let it run at least until {trigger.offset.days}d after "
                f"{until.anchor.value}, or offer it in an earlier state",
                code="E034",
            )

    def check_reachability(self, ladder: ir.Ladder, g: nx.DiGraph) -> None:
        # Reachable along the ladder's own rules: handler `goto` edges don't count,
        # or every state would be "reachable" through an event that may never come.
        own = nx.DiGraph()
        own.add_nodes_from(g.nodes)
        for u, v, data in g.edges(data=True):
            if any(r.kind in ("ladder", "transition", "auto") for r in data["rules"]):
                own.add_edge(u, v)
        reachable = nx.descendants(own, ir.INITIAL_STATE) | {ir.INITIAL_STATE}
        for state in ladder.states:
            if state.name not in reachable:
                self.c.error(
                    state.span,
                    f"state {state.name!r} can never be reached",
                    hint="check its trigger: `after ... in <state>` must name a reachable state",
                    code="E024",
                )
            out = [v for v in own.successors(state.name)]
            if not out and not state.manual:
                self.c.error(
                    state.span,
                    f"state {state.name!r} has no way out: invoices would stay there forever",
                    hint="add a next state, a `handover`/`write off`, "
                    "or `wait` if a person decides what happens next",
                    code="E025",
                )

    def check_time_cycles(self, ladder: ir.Ladder, g: nx.DiGraph) -> None:
        timed = nx.DiGraph()
        for u, v, data in g.edges(data=True):
            if any(isinstance(r.trigger, ir.TimeTrigger) for r in data["rules"]):
                timed.add_edge(u, v)
        try:
            cycle = nx.find_cycle(timed)
        except nx.NetworkXNoCycle:
            return
        names = [u for u, _ in cycle]
        closing = _closing_rule(ladder, g, cycle)
        start = names.index(closing.target)
        names = names[start:] + names[:start]
        self.c.error(
            closing.span,
            "time triggers form a cycle: "
            + " -> ".join(names + [names[0]])
            + f" (this rule leads back to {closing.target!r})",
            hint="an invoice would move around this loop forever; end it in a state "
            "that waits or escalates",
            code="E026",
        )

    def check_ambiguity(self, ladder: ir.Ladder, g: nx.DiGraph) -> None:
        by_source: dict[tuple[str, Any], list[Rule]] = {}
        for _, _, data in g.edges(data=True):
            for r in data["rules"]:
                if r.kind not in ("ladder", "transition"):
                    continue
                if isinstance(r.trigger, ir.EventTrigger):
                    key: Any = ("event", r.trigger.event)
                elif isinstance(r.trigger, ir.TimeTrigger):
                    t = r.trigger
                    key = ("time", t.anchor, t.state, t.offset)
                else:
                    continue
                by_source.setdefault((r.source, key), []).append(r)
        explicit = {t.span for t in ladder.transitions if t.priority is not None}
        for (source, _key), rules in by_source.items():
            for i, a in enumerate(rules):
                for b in rules[i + 1 :]:
                    same_prio = a.priority == b.priority
                    unguarded = a.guard is None and b.guard is None
                    together = conditions.both(a.guard, b.guard) is not False
                    if a.target != b.target and not unguarded and together and not same_prio:
                        if not {a.span, b.span} & explicit:
                            self._overlap(source, a, b)
                            continue
                    if a.target != b.target and (same_prio and together or unguarded):
                        later = max(a, b, key=lambda r: (r.span.line, r.span.col))
                        other = a if later is b else b
                        self.c.error(
                            later.span,
                            f"from {source!r} this fires together with the rule at line "
                            f"{other.span.line} (to {other.target!r}) and nothing says "
                            "which goes first",
                            hint="give one a `when` condition, other timing or a `priority`",
                            code="E027",
                        )

    def _overlap(self, source: str, a: Rule, b: Rule) -> None:
        later = max(a, b, key=lambda r: (r.span.line, r.span.col))
        other = a if later is b else b
        guards = " and ".join(
            f"`{format_expr(r.guard)}`" if r.guard is not None else "(no condition)"
            for r in (other, later)
        )
        self.c.error(
            later.span,
            f"from {source!r} this and the rule at line {other.span.line} (to {other.target!r}) "
            f"can both hold — {guards} — and nothing says which goes first",
            hint="make the conditions exclude each other, or give the transition a `priority`",
            code="E037",
        )

    def check_conditions(self) -> None:
        """Conditions that can never hold, and segments an earlier segment shadows."""
        for expr, want in self._expressions():
            if want is Type.BOOL and conditions.satisfiable(expr) is False:
                self.c.error(
                    expr.span,
                    "this condition can never hold: " + conditions.explain_conflict(expr),
                    hint="check the comparisons: did you mean `or`, or the other direction?",
                    code="E029",
                )
        earlier: list[ir.Segment] = []
        for seg in self.p.segments:
            if seg.when is None:
                break
            if earlier and conditions.satisfiable(seg.when) is not False:
                self._shadowed(seg, earlier)
            earlier.append(seg)

    def _shadowed(self, seg: ir.Segment, earlier: list[ir.Segment]) -> None:
        if conditions.covered(seg.when, [e.when for e in earlier]) is not True:
            return
        alone = [e for e in earlier if conditions.covered(seg.when, [e.when]) is True]
        blamed = alone[:1] or [e for e in earlier if conditions.both(seg.when, e.when)]
        names = ", ".join(
            f"segment {e.name!r} (line {e.span.line}: `{format_expr(e.when)}`)" for e in blamed
        )
        self.c.error(
            seg.span,
            f"segment {seg.name!r} can never match: every customer with "
            f"`{format_expr(seg.when)}` already matches {names}",
            hint=f"move segment {seg.name!r} above {blamed[0].name!r}, or narrow the earlier "
            "condition",
            code="E028",
        )

    def check_handlers(self) -> None:
        seen: dict[ir.EventKind, ir.Handler] = {}
        states = {s.name for ladder in self.p.ladders for s in ladder.states}
        for h in self.p.handlers:
            if h.event in seen:
                self.c.error(
                    h.span,
                    f"two rules for the event {h.event.value!r} "
                    f"(the other at line {seen[h.event].span.line})",
                    code="E020",
                )
            seen[h.event] = h
            if h.action is ir.HandlerAction.STOP and h.target not in ir.TERMINAL_NAMES:
                self.c.error(
                    h.span,
                    f"`stop` must end in a terminal state, not {h.target!r}",
                    hint="one of: " + ", ".join(sorted(ir.TERMINAL_NAMES)),
                    code="E021",
                )
            if h.action is ir.HandlerAction.GOTO:
                missing = [
                    ladder.name
                    for ladder in self.p.ladders
                    if h.target not in {s.name for s in ladder.states}
                ]
                if h.target not in states:
                    self.c.error(
                        h.span,
                        f"unknown state {h.target!r}",
                        hint=_hint(h.target or "", states),
                        code="E021",
                    )
                elif missing:
                    self.c.error(
                        h.span,
                        f"state {h.target!r} does not exist in ladder(s) {', '.join(missing)}",
                        hint="a policy-wide `goto` needs its target in every ladder",
                        code="E021",
                    )
        if ir.EventKind.INSOLVENCY not in seen:
            self.c.warning(
                self.p.span,
                "no rule for `insolvency`: the engine stops all dunning on insolvency anyway "
                "(§§ 87, 89 InsO), but say so in the policy: `on insolvency stop -> insolvent`",
                code="W010",
            )
        if ir.EventKind.DISPUTE_OPENED not in seen:
            self.c.warning(
                self.p.span,
                "no rule for `dispute_opened`: the engine pauses disputed invoices anyway",
                code="W011",
            )

    def check_expressions(self) -> None:
        for expr, want in self._expressions():
            check_expr(expr, self.c, want)

    def _expressions(self) -> Iterator[tuple[Expr, Type]]:
        for seg in self.p.segments:
            if seg.when is not None:
                yield seg.when, Type.BOOL
        for ladder in self.p.ladders:
            for state in ladder.states:
                if state.guard is not None:
                    yield state.guard, Type.BOOL
                for action in state.actions:
                    when = getattr(action, "when", None)
                    if when is not None:
                        yield when, Type.BOOL
            for t in ladder.transitions:
                if t.guard is not None:
                    yield t.guard, Type.BOOL
        for h in self.p.handlers:
            if h.until is not None:
                yield h.until, Type.DATE


def _closing_rule(ladder: ir.Ladder, g: nx.DiGraph, cycle: list) -> Rule:
    """The time rule of `cycle` that leads back: to a state no later in the ladder's order."""
    order = {ir.INITIAL_STATE: -1} | {s.name: i for i, s in enumerate(ladder.states)}
    edges = []
    for u, v, *_ in cycle:
        for r in g.edges[u, v]["rules"]:
            if isinstance(r.trigger, ir.TimeTrigger):
                edges.append(r)
    back = [r for r in edges if order.get(r.target, 0) <= order.get(r.source, 0)]
    return max(back or edges, key=lambda r: (r.kind == "transition", r.span.line, r.span.col))


def _hint(name: str, known: Iterable[str]) -> str:
    import difflib

    known = sorted(known)
    near = difflib.get_close_matches(name, known, n=1)
    if near:
        return f"did you mean {near[0]!r}?"
    if known:
        return "known: " + ", ".join(known[:12])
    return "none are defined"
