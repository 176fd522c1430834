"""Writes a policy IR back out as text (`*.mahn`) or YAML (`mahnwerk policy convert`).

Both writers lay a policy out the way a person would write it — settings,
limits, segments, ladders, event rules, with blank lines between them and one
statement per line — and what they write reads back (`text_reader.read_text`,
`yaml_reader.read_yaml`) to an IR equal to the one given.  Comments are not
kept: the IR has none.

An IR the readers could never have produced (a name with a space, a text with
a line break, a negative letter gap, a timed transition whose state is not its
source) cannot be written faithfully; the writers raise `ValueError` for it
rather than write something that means another thing.

The YAML is meant for other tools too (yamllint, yq, a script with
`yaml.safe_load`): every text that some YAML reader would take for a boolean,
a number, a date or null is quoted — the key `"on"` included — so each of them
reads the same strings our reader does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import time
from decimal import Decimal

import yaml

from mahnwerk.dsl import ir
from mahnwerk.dsl.expr import Duration, Expr, Money, format_expr, quote

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INDENT = "  "
#: Segment columns are lined up only while the lines stay this short.
_LINE_WIDTH = 100
#: A state's head longer than this puts `from` and `when` on lines of their own.
_HEAD_WIDTH = 96
#: A flow mapping `{ ... }` longer than this is written as a block instead.
_FLOW_WIDTH = 88
#: A YAML condition longer than this goes on over several lines.
_YAML_WIDTH = 96


# ---------------------------------------------------------------------------
# Values shared by both forms
# ---------------------------------------------------------------------------


def _name(value: str, what: str) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ValueError(f"{what} {value!r} is not a name (letters, digits and _ only)")
    return value


def _line(value: str, what: str) -> str:
    if "\n" in value or "\r" in value:
        raise ValueError(f"{what} {value!r} holds a line break; a policy text is one line")
    return value


def _money(value: Money) -> str:
    """`5.00 EUR` as written (`format_decimal` would say `5 EUR`), `2.5` as `2.50`."""
    if value.amount < 0 or not value.amount.is_finite():
        raise ValueError(f"the amount {value} cannot be written here")
    text = format(value.amount, "f")
    if re.fullmatch(r"\d+\.\d", text):
        text += "0"
    return f"{text} {value.currency}"


def _number(value: Decimal, what: str) -> str:
    if not value.is_finite() or value < 0:
        raise ValueError(f"{what} {value} cannot be written")
    return format(value, "f")


def _days(value: Duration, what: str) -> str:
    """`14 days`, `1 day`, `3 business days`: a length of time on its own."""
    if value.days < 0:
        raise ValueError(f"{what} {value} cannot be negative")
    unit = "business day" if value.business else "day"
    return f"{value.days} {unit}" + ("" if value.days == 1 else "s")


def _dur(value: Duration, what: str) -> str:
    """`14d`, `3 business days`: a length of time inside a statement."""
    if value.days < 0:
        raise ValueError(f"{what} {value} cannot be negative")
    return str(value)


def _clock(value: time) -> str:
    if value.second or value.microsecond:
        raise ValueError(f"quiet hours are whole minutes, not {value}")
    return f"{value.hour:02d}:{value.minute:02d}"


def _cond(value: Expr) -> str:
    text = format_expr(value)
    return _line(text, "the condition")


def _wrap(text: str, width: int, indent: str) -> list[str]:
    """A printed condition cut before its outermost `and`s and `or`s to fit `width`.

    Both syntaxes read a line break there as a space, so the condition stays
    the same; nothing is cut inside parentheses, lists or quoted texts.
    """
    cuts = []
    depth, quoted, i = 0, False, 0
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0 and ch == " " and text.startswith((" and ", " or "), i):
            cuts.append(i)
        i += 1
    pieces, start = [], 0
    for cut in cuts:
        pieces.append(text[start:cut])
        start = cut + 1
    pieces.append(text[start:])
    lines = [pieces[0]]
    for piece in pieces[1:]:
        room = width - len(indent if len(lines) > 1 else "")
        if len(lines[-1]) + 1 + len(piece) <= room:
            lines[-1] += " " + piece
        else:
            lines.append(piece)
    return [lines[0], *(indent + line for line in lines[1:])]


def _anchored(trigger: ir.TimeTrigger) -> str:
    """`7d after due`, `3d before due`, `14d in erinnerung` (without `at`/`after`)."""
    if trigger.anchor is ir.Anchor.STATE:
        if trigger.state is None:
            raise ValueError("a time in a state must name the state")
        return f"{_dur(trigger.offset, 'the time in a state')} in {_name(trigger.state, 'state')}"
    if trigger.state is not None:
        raise ValueError(f"a trigger at the {trigger.anchor.value} date names no state")
    direction = "before" if trigger.offset.days < 0 else "after"
    return f"{_dur(_abs(trigger.offset), 'the offset')} {direction} {trigger.anchor.value}"


def _abs(value: Duration) -> Duration:
    return Duration(abs(value.days), value.business)


def _whole(value: int, minimum: int, what: str) -> int:
    if not isinstance(value, int) or value < minimum:
        raise ValueError(f"{what} must be a whole number ≥ {minimum}, not {value!r}")
    return value


def _approval_parts(action: ir.Approval) -> tuple[int, Expr | None, int]:
    approvers = _whole(action.approvers, 1, "the number of approvers")
    return approvers, action.when, _whole(action.otherwise, 0, "the number of approvers")


def _check_offer(action: ir.Offer) -> None:
    if action.kind == "skonto":
        if action.percent is None or action.instalments is not None:
            raise ValueError("a skonto offer has a percentage and no instalments")
    elif action.kind == "payment_plan":
        if action.percent is not None or action.within is not None:
            raise ValueError("a payment plan offer has no percentage and no period")
    elif action.kind == "discount":
        if action.percent is None or action.until is None or action.within is not None:
            raise ValueError("a discount offer has a percentage and a last day (`until`)")
        if action.until.anchor not in (ir.Anchor.DUE, ir.Anchor.ISSUE):
            raise ValueError("a discount offer counts from the due or the issue date")
    else:
        raise ValueError(f"unknown kind of offer {action.kind!r}")


def _until(until: ir.TimeTrigger) -> str:
    """`7d after due`, `3d before due`: the last day of a discount offer."""
    offset = until.offset
    direction = "before" if offset.days < 0 else "after"
    length = _dur(-offset if offset.days < 0 else offset, "the discount period")
    return f"{length} {direction} {until.anchor.value}"


def _check_interest(action: ir.Interest) -> None:
    if action.statutory == (action.points is not None):
        raise ValueError("interest is either statutory or a number of points above base")


def _check_calendar(calendar: ir.Calendar) -> None:
    _name(calendar.country, "the country")
    if calendar.region_from_customer and calendar.region is not None:
        raise ValueError("a calendar has a fixed region or the customer's, not both")
    if calendar.region is not None:
        _name(calendar.region, "the region")
        if calendar.region == "from":
            raise ValueError("a region called 'from' cannot be written (`region from customer`)")


def _check_handler(handler: ir.Handler) -> None:
    wants_target = handler.action in (ir.HandlerAction.STOP, ir.HandlerAction.GOTO)
    if wants_target != (handler.target is not None):
        raise ValueError(f"`{handler.action.value}` cannot have the target {handler.target!r}")
    if handler.target is not None:
        _name(handler.target, "the target")
    if handler.until is not None and handler.action is not ir.HandlerAction.PAUSE:
        raise ValueError("only `pause` can last until a date")


def _check_transition(t: ir.Transition) -> None:
    _name(t.source, "the state")
    _name(t.target, "the state")
    if isinstance(t.trigger, ir.TimeTrigger):
        trig = t.trigger
        if trig.anchor is not ir.Anchor.STATE or trig.state != t.source:
            raise ValueError("a timed transition counts the time spent in its own source state")
        _dur(trig.offset, "the time in a state")
    if t.priority is not None and t.priority < 0:
        raise ValueError(f"a priority cannot be negative: {t.priority}")


def _residual(residual: ir.Residual) -> str:
    """`up to 1.00 EUR write off`: the same words in both forms."""
    return f"up to {_money(residual.tolerance)} {residual.action.value}"


def _check_limits(lim: ir.Limits) -> None:
    if (lim.max_contacts is None) != (lim.contact_window is None):
        raise ValueError("a contact limit needs both a count and a window")


# ---------------------------------------------------------------------------
# The text form
# ---------------------------------------------------------------------------


def to_text(policy: ir.Policy) -> str:
    """The policy in the text form, laid out for people to read and edit."""
    _check_calendar(policy.calendar)
    name, version = quote(_line(policy.name, "the name")), _whole(policy.version, 1, "the version")
    out = [f"policy {name} version {version} {{"]
    out.append(f"  currency {_name(policy.currency, 'the currency')}")
    out.append(f"  timezone {quote(_line(policy.timezone, 'the time zone'))}")
    out.append(f"  calendar {_text_calendar(policy.calendar)}")
    out.append(f"  language {_name(policy.language, 'the language')}")
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


def _text_limits(lim: ir.Limits) -> list[str]:
    _check_limits(lim)
    lines = []
    if lim.minimum_balance is not None:
        lines.append(f"minimum balance {_money(lim.minimum_balance)}")
    if lim.max_contacts is not None and lim.contact_window is not None:
        window = _days(lim.contact_window, "the contact window")
        count = _whole(lim.max_contacts, 1, "the number of contacts")
        lines.append(f"at most {count} contacts per {window}")
    if lim.letter_gap is not None:
        lines.append(f"letters at least {_days(lim.letter_gap, 'the letter gap')} apart")
    for qh in lim.quiet_hours:
        lines.append(f"no {qh.channel.value} between {_clock(qh.start)} and {_clock(qh.end)}")
    if lim.fee_cap is not None:
        lines.append(f"fees at most {_money(lim.fee_cap)}")
    if lim.fee_share is not None:
        lines.append(f"fees at most {_number(lim.fee_share, 'the fee share')}% of principal")
    if lim.minimum_handover is not None:
        lines.append(f"no handover below {_money(lim.minimum_handover)}")
    if lim.payment_grace is not None:
        lines.append(f"payment grace {_days(lim.payment_grace, 'the payment grace')}")
    if lim.residual is not None:
        lines.append(f"residual {_residual(lim.residual)}")
    if lim.skonto_tolerance is not None:
        lines.append(f"skonto tolerance {_money(lim.skonto_tolerance)}")
    if lim.late_skonto_letter is not None:
        lines.append(f"late skonto letter {quote(_line(lim.late_skonto_letter, 'the template'))}")
    if lim.late_skonto_write_off is not None:
        lines.append(f"late skonto write off below {_money(lim.late_skonto_write_off)}")
    if lim.late_skonto_ladder:
        lines.append("late skonto ladder")
    if not lines:
        return []
    return ["  limits {", *(f"    {line}" for line in lines), "  }"]


def _text_segments(segments: Iterable[ir.Segment]) -> list[str]:
    rows = []
    for seg in segments:
        name = _name(seg.name, "the segment")
        when = f"when {_cond(seg.when)}" if seg.when is not None else ""
        rest = f"use {_name(seg.ladder, 'the ladder')}"
        if seg.tone is not None:
            rest += f" tone {_name(seg.tone, 'the tone')}"
        if seg.language is not None:
            rest += f" language {_name(seg.language, 'the language')}"
        rows.append((name, when, rest))
    if not rows:
        return []
    name_w = max(len(r[0]) for r in rows)
    when_w = max(len(r[1]) for r in rows)
    lines = [f"  segment {name:<{name_w}} {when:<{when_w}} {rest}" for name, when, rest in rows]
    if when_w and max(len(line) for line in lines) <= _LINE_WIDTH:
        return lines
    # too wide to line `use` up: line up the conditions only
    return [
        "  segment " + " ".join(part for part in (f"{name:<{name_w}}", when, rest) if part)
        for name, when, rest in rows
    ]


def _text_ladder(ladder: ir.Ladder) -> list[str]:
    lines = [f"  ladder {_name(ladder.name, 'the ladder')} {{"]
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
    return f"{word} {_anchored(trigger)}"


def _text_state(state: ir.State) -> list[str]:
    head = f"    state {_name(state.name, 'the state')}"
    if state.title is not None:
        head += f" {quote(_line(state.title, 'the title'))}"
    head += f" {text_trigger(state.trigger)}"
    extra = []
    if state.sources:
        extra.append("from " + ", ".join(_name(s, "the source state") for s in state.sources))
    if state.guard is not None:
        extra.append(f"when {_cond(state.guard)}")
    heads = [" ".join([head, *extra, "{"])]
    if len(heads[0]) > _HEAD_WIDTH and extra:  # `from` and `when` on lines of their own
        heads = [head, *(f"        {part}" for part in extra)]
        if state.guard is not None:
            heads[-1:] = _wrap(heads[-1], _HEAD_WIDTH - 2, " " * 10)
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
        return f"{action.channel.value} {quote(_line(action.template, 'the template'))}"
    if isinstance(action, ir.Offer):
        _check_offer(action)
        if action.kind == "skonto":
            assert action.percent is not None
            text = f"offer skonto {_number(action.percent, 'the percentage')}%"
            if action.within is not None:
                text += f" within {_dur(action.within, 'the skonto period')}"
        elif action.kind == "discount":
            assert action.percent is not None and action.until is not None
            text = f"offer discount {_number(action.percent, 'the percentage')}%"
            text += f" until {_until(action.until)}"
        else:
            text = "offer payment plan"
            if action.instalments is not None:
                count = _whole(action.instalments, 2, "the number of instalments")
                text += f" of {count} instalments"
        if action.when is not None:
            text += f" when {_cond(action.when)}"
        return text
    if isinstance(action, ir.Fee):
        return f"fee {_money(action.amount)}"
    if isinstance(action, ir.LumpSum):
        return "lump sum"
    if isinstance(action, ir.Interest):
        _check_interest(action)
        if action.statutory:
            return "interest statutory"
        assert action.points is not None
        return f"interest {_number(action.points, 'the points')} points above base"
    if isinstance(action, ir.Approval):
        approvers, when, otherwise = _approval_parts(action)
        if when is None:
            return f"approval by {approvers}"
        return f"approval by {approvers} when {_cond(when)} else {otherwise}"
    if isinstance(action, ir.Notify):
        return f"notify {quote(_line(action.team, 'the team'))}"
    if isinstance(action, ir.StopCredit):
        return "stop credit"
    if isinstance(action, ir.CreditReport):
        return f"report to {quote(_line(action.bureau, 'the bureau'))}"
    if isinstance(action, ir.CourtOrder):
        return "court order"
    if isinstance(action, ir.Handover):
        return f"handover to {quote(_line(action.agency, 'the agency'))}"
    if isinstance(action, ir.WriteOff):
        return "write off"
    raise ValueError(f"unknown action {action!r}")


def _text_transition(t: ir.Transition) -> str:
    _check_transition(t)
    if isinstance(t.trigger, ir.EventTrigger):
        text = f"on {t.trigger.event.value} in {t.source} -> {t.target}"
    else:
        text = f"after {_dur(t.trigger.offset, 'the time')} in {t.source} -> {t.target}"
    if t.guard is not None:
        text += f" when {_cond(t.guard)}"
    if t.priority is not None:
        text += f" priority {t.priority}"
    return text


def _handler_words(handler: ir.Handler) -> str:
    """`pause until ...`, `stop -> insolvent`: the same words in both forms."""
    _check_handler(handler)
    if handler.action is ir.HandlerAction.STOP:
        return f"stop -> {handler.target}"
    if handler.action is ir.HandlerAction.GOTO:
        return f"goto {handler.target}"
    if handler.until is not None:
        return f"pause until {_cond(handler.until)}"
    return handler.action.value


def _text_handlers(handlers: Iterable[ir.Handler]) -> list[str]:
    rows = [(h.event.value, _handler_words(h)) for h in handlers]
    if not rows:
        return []
    width = max(len(event) for event, _ in rows)
    return [f"  on {event:<{width}} {words}" for event, words in rows]


# ---------------------------------------------------------------------------
# The YAML form
# ---------------------------------------------------------------------------

#: Words some YAML reader (1.1 or 1.2) turns into something other than text.
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "=", "<<"}
_YAML_NUMBERISH = re.compile(
    r"[-+]?(\.?[0-9][0-9_.:,]*([eE][-+]?[0-9]+)?|0[xob][0-9a-fA-F_]+|\.(inf|nan))"
    r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*",
    re.IGNORECASE,
)
_YAML_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")
_YAML_FLOW_UNSAFE = set(",[]{}#:?")
#: The key `on`, quoted: any YAML 1.1 reader but ours would load `on:` as `True:`.
_ON = '"on"'


def _plain_ok(text: str, flow: bool) -> bool:
    """Whether `text` can stand unquoted and every YAML reader sees the same text."""
    if not text or text != text.strip() or text.lower() in _YAML_WORDS:
        return False
    if text[0] in _YAML_INDICATORS or _YAML_NUMBERISH.fullmatch(text):
        return False
    if ":" in text or " #" in text or "\t" in text:
        return False
    if flow and _YAML_FLOW_UNSAFE & set(text):
        return False
    if any(not ch.isprintable() or ch in "\x85\u2028\u2029\ufeff" for ch in text):
        return False
    # and PyYAML itself would write it plain (it knows its own resolvers)
    dumped = yaml.safe_dump(text, allow_unicode=True, width=1_000_000)
    return dumped.split("\n", 1)[0] == text


def _scalar(text: str, flow: bool = False) -> str:
    """`text` as a YAML scalar: plain where that is safe, quoted otherwise."""
    if _plain_ok(text, flow):
        return text
    if all(ch.isprintable() for ch in text) and '"' in text and "'" not in text:
        return "'" + text + "'"
    dumped = yaml.safe_dump(text, default_style='"', allow_unicode=True, width=1_000_000)
    return dumped.rstrip("\n")


class _Raw(str):
    """A scalar written as it is (a number, `true`, a pre-built list)."""


def _value(value: str, flow: bool) -> str:
    return value if isinstance(value, _Raw) else _scalar(value, flow)


def _flow(pairs: list[tuple[str, str]]) -> str:
    return "{ " + ", ".join(f"{key}: {_value(value, True)}" for key, value in pairs) + " }"


def _flow_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_scalar(v, True) for v in values) + "]"


def _block(pairs: list[tuple[str, str]], indent: str, first: str = "") -> list[str]:
    """`key: value` lines; the first line may start with `first` (e.g. `- `)."""
    lines = []
    for i, (key, value) in enumerate(pairs):
        lead = first if i == 0 else " " * len(first)
        line = f"{indent}{lead}{key}: {_value(value, False)}"
        if key == "when" and len(line) > _YAML_WIDTH and _plain_ok(value, False):
            # a plain scalar may go on over several lines; they are read as one
            lines.extend(_wrap(line, _YAML_WIDTH, indent + " " * len(first) + _INDENT))
        else:
            lines.append(line)
    return lines


def _mapping_lines(key: str, pairs: list[tuple[str, str]], indent: str) -> list[str]:
    """`key: { a: 1, b: 2 }`, or a block under `key:` if that would be too long."""
    flow = f"{indent}{key}: {_flow(pairs)}"
    if len(flow) <= _FLOW_WIDTH:
        return [flow]
    return [f"{indent}{key}:", *_block(pairs, indent + _INDENT)]


def _list_lines(key: str, items: list[list[tuple[str, str]]], indent: str) -> list[str]:
    """A single mapping as `key: {...}`, several as a list of them."""
    if len(items) == 1:
        return _mapping_lines(key, items[0], indent)
    lines = [f"{indent}{key}:"]
    for pairs in items:
        flow = f"{indent}{_INDENT}- {_flow(pairs)}"
        if len(flow) <= _FLOW_WIDTH:
            lines.append(flow)
        else:
            lines.extend(_block(pairs, indent + _INDENT, "- "))
    return lines


def _aligned(pairs: list[tuple[str, str]], indent: str) -> list[str]:
    width = max(len(key) for key, _ in pairs) + 1
    return [f"{indent}{key + ':':<{width}} {_value(value, False)}" for key, value in pairs]


def to_yaml(policy: ir.Policy) -> str:
    """The policy in the YAML form, laid out for people to read and edit."""
    _check_calendar(policy.calendar)
    cal = [("country", policy.calendar.country)]
    if policy.calendar.region_from_customer:
        cal.append(("region", "from customer"))
    elif policy.calendar.region is not None:
        cal.append(("region", policy.calendar.region))
    out = [
        f"policy: {_scalar(_line(policy.name, 'the name'))}",
        f"version: {_whole(policy.version, 1, 'the version')}",
        f"currency: {_scalar(_name(policy.currency, 'the currency'))}",
        f"timezone: {_scalar(_line(policy.timezone, 'the time zone'))}",
        f"calendar: {_flow(cal)}",
        f"language: {_scalar(_name(policy.language, 'the language'))}",
    ]
    if policy.segment_move is not ir.SegmentMove.SAME_STATE:
        out.append(f"segment_change: {policy.segment_move.value}")
    for section in (
        _yaml_limits(policy.limits),
        _yaml_segments(policy.segments),
        _yaml_ladders(policy.ladders),
        _yaml_handlers(policy.handlers),
    ):
        if section:
            out.append("")
            out.extend(section)
    return "\n".join(out) + "\n"


def _yaml_limits(lim: ir.Limits) -> list[str]:
    _check_limits(lim)
    pairs: list[tuple[str, str]] = []
    if lim.minimum_balance is not None:
        pairs.append(("minimum_balance", _money(lim.minimum_balance)))
    if lim.max_contacts is not None and lim.contact_window is not None:
        window = _days(lim.contact_window, "the contact window")
        count = _whole(lim.max_contacts, 1, "the number of contacts")
        pairs.append(("contacts", f"at most {count} per {window}"))
    if lim.letter_gap is not None:
        pairs.append(("letter_gap", _days(lim.letter_gap, "the letter gap")))
    if lim.quiet_hours:
        pairs.append(("quiet_hours", _Raw(_yaml_quiet_hours(lim.quiet_hours))))
    if lim.fee_cap is not None:
        pairs.append(("fee_cap", _money(lim.fee_cap)))
    if lim.fee_share is not None:
        pairs.append(("fee_share", _number(lim.fee_share, "the fee share") + "%"))
    if lim.minimum_handover is not None:
        pairs.append(("minimum_handover", _money(lim.minimum_handover)))
    if lim.payment_grace is not None:
        pairs.append(("payment_grace", _days(lim.payment_grace, "the payment grace")))
    if lim.residual is not None:
        pairs.append(("residual", _residual(lim.residual)))
    if lim.skonto_tolerance is not None:
        pairs.append(("skonto_tolerance", _money(lim.skonto_tolerance)))
    if lim.late_skonto_letter is not None:
        pairs.append(("late_skonto_letter", _line(lim.late_skonto_letter, "the template")))
    if lim.late_skonto_write_off is not None:
        pairs.append(("late_skonto_write_off", _money(lim.late_skonto_write_off)))
    if lim.late_skonto_ladder:
        pairs.append(("late_skonto_ladder", "true"))
    if not pairs:
        return []
    return ["limits:", *_aligned(pairs, _INDENT)]


def _yaml_quiet_hours(quiet: tuple[ir.QuietHours, ...]) -> str:
    """`{ sms: "20:00-08:00" }`; a channel given twice gets a list; order is kept."""
    groups: list[tuple[str, list[str]]] = []
    for qh in quiet:
        hours = f"{_clock(qh.start)}-{_clock(qh.end)}"
        if groups and groups[-1][0] == qh.channel.value:
            groups[-1][1].append(hours)
        else:
            groups.append((qh.channel.value, [hours]))
    channels = [channel for channel, _ in groups]

    def entry(hours: list[str]) -> str:
        return _scalar(hours[0], True) if len(hours) == 1 else _flow_list(hours)

    if len(set(channels)) == len(channels):  # each channel's hours side by side
        return "{ " + ", ".join(f"{ch}: {entry(h)}" for ch, h in groups) + " }"
    return "[" + ", ".join(f"{{ {ch}: {entry(h)} }}" for ch, h in groups) + "]"


def _yaml_segments(segments: tuple[ir.Segment, ...]) -> list[str]:
    if not segments:
        return ["segments: []"]
    lines = ["segments:"]
    for seg in segments:
        pairs: list[tuple[str, str]] = [("name", _name(seg.name, "the segment"))]
        if seg.when is not None:
            pairs.append(("when", _cond(seg.when)))
        pairs.append(("ladder", _name(seg.ladder, "the ladder")))
        if seg.tone is not None:
            pairs.append(("tone", _name(seg.tone, "the tone")))
        if seg.language is not None:
            pairs.append(("language", _name(seg.language, "the language")))
        lines.extend(_block(pairs, _INDENT, "- "))
    return lines


def _yaml_ladders(ladders: tuple[ir.Ladder, ...]) -> list[str]:
    if not ladders:
        return ["ladders: {}"]
    lines = ["ladders:"]
    for i, ladder in enumerate(ladders):
        if i:
            lines.append("")
        name = _scalar(_name(ladder.name, "the ladder"))
        if not ladder.states and not ladder.transitions:
            lines.append(f"  {name}: {{}}")
            continue
        lines.append(f"  {name}:")
        for state in ladder.states:
            lines.extend(_yaml_state(state))
        if ladder.transitions:
            lines.append("    transitions:")
            for t in ladder.transitions:
                pairs = _yaml_transition(t)
                flow = f"      - {_flow(pairs)}"
                lines.extend([flow] if len(flow) <= _FLOW_WIDTH else _block(pairs, "      ", "- "))
    return lines


def _yaml_trigger(trigger: ir.Trigger) -> tuple[str, str]:
    if isinstance(trigger, ir.EventTrigger):
        return (_ON, trigger.event.value)
    return ("after", _anchored(trigger))


def _yaml_state(state: ir.State) -> list[str]:
    indent = "      "
    lines = [f"    {_scalar(_name(state.name, 'the state'))}:"]
    pairs: list[tuple[str, str]] = []
    if state.title is not None:
        pairs.append(("title", _line(state.title, "the title")))
    pairs.append(_yaml_trigger(state.trigger))
    if state.sources:
        names = [_name(s, "the source state") for s in state.sources]
        pairs.append(("from", _Raw(_flow_list(names))))
    if state.guard is not None:
        pairs.append(("when", _cond(state.guard)))
    lines.extend(_block(pairs, indent))
    by_kind: dict[type, list] = {}
    for action in state.actions:
        by_kind.setdefault(type(action), []).append(action)
    for kind in ir.ACTION_ORDER:
        actions = by_kind.get(kind, [])
        if actions:
            lines.extend(_yaml_actions(kind, actions, indent))
    if state.manual:
        lines.append(f"{indent}wait: true")
    return lines


_FLAGS = {
    ir.LumpSum: "lump_sum",
    ir.StopCredit: "stop_credit",
    ir.CourtOrder: "court_order",
    ir.WriteOff: "write_off",
}


def _yaml_actions(kind: type, actions: list, indent: str) -> list[str]:
    if kind in _FLAGS:
        _only_one(actions)
        return [f"{indent}{_FLAGS[kind]}: true"]
    if kind is ir.Send:
        items = [
            [("channel", a.channel.value), ("template", _line(a.template, "the template"))]
            for a in actions
        ]
        return _list_lines("send", items, indent)
    if kind is ir.Offer:
        return _list_lines("offer", [_yaml_offer(a) for a in actions], indent)
    if kind is ir.Notify:
        return _text_list("notify", [_line(a.team, "the team") for a in actions], indent)
    if kind is ir.CreditReport:
        return _text_list("report", [_line(a.bureau, "the bureau") for a in actions], indent)
    _only_one(actions)
    (action,) = actions
    if kind is ir.Fee:
        return [f"{indent}fee: {_scalar(_money(action.amount))}"]
    if kind is ir.Interest:
        _check_interest(action)
        if action.statutory:
            return [f"{indent}interest: statutory"]
        return [f"{indent}interest: {_number(action.points, 'the points')} points above base"]
    if kind is ir.Approval:
        approvers, when, otherwise = _approval_parts(action)
        if when is None:
            return [f"{indent}approval: {approvers}"]
        pairs = [("approvers", _Raw(str(approvers))), ("when", _cond(when))]
        pairs.append(("otherwise", _Raw(str(otherwise))))
        return _mapping_lines("approval", pairs, indent)
    if kind is ir.Handover:
        return [f"{indent}handover: {_scalar(_line(action.agency, 'the agency'))}"]
    raise ValueError(f"unknown action {action!r}")


def _only_one(actions: list) -> None:
    if len(actions) > 1:
        raise ValueError(
            f"the YAML form has one {type(actions[0]).__name__} per state, not {len(actions)}"
        )


def _text_list(key: str, values: list[str], indent: str) -> list[str]:
    if len(values) == 1:
        return [f"{indent}{key}: {_scalar(values[0])}"]
    return [f"{indent}{key}:", *(f"{indent}{_INDENT}- {_scalar(v)}" for v in values)]


def _yaml_offer(action: ir.Offer) -> list[tuple[str, str]]:
    _check_offer(action)
    pairs: list[tuple[str, str]] = [("kind", action.kind)]
    if action.percent is not None:
        pairs.append(("percent", _number(action.percent, "the percentage") + "%"))
    if action.within is not None:
        pairs.append(("within", _dur(action.within, "the skonto period")))
    if action.until is not None:
        pairs.append(("until", _until(action.until)))
    if action.instalments is not None:
        count = _whole(action.instalments, 2, "the number of instalments")
        pairs.append(("instalments", _Raw(str(count))))
    if action.when is not None:
        pairs.append(("when", _cond(action.when)))
    return pairs


def _yaml_transition(t: ir.Transition) -> list[tuple[str, str]]:
    _check_transition(t)
    if isinstance(t.trigger, ir.EventTrigger):
        pairs: list[tuple[str, str]] = [(_ON, t.trigger.event.value)]
    else:
        pairs = [("after", _dur(t.trigger.offset, "the time"))]
    pairs += [("in", t.source), ("to", t.target)]
    if t.guard is not None:
        pairs.append(("when", _cond(t.guard)))
    if t.priority is not None:
        pairs.append(("priority", _Raw(str(t.priority))))
    return pairs


def _yaml_handlers(handlers: tuple[ir.Handler, ...]) -> list[str]:
    if not handlers:
        return []
    pairs = [(h.event.value, _handler_words(h)) for h in handlers]
    return [f"{_ON}:", *_aligned(pairs, _INDENT)]
