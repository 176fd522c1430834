"""D9: what a letter may announce — only the steps the workflow can and will take.

A letter that threatens a collection agency, a court order or a credit-bureau report must not
bluff.  So the announcement is not read off the ladder's drawing but worked out for this
claim: a later step counts only if every rule on the way to it can fire — its `when`
condition evaluated with the claim's facts on the day that rule would fire at the earliest
(days overdue and interest grow, principal and the customer stay as they are when the letter
goes out) — and the engine itself would carry it out then: not below the policy's minimum
balance (C7) or minimum principal for a handover or court (D10), not for a time-barred
claim (C4), a court order only in euros (§ 688 ZPO), a handover or report not for a disputed
claim (C1, C2).

Event edges (`on promise_broken -> x`) count as possible at once: they happen when a person
records the event, and erring there announces a step a little early, never one the rules
forbid.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from mahnwerk.dsl import ir
from mahnwerk.dsl.compile import CompiledPolicy, Rule

#: The adverse steps a letter may announce, by the action that takes them.
ADVERSE = {
    ir.CreditReport: "credit_report",
    ir.CourtOrder: "court_order",
    ir.Handover: "handover",
}


def rule_days(rule: Rule) -> int:
    """The fewest calendar days a rule waits in its state (business days x 7/5)."""
    t = rule.trigger
    if isinstance(t, ir.TimeTrigger) and t.anchor is ir.Anchor.STATE:
        return t.offset.days if not t.offset.business else -(-t.offset.days * 7 // 5)
    return 0


@dataclass(frozen=True)
class _Edge:
    """One edge of a ladder as the look-ahead needs it: plain tuples, read per letter."""

    target: str
    at_once: bool  # no rule, or an event/other rule: the step is possible the same day
    timed: tuple[tuple[int, Rule], ...]  # time rules by their days in the state, fewest first


@dataclass(frozen=True)
class _Ladder:
    """A segment's graph, prepared once per compiled policy: out-edges, the adverse steps
    each state takes, and the states from which an adverse step can be reached at all."""

    edges: dict[str, tuple[_Edge, ...]]
    adverse: dict[str, tuple[str, ...]]
    leads: frozenset[str]


def _ladder(cp: CompiledPolicy, segment: str) -> _Ladder | None:
    """The prepared ladder (once per policy: a letter is written for thousands of claims a
    day, and walking the graph library's views per claim was a third of the daily run)."""
    return cp.derived(("D9 ladder", segment), lambda: _prepare(cp, segment))


def _prepare(cp: CompiledPolicy, segment: str) -> _Ladder | None:
    """The segment's graph as plain tuples: out-edges, adverse steps, and the states
    that lead to one."""
    graph = cp.graphs.get(segment)
    if graph is None:
        return None
    edges: dict[str, tuple[_Edge, ...]] = {}
    for node in graph.nodes:
        out = []
        for _, target, data in graph.out_edges(node, data=True):
            rules = tuple(data.get("rules") or ())
            timed = tuple(
                sorted(
                    ((rule_days(r), r) for r in rules if isinstance(r.trigger, ir.TimeTrigger)),
                    key=lambda pair: pair[0],
                )
            )
            out.append(_Edge(target, len(timed) < len(rules) or not rules, timed))
        edges[node] = tuple(out)
    adverse = {
        node: tuple(
            ADVERSE[type(a)]
            for a in getattr(graph.nodes[node].get("state"), "actions", ())
            if type(a) in ADVERSE
        )
        for node in graph.nodes
    }
    leads = {node for node, steps in adverse.items() if steps}
    grew = True
    while grew:
        before = len(leads)
        leads |= {n for n, out in edges.items() if any(e.target in leads for e in out)}
        grew = len(leads) != before
    return _Ladder(edges, adverse, frozenset(leads))


def _reach(edge: _Edge, at: date, fires: Callable[[Rule, date], bool]) -> date | None:
    """The earliest day `edge` can be taken when its state was entered on `at`, or None
    when no rule on it can fire for this claim."""
    if edge.at_once:
        return at
    for days, rule in edge.timed:  # fewest days first: the first that fires is the earliest
        on = at + timedelta(days=days)
        if fires(rule, on):
            return on
    return None


def reachable(
    cp: CompiledPolicy, segment: str, state: str, day: date, fires: Callable[[Rule, date], bool]
) -> dict[str, date]:
    """Adverse steps reachable from `state`, with the earliest day each can be taken.

    `fires(rule, on)` says whether a time rule's condition holds on the day it would fire;
    a rule that cannot fire closes its edge.  A small Dijkstra over the segment's graph,
    through the states from which an adverse step can be reached at all.
    """
    ladder = _ladder(cp, segment)
    found: dict[str, date] = {}
    if ladder is None or state not in ladder.edges:
        return found
    best = {state: day}
    queue = [(day, state)]
    while queue:
        at, node = heapq.heappop(queue)
        if at > best.get(node, date.max):
            continue
        if node != state:
            for name in ladder.adverse[node]:
                if name not in found or at < found[name]:
                    found[name] = at
        for edge in ladder.edges[node]:
            if edge.target not in ladder.leads:
                continue  # nothing adverse lies beyond it
            reach = _reach(edge, at, fires)
            if reach is not None and reach < best.get(edge.target, date.max):
                best[edge.target] = reach
                heapq.heappush(queue, (reach, edge.target))
    return found


def reachable_again(
    cp: CompiledPolicy, segment: str, state: str, day: date, fires: Callable[[Rule, date], bool]
) -> dict[str, date]:
    """`reachable`, answered from an earlier search where the claim's rules answer alike.

    The search is a function of the answers `fires` gives, asked in an order those answers
    decide, on days counted from `day`: so an earlier search from the same state whose
    questions get the same answers now (asked again in its order, on the same days after
    `day`) found the same steps, the same days after `day`.  Thousands of letters a run go
    out from a few states, and their claims answer the few conditions on the way alike."""
    earlier = cp.derived(("D9 searches", segment, state), list)
    for questions, answers, found in earlier:
        if all(
            bool(fires(rule, day + after)) is answer
            for (rule, after), answer in zip(questions, answers, strict=True)
        ):
            return {step: day + after for step, after in found}
    asked: list[tuple[tuple[Rule, timedelta], bool]] = []

    def asking(rule: Rule, on: date) -> bool:
        answer = bool(fires(rule, on))
        asked.append(((rule, on - day), answer))
        return answer

    found = reachable(cp, segment, state, day, asking)
    if len(earlier) < _SEARCHES_KEPT:
        earlier.append(
            (
                tuple(question for question, _ in asked),
                tuple(answer for _, answer in asked),
                tuple((step, on - day) for step, on in found.items()),
            )
        )
    return found


#: Searches kept per segment and state (distinct answers are few: a claim's principal,
#: dispute and limitation decide the guards on the way to an adverse step).
_SEARCHES_KEPT = 64


def allowed(run: Any, step: str, reach: date) -> bool:
    """Whether the engine itself would take `step` for this claim on `reach` (floors)."""
    r, limits = run.r, run.policy.limits
    barred = r.time_barred_from
    if barred is not None and reach >= barred:
        return False  # C4: never for a time-barred claim
    if step in ("handover", "credit_report") and r.disputed:
        return False  # C1, C2
    if step == "court_order" and run.inv.currency != "EUR":
        return False  # § 688 ZPO: a fixed sum in euros
    floor = limits.minimum_handover
    if step in ("handover", "court_order") and floor is not None:
        return r.principal_open >= floor.amount  # D10
    return True


def announcements(run: Any, state: str, day: date) -> tuple[str, ...]:
    """D9: the steps a letter sent from `state` on `day` may announce, in a fixed order."""
    minimum = run.policy.limits.minimum_balance
    if minimum is not None and run.r.balance + run.unbooked_interest(day) < minimum.amount:
        return ()  # C7: one reminder and no escalation below the minimum balance
    ahead = reachable_again(
        run.cp, run.r.segment or "", state, day, lambda rule, on: run.quietly(rule.guard, on)
    )
    order = ("credit_report", "court_order", "handover")
    return tuple(s for s in order if s in ahead and allowed(run, s, ahead[s]))
