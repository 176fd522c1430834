"""Checks a policy IR and builds one state graph per customer segment.

    read (yaml_reader | text_reader) -> ir.Policy -> check -> CompiledPolicy

The checker reports every problem of a file at once, each at the user's own
text: unknown names, unreachable states, states with no way out, cycles of
time triggers, triggers that fire together with no priority, type errors in
conditions, and the legal lints a policy alone reveals (§ 288 Abs. 5 BGB lump
sum for consumers, interest above the statutory rate, fees above the cap,
court or credit-bureau steps without a person's approval).

The graph of a segment has the ladder's states as nodes plus `open` (where
every invoice starts), the terminals and `paused`; an edge carries the list of
`Rule`s that can move an invoice along it, each with its trigger, guard,
priority and source position.  The engine walks these rules; `render` draws
them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import networkx as nx

from mahnwerk.dsl import conditions, ir, statute
from mahnwerk.dsl.errors import Collector, Diagnostic, PolicyError, Span
from mahnwerk.dsl.expr import (
    Binary,
    Expr,
    ListExpr,
    Lit,
    Money,
    Ref,
    Type,
    Unary,
    check_expr,
    format_expr,
)

#: B1: the consumer fee cap per letter as money, for messages (the number: `dsl/statute.py`).
CONSUMER_FEE_CAP = Money(statute.CONSUMER_FEE_CAP, "EUR")

#: Issue 11: the largest residual tolerance a policy may set.  The tolerance is for cents left
#: by rounding or a payment a little short; a larger waiver is a person's decision.
MAX_RESIDUAL_TOLERANCE = Decimal("10.00")

TEXT_SUFFIXES = {".mahn", ".txt", ".policy"}
YAML_SUFFIXES = {".yaml", ".yml"}


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

    @property
    def name(self) -> str:
        return self.policy.name

    def graph(self, segment: str) -> nx.DiGraph:
        return self.graphs[segment]

    def rules_from(self, segment: str, state: str) -> tuple[Rule, ...]:
        """Every rule leaving `state` in `segment`'s graph, highest priority first."""
        return self.outgoing.get((segment, state), ())


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def read_policy(source: str, path: str, collector: Collector) -> ir.Policy | None:
    """Read either syntax, chosen by the file's suffix (or its first word)."""
    suffix = Path(path).suffix.lower()
    if suffix in YAML_SUFFIXES or (
        suffix not in TEXT_SUFFIXES and not source.lstrip().startswith("policy ")
    ):
        from mahnwerk.dsl.yaml_reader import read_yaml

        return read_yaml(source, path, collector)
    from mahnwerk.dsl.text_reader import read_text

    return read_text(source, path, collector)


def load_policy(path: str | Path, known_templates: Iterable[str] | None = None) -> CompiledPolicy:
    """Read, check and compile the policy file at `path`; raise `PolicyError` on errors."""
    return compile_source(read_policy_source(path), str(path), known_templates)


POLICY_MAX_BYTES = 256 * 1024
"""The largest policy file read.  The shipped policies are 7–16 KB; a 480 KB policy of 5,000
segments takes about 10 s and 150 MB to check here, a 10 MB one took 51 s and 1.2 GB."""


def read_policy_source(path: str | Path) -> str:
    """A policy file's text; a file that is missing, too large or not UTF-8 is a located
    `PolicyError`."""
    path = str(path)
    try:
        if (size := Path(path).stat().st_size) > POLICY_MAX_BYTES:
            raise PolicyError(
                [
                    _io_error(
                        path,
                        f"the policy file is {size // 1024:,} KB, more than the limit of "
                        f"{POLICY_MAX_BYTES // 1024} KB for one policy; split it into "
                        "policies deployed with --for, or generate fewer segments",
                    )
                ]
            )
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise PolicyError([_io_error(path, f"cannot read the policy: {exc.strerror}")]) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PolicyError(
            [_io_error(path, "the file is not UTF-8 text; save it as UTF-8", line)]
        ) from None


def _io_error(path: str, message: str, line: int = 1) -> Diagnostic:
    return Diagnostic("error", Span(path, line, 1), message, code="E000")


