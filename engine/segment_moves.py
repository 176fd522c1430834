"""Segments follow the customer: an invoice moves when its segment no longer fits.

The segment of an invoice is chosen at intake, and chosen again at every later
step: when the customer's facts changed (a new risk score after `mahnwerk
analyse`, a flag, a tag) or a new policy version took the invoice over, the
first segment whose `when` holds may be another one.  The invoice then moves to
that segment's ladder by the rule the policy states (`ir.SegmentMove`):

* `same state` (the default): the state of the same name.  If the new ladder
  lacks it the invoice stays where it is, and says so in its audit trail — the
  only rule that neither repeats a level nor skips one.
* `same rank`: the state at the same position of the new ladder, stepping down
  past a state that would hand over, go to court, report or write off (those
  are a person's decision and never the result of a move).
* `start`: the start of the new ladder.

The move itself sends nothing and charges nothing; the new ladder's timing
counts from the day of the move, so nothing is back-dated.  Afterwards a
template already sent to the invoice is not sent again, and the new ladder's
first fee levels are not charged again if as many fees were charged before the
move (`fee_floor`).  Every move is a transition in the audit trail citing both
segment lines.  A pending approval is decided before the invoice moves.

`plan` is pure and shared by the engine's step, the deploy preview and the
simulation, so the three agree on where every invoice goes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from mahnwerk.dsl import ir
from mahnwerk.dsl.compile import CompiledPolicy
from mahnwerk.dsl.expr import refs
from mahnwerk.dsl.segments import first_segment, select_segment
from mahnwerk.engine.state import Charge, Message, Note, Record, Transition

#: States a move never lands in: what they do is a person's decision (C3, D8, E3).
_NO_LANDING = (ir.Handover, ir.CourtOrder, ir.CreditReport, ir.WriteOff)


@dataclass(frozen=True, slots=True)
class Move:
    """Where an invoice goes (`target_state` None: it stays, for `why_not`)."""

    old_segment: str
    old_state: str
    old_at: str
    new_segment: str
    new_ladder: str
    new_at: str
    rule: ir.SegmentMove
    rule_at: str
    because: str
    target_state: str | None
    why_not: str = ""

    @property
    def stays(self) -> bool:
        return self.target_state is None


def where(span: Any) -> str:
    return f"{span.path}:{span.line}" if getattr(span, "line", 0) else "engine"


def _segment_at(policy: ir.Policy, name: str | None) -> str:
    try:
        return where(policy.segment(name or "").span)
    except KeyError:
        return "engine"


def landing(
    new_ladder: ir.Ladder, old_ladder: ir.Ladder | None, state: str, rule: ir.SegmentMove
) -> str | None:
    """The state of `new_ladder` an invoice in `state` lands in, or None (it stays)."""
    names = [s.name for s in new_ladder.states]
    if state == ir.INITIAL_STATE or rule is ir.SegmentMove.START:
        return ir.INITIAL_STATE
    if rule is ir.SegmentMove.SAME_STATE:
        return state if state in names else None
    old_names = [s.name for s in old_ladder.states] if old_ladder is not None else []
    rank = old_names.index(state) + 1 if state in old_names else 0
    for candidate in reversed(new_ladder.states[: min(rank, len(names))]):
        if not any(isinstance(a, _NO_LANDING) for a in candidate.actions):
            return candidate.name
    return ir.INITIAL_STATE


def plan(
    record: Record,
    facts: Mapping[str, Any],
    old: CompiledPolicy,
    new: CompiledPolicy,
    add_business_days: Callable[..., date] | None = None,
) -> Move | None:
    """The move `record` makes under `new` (coming from `old`), or None if it fits as it is."""
    if record.state in ir.TERMINAL_NAMES or record.segment is None:
        return None
    if record.pending_approval or record.approved_target:
        return None  # a person is deciding this invoice's next step: that comes first
    try:
        seg = first_segment(new.policy, facts, add_business_days)
    except LookupError:
        return None
    same_ladder = seg.name == record.segment and seg.ladder == record.ladder
    if same_ladder and record.state in new.graphs[seg.name]:
        return None
    choice = select_segment(new.policy, facts, add_business_days)  # its reasons, for the move
    new_ladder = new.policy.ladder(seg.ladder)
    try:
        old_ladder: ir.Ladder | None = old.policy.ladder(record.ladder or "")
    except KeyError:
        old_ladder = None
    rule = new.policy.segment_move
    target = landing(new_ladder, old_ladder, record.state, rule)
    why_not = ""
    if target is None:
        why_not = (
            f"ladder {new_ladder.name!r} has no state {record.state!r}, and "
            f"`on segment change move to {rule.value}` keeps the invoice where it is"
        )
    return Move(
        old_segment=record.segment,
        old_state=record.state,
        old_at=_segment_at(old.policy, record.segment),
        new_segment=seg.name,
        new_ladder=seg.ladder,
        new_at=where(seg.span),
        rule=rule,
        rule_at=where(new.policy.segment_move_span),
        because=choice.reasons[-1] if choice.reasons else "",
        target_state=target,
        why_not=why_not,
    )


def apply(record: Record, move: Move, today: date) -> tuple[Record, tuple[Any, ...]]:
    """The record after `move` and its audit lines; nothing sent, nothing charged."""
    head = (
        f"segment change: {move.old_segment!r} ({move.old_at}) -> "
        f"{move.new_segment!r} ({move.new_at})"
    )
    if move.stays:
        return record, (Note(today, f"{head} not made: {move.why_not}", move.new_at),)
    target = move.target_state
    assert target is not None
    moved = record.evolve(
        segment=move.new_segment,
        ladder=move.new_ladder,
        state=target,
        entered_on=today,
        fee_floor=record.fees_charged,
        segment_moved_on=today,
    )
    stated = "the default" if move.rule_at == "engine" else move.rule_at
    reason = (
        f"{head}; {move.because}; moved by `{move.rule.value}` ({stated}) from "
        f"{move.old_state!r} to {target!r}; nothing sent or charged by the move"
    )
    return moved, (Transition(record.state, target, today, move.new_at, reason),)


def customer_facts_suffice(compiled: CompiledPolicy) -> bool:
    """Whether the segments' conditions read only `customer.*` facts (then the step need not
    compute the invoice's facts, interest included, just to choose the segment again)."""
    return compiled.derived("only customer facts", lambda: _only_customer(compiled.policy.segments))


