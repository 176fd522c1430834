"""The YAML policy form's vocabulary: its keys, the hints for near misses, the
error codes, and the small helpers on scalars the reader's parts share.

The values are checked with the text grammar's own terminals (`_full`), so
whatever the YAML form accepts the text form can say too.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from functools import cache, lru_cache

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mahnwerk.dsl import ir
from mahnwerk.dsl.errors import Span
from mahnwerk.dsl.expr import (
    Binary,
    Expr,
    ListExpr,
    Unary,
    grammar_parser,
)

EVENT_NAMES = [e.value for e in ir.EventKind]
CHANNEL_NAMES = [c.value for c in ir.Channel]
TERMINAL_LIST = ", ".join(sorted(ir.TERMINAL_NAMES))
_HANDLER_FORMS = "pause, pause until <date>, resume, stop -> <terminal>, goto <state> or ignore"

# Codes, as in the text reader: E001 the text cannot be read (here: a wrong key
# or a wrong shape of value), E002 a value that cannot exist, E010 an unknown
# event, E011 something given twice, E012 a required setting missing.
SYNTAX, IMPOSSIBLE, UNKNOWN_EVENT, TWICE, MISSING = "E001", "E002", "E010", "E011", "E012"

TOP_KEYS = (
    "policy",
    "version",
    "currency",
    "timezone",
    "calendar",
    "language",
    "limits",
    "segments",
    "ladders",
    "on",
    "segment_change",
)
LIMIT_KEYS = (
    "minimum_balance",
    "contacts",
    "letter_gap",
    "quiet_hours",
    "fee_cap",
    "fee_share",
    "minimum_handover",
    "payment_grace",
    "residual",
    "skonto_tolerance",
    "late_skonto_letter",
    "late_skonto_write_off",
    "late_skonto_ladder",
)
SEGMENT_KEYS = ("name", "when", "ladder", "tone", "language")
STATE_KEYS = (
    "title",
    "after",
    "on",
    "from",
    "when",
    "send",
    "offer",
    "fee",
    "lump_sum",
    "interest",
    "approval",
    "notify",
    "stop_credit",
    "report",
    "court_order",
    "handover",
    "write_off",
    "wait",
)
TRANSITION_KEYS = ("on", "after", "in", "to", "when", "priority")
OFFER_KEYS = ("kind", "percent", "within", "until", "instalments", "when")
APPROVAL_KEYS = ("approvers", "when", "otherwise")

#: Keys people bring along from the text form or other tools, and what to write instead.
TOP_HINTS = {
    "name": "the policy's name is `policy: <name>`",
    "segment": "segments are a list under `segments:`",
    "ladder": "ladders go under `ladders:`",
    "handlers": "event rules go under `on:`, e.g. `on: { insolvency: stop -> insolvent }`",
    "events": "event rules go under `on:`, e.g. `on: { insolvency: stop -> insolvent }`",
}
SEGMENT_HINTS = {
    "use": "the segment's ladder is `ladder: <name>`",
    "if": "a segment's condition is `when:`",
}
STATE_HINTS = {
    "trigger": "write `after: 7d after due` or `on: delivery_failed`",
    "at": "write `after: 3d before due` (the YAML form says `after:` for every time trigger)",
    "guard": "a state's condition is `when:`",
    "if": "a state's condition is `when:`",
    "lump": "write `lump_sum: true`",
    "court": "write `court_order: true`",
    "credit_report": "write `report: <bureau>`",
    "manual": "write `wait: true`",
    "source": "write `from: [state, ...]`",
    "sources": "write `from: [state, ...]`",
}
for _channel in CHANNEL_NAMES:
    STATE_HINTS[_channel] = f"write `send: {{ channel: {_channel}, template: <template> }}`"
TRANSITION_HINTS = {
    "from": "a transition's source state is `in:`",
    "target": "a transition's target state is `to:`",
}
MERGE_HINT = "merge keys (`<<`) are not supported: write the keys out"

_TRUE = {"true", "yes", "on"}
_FALSE = {"false", "no", "off"}


@cache
def _terminal(name: str) -> re.Pattern[str]:
    """A terminal of `policy.lark` as a regex, so both forms accept the same values."""
    for term in grammar_parser().terminals:
        if term.name == name:
            return re.compile(term.pattern.to_regexp())
    raise KeyError(name)  # pragma: no cover - the grammar defines all we ask for


def _full(name: str, text: str) -> bool:
    return _terminal(name).fullmatch(text) is not None


class _Key:
    """A key of a mapping and its value node."""

    __slots__ = ("name", "key", "value")

    def __init__(self, name: str, key: Node, value: Node):
        self.name = name
        self.key = key
        self.value = value


def _describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping (`key: value` lines)"
    if isinstance(node, SequenceNode):
        return "a list"
    if _is_empty(node):
        return "empty"
    return repr(node.value)


def _is_empty(node: Node) -> bool:
    """`key:` with nothing after it (quoted "" is an empty text, not nothing)."""
    return isinstance(node, ScalarNode) and node.value == "" and node.style is None


def _same_char(value_char: str, raw_char: str) -> bool:
    if value_char == raw_char:
        return True
    # line folding turns a line break into a space; `\r\n` is read as `\n`
    return (value_char == " " and raw_char in "\n\r") or (value_char == "\n" and raw_char == "\r")


_LISTABLE = {"send", "offer", "notify", "report"}


def _relocate(expr: Expr, move: Callable[[Span], Span]) -> Expr:
    """`expr` with every span moved by `move`."""
    if isinstance(expr, Unary):
        return dataclasses.replace(
            expr, operand=_relocate(expr.operand, move), span=move(expr.span)
        )
    if isinstance(expr, Binary):
        return dataclasses.replace(
            expr,
            left=_relocate(expr.left, move),
            right=_relocate(expr.right, move),
            span=move(expr.span),
        )
    if isinstance(expr, ListExpr):
        items = tuple(_relocate(i, move) for i in expr.items)
        return dataclasses.replace(expr, items=items, span=move(expr.span))
    return dataclasses.replace(expr, span=move(expr.span))


_CURRENCY_WORDS = {"€": "EUR", "$": "USD", "£": "GBP", "EURO": "EUR", "EUROS": "EUR"}


@lru_cache(maxsize=1)
def _currencies() -> tuple[str, ...]:
    """The currency codes the grammar's MONEY terminal knows."""
    found = re.search(r"\(((?:[A-Z]{3}\|)*[A-Z]{3})\)", _terminal("MONEY").pattern)
    return tuple(found[1].split("|")) if found else ("EUR",)


