"""Reads the YAML form of a policy (`*.yaml`) into the IR.

The YAML form says exactly what the text form says (`policies/README.md` has
both side by side) and yields an equal `ir.Policy`.  It is read from PyYAML's
*composed* node tree, never from constructed Python objects, for two reasons:

* every node keeps its `start_mark`/`end_mark`, so every IR node gets the
  line and column of the user's own text, and a condition's type error points
  at the very operand, as it does in the text form;
* every scalar stays the string the author typed: YAML 1.1 would turn the key
  `on:` (the event rules) and values like `no` (Norwegian) or `NO` (Norway)
  into booleans, and `20:00` into the number 1200.

Values inside scalars (amounts, durations, percentages, times of day, names)
are checked with the text grammar's own terminals, so whatever the YAML form
accepts the text form can say too (`mahnwerk policy convert` relies on it).
Conditions are parsed with `expr.parse_expr`; their positions are mapped back
through quotes, escapes and line folding to the file.

Like the text reader, this reader collects every problem of the file in the
`Collector` and returns None if there was any.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Callable, Iterator
from datetime import time
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mahnwerk.dsl import ir
from mahnwerk.dsl.errors import NOWHERE, Collector, Span
from mahnwerk.dsl.expr import (
    Binary,
    Duration,
    Expr,
    ListExpr,
    Money,
    Unary,
    grammar_parser,
    parse_duration,
    parse_expr,
    parse_money,
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


def read_yaml(source: str, path: str, collector: Collector) -> ir.Policy | None:
    """Parse `source` (the contents of `path`); problems go to `collector`."""
    before = len(collector.errors)
    try:
        root = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        _syntax_error(exc, source, path, collector)
        return None
    except yaml.YAMLError as exc:  # a character YAML does not allow anywhere
        _reader_error(exc, source, path, collector)
        return None
    policy = _Reader(source, path, collector).policy(root)
    if len(collector.errors) > before:
        return None
    return policy


# ---------------------------------------------------------------------------
# YAML syntax errors in plain words
# ---------------------------------------------------------------------------

#: (PyYAML's wording, ours, a hint), tried in order; the first match wins.
_PLAIN: tuple[tuple[str, str, str | None], ...] = (
    (
        "found character '\\t' that cannot start any token",
        "a tab character: YAML indents with spaces only",
        "replace the tab by spaces",
    ),
    (
        "mapping values are not allowed here",
        "a ':' where no `key: value` can start",
        "put a space after the ':' of a key, check the indentation, "
        "or quote a text that contains ': '",
    ),
    (
        "could not find expected ':'",
        "a `key: value` line without its ':'",
        "write the key, a ':' and a space before the value",
    ),
    (
        "did not find expected key",
        "this line does not line up with the keys above it",
        "the keys of one mapping must start in the same column",
    ),
    (
        "expected <block end>",
        "this line does not line up with the lines above it",
        "the keys of one mapping must start in the same column",
    ),
    (
        "did not find expected '-' indicator",
        "this list item does not line up with the items above it",
        "every `- ` of one list must start in the same column",
    ),
    (
        "did not find expected ',' or '}'",
        "a `{ ... }` mapping is not closed where it should be",
        "separate its entries with ', ' and close it with '}'",
    ),
    (
        "did not find expected ',' or ']'",
        "a `[ ... ]` list is not closed where it should be",
        "separate its items with ', ' and close it with ']'",
    ),
    (
        "expected ',' or '}'",
        "a `{ ... }` mapping is not closed where it should be",
        "separate its entries with ', ' and close it with '}'",
    ),
    (
        "expected ',' or ']'",
        "a `[ ... ]` list is not closed where it should be",
        "separate its items with ', ' and close it with ']'",
    ),
    (
        "found unexpected end of stream",
        "the file ends inside a quoted text",
        "close the quote",
    ),
    (
        "found unknown escape character",
        "an unknown escape with '\\' in a double-quoted text",
        "write '\\\\' for a backslash, or use single quotes",
    ),
    (
        "expected a single document",
        "the file holds more than one YAML document",
        "a policy file is one document: remove the `---` line",
    ),
    (
        "found undefined alias",
        "a '*' names no anchor defined above",
        "quote a text that starts with '*'",
    ),
    (
        "expected alphabetic or numeric character",
        "'&' or '*' must be followed by a name",
        "quote a text that starts with '&' or '*'",
    ),
    (
        "that cannot start any token",
        "this character cannot start a value",
        "quote the value",
    ),
)


#: PyYAML's "while ..." context, as the thing that began at the context mark.
_CONTEXTS = {
    "while scanning a simple key": "the key began",
    "while scanning a quoted scalar": "the quote began",
    "while parsing a flow mapping": "the `{` is",
    "while parsing a flow sequence": "the `[` is",
    "while parsing a block mapping": "the mapping began",
    "while parsing a block collection": "the list began",
}


def _syntax_error(exc: yaml.MarkedYAMLError, source: str, path: str, c: Collector) -> None:
    mark = exc.problem_mark or exc.context_mark
    span = Span(path, mark.line + 1, mark.column + 1) if mark else Span(path, 1, 1)
    problem = exc.problem or ""
    said = f"{problem} {exc.context or ''}"
    message, hint = f"the YAML cannot be read: {problem}", None
    for theirs, ours, advice in _PLAIN:
        if theirs in said:
            message, hint = ours, advice
            break
    context = _CONTEXTS.get(exc.context or "")
    quoted = _quoted_start(source, mark.line) if mark else None
    if quoted is not None:
        key, value = quoted
        message = (
            f"the `{key}:` value starts with a quote, so YAML takes only the quoted part as "
            "the value: a condition like this needs quotes around the whole of it"
        )
        hint = f"write  {key}: '{value}'"
        span = Span(path, mark.line + 1, source.splitlines()[mark.line].index(key) + 1)
    elif mark and "found '<scalar>'" in problem and _continued_after_comment(source, mark.line):
        message = "a value goes on after a `#` comment on the line above, but a comment ends it"
        hint = "move the comment behind the value's last line, or write the value on one line"
    elif context and exc.context_mark and mark and exc.context_mark.line != mark.line:
        message += f" ({context} at line {exc.context_mark.line + 1})"
    c.error(span, message, hint=hint, code=SYNTAX)


_QUOTED_START = re.compile(
    r"""^\s*(?:-\s+)?([A-Za-z_]\w*):\s+("[^"]*"|'[^']*')\s+([^#\s].*?)\s*$"""
)


def _quoted_start(source: str, line: int) -> tuple[str, str] | None:
    """`when: "x" in customer.tags`: (key, the whole value) if line `line` reads so."""
    lines = source.splitlines()
    if not 0 <= line < len(lines):
        return None
    m = _QUOTED_START.match(lines[line])
    if m is None:
        return None
    return m[1], f"{m[2]} {m[3]}".replace("'", "''")