def compile_source(
    source: str, path: str, known_templates: Iterable[str] | None = None
) -> CompiledPolicy:
    collector = Collector(path, source)
    policy = read_policy(source, path, collector)
    collector.raise_if_errors()
    assert policy is not None
    return compile_policy(policy, source, collector, known_templates)


def compile_policy(
    policy: ir.Policy,
    source: str = "",
    collector: Collector | None = None,
    known_templates: Iterable[str] | None = None,
) -> CompiledPolicy:
    """Check `policy` and build its graphs; raise `PolicyError` listing every error."""
    c = collector or Collector(policy.path, source or None)
    templates = set(known_templates) if known_templates is not None else None
    checker = _Checker(policy, c, templates)
    checker.run()
    c.raise_if_errors()
    ladder_graphs = {
        ladder.name: _freeze(checker.graphs.get(ladder.name) or build_graph(policy, ladder))
        for ladder in policy.ladders
    }
    graphs = {}
    for segment in policy.segments:
        # A read-only view of the ladder's graph with the segment's own name on it.
        view = nx.subgraph_view(ladder_graphs[segment.ladder])
        view.graph = {**ladder_graphs[segment.ladder].graph, "segment": segment.name}
        graphs[segment.name] = view
    per_ladder = {name: _outgoing(g) for name, g in ladder_graphs.items()}
    outgoing = {
        (segment.name, state): rules
        for segment in policy.segments
        for state, rules in per_ladder[segment.ladder].items()
    }
    return CompiledPolicy(
        policy=policy,
        graphs=MappingProxyType(graphs),
        ladder_graphs=MappingProxyType(ladder_graphs),
        warnings=tuple(c.warnings),
        source=source,
        sha256=hashlib.sha256(source.encode("utf-8")).hexdigest(),
        outgoing=MappingProxyType(outgoing),
    )


def _outgoing(g: nx.DiGraph) -> dict[str, tuple[Rule, ...]]:
    out: dict[str, tuple[Rule, ...]] = {}
    for node in g.nodes:
        rules = [r for _, _, data in g.out_edges(node, data=True) for r in data["rules"]]
        out[node] = tuple(sorted(rules, key=lambda r: -r.priority))
    return out


def _freeze(g: nx.DiGraph) -> nx.DiGraph:
    return nx.freeze(g)


# ---------------------------------------------------------------------------
# Graph construction
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------


