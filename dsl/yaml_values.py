"""The base of the YAML reader: positions in the file and the values inside scalars.

Every IR node gets the line and column of the user's own text; a value inside a
scalar (amount, duration, time of day, condition) is checked here, its spans
mapped back through quotes, escapes and line folding to the file.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import time
from decimal import Decimal
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mahnwerk.dsl.errors import Collector, Span
from mahnwerk.dsl.expr import (
    Duration,
    Expr,
    Money,
    parse_duration,
    parse_expr,
    parse_money,
)
from mahnwerk.dsl.yaml_vocab import (
    _FALSE,
    _LISTABLE,
    _TRUE,
    IMPOSSIBLE,
    MERGE_HINT,
    MISSING,
    SYNTAX,
    TWICE,
    _describe,
    _full,
    _is_empty,
    _Key,
    _money_problem,
    _relocate,
    _same_char,
)


class _ValueReader:
    """Positions, generic shapes and values; the other parts of the reader build on it."""

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

    def optional(
        self, keys: dict[str, _Key], readers: dict[str, Callable[[Node, str], Any]]
    ) -> tuple[dict[str, Any], bool]:
        """Each key of `readers` that the mapping has, read by its reader (given the
        value's node and the key), in the table's order; and whether all could be
        read (a failed one has collected its error and is None in the values).
        """
        values: dict[str, Any] = {}
        ok = True
        for key, read in readers.items():
            if key in keys:
                values[key] = read(keys[key].value, key)
                ok &= values[key] is not None
        return values, ok

    def missing(
        self, keys: dict[str, _Key], span: Span, wanted: Iterable[tuple[str, str, str]]
    ) -> bool:
        """An error at `span` for each (key, message, hint) of `wanted` whose key the
        mapping lacks; whether none was missing.
        """
        ok = True
        for key, message, hint in wanted:
            if key not in keys:
                self.c.error(span, message, hint=hint, code=MISSING)
                ok = False
        return ok

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
