"""Which segment an invoice belongs to: the first whose condition holds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mahnwerk.dsl import ir
from mahnwerk.dsl.expr import EvalError, evaluate, format_expr


@dataclass(frozen=True, slots=True)
class SegmentChoice:
    segment: ir.Segment
    reasons: tuple[str, ...]  # one line per segment tried, for `policy explain` and the audit


def select_segment(
    policy: ir.Policy, facts: Mapping[str, Any], add_business_days: Any = None
) -> SegmentChoice:
    """The first segment whose `when` holds for `facts`; the default otherwise.

    A condition that cannot be evaluated (a fact missing for this customer)
    counts as not matching, and says so in the reasons, so a half-filled
    customer record falls through to the default segment instead of failing
    the whole run.
    """
    reasons: list[str] = []
    for seg in policy.segments:
        where = f"{seg.span.path}:{seg.span.line}" if seg.span.line else seg.name
        if seg.when is None:
            reasons.append(f"segment {seg.name!r} is the default ({where})")
            return SegmentChoice(seg, tuple(reasons))
        try:
            matched = bool(evaluate(seg.when, facts, add_business_days))
        except EvalError as exc:
            reasons.append(f"segment {seg.name!r} not applicable: {exc} ({where})")
            continue
        verdict = "holds" if matched else "does not hold"
        reasons.append(f"segment {seg.name!r}: `{_when_text(seg)}` {verdict} ({where})")
        if matched:
            return SegmentChoice(seg, tuple(reasons))
    raise LookupError("no segment matched and the policy has no default segment")


def first_segment(
    policy: ir.Policy, facts: Mapping[str, Any], add_business_days: Any = None
) -> ir.Segment:
    """The segment `select_segment` chooses, without its reasons: the run asks again at
    every step, and reads the reasons only when the invoice moves."""
    for seg in policy.segments:
        if seg.when is None:
            return seg
        try:
            if evaluate(seg.when, facts, add_business_days):
                return seg
        except EvalError:
            continue
    raise LookupError("no segment matched and the policy has no default segment")


_WHEN_TEXTS: dict[int, tuple[ir.Segment, str]] = {}


def _when_text(seg: ir.Segment) -> str:
    """`seg.when` as source text, printed once per segment: the run chooses the segment again
    at every step, and printing the condition cost more than evaluating it."""
    held = _WHEN_TEXTS.get(id(seg))
    if held is None or held[0] is not seg:
        if len(_WHEN_TEXTS) >= 1024:  # a long-running service reloads its policies now and then
            _WHEN_TEXTS.clear()
        held = _WHEN_TEXTS[id(seg)] = (seg, format_expr(seg.when))
    return held[1]