class _Checker:
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
            "time triggers form a cycle: " + " -> ".join(names + [names[0]])
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

    def check_limits(self) -> None:
        lim = self.p.limits
        if (lim.max_contacts is None) != (lim.contact_window is None):
            self.c.error(lim.span, "a contact limit needs both a count and a window", code="E033")
        if lim.letter_gap is not None and lim.letter_gap.days < statute.LETTER_GAP_MIN_DAYS:
            self.c.error(
                lim.at("letter_gap"),
                f"letters {lim.letter_gap} apart is too close: at least "
                f"{statute.LETTER_GAP_MIN_DAYS} days (D4)",
                code="L004",
            )
        for qh in lim.quiet_hours:
            if qh.channel in ir.PAPER:
                self.c.warning(qh.span, "quiet hours do not apply to letters", code="W012")
        if lim.fee_share is not None and not (Decimal(0) <= lim.fee_share <= 100):
            self.c.error(lim.span, "the fee share must be between 0 % and 100 %", code="E033")
        self.check_residual(lim)

    def check_residual(self, lim: ir.Limits) -> None:
        """Issue 11: a residual tolerance is for cents, and `ask` needs a letter to ask in."""
        residual = lim.residual
        if residual is None:
            return
        at = lim.at("residual")
        if residual.tolerance.amount > MAX_RESIDUAL_TOLERANCE:
            self.c.error(
                at,
                f"a residual tolerance of {residual.tolerance} is more than "
                f"{MAX_RESIDUAL_TOLERANCE} {self.p.currency}: a tolerance is for cents left by "
                "rounding or a payment a little short, and the engine waives it unasked",
                hint="lower it (the default is "
                f"{statute.DEFAULT_RESIDUAL_TOLERANCE} {self.p.currency}); larger amounts are "
                "written off by a person (`mahnwerk event write-off`)",
                code="L009",
            )
        if residual.action is ir.ResidualAction.ASK and not any(
            isinstance(action, ir.Send) and action.channel in ir.WRITTEN
            for ladder in self.p.ladders
            for state in ladder.states
            for action in state.actions
        ):
            self.c.error(
                at,
                "`ask in next letter`, but no state of this policy sends a letter or an e-mail "
                "to ask in",
                hint="write `residual up to … write off`, or add a letter to a ladder",
                code="E038",
            )

    # expressions -------------------------------------------------------------
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

    def check_money(self) -> None:
        for span, money in self._amounts():
            if money.currency != self.p.currency:
                self.c.error(
                    span,
                    f"{money} is not in the policy's currency {self.p.currency}",
                    code="E032",
                )
            if money.amount < 0:
                self.c.error(span, f"an amount cannot be negative here: {money}", code="E033")

    def _amounts(self) -> Iterator[tuple[Span, Money]]:
        lim = self.p.limits
        for key in (
            "minimum_balance",
            "fee_cap",
            "minimum_handover",
            "skonto_tolerance",
            "late_skonto_write_off",
        ):
            value = getattr(lim, key)
            if value is not None:
                yield lim.at(key), value
        if lim.residual is not None:
            yield lim.at("residual"), lim.residual.tolerance
        for ladder in self.p.ladders:
            for state in ladder.states:
                for action in state.actions:
                    if isinstance(action, ir.Fee):
                        yield action.span, action.amount
        for expr, _ in self._expressions():
            for lit in _literals(expr):
                if lit.type is Type.MONEY:
                    yield lit.span, lit.value

    # legal lints -------------------------------------------------------------
    def legal_lints(self) -> None:
        consumer_ladders = {s.ladder for s in self.p.segments if may_hold_consumers(s)}
        cap = self.p.limits.fee_cap
        if cap is not None and consumer_ladders and statute.exceeds_consumer_cap(cap.amount):
            self.c.error(
                self.p.limits.at("fee_cap"),
                f"a fee cap of {cap} is above the {CONSUMER_FEE_CAP} a consumer may be "
                "charged per letter (§§ 280, 286, 309 Nr. 5 BGB; BGH VIII ZR 95/18)",
                hint="lower the cap, or restrict the policy to business customers",
                code="L001",
            )
        for ladder in self.p.ladders:
            consumers = ladder.name in consumer_ladders
            effective_cap = cap if cap is not None else (CONSUMER_FEE_CAP if consumers else None)
            for state in ladder.states:
                self._lint_state(ladder, state, consumers, effective_cap)

    def _lint_one_fee(self, state: ir.State) -> None:
        """B1 holds per letter: one `fee` line per state, so the cap cannot be split in two."""
        lines = [a for a in state.actions if isinstance(a, ir.Fee)]
        for extra in lines[1:]:
            self.c.error(
                extra.span,
                f"state {state.name!r} already charges {lines[0].amount} for its letter "
                f"(line {lines[0].span.line}); a second fee line would charge one letter twice",
                hint="write one `fee` line with the whole amount (at most "
                f"{CONSUMER_FEE_CAP} a letter for consumers, § 309 Nr. 5 BGB)",
                code="L008",
            )

    def _lint_state(
        self, ladder: ir.Ladder, state: ir.State, consumers: bool, cap: Money | None
    ) -> None:
        kinds = {type(a) for a in state.actions}
        channels = {a.channel for a in state.actions if isinstance(a, ir.Send)}
        self._lint_one_fee(state)
        for action in state.actions:
            if isinstance(action, ir.LumpSum) and consumers:
                self.c.error(
                    action.span,
                    "the 40 EUR lump sum (§ 288 Abs. 5 BGB) is only due from businesses, "
                    f"but ladder {ladder.name!r} serves a segment that can hold consumers",
                    hint="restrict the segment with `customer.type == B2B` or remove `lump sum`",
                    code="L002",
                )
            if isinstance(action, ir.Interest) and not action.statutory:
                limit = statute.CONSUMER_POINTS if consumers else statute.BUSINESS_POINTS
                if (action.points or Decimal(0)) > limit:
                    self.c.error(
                        action.span,
                        f"interest of base + {action.points} points is above the statutory "
                        f"base + {limit} (§ 288 BGB)" + (" for consumers" if consumers else ""),
                        hint="write `interest statutory`",
                        code="L003",
                    )
            if isinstance(action, ir.Fee):
                if cap is not None and action.amount.amount > cap.amount:
                    self.c.error(
                        action.span,
                        f"a fee of {action.amount} is above the cap of {cap} "
                        "(only real material costs may be charged, § 309 Nr. 5 BGB)",
                        hint=f"charge at most {cap}",
                        code="L001",
                    )
                if not channels & ir.PAPER:
                    self.c.error(
                        action.span,
                        "a dunning fee needs a letter: e-mail and SMS cost nothing to send "
                        "(§§ 280, 286 BGB allow only material costs)",
                        hint="send a letter in this state or remove the fee",
                        code="L005",
                    )
            if isinstance(action, ir.Interest | ir.Fee) and _before_due(state):
                self.c.error(
                    action.span,
                    "no fee or default interest before the invoice is due (§ 286 BGB)",
                    code="L006",
                )
        for step, label in (
            (ir.CourtOrder, "a court payment order (§§ 688 ff. ZPO)"),
            (ir.CreditReport, "a credit-bureau report (§ 31 BDSG, GDPR Art. 22)"),
            (ir.Handover, "a collection handover (D8)"),
        ):
            if step in kinds and ir.Approval not in kinds:
                span = next(a.span for a in state.actions if isinstance(a, step))
                self.c.error(
                    span,
                    f"{label} needs a person's approval",
                    hint="add `approval by 1` (or `approval by 2 when balance > 1000 EUR else 1`)",
                    code="L007",
                )
        for action in state.actions:
            if (
                isinstance(action, ir.Approval)
                and (action.approvers < 1 or action.otherwise < 1)
                and kinds & {ir.CourtOrder, ir.CreditReport}
            ):
                self.c.error(
                    action.span,
                    "court and credit-bureau steps always need at least one approver",
                    code="L007",
                )


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