def _continued_after_comment(source: str, line: int) -> bool:
    """Line `line` (0-based) is indented deeper than the line above, which has a comment."""
    lines = source.splitlines()
    if not 0 < line < len(lines):
        return False
    above, here = lines[line - 1], lines[line]
    indent = len(here) - len(here.lstrip(" "))
    return " #" in above and indent > len(above) - len(above.lstrip(" "))


def _reader_error(exc: yaml.YAMLError, source: str, path: str, c: Collector) -> None:
    position = getattr(exc, "position", 0) or 0
    line = source.count("\n", 0, position) + 1
    col = position - (source.rfind("\n", 0, position) + 1) + 1
    char = getattr(exc, "character", None)
    if isinstance(char, str) and len(char) == 1:
        char = ord(char)
    what = f"U+{char:04X}" if isinstance(char, int) else repr(char)
    c.error(
        Span(path, line, col),
        f"the file holds the control character {what}, which YAML does not allow",
        hint="remove it (save the file as plain UTF-8 text)",
        code=SYNTAX,
    )


# ---------------------------------------------------------------------------
# The reader
# ---------------------------------------------------------------------------


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


class _Reader:
    def __init__(self, source: str, path: str, collector: Collector):
        self.source = source
        self.path = path
        self.c = collector

    # positions ---------------------------------------------------------------
    def span(self, node: Node, end: Node | None = None) -> Span:
        """From the start of `node` to the end of `end` (or of `node`)."""
        start, stop = node.start_mark, (end or node).end_mark
        return Span(self.path, start.line + 1, start.column + 1, stop.line + 1, stop.column + 1)

    def pair(self, item: _Key) -> Span:
        return self.span(item.key, item.value)

    def _char_positions(self, node: ScalarNode) -> list[tuple[int, int]]:
        """Line and column in the file of every character of `node.value`.

        Quotes, `''`, escapes, line folding and block indentation make the
        value differ from the raw text; walking both side by side finds where
        each character came from (an escape maps to its last raw character).
        """
        raw = self.source[node.start_mark.index : node.end_mark.index]
        line, col = node.start_mark.line + 1, node.start_mark.column + 1
        raw_pos = []
        for i, ch in enumerate(raw):
            raw_pos.append((line, col))
            if ch == "\n" or (ch == "\r" and raw[i + 1 : i + 2] != "\n"):
                line, col = line + 1, 1
            else:
                col += 1
        if node.style in ("'", '"'):
            j = 1
        elif node.style in ("|", ">"):
            j = raw.find("\n") + 1  # skip the header line (`|-  # comment`)
        else:
            j = 0
        out = []
        for ch in node.value:
            k = j
            while k < len(raw) and not _same_char(ch, raw[k]):
                k += 1
            if k < len(raw):
                out.append(raw_pos[k])
                j = k + 1
            else:  # not found (an unusual escape): stay where we are
                out.append(raw_pos[min(j, len(raw) - 1)] if raw else (line, col))
        return out

    def sub_span(self, node: ScalarNode, start: int, end: int) -> Span:
        """The span of `node.value[start:end]` in the file."""
        chars = self._char_positions(node)
        if not chars:
            return self.span(node)
        start = max(0, min(start, len(chars) - 1))
        end = max(start + 1, min(end, len(chars)))
        (line, col), (end_line, end_col) = chars[start], chars[end - 1]
        return Span(self.path, line, col, end_line, end_col + 1)

    # generic shapes ------------------------------------------------------------
    def shape_error(self, node: Node, key: str, what: str, example: str) -> None:
        self.c.error(
            self.span(node),
            f"`{key}` must be {what}, not {_describe(node)}",
            hint=f"write e.g. `{key}: {example}`",
            code=SYNTAX,
        )

    def mapping(
        self,
        node: Node,
        keys: tuple[str, ...],
        where: str,
        key: str,
        example: str,
        hints: dict[str, str] | None = None,
    ) -> dict[str, _Key] | None:
        """The keys of a mapping with a fixed vocabulary; unknown or doubled keys are errors."""
        if not isinstance(node, MappingNode):
            self.shape_error(node, key, "a mapping", example)
            return None
        out: dict[str, _Key] = {}
        for item in self.items(node):
            if item.name not in keys:
                self.unknown_key(item, keys, where, hints)
            elif item.name in out:
                first = out[item.name].key.start_mark.line + 1
                self.c.error(
                    self.span(item.key),
                    f"`{item.name}` is set twice in {where}",
                    hint=f"the first is at line {first}"
                    + ("; write several as a list" if item.name in _LISTABLE else ""),
                    code=TWICE,
                )
            else:
                out[item.name] = item
        return out

    def items(self, node: MappingNode) -> Iterator[_Key]:
        """Every `key: value` of a mapping, in order, duplicates included."""
        for key, value in node.value:
            if not isinstance(key, ScalarNode):
                self.c.error(self.span(key), "a key must be a plain word", code=SYNTAX)
                continue
            yield _Key(key.value, key, value)

    def unknown_key(
        self, item: _Key, keys: tuple[str, ...], where: str, hints: dict[str, str] | None = None
    ) -> None:
        near = difflib.get_close_matches(item.name, keys, n=1, cutoff=0.6)
        if item.name == "<<":
            hint = MERGE_HINT
        elif item.name in (hints or {}):
            hint = (hints or {})[item.name]
        elif near:
            hint = f"did you mean {near[0]!r}?"
        else:
            hint = "known keys here: " + ", ".join(keys)
        self.c.error(
            self.span(item.key), f"unknown key {item.name!r} in {where}", hint=hint, code=SYNTAX
        )

    def scalar(self, node: Node, key: str, what: str, example: str) -> str | None:
        if not isinstance(node, ScalarNode) or _is_empty(node):
            self.shape_error(node, key, what, example)
            return None
        return node.value

    def text(self, node: Node, key: str, example: str) -> str | None:
        """A free text (template, title, agency): one line."""
        value = self.scalar(node, key, "a text", example)
        if value is not None and ("\n" in value or "\r" in value):
            self.c.error(
                self.span(node),
                f"`{key}` must fit on one line",
                hint=f"write e.g. `{key}: {example}`",
                code=SYNTAX,
            )
            return None
        return value

    def name(self, node: Node, key: str, example: str) -> str | None:
        """A name (state, ladder, segment, country ...): letters, digits and `_`."""
        value = self.scalar(node, key, "a name", example)
        if value is None:
            return None
        if not _full("NAME", value):
            better = re.sub(r"\W+", "_", value.strip()).strip("_") or example
            if better[:1].isdigit():
                better = "_" + better
            self.c.error(
                self.span(node),
                f"`{key}` must be a name of letters, digits and _ "
                f"(not starting with a digit), not {value!r}",
                hint=f"write e.g. `{key}: {better}`",
                code=SYNTAX,
            )
            return None
        return value

    def names(self, node: Node, key: str, example: str) -> tuple[str, ...] | None:
        if isinstance(node, SequenceNode):
            found = [self.name(item, key, example) for item in node.value]
            if any(n is None for n in found):
                return None
            return tuple(n for n in found if n is not None)
        if isinstance(node, ScalarNode) and not _is_empty(node) and "," in node.value:
            parts = ", ".join(p.strip() for p in node.value.split(","))
            self.shape_error(node, key, "a list", f"[{parts}]")
            return None
        one = self.name(node, key, example)
        return None if one is None else (one,)

    def integer(self, node: Node, key: str, what: str, minimum: int, example: str) -> int | None:
        value = self.scalar(node, key, "a whole number", example)
        if value is None:
            return None
        # digits only: `1e999999999` would be a number with a billion digits
        if not re.fullmatch(r"[-+]?\d{1,30}(\.\d{1,30})?", value.strip()):
            self.shape_error(node, key, "a whole number", example)
            return None
        number = Decimal(value.strip())
        if number != number.to_integral_value() or number < minimum:
            self.c.error(
                self.span(node),
                f"{what} must be a whole number ≥ {minimum}, not {value.strip()}",
                hint=f"write e.g. `{key}: {example}`",
                code=IMPOSSIBLE,
            )
            return None
        return int(number)

    def flag(self, node: Node, key: str) -> bool | None:
        value = node.value.strip().lower() if isinstance(node, ScalarNode) else None
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        self.shape_error(node, key, "true or false", "true")
        return None

    def decimal(
        self, node: Node, key: str, what: str, example: str, percent: bool
    ) -> Decimal | None:
        """A non-negative number, with `%` allowed (and kept out of the value) if `percent`."""
        value = self.scalar(node, key, what, example)
        if value is None:
            return None
        text = value.strip()
        if percent and _full("PERCENT", text):
            text = text.rstrip("%").strip()
        if _full("NUMBER", text):
            return Decimal(text)
        if re.fullmatch(r"-\s*\d+(\.\d+)?\s*%?", text):
            self.c.error(
                self.span(node),
                f"`{key}` cannot be negative",
                hint=f"write e.g. `{key}: {example}`",
                code=IMPOSSIBLE,
            )
            return None
        if re.fullmatch(r"\d+,\d+\s*%?", text):
            self.c.error(
                self.span(node),
                f"`{key}` must be written with a decimal point, not a comma",
                hint=f"write `{key}: {value.strip().replace(',', '.')}`",
                code=SYNTAX,
            )
            return None
        self.shape_error(node, key, what, example)
        return None

    # values with units -----------------------------------------------------------
    def money(self, node: Node, key: str) -> Money | None:
        value = self.scalar(node, key, "an amount like 2.50 EUR", "2.50 EUR")
        if value is None:
            return None
        text = value.strip()
        if _full("MONEY", text):
            return parse_money(text)
        message, better = _money_problem(text)
        self.c.error(
            self.span(node),
            f"`{key}`: {message}",
            hint=f"write e.g. `{key}: {better}`",
            code=SYNTAX,
        )
        return None

    def duration_text(
        self, node: ScalarNode, key: str, text: str, start: int, example: str
    ) -> Duration | None:
        """`text` (found at `node.value[start:]`) as a duration."""
        stripped = text.strip()
        if _full("DURATION", stripped) and len(stripped) < 100:
            return parse_duration(stripped)
        lead = start + len(text) - len(text.lstrip())
        where = self.sub_span(node, lead, lead + len(stripped))
        if re.fullmatch(r"\d+", stripped):
            message = f"`{key}`: the duration {stripped} needs a unit"
            hint = f"write {stripped}d (days), {stripped}w (weeks) or {stripped} business days"
        elif re.fullmatch(r"-\s*\d+.*", stripped):
            message = f"`{key}`: a duration cannot be negative here"
            hint = "to count back from the due date write e.g. `3d before due`"
        else:
            message = f"`{key}`: not a duration: {stripped!r}"
            hint = f"write e.g. `{key}: {example}` (14d, 2w or 3 business days)"
        self.c.error(where, message, hint=hint, code=SYNTAX)
        return None

    def duration(self, node: Node, key: str, example: str) -> Duration | None:
        value = self.scalar(node, key, "a duration like 14d", example)
        if value is None:
            return None
        assert isinstance(node, ScalarNode)
        return self.duration_text(node, key, value, 0, example)

    def clock(self, node: ScalarNode, key: str, text: str, start: int) -> time | None:
        hh, mm = text.split(":")
        if int(hh) > 23 or int(mm) > 59:
            self.c.error(
                self.sub_span(node, start, start + len(text)),
                f"not a time of day: {text}",
                hint=f'write e.g. `{key}: "20:00-08:00"`',
                code=IMPOSSIBLE,
            )
            return None
        return time(int(hh), int(mm))

    # conditions ----------------------------------------------------------------
    def expr(self, node: Node, key: str, example: str) -> Expr | None:
        value = self.scalar(node, key, "a condition", example)
        if value is None:
            return None
        assert isinstance(node, ScalarNode)
        return self.expr_at(node, 0)

    def expr_at(self, node: ScalarNode, start: int) -> Expr | None:
        """Parse the condition `node.value[start:]`, its spans placed in the file."""
        text = node.value[start:]
        local = Collector(self.path)
        parsed = parse_expr(text, local)
        line_starts = [0]
        for i, ch in enumerate(text):
            if ch == "\n":
                line_starts.append(i + 1)
        chars = self._char_positions(node)

        def index(line: int, col: int) -> int:
            line = max(1, min(line, len(line_starts)))
            return start + line_starts[line - 1] + col - 1

        def place(i: int) -> tuple[int, int]:
            if i >= len(chars):  # just after the text, e.g. "the text ends too early"
                line, col = chars[-1]
                return line, col + 1
            return chars[max(i, 0)]

        def move(span: Span) -> Span:
            if span.line <= 0:
                return span
            if not chars:
                return self.span(node)
            at = index(span.line, span.col)
            line, col = place(at)
            if span.end_line is None or span.end_col is None:
                return Span(self.path, line, col)
            end_line, end_col = place(max(at + 1, index(span.end_line, span.end_col)) - 1)
            return Span(self.path, line, col, end_line, end_col + 1)

        for d in local.items:
            self.c.items.append(dataclasses.replace(d, span=move(d.span)))
        return None if parsed is None else _relocate(parsed, move)

    # the policy ------------------------------------------------------------------
    def policy(self, root: Node | None) -> ir.Policy | None:
        if root is None:
            self.c.error(
                Span(self.path, 1, 1),
                "the file holds no policy",
                hint="a YAML policy starts with `policy: <name>` and `version: 1`",
                code=MISSING,
            )
            return None
        if not isinstance(root, MappingNode):
            self.c.error(
                self.span(root),
                f"a YAML policy is a mapping of keys like `policy:` and `ladders:`, "
                f"not {_describe(root)}",
                hint="start the file with `policy: <name>`",
                code=SYNTAX,
            )
            return None
        span = self.span(root)
        top = self.mapping(root, TOP_KEYS, "the policy", "policy", "...", TOP_HINTS) or {}
        name = version = None
        if "policy" in top:
            name = self.text(top["policy"].value, "policy", "de-b2c-standard")
        if "version" in top:
            version = self.integer(top["version"].value, "version", "the version", 1, "1")
        settings: dict[str, Any] = {}
        if "currency" in top:
            settings["currency"] = self.name(top["currency"].value, "currency", "EUR")
        if "timezone" in top:
            settings["timezone"] = self.text(top["timezone"].value, "timezone", "Europe/Berlin")
        if "calendar" in top:
            settings["calendar"] = self.calendar(top["calendar"])
        if "language" in top:
            settings["language"] = self.name(top["language"].value, "language", "de")
        limits = self.limits(top["limits"]) if "limits" in top else ir.Limits(span=span)
        segments = self.segments(top["segments"].value) if "segments" in top else ()
        ladders = self.ladders(top["ladders"].value) if "ladders" in top else ()
        handlers = self.handlers(top["on"].value) if "on" in top else ()
        move, move_span = ir.SegmentMove.SAME_STATE, NOWHERE
        if "segment_change" in top:
            node = top["segment_change"].value
            chosen = self.choice(node, "segment_change", [m.value for m in ir.SegmentMove])
            if chosen is not None:
                move, move_span = ir.SegmentMove(chosen), self.pair(top["segment_change"])
        for key, what, hint in (
            ("policy", "name", "add `policy: <name>` at the top"),
            ("version", "version", "add `version: 1`"),
            ("currency", "currency", "add `currency: EUR`"),
            ("timezone", "timezone", "add `timezone: Europe/Berlin`"),
            ("calendar", "calendar", "add `calendar: { country: DE, region: from customer }`"),
            ("language", "language", "add `language: de`"),
        ):
            if key not in top:  # the text reader's words (E012)
                self.c.error(span, f"the policy does not say its {what}", hint=hint, code=MISSING)
        if (
            name is None
            or version is None
            or limits is None
            or any(
                settings.get(k) is None for k in ("currency", "timezone", "calendar", "language")
            )
        ):
            return None
        return ir.Policy(
            name=name,
            version=version,
            currency=settings["currency"],
            timezone=settings["timezone"],
            calendar=settings["calendar"],
            language=settings["language"],
            segments=segments,
            ladders=ladders,
            handlers=handlers,
            limits=limits,
            segment_move=move,
            segment_move_span=move_span,
            path=self.path,
            span=span,
        )

    def calendar(self, item: _Key) -> ir.Calendar | None:
        example = "{ country: DE, region: from customer }"
        keys = self.mapping(item.value, ("country", "region"), "the calendar", "calendar", example)
        if keys is None:
            return None
        span = self.pair(item)
        if "country" not in keys:
            self.c.error(
                span,
                "the calendar does not say its country",
                hint=f"write `calendar: {example}`",
                code=MISSING,
            )
            return None
        country = self.name(keys["country"].value, "country", "DE")
        if country is None:
            return None
        if "region" not in keys:
            return ir.Calendar(country, span=span)
        node = keys["region"].value
        value = self.scalar(node, "region", "a region", "BY")
        if value is None:
            return None
        if re.fullmatch(r"from\s+customer", value.strip()):
            return ir.Calendar(country, region_from_customer=True, span=span)
        if value.strip() == "from":
            self.c.error(
                self.span(node),
                "`region: from` names no region",
                hint="write `region: from customer` for the customer's own region",
                code=SYNTAX,
            )
            return None
        region = self.name(node, "region", "BY")
        return None if region is None else ir.Calendar(country, region=region, span=span)

    # limits ----------------------------------------------------------------------
    def limits(self, item: _Key) -> ir.Limits | None:
        span = self.pair(item)
        if _is_empty(item.value):
            return ir.Limits(span=span)
        keys = self.mapping(item.value, LIMIT_KEYS, "the limits", "limits", "{ fee_cap: 2.50 EUR }")
        if keys is None:
            return None
        values: dict[str, Any] = {}
        ok = True
        for name in (
            "minimum_balance",
            "fee_cap",
            "minimum_handover",
            "skonto_tolerance",
            "late_skonto_write_off",
        ):
            if name in keys:
                values[name] = self.money(keys[name].value, name)
                ok &= values[name] is not None
        if "contacts" in keys:
            contacts = self.contacts(keys["contacts"].value)
            ok &= contacts is not None
            if contacts is not None:
                values["max_contacts"], values["contact_window"] = contacts
        if "letter_gap" in keys:
            values["letter_gap"] = self.duration(keys["letter_gap"].value, "letter_gap", "14 days")
            ok &= values["letter_gap"] is not None
        if "payment_grace" in keys:
            values["payment_grace"] = self.duration(
                keys["payment_grace"].value, "payment_grace", "3 business days"
            )
            ok &= values["payment_grace"] is not None
        if "late_skonto_letter" in keys:
            values["late_skonto_letter"] = self.text(
                keys["late_skonto_letter"].value, "late_skonto_letter", "skonto_nachforderung"
            )
            ok &= values["late_skonto_letter"] is not None
        if "late_skonto_ladder" in keys:
            flag = self.flag(keys["late_skonto_ladder"].value, "late_skonto_ladder")
            ok &= flag is not None
            values["late_skonto_ladder"] = bool(flag)
        if "fee_share" in keys:
            node = keys["fee_share"].value
            values["fee_share"] = self.decimal(
                node, "fee_share", "a percentage like 30%", "30%", percent=True
            )
            ok &= values["fee_share"] is not None
        if "residual" in keys:
            values["residual"] = self.residual(keys["residual"])
            ok &= values["residual"] is not None
        quiet: tuple[ir.QuietHours, ...] = ()
        if "quiet_hours" in keys:
            found = self.quiet_hours(keys["quiet_hours"])
            ok &= found is not None
            quiet = found or ()
        if not ok:
            return None
        spans = tuple((name, self.pair(keys[name])) for name in keys)
        return ir.Limits(quiet_hours=quiet, span=span, spans=spans, **values)

    def residual(self, item: _Key) -> ir.Residual | None:
        """`residual: up to 1.00 EUR write off` (or `… ask in next letter`), issue 11."""
        example = "up to 1.00 EUR write off"
        node = item.value
        value = self.scalar(node, "residual", "a tolerance and what to do", example)
        if value is None:
            return None
        assert isinstance(node, ScalarNode)
        m = re.fullmatch(r"\s*(?:up\s+to\s+)?(\S+(?:\s+[^\d\s]{1,3}(?=\s|$))?)\s*(.*?)\s*", value)
        if m is None:
            self.shape_error(node, "residual", "a tolerance and what to do", example)
            return None
        amount, words = m[1], " ".join(m[2].split())
        if not _full("MONEY", amount):
            message, better = _money_problem(amount)
            self.c.error(
                self.sub_span(node, m.start(1), m.end(1)),
                f"`residual`: {message}",
                hint=f"write e.g. `residual: up to {better} write off`",
                code=SYNTAX,
            )
            return None
        choices = {a.value: a for a in ir.ResidualAction}
        if words and words not in choices:
            self.c.error(
                self.sub_span(node, m.start(2), m.end(2)),
                f"`residual`: {m[2]!r} is not what to do with a residual",
                hint=f"write `residual: up to {amount} write off` or "
                f"`residual: up to {amount} ask in next letter`",
                code=SYNTAX,
            )
            return None
        action = choices[words] if words else ir.ResidualAction.WRITE_OFF
        return ir.Residual(parse_money(amount), action, self.pair(item))

    def contacts(self, node: Node) -> tuple[int, Duration] | None:
        example = "at most 3 per 7 days"
        value = self.scalar(node, "contacts", "a contact limit", example)
        if value is None:
            return None
        assert isinstance(node, ScalarNode)
        m = re.fullmatch(r"\s*(?:at\s+most\s+)?(\S+)\s+(?:contacts?\s+)?per\s+(.+?)\s*", value)
        if not m:
            self.shape_error(node, "contacts", "a contact limit", example)
            return None
        count = None
        if not re.fullmatch(r"\d+(\.\d+)?", m[1]):
            self.c.error(
                self.sub_span(node, m.start(1), m.end(1)),
                f"`contacts`: {m[1]!r} is not a number",
                hint=f"write e.g. `contacts: {example}`",
                code=SYNTAX,
            )
        elif Decimal(m[1]) != int(Decimal(m[1])) or Decimal(m[1]) < 1:
            self.c.error(
                self.sub_span(node, m.start(1), m.end(1)),
                f"the number of contacts must be a whole number ≥ 1, not {m[1]}",
                hint=f"write e.g. `contacts: {example}`",
                code=IMPOSSIBLE,
            )
        else:
            count = int(Decimal(m[1]))
        window = self.duration_text(node, "contacts", m[2], m.start(2), "7 days")
        if count is None or window is None:
            return None
        return count, window

    def quiet_hours(self, item: _Key) -> tuple[ir.QuietHours, ...] | None:
        """`{ sms: "20:00-08:00", call: [...] }`, or a list of such one-key mappings."""
        node = item.value
        example = '{ sms: "20:00-08:00" }'
        if isinstance(node, SequenceNode):
            entries = []
            for element in node.value:
                if not isinstance(element, MappingNode):
                    self.shape_error(element, "quiet_hours", "a channel and its hours", example)
                    return None
                entries.extend(self.items(element))
        elif isinstance(node, MappingNode):
            entries = list(self.items(node))
        else:
            self.shape_error(node, "quiet_hours", "a mapping of channels", example)
            return None
        out: list[ir.QuietHours] = []
        ok = True
        for entry in entries:
            if entry.name not in CHANNEL_NAMES:
                self.unknown_key(entry, tuple(CHANNEL_NAMES), "the quiet hours")
                ok = False
                continue
            channel = ir.Channel(entry.name)
            ranges = entry.value.value if isinstance(entry.value, SequenceNode) else [entry.value]
            for value_node in ranges:
                span = self.pair(entry) if value_node is entry.value else self.span(value_node)
                found = self.hours(value_node, entry.name)
                if found is None:
                    ok = False
                else:
                    out.append(ir.QuietHours(channel, found[0], found[1], span))
        return tuple(out) if ok else None

    def hours(self, node: Node, channel: str) -> tuple[time, time] | None:
        example = '"20:00-08:00"'
        value = self.scalar(node, channel, "a time range", example)
        if value is None:
            return None
        assert isinstance(node, ScalarNode)
        clock = _terminal("CLOCK").pattern
        m = re.fullmatch(rf"\s*({clock})\s*(?:-|to)\s*({clock})\s*", value)
        if not m:
            self.shape_error(node, channel, "a time range", example)
            return None
        start = self.clock(node, channel, m[1], m.start(1))
        end = self.clock(node, channel, m[2], m.start(2))
        if start is None or end is None:
            return None
        return start, end

    # segments --------------------------------------------------------------------
    def segments(self, node: Node) -> tuple[ir.Segment, ...]:
        if _is_empty(node):
            return ()
        if not isinstance(node, SequenceNode):
            self.shape_error(
                node,
                "segments",
                "a list (one `- name: ...` per segment)",
                "[{ name: default, ladder: standard }]",
            )
            return ()
        out = []
        for element in node.value:
            segment = self.segment(element)
            if segment is not None:
                out.append(segment)
        return tuple(out)

    def segment(self, node: Node) -> ir.Segment | None:
        if not isinstance(node, MappingNode):
            self.c.error(
                self.span(node),
                f"a segment must be a mapping with `name:` and `ladder:`, not {_describe(node)}",
                hint="write e.g. `- { name: default, ladder: standard }`",
                code=SYNTAX,
            )
            return None
        keys = self.mapping(node, SEGMENT_KEYS, "a segment", "segments", "...", SEGMENT_HINTS) or {}
        span = self.span(node)
        for required in ("name", "ladder"):
            if required not in keys:
                self.c.error(
                    span,
                    f"this segment does not say its {required}",
                    hint=f"add `{required}: ...`",
                    code=MISSING,
                )
        name = self.name(keys["name"].value, "name", "default") if "name" in keys else None
        ladder = self.name(keys["ladder"].value, "ladder", "standard") if "ladder" in keys else None
        when = tone = language = None
        ok = name is not None and ladder is not None
        if "when" in keys:
            when = self.expr(keys["when"].value, "when", "customer.vulnerable")
            ok &= when is not None
        if "tone" in keys:
            tone = self.name(keys["tone"].value, "tone", "friendly")
            ok &= tone is not None
        if "language" in keys:
            language = self.name(keys["language"].value, "language", "en")
            ok &= language is not None
        if not ok:
            return None
        assert name is not None and ladder is not None
        return ir.Segment(name, ladder, when, tone, language, span)

    # ladders -----------------------------------------------------------------------
    def ladders(self, node: Node) -> tuple[ir.Ladder, ...]:
        if _is_empty(node):
            return ()
        if not isinstance(node, MappingNode):
            self.shape_error(
                node,
                "ladders",
                "a mapping of ladder names to their states",
                "{ standard: { erinnerung: { after: 7d after due } } }",
            )
            return ()
        out = []
        for item in self.items(node):
            name = self.name(item.key, "ladder name", "standard")
            ladder = self.ladder(item)
            if name is not None and ladder is not None:
                out.append(ladder)
        return tuple(out)

    def ladder(self, item: _Key) -> ir.Ladder | None:
        span = self.pair(item)
        if _is_empty(item.value):
            return ir.Ladder(item.name, (), (), span)
        if not isinstance(item.value, MappingNode):
            self.c.error(
                self.span(item.value),
                f"ladder {item.name!r} must map state names to their steps, "
                f"not {_describe(item.value)}",
                hint="write e.g. `erinnerung: { after: 7d after due, send: ... }`",
                code=SYNTAX,
            )
            return None
        states: list[ir.State] = []
        transitions: list[ir.Transition] = []
        ok = True
        for entry in self.items(item.value):
            # `transitions:` holds a list; a state (even one called so) is a mapping
            if entry.name == "transitions" and isinstance(entry.value, SequenceNode):
                for element in entry.value.value:
                    transition = self.transition(element)
                    ok &= transition is not None
                    if transition is not None:
                        transitions.append(transition)
                continue
            state = self.state(entry)
            ok &= state is not None
            if state is not None:
                states.append(state)
        if not ok:
            return None
        return ir.Ladder(item.name, tuple(states), tuple(transitions), span)

    def state(self, item: _Key) -> ir.State | None:
        name = self.name(item.key, "state name", "erinnerung")
        where = f"state {item.name!r}"
        if not isinstance(item.value, MappingNode):
            self.c.error(
                self.span(item.value),
                f"{where} must be a mapping of its trigger and actions, "
                f"not {_describe(item.value)}",
                hint="write e.g. `after: 7d after due` and `send: { channel: email, "
                "template: zahlungserinnerung }` below it",
                code=SYNTAX,
            )
            return None
        keys = self.mapping(item.value, STATE_KEYS, where, item.name, "...", STATE_HINTS)
        if keys is None:
            return None
        ok = name is not None
        span = self.span(item.key, item.value)
        trigger = self.state_trigger(keys, where, span)
        ok &= trigger is not None
        title = guard = None
        sources: tuple[str, ...] = ()
        if "title" in keys:
            title = self.text(keys["title"].value, "title", "Zahlungserinnerung")
            ok &= title is not None
        if "from" in keys:
            found = self.names(keys["from"].value, "from", "erinnerung")
            ok &= found is not None
            sources = found or ()
        if "when" in keys:
            guard = self.expr(keys["when"].value, "when", "not invoice.disputed")
            ok &= guard is not None
        actions: list[ir.Action] = []
        manual = False
        for key, entry in keys.items():
            if key in _ACTIONS:
                found_actions = _ACTIONS[key](self, entry)
                ok &= found_actions is not None
                actions.extend(found_actions or ())
            elif key == "wait":
                flag = self.flag(entry.value, "wait")
                ok &= flag is not None
                manual = bool(flag)
        if not ok:
            return None
        assert name is not None and trigger is not None
        return ir.State(
            name=name,
            trigger=trigger,
            actions=ir.canonical_actions(actions),
            guard=guard,
            title=title,
            sources=sources,
            manual=manual,
            span=span,
        )

    def state_trigger(self, keys: dict[str, _Key], where: str, span: Span) -> ir.Trigger | None:
        if "after" in keys and "on" in keys:
            self.c.error(
                self.span(keys["on"].key),
                f"{where} has two triggers, `after:` and `on:`",
                hint="keep one; for a second way into the state add a transition",
                code=SYNTAX,
            )
            return None
        if "after" in keys:
            return self.time_trigger(keys["after"])
        if "on" in keys:
            return self.event_trigger(keys["on"])
        self.c.error(
            span,
            f"{where} does not say when an invoice enters it",
            hint="add `after: 7d after due`, `after: 14d in <state>` or `on: <event>`",
            code=MISSING,
        )
        return None

    def time_trigger(self, item: _Key) -> ir.TimeTrigger | None:
        example = "7d after due"
        node = item.value
        value = self.scalar(node, "after", "a time like 7d after due", example)
        if value is None:
            return None
        assert isinstance(node, ScalarNode)
        span = self.pair(item)
        m = re.fullmatch(r"(\s*)(.+?)\s+(before|after)\s+(\S+)\s*", value)
        if m:
            offset = self.duration_text(node, "after", m[2], m.start(2), example)
            if m[4] not in ("due", "issue"):
                self.c.error(
                    self.sub_span(node, m.start(4), m.end(4)),
                    f"`after`: time is counted from `due` or `issue`, not {m[4]!r}",
                    hint=f"write e.g. `after: {m[2]} {m[3]} due`, "
                    f"or `after: {m[2]} in <state>` for the time spent in a state",
                    code=SYNTAX,
                )
                return None
            if offset is None:
                return None
            signed = -offset if m[3] == "before" else offset
            return ir.TimeTrigger(signed, ir.Anchor(m[4]), None, span)
        m = re.fullmatch(r"\s*(.+?)\s+in\s+(\S+)\s*", value)
        if m:
            offset = self.duration_text(node, "after", m[1], m.start(1), "14d in erinnerung")
            state = m[2]
            if not _full("NAME", state):
                self.c.error(
                    self.sub_span(node, m.start(2), m.end(2)),
                    f"`after`: {state!r} is not a state name",
                    hint="write e.g. `after: 14d in erinnerung`",
                    code=SYNTAX,
                )
                return None
            if offset is None:
                return None
            return ir.TimeTrigger(offset, ir.Anchor.STATE, state, span)
        self.c.error(
            self.span(node),
            f"`after` must read like `7d after due`, `3d before due`, "
            f"`10 business days after issue` or `14d in erinnerung`, not {value!r}",
            hint="a duration, then `before`/`after` and `due`/`issue`, or `in` and a state",
            code=SYNTAX,
        )
        return None

    def event(self, node: Node, key: str) -> ir.EventKind | None:
        value = self.scalar(node, key, "an event", "delivery_failed")
        if value is None:
            return None
        if value not in EVENT_NAMES:
            near = difflib.get_close_matches(value, EVENT_NAMES, n=1)
            hint = (
                f"did you mean {near[0]!r}?" if near else "known: " + ", ".join(sorted(EVENT_NAMES))
            )
            self.c.error(self.span(node), f"unknown event {value!r}", hint=hint, code=UNKNOWN_EVENT)
            return None
        return ir.EventKind(value)

    def event_trigger(self, item: _Key) -> ir.EventTrigger | None:
        event = self.event(item.value, "on")
        return None if event is None else ir.EventTrigger(event, self.pair(item))

    def transition(self, node: Node) -> ir.Transition | None:
        example = "{ after: 30d, in: letzte_mahnung, to: abschreibung }"
        if not isinstance(node, MappingNode):
            self.c.error(
                self.span(node),
                f"a transition must be a mapping, not {_describe(node)}",
                hint=f"write e.g. `- {example}`",
                code=SYNTAX,
            )
            return None
        keys = self.mapping(
            node, TRANSITION_KEYS, "a transition", "transitions", example, TRANSITION_HINTS
        )
        if keys is None:
            return None
        span = self.span(node)
        ok = True
        for required in ("in", "to"):
            if required not in keys:
                self.c.error(
                    span,
                    f"this transition does not say `{required}:` which state",
                    hint=f"write e.g. `- {example}`",
                    code=MISSING,
                )
                ok = False
        source = self.name(keys["in"].value, "in", "erinnerung") if "in" in keys else None
        target = self.name(keys["to"].value, "to", "mahnung_1") if "to" in keys else None
        trigger: ir.Trigger | None = None
        if "after" in keys and "on" in keys:
            self.c.error(
                self.span(keys["on"].key),
                "a transition has one trigger: `after:` or `on:`",
                hint="write two transitions",
                code=SYNTAX,
            )
        elif "after" in keys:
            item = keys["after"]
            offset = self.duration(item.value, "after", "30d")
            if offset is not None and source is not None:
                trigger = ir.TimeTrigger(offset, ir.Anchor.STATE, source, self.pair(item))
        elif "on" in keys:
            trigger = self.event_trigger(keys["on"])
        else:
            self.c.error(
                span,
                "this transition does not say when it fires",
                hint="add `after: 14d` (time in the `in` state) or `on: <event>`",
                code=MISSING,
            )
        guard = priority = None
        if "when" in keys:
            guard = self.expr(keys["when"].value, "when", "balance > 100 EUR")
            ok &= guard is not None
        if "priority" in keys:
            priority = self.integer(keys["priority"].value, "priority", "the priority", 0, "1")
            ok &= priority is not None
        if not ok or source is None or target is None or trigger is None:
            return None
        return ir.Transition(source, target, trigger, guard, priority, span)

    # actions -------------------------------------------------------------------
    def each(self, item: _Key) -> Iterator[tuple[Node, Span]]:
        """The value of an action key, or each element of a list there, with its span."""
        if isinstance(item.value, SequenceNode):
            for element in item.value.value:
                yield element, self.span(element)
        else:
            yield item.value, self.pair(item)

    def send(self, item: _Key) -> list[ir.Action] | None:
        example = "{ channel: letter, template: mahnung_1 }"
        out: list[ir.Action] = []
        ok = True
        for node, span in self.each(item):
            keys = self.mapping(node, ("channel", "template"), "`send`", "send", example)
            if keys is None:
                ok = False
                continue
            channel = template = None
            for required in ("channel", "template"):
                if required not in keys:
                    self.c.error(
                        span,
                        f"`send` does not say its {required}",
                        hint=f"write e.g. `send: {example}`",
                        code=MISSING,
                    )
            if "channel" in keys:
                channel = self.choice(keys["channel"].value, "channel", CHANNEL_NAMES)
            if "template" in keys:
                template = self.text(keys["template"].value, "template", "mahnung_1")
            if channel is None or template is None:
                ok = False
                continue
            out.append(ir.Send(ir.Channel(channel), template, span))
        return out if ok else None

    def choice(self, node: Node, key: str, allowed: list[str]) -> str | None:
        value = self.scalar(node, key, "one of " + ", ".join(allowed), allowed[0])
        if value is None:
            return None
        if value not in allowed:
            near = difflib.get_close_matches(value, allowed, n=1, cutoff=0.5)
            self.c.error(
                self.span(node),
                f"unknown {key} {value!r}",
                hint=(f"did you mean {near[0]!r}? " if near else "")
                + "one of: "
                + ", ".join(allowed),
                code=SYNTAX,
            )
            return None
        return value

    def offer(self, item: _Key) -> list[ir.Action] | None:
        example = "{ kind: skonto, percent: 2%, within: 10d }"
        out: list[ir.Action] = []
        ok = True
        for node, span in self.each(item):
            if isinstance(node, ScalarNode):
                self.shape_error(node, "offer", "a mapping", example)
                ok = False
                continue
            keys = self.mapping(node, OFFER_KEYS, "`offer`", "offer", example)
            offer = None if keys is None else self.one_offer(keys, span)
            ok &= offer is not None
            if offer is not None:
                out.append(offer)
        return out if ok else None

    def one_offer(self, keys: dict[str, _Key], span: Span) -> ir.Offer | None:
        if "kind" not in keys:
            self.c.error(
                span,
                "`offer` does not say its kind",
                hint="add `kind: skonto` or `kind: payment_plan`",
                code=MISSING,
            )
            return None
        kind = self.choice(keys["kind"].value, "kind", ["skonto", "payment_plan", "discount"])
        if kind is None:
            return None
        wrong = {
            "skonto": ("instalments", "until"),
            "payment_plan": ("percent", "within", "until"),
            "discount": ("instalments", "within"),
        }[kind]
        ok = True
        for key in wrong:
            if key in keys:
                other = {"instalments": "payment_plan", "until": "discount"}.get(key, "skonto")
                self.c.error(
                    self.span(keys[key].key),
                    f"`{key}` belongs to a {other} offer, not to a {kind} offer",
                    hint=f"remove `{key}`, or write `kind: {other}`",
                    code=SYNTAX,
                )
                ok = False
        when = None
        if "when" in keys:
            when = self.expr(keys["when"].value, "when", "balance > 200 EUR")
            ok &= when is not None
        if kind == "payment_plan":
            instalments = None
            if "instalments" in keys:
                instalments = self.integer(
                    keys["instalments"].value, "instalments", "the number of instalments", 2, "6"
                )
                ok &= instalments is not None
            if not ok:
                return None
            return ir.Offer("payment_plan", instalments=instalments, when=when, span=span)
        if kind == "discount":
            return self.discount_offer(keys, span, when, ok)
        if "percent" not in keys:
            self.c.error(
                span,
                "a skonto offer does not say its percentage",
                hint="add `percent: 2%`",
                code=MISSING,
            )
            return None
        percent = self.decimal(
            keys["percent"].value, "percent", "a percentage like 2%", "2%", percent=True
        )
        within = None
        if "within" in keys:
            within = self.duration(keys["within"].value, "within", "10d")
            ok &= within is not None
        if not ok or percent is None:
            return None
        return ir.Offer("skonto", percent=percent, within=within, when=when, span=span)

    def discount_offer(
        self, keys: dict[str, _Key], span: Span, when: Any, ok: bool
    ) -> ir.Offer | None:
        """`{ kind: discount, percent: 2%, until: 7d after due }` (issue 19)."""
        for required, example in (("percent", "percent: 2%"), ("until", "until: 7d after due")):
            if required not in keys:
                self.c.error(
                    span,
                    "a discount offer does not say its "
                    + ("percentage" if required == "percent" else "last day (`until`)"),
                    hint=f"add `{example}`",
                    code=MISSING,
                )
                ok = False
        if not ok:
            return None
        percent = self.decimal(
            keys["percent"].value, "percent", "a percentage like 2%", "2%", percent=True
        )
        until = self.until(keys["until"])
        if percent is None or until is None:
            return None
        return ir.Offer("discount", percent=percent, until=until, when=when, span=span)

    def until(self, item: _Key) -> ir.TimeTrigger | None:
        """`7d after due`, `3d before due`, `30d after issue`: a discount's last day."""
        example = "7d after due"
        node = item.value
        value = self.scalar(node, "until", "a day like 7d after due", example)
        if value is None:
            return None
        assert isinstance(node, ScalarNode)
        m = re.fullmatch(r"(\s*)(.+?)\s+(before|after)\s+(due|issue)\s*", value)
        if not m:
            self.c.error(
                self.span(node),
                f"`until`: {value.strip()!r} is not a day counted from `due` or `issue`",
                hint=f"write e.g. `until: {example}`",
                code=SYNTAX,
            )
            return None
        offset = self.duration_text(node, "until", m[2], m.start(2), example)
        if offset is None:
            return None
        signed = -offset if m[3] == "before" else offset
        return ir.TimeTrigger(signed, ir.Anchor(m[4]), None, self.pair(item))

    def fee(self, item: _Key) -> list[ir.Action] | None:
        amount = self.money(item.value, "fee")
        return None if amount is None else [ir.Fee(amount, self.pair(item))]

    def interest(self, item: _Key) -> list[ir.Action] | None:
        example = "statutory"
        value = self.scalar(item.value, "interest", "`statutory` or `N points above base`", example)
        if value is None:
            return None
        text = value.strip()
        if text == "statutory":
            return [ir.Interest(True, None, self.pair(item))]
        m = re.fullmatch(r"(\S+)\s+points?\s+above\s+(?:the\s+)?base(?:\s+rate)?", text)
        if m and _full("NUMBER", m[1]):
            return [ir.Interest(False, Decimal(m[1]), self.pair(item))]
        self.c.error(
            self.span(item.value),
            f"`interest` must be `statutory` or like `9 points above base`, not {value!r}",
            hint="write e.g. `interest: statutory` (§ 288 BGB)",
            code=SYNTAX,
        )
        return None

    def approval(self, item: _Key) -> list[ir.Action] | None:
        example = "{ approvers: 2, when: balance > 1000 EUR, otherwise: 1 }"
        span = self.pair(item)
        node = item.value
        if isinstance(node, ScalarNode):
            count = self.integer(node, "approval", "the number of approvers", 1, "2")
            return None if count is None else [ir.Approval(count, None, count, span)]
        keys = self.mapping(node, APPROVAL_KEYS, "`approval`", "approval", example)
        if keys is None:
            return None
        if "approvers" not in keys:
            self.c.error(
                span,
                "`approval` does not say how many approvers",
                hint=f"write e.g. `approval: {example}`",
                code=MISSING,
            )
            return None
        count = self.integer(
            keys["approvers"].value, "approvers", "the number of approvers", 1, "2"
        )
        if "when" not in keys:
            if "otherwise" in keys:
                self.c.error(
                    self.span(keys["otherwise"].key),
                    "`otherwise` needs a `when`: without one the approvers are always needed",
                    hint=f"write e.g. `approval: {example}`",
                    code=SYNTAX,
                )
                return None
            return None if count is None else [ir.Approval(count, None, count, span)]
        when = self.expr(keys["when"].value, "when", "balance > 1000 EUR")
        otherwise: int | None = 0
        if "otherwise" in keys:
            otherwise = self.integer(
                keys["otherwise"].value, "otherwise", "the number of approvers", 0, "1"
            )
        if count is None or when is None or otherwise is None:
            return None
        return [ir.Approval(count, when, otherwise, span)]

    def texts(self, item: _Key, make: Callable[[str, Span], ir.Action], example: str):
        out: list[ir.Action] = []
        ok = True
        for node, span in self.each(item):
            value = self.text(node, item.name, example)
            ok &= value is not None
            if value is not None:
                out.append(make(value, span))
        return out if ok else None

    def notify(self, item: _Key) -> list[ir.Action] | None:
        return self.texts(item, ir.Notify, "vertrieb")

    def report(self, item: _Key) -> list[ir.Action] | None:
        return self.texts(item, ir.CreditReport, "schufa")

    def handover(self, item: _Key) -> list[ir.Action] | None:
        agency = self.text(item.value, "handover", "Inkasso Partner GmbH")
        return None if agency is None else [ir.Handover(agency, self.pair(item))]

    def switch(self, item: _Key, make: Callable[[Span], ir.Action]) -> list[ir.Action] | None:
        flag = self.flag(item.value, item.name)
        if flag is None:
            return None
        return [make(self.pair(item))] if flag else []

    # event rules -------------------------------------------------------------------
    def handlers(self, node: Node) -> tuple[ir.Handler, ...]:
        if _is_empty(node):
            return ()
        if not isinstance(node, MappingNode):
            self.shape_error(node, "on", "a mapping of events to what happens", "{ hold: pause }")
            return ()
        out = []
        for item in self.items(node):
            handler = self.handler(item)
            if handler is not None:
                out.append(handler)
        return tuple(out)

    def handler(self, item: _Key) -> ir.Handler | None:
        event = self.event(item.key, "on")
        node = item.value
        value = self.scalar(node, item.name, _HANDLER_FORMS, "pause")
        if event is None or value is None:
            return None
        assert isinstance(node, ScalarNode)
        span = self.pair(item)
        text = value.strip()
        if text in ("pause", "resume", "ignore"):
            return ir.Handler(event, ir.HandlerAction(text), None, None, span)
        m = re.match(r"\s*pause\s+until\s+", value)
        if m and value[m.end() :].strip():
            until = self.expr_at(node, m.end())
            return (
                None
                if until is None
                else ir.Handler(event, ir.HandlerAction.PAUSE, None, until, span)
            )
        m = re.fullmatch(r"\s*(stop\s*->\s*|goto\s+)(\S+)\s*", value)
        if m:
            target = m[2]
            if not _full("NAME", target):
                self.c.error(
                    self.sub_span(node, m.start(2), m.end(2)),
                    f"{target!r} is not a state name",
                    hint="write e.g. `stop -> insolvent`",
                    code=SYNTAX,
                )
                return None
            action = ir.HandlerAction.GOTO if m[1].startswith("goto") else ir.HandlerAction.STOP
            return ir.Handler(event, action, target, None, span)
        if re.fullmatch(r"stop\s*", text) or re.fullmatch(r"stop\s+\w+", text):
            hint = f"write `stop -> <terminal>`: one of {TERMINAL_LIST}"
        else:
            hint = "e.g. `pause until promised_date + 3 business days`"
        self.c.error(
            self.span(node),
            f"`{item.name}` must be one of {_HANDLER_FORMS}, not {value!r}",
            hint=hint,
            code=SYNTAX,
        )
        return None


def _same_char(value_char: str, raw_char: str) -> bool:
    if value_char == raw_char:
        return True
    # line folding turns a line break into a space; `\r\n` is read as `\n`
    return (value_char == " " and raw_char in "\n\r") or (value_char == "\n" and raw_char == "\r")


_LISTABLE = {"send", "offer", "notify", "report"}

_ACTIONS: dict[str, Callable[[_Reader, _Key], list[ir.Action] | None]] = {
    "send": _Reader.send,
    "offer": _Reader.offer,
    "fee": _Reader.fee,
    "lump_sum": lambda r, item: r.switch(item, ir.LumpSum),
    "interest": _Reader.interest,
    "approval": _Reader.approval,
    "notify": _Reader.notify,
    "stop_credit": lambda r, item: r.switch(item, ir.StopCredit),
    "report": _Reader.report,
    "court_order": lambda r, item: r.switch(item, ir.CourtOrder),
    "handover": _Reader.handover,
    "write_off": lambda r, item: r.switch(item, ir.WriteOff),
}


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


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