def _money_problem(text: str) -> tuple[str, str]:
    """Why `text` is not an amount, and the amount its author most likely meant."""
    number_first = re.fullmatch(r"(?P<sign>[-+]?)\s*(?P<num>\d[\d.,']*)\s*(?P<unit>\D*?)", text)
    unit_first = re.fullmatch(
        r"(?P<unit>[^\d\s.,+-]+)\s*(?P<sign>[-+]?)\s*(?P<num>\d[\d.,']*)", text
    )
    m = number_first or unit_first
    if m is None:
        return f"not an amount: {text!r}", "2.50 EUR"
    sign, number, unit = m["sign"], m["num"], m["unit"].strip()
    code = _CURRENCY_WORDS.get(unit.upper(), _CURRENCY_WORDS.get(unit, unit.upper()))
    currency = code if code in _currencies() else "EUR"
    better = f"{_point_number(number)} {currency}"
    if sign == "-":
        return f"an amount cannot be negative here: {text!r}", better
    if "," in number:
        return f"{text!r} has a decimal comma: amounts are written with a point", better
    if not unit:
        return f"the amount {text!r} has no currency", better
    if unit in _CURRENCY_WORDS or unit.upper() in _CURRENCY_WORDS:
        return f"write the currency as its code {currency}, not {unit!r}", better
    if m is unit_first:
        return f"the currency goes after the number, not before it: {text!r}", better
    if code in _currencies() and unit != code:
        return f"write the currency in capitals: {unit!r}", better
    if re.fullmatch(r"[A-Za-z]{3}", unit):
        known = ", ".join(_currencies())
        return f"unknown currency {unit!r}: amounts may be in {known}", better
    return f"not an amount: {text!r}", better


def _point_number(number: str) -> str:
    """`2,50` -> `2.50`, `1.000,00` -> `1000.00`, `1,000.00` -> `1000.00`, `1'000` -> `1000`."""
    number = number.replace("'", "")
    if "," in number and "." in number:
        if number.rfind(",") > number.rfind("."):
            number = number.replace(".", "").replace(",", ".")
        else:
            number = number.replace(",", "")
    elif "," in number:
        number = number.replace(",", ".") if number.count(",") == 1 else number.replace(",", "")
    return number
