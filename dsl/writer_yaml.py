"""Writes a policy IR as YAML, quoting every text some YAML reader would take for
a boolean, a number, a date or null.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import yaml

from mahnwerk.dsl import ir
from mahnwerk.dsl import writer_values as wv

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
        if key == "when" and len(line) > wv.YAML_WIDTH and _plain_ok(value, False):
            # a plain scalar may go on over several lines; they are read as one
            lines.extend(wv.wrap(line, wv.YAML_WIDTH, indent + " " * len(first) + wv.INDENT))
        else:
            lines.append(line)
    return lines


def _mapping_lines(key: str, pairs: list[tuple[str, str]], indent: str) -> list[str]:
    """`key: { a: 1, b: 2 }`, or a block under `key:` if that would be too long."""
    flow = f"{indent}{key}: {_flow(pairs)}"
    if len(flow) <= wv.FLOW_WIDTH:
        return [flow]
    return [f"{indent}{key}:", *_block(pairs, indent + wv.INDENT)]


def _list_lines(key: str, items: list[list[tuple[str, str]]], indent: str) -> list[str]:
    """A single mapping as `key: {...}`, several as a list of them."""
    if len(items) == 1:
        return _mapping_lines(key, items[0], indent)
    lines = [f"{indent}{key}:"]
    for pairs in items:
        flow = f"{indent}{wv.INDENT}- {_flow(pairs)}"
        if len(flow) <= wv.FLOW_WIDTH:
            lines.append(flow)
        else:
            lines.extend(_block(pairs, indent + wv.INDENT, "- "))
    return lines


def _aligned(pairs: list[tuple[str, str]], indent: str) -> list[str]:
    width = max(len(key) for key, _ in pairs) + 1
    return [f"{indent}{key + ':':<{width}} {_value(value, False)}" for key, value in pairs]


def to_yaml(policy: ir.Policy) -> str:
    """The policy in the YAML form, laid out for people to read and edit."""
    title, version, currency, timezone, language = wv.settings(policy)
    cal = [("country", policy.calendar.country)]
    if policy.calendar.region_from_customer:
        cal.append(("region", "from customer"))
    elif policy.calendar.region is not None:
        cal.append(("region", policy.calendar.region))
    out = [
        f"policy: {_scalar(title)}",
        f"version: {version}",
        f"currency: {_scalar(currency)}",
        f"timezone: {_scalar(timezone)}",
        f"calendar: {_flow(cal)}",
        f"language: {_scalar(language)}",
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


#: How the YAML form writes a limit's value where it differs from the shared words
#: (`writer_values.limit_values`); the key is the limit's name.
_YAML_LIMITS: dict[str, Callable[[Any], str]] = {
    "contacts": lambda v: f"at most {v[0]} per {v[1]}",
    "quiet_hours": lambda v: _Raw(_yaml_quiet_hours(v)),
    "fee_share": lambda v: v + "%",
    "late_skonto_ladder": lambda v: "true",
}


def _yaml_limits(lim: ir.Limits) -> list[str]:
    pairs = [(field, _YAML_LIMITS.get(field, str)(value)) for field, value in wv.limit_values(lim)]
    if not pairs:
        return []
    return ["limits:", *_aligned(pairs, wv.INDENT)]


def _yaml_quiet_hours(quiet: tuple[ir.QuietHours, ...]) -> str:
    """`{ sms: "20:00-08:00" }`; a channel given twice gets a list; order is kept."""
    groups: list[tuple[str, list[str]]] = []
    for qh in quiet:
        hours = f"{wv.clock(qh.start)}-{wv.clock(qh.end)}"
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
        pairs: list[tuple[str, str]] = [("name", wv.name(seg.name, "the segment"))]
        if seg.when is not None:
            pairs.append(("when", wv.cond(seg.when)))
        pairs.append(("ladder", wv.name(seg.ladder, "the ladder")))
        if seg.tone is not None:
            pairs.append(("tone", wv.name(seg.tone, "the tone")))
        if seg.language is not None:
            pairs.append(("language", wv.name(seg.language, "the language")))
        lines.extend(_block(pairs, wv.INDENT, "- "))
    return lines


def _yaml_ladders(ladders: tuple[ir.Ladder, ...]) -> list[str]:
    if not ladders:
        return ["ladders: {}"]
    lines = ["ladders:"]
    for i, ladder in enumerate(ladders):
        if i:
            lines.append("")
        name = _scalar(wv.name(ladder.name, "the ladder"))
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
                lines.extend(
                    [flow] if len(flow) <= wv.FLOW_WIDTH else _block(pairs, "      ", "- ")
                )
    return lines


def _yaml_trigger(trigger: ir.Trigger) -> tuple[str, str]:
    if isinstance(trigger, ir.EventTrigger):
        return (_ON, trigger.event.value)
    return ("after", wv.anchored(trigger))


def _yaml_state(state: ir.State) -> list[str]:
    indent = "      "
    lines = [f"    {_scalar(wv.name(state.name, 'the state'))}:"]
    pairs: list[tuple[str, str]] = []
    if state.title is not None:
        pairs.append(("title", wv.line(state.title, "the title")))
    pairs.append(_yaml_trigger(state.trigger))
    if state.sources:
        names = [wv.name(s, "the source state") for s in state.sources]
        pairs.append(("from", _Raw(_flow_list(names))))
    if state.guard is not None:
        pairs.append(("when", wv.cond(state.guard)))
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
            [("channel", a.channel.value), ("template", wv.line(a.template, "the template"))]
            for a in actions
        ]
        return _list_lines("send", items, indent)
    if kind is ir.Offer:
        return _list_lines("offer", [_yaml_offer(a) for a in actions], indent)
    if kind is ir.Notify:
        return _text_list("notify", [wv.line(a.team, "the team") for a in actions], indent)
    if kind is ir.CreditReport:
        return _text_list("report", [wv.line(a.bureau, "the bureau") for a in actions], indent)
    _only_one(actions)
    (action,) = actions
    if kind is ir.Fee:
        return [f"{indent}fee: {_scalar(wv.money(action.amount))}"]
    if kind is ir.Interest:
        wv.check_interest(action)
        if action.statutory:
            return [f"{indent}interest: statutory"]
        return [f"{indent}interest: {wv.number(action.points, 'the points')} points above base"]
    if kind is ir.Approval:
        approvers, when, otherwise = wv.approval_parts(action)
        if when is None:
            return [f"{indent}approval: {approvers}"]
        pairs = [("approvers", _Raw(str(approvers))), ("when", wv.cond(when))]
        pairs.append(("otherwise", _Raw(str(otherwise))))
        return _mapping_lines("approval", pairs, indent)
    if kind is ir.Handover:
        return [f"{indent}handover: {_scalar(wv.line(action.agency, 'the agency'))}"]
    raise ValueError(f"unknown action {action!r}")


def _only_one(actions: list) -> None:
    if len(actions) > 1:
        raise ValueError(
            f"the YAML form has one {type(actions[0]).__name__} per state, not {len(actions)}"
        )


def _text_list(key: str, values: list[str], indent: str) -> list[str]:
    if len(values) == 1:
        return [f"{indent}{key}: {_scalar(values[0])}"]
    return [f"{indent}{key}:", *(f"{indent}{wv.INDENT}- {_scalar(v)}" for v in values)]


def _yaml_offer(action: ir.Offer) -> list[tuple[str, str]]:
    wv.check_offer(action)
    pairs: list[tuple[str, str]] = [("kind", action.kind)]
    if action.percent is not None:
        pairs.append(("percent", wv.number(action.percent, "the percentage") + "%"))
    if action.within is not None:
        pairs.append(("within", wv.dur(action.within, "the skonto period")))
    if action.until is not None:
        pairs.append(("until", wv.until(action.until)))
    if action.instalments is not None:
        count = wv.whole(action.instalments, 2, "the number of instalments")
        pairs.append(("instalments", _Raw(str(count))))
    if action.when is not None:
        pairs.append(("when", wv.cond(action.when)))
    return pairs


def _yaml_transition(t: ir.Transition) -> list[tuple[str, str]]:
    wv.check_transition(t)
    if isinstance(t.trigger, ir.EventTrigger):
        pairs: list[tuple[str, str]] = [(_ON, t.trigger.event.value)]
    else:
        pairs = [("after", wv.dur(t.trigger.offset, "the time"))]
    pairs += [("in", t.source), ("to", t.target)]
    if t.guard is not None:
        pairs.append(("when", wv.cond(t.guard)))
    if t.priority is not None:
        pairs.append(("priority", _Raw(str(t.priority))))
    return pairs


def _yaml_handlers(handlers: tuple[ir.Handler, ...]) -> list[str]:
    if not handlers:
        return []
    pairs = [(h.event.value, wv.handler_words(h)) for h in handlers]
    return [f"{_ON}:", *_aligned(pairs, wv.INDENT)]