def _before_due(state: ir.State) -> bool:
    t = state.trigger
    return isinstance(t, ir.TimeTrigger) and t.anchor is ir.Anchor.DUE and t.offset.days < 0


def may_hold_consumers(segment: ir.Segment) -> bool:
    """False only if the segment's condition requires a business customer."""
    return not _requires_business(segment.when)


def _requires_business(expr: Expr | None) -> bool:
    if expr is None:
        return False
    if isinstance(expr, Binary):
        if expr.op == "and":
            return _requires_business(expr.left) or _requires_business(expr.right)
        if expr.op == "or":
            return _requires_business(expr.left) and _requires_business(expr.right)
        if expr.op in ("==", "!="):
            sides = (expr.left, expr.right)
            ref = next((s for s in sides if isinstance(s, Ref)), None)
            lit = next((s for s in sides if isinstance(s, Lit)), None)
            if ref is not None and lit is not None and ref.name == "customer.type":
                return (expr.op == "==" and lit.value == "B2B") or (
                    expr.op == "!=" and lit.value == "B2C"
                )
    return False


def _literals(expr: Expr) -> Iterator[Lit]:
    if isinstance(expr, Lit):
        yield expr
    elif isinstance(expr, Unary):
        yield from _literals(expr.operand)
    elif isinstance(expr, Binary):
        yield from _literals(expr.left)
        yield from _literals(expr.right)
    elif isinstance(expr, ListExpr):
        for item in expr.items:
            yield from _literals(item)


def _hint(name: str, known: Iterable[str]) -> str:
    import difflib

    known = sorted(known)
    near = difflib.get_close_matches(name, known, n=1)
    if near:
        return f"did you mean {near[0]!r}?"
    if known:
        return "known: " + ", ".join(known[:12])
    return "none are defined"


def check_file(path: str | Path, known_templates: Iterable[str] | None = None) -> list[Diagnostic]:
    """Every diagnostic of one file (errors and warnings), never raising for policy errors."""
    try:
        compiled = load_policy(path, known_templates)
    except PolicyError as exc:
        return sorted(exc.diagnostics + exc.warnings, key=lambda d: (d.span.line, d.span.col))
    return list(compiled.warnings)