def _only_customer(segments: tuple[ir.Segment, ...]) -> bool:
    names = set().union(*(refs(s.when) for s in segments))
    return all(n.startswith("customer.") for n in names)


def follow(
    record: Record,
    facts: Mapping[str, Any],
    old: CompiledPolicy,
    new: CompiledPolicy,
    today: date,
    add_business_days: Callable[..., date] | None = None,
) -> tuple[Record, tuple[Any, ...]]:
    """Re-evaluate the segment at a step: the moved record and its audit lines."""
    move = plan(record, facts, old, new, add_business_days)
    if move is None:
        return record, ()
    return apply(record, move, today)


# ---------------------------------------------------------------------------
# What a moved invoice must not get twice
# ---------------------------------------------------------------------------


def remembered(record: Record, actions: Iterable[Any]) -> dict[str, Any]:
    """The changes that note the templates queued and the fees charged by a step's actions
    (none: empty); the step makes them with its own last change (one `evolve`)."""
    templates = {a.template for a in actions if isinstance(a, Message)}
    fees = sum(1 for a in actions if isinstance(a, Charge) and a.kind == "fee")
    if not fees and templates <= record.sent_templates:
        return {}
    return {
        "sent_templates": record.sent_templates | templates,
        "fees_charged": record.fees_charged + fees,
    }


def repeated_send(record: Record, template: str) -> str | None:
    """Why a moved invoice does not get `template` (already sent), or None."""
    if record.segment_moved_on is None or template not in record.sent_templates:
        return None
    return f"{template!r} not sent again: the invoice had it before its segment change"


def repeated_fee(record: Record, ladder: ir.Ladder, state: ir.State) -> str | None:
    """Why a moved invoice is not charged `state`'s fee (that level was charged), or None."""
    if record.segment_moved_on is None or record.fee_floor <= 0:
        return None
    level = 0
    for s in ladder.states:
        if any(isinstance(a, ir.Fee) for a in s.actions):
            level += 1
        if s.name == state.name:
            break
    if level > record.fee_floor:
        return None
    return (
        f"fee level {level} not charged: {record.fee_floor} fee(s) were charged "
        "before the segment change"
    )


def route(
    policies: Any,
    version_id: int,
    record: Record,
    customer: Any,
    facts_at: Callable[[CompiledPolicy], tuple[Mapping[str, Any], Callable[..., date]]],
) -> tuple[int, CompiledPolicy, CompiledPolicy | None]:
    """Which deployed policy steps the invoice now: (version id, policy, the one it left).

    The deployments' `--for` conditions are evaluated again, as at intake; an invoice
    another deployment now serves moves to it unless its move rule keeps it where it is.
    """
    old = policies.by_version(version_id)
    if record.state in ir.TERMINAL_NAMES or record.pending_approval or record.approved_target:
        return version_id, old, None
    new_id, new = policies.for_customer(customer)
    if new_id == version_id:
        return version_id, old, None
    facts, business_days = facts_at(new)
    move = plan(record, facts, old, new, business_days)
    if move is not None and move.stays:
        return version_id, old, None
    if move is None and record.state not in new.graphs.get(record.segment or "", ()):
        return version_id, old, None
    return new_id, new, old
