"""PyYAML's syntax errors, told in plain words with a hint at the user's line.

PyYAML says what its scanner expected (`could not find expected ':'`); the
author of a policy needs what to write instead, at the line where it goes wrong.
"""

from __future__ import annotations

import re

import yaml

from mahnwerk.dsl.errors import Collector, Span
from mahnwerk.dsl.yaml_vocab import SYNTAX

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
