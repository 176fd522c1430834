"""Writes a policy IR as the text form (`*.mahn`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from mahnwerk.dsl import ir
from mahnwerk.dsl import writer_values as wv
from mahnwerk.dsl.expr import quote


def to_text(policy: ir.Policy) -> str:
    """The policy in the text form, laid out for people to read and edit."""
    title, version, currency, timezone, language = wv.settings(policy)
    out = [f"policy {quote(title)} version {version} {{"]
    out.append(f"  currency {currency}")
    out.append(f"  timezone {quote(timezone)}")
    out.append(f"  calendar {_text_calendar(policy.calendar)}")
    out.append(f"  language {language}")
    if policy.segment_move is not ir.SegmentMove.SAME_STATE:
        out.append(f"  on segment change move to {policy.segment_move.value}")
    for section in (
        _text_limits(policy.limits),
        _text_segments(policy.segments),
        *(_text_ladder(ladder) for ladder in policy.ladders),
        _text_handlers(policy.handlers),
    ):
        if section:
            out.append("")
            out.extend(section)
    out.append("}")
    return "\n".join(out) + "\n"


def _text_calendar(calendar: ir.Calendar) -> str:
    if calendar.region_from_customer:
        return f"{calendar.country} region from customer"
    if calendar.region is not None:
        return f"{calendar.country} region {calendar.region}"
    return calendar.country


#: How the text form says each limit (`writer_values.limit_values`).
_TEXT_LIMITS: dict[str, Callable[[Any], str]] = {
    "minimum_balance": lambda v: f"minimum balance {v}",
    "contacts": lambda v: f"at most {v[0]} contacts per {v[1]}",
    "letter_gap": lambda v: f"letters at least {v} apart",
    "fee_cap": lambda v: f"fees at most {v}",
    "fee_share": lambda v: f"fees at most {v}% of principal",
    "minimum_handover": lambda v: f"no handover below {v}",
    "payment_grace": lambda v: f"payment grace {v}",
    "residual": lambda v: f"residual {v}",
    "skonto_tolerance": lambda v: f"skonto tolerance {v}",
    "late_skonto_letter": lambda v: f"late skonto letter {quote(v)}",
    "late_skonto_write_off": lambda v: f"late skonto write off below {v}",
    "late_skonto_ladder": lambda v: "late skonto ladder",
}


def _text_limits(lim: ir.Limits) -> list[str]:
    lines = []
    for field, value in wv.limit_values(lim):
        if field == "quiet_hours":  # a line each
            for qh in value:
                start, end = wv.clock(qh.start), wv.clock(qh.end)
                lines.append(f"no {qh.channel.value} between {start} and {end}")
        else:
            lines.append(_TEXT_LIMITS[field](value))
    if not lines:
        return []
    return ["  limits {", *(f"    {line}" for line in lines), "  }"]


def _text_segments(segments: Iterable[ir.Segment]) -> list[str]:
    rows = []
    for seg in segments:
        name = wv.name(seg.name, "the segment")
        when = f"when {wv.cond(seg.when)}" if seg.when is not None else ""
        rest = f"use {wv.name(seg.ladder, 'the ladder')}"
        if seg.tone is not None:
            rest += f" tone {wv.name(seg.tone, 'the tone')}"
        if seg.language is not None:
            rest += f" language {wv.name(seg.language, 'the language')}"
        rows.append((name, when, rest))
    if not rows:
        return []
    name_w = max(len(r[0]) for r in rows)
    when_w = max(len(r[1]) for r in rows)
    lines = [f"  segment {name:<{name_w}} {when:<{when_w}} {rest}" for name, when, rest in rows]
    if when_w and max(len(line) for line in lines) <= wv.LINE_WIDTH:
        return lines
    # too wide to line `use` up: line up the conditions only
    return [
        "  segment " + " ".join(part for part in (f"{name:<{name_w}}", when, rest) if part)
        for name, when, rest in rows
    ]


def _text_ladder(ladder: ir.Ladder) -> list[str]:
    lines = [f"  ladder {wv.name(ladder.name, 'the ladder')} {{"]
    for state in ladder.states:
        lines.extend(_text_state(state))
    if ladder.transitions:
        if ladder.states:
            lines.append("")
        lines.extend(f"    {_text_transition(t)}" for t in ladder.transitions)
    lines.append("  }")
    return lines


def text_trigger(trigger: ir.Trigger) -> str:
    if isinstance(trigger, ir.EventTrigger):
        return f"on {trigger.event.value}"
    word = "after" if trigger.anchor is ir.Anchor.STATE else "at"
    return f"{word} {wv.anchored(trigger)}"


def _text_state(state: ir.State) -> list[str]:
    head = f"    state {wv.name(state.name, 'the state')}"
    if state.title is not None:
        head += f" {quote(wv.line(state.title, 'the title'))}"
    head += f" {text_trigger(state.trigger)}"
    extra = []
    if state.sources:
        extra.append("from " + ", ".join(wv.name(s, "the source state") for s in state.sources))
    if state.guard is not None:
        extra.append(f"when {wv.cond(state.guard)}")
    heads = [" ".join([head, *extra, "{"])]
    if len(heads[0]) > wv.HEAD_WIDTH and extra:  # `from` and `when` on lines of their own
        heads = [head, *(f"        {part}" for part in extra)]
        if state.guard is not None:
            heads[-1:] = wv.wrap(heads[-1], wv.HEAD_WIDTH - 2, " " * 10)
        heads[-1] += " {"
    body = [f"      {line}" for line in _text_actions(state)]
    if not body:
        heads[-1] += "}"
        return heads
    return [*heads, *body, "    }"]


def _text_actions(state: ir.State) -> list[str]:
    lines = []
    for action in state.actions:
        lines.append(text_action(action))
    if state.manual:
        lines.append("wait")
    return lines


def text_action(action: ir.Action) -> str:
    if isinstance(action, ir.Send):
        return f"{action.channel.value} {quote(wv.line(action.template, 'the template'))}"
    if isinstance(action, ir.Offer):
        wv.check_offer(action)
        if action.kind == "skonto":
            assert action.percent is not None
            text = f"offer skonto {wv.number(action.percent, 'the percentage')}%"
            if action.within is not None:
                text += f" within {wv.dur(action.within, 'the skonto period')}"
        elif action.kind == "discount":
            assert action.percent is not None and action.until is not None
            text = f"offer discount {wv.number(action.percent, 'the percentage')}%"
            text += f" until {wv.until(action.until)}"
        else:
            text = "offer payment plan"
            if action.instalments is not None:
                count = wv.whole(action.instalments, 2, "the number of instalments")
                text += f" of {count} instalments"
        if action.when is not None:
            text += f" when {wv.cond(action.when)}"
        return text
    if isinstance(action, ir.Fee):
        return f"fee {wv.money(action.amount)}"
    if isinstance(action, ir.LumpSum):
        return "lump sum"
    if isinstance(action, ir.Interest):
        wv.check_interest(action)
        if action.statutory:
            return "interest statutory"
        assert action.points is not None
        return f"interest {wv.number(action.points, 'the points')} points above base"
    if isinstance(action, ir.Approval):
        approvers, when, otherwise = wv.approval_parts(action)
        if when is None:
            return f"approval by {approvers}"
        return f"approval by {approvers} when {wv.cond(when)} else {otherwise}"
    if isinstance(action, ir.Notify):
        return f"notify {quote(wv.line(action.team, 'the team'))}"
    if isinstance(action, ir.StopCredit):
        return "stop credit"
    if isinstance(action, ir.CreditReport):
        return f"report to {quote(wv.line(action.bureau, 'the bureau'))}"
    if isinstance(action, ir.CourtOrder):
        return "court order"
    if isinstance(action, ir.Handover):
        return f"handover to {quote(wv.line(action.agency, 'the agency'))}"
    if isinstance(action, ir.WriteOff):
        return "write off"
    raise ValueError(f"unknown action {action!r}")


def _text_transition(t: ir.Transition) -> str:
    wv.check_transition(t)
    if isinstance(t.trigger, ir.EventTrigger):
        text = f"on {t.trigger.event.value} in {t.source} -> {t.target}"
    else:
        text = f"after {wv.dur(t.trigger.offset, 'the time')} in {t.source} -> {t.target}"
    if t.guard is not None:
        text += f" when {wv.cond(t.guard)}"
    if t.priority is not None:
        text += f" priority {t.priority}"
    return text


def _text_handlers(handlers: Iterable[ir.Handler]) -> list[str]:
    rows = [(h.event.value, wv.handler_words(h)) for h in handlers]
    if not rows:
        return []
    width = max(len(event) for event, _ in rows)
    return [f"  on {event:<{width}} {words}" for event, words in rows]
