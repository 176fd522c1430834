"""Parsing conditions with the policy grammar (`policy.lark`, start rule
`condition`) into the expression tree, and syntax errors in plain words.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedInput, VisitError

from mahnwerk.dsl.errors import NOWHERE, Collector, Span
from mahnwerk.dsl.expr_tree import Binary, Expr, ListExpr, Lit, Ref, Type, Unary, resolve_name
from mahnwerk.dsl.expr_values import Money, parse_duration, parse_money
from mahnwerk.errors import MahnwerkError


@lru_cache(maxsize=1)
def grammar_parser() -> Lark:
    """The shared LALR parser for conditions and text policies (built once)."""
    text = resources.files("mahnwerk.dsl").joinpath("policy.lark").read_text(encoding="utf-8")
    text = text.replace("%channels%", _channel_words())
    return Lark(
        text,
        parser="lalr",
        start=["condition", "policy"],
        propagate_positions=True,
        maybe_placeholders=False,
    )


def _channel_words() -> str:
    """The CHANNEL terminal: every `ir.Channel`, longest first (so that a longer word
    wins over its prefix)."""
    from mahnwerk.dsl import ir  # ir imports this module (through dsl.expr)

    words = sorted((c.value for c in ir.Channel), key=lambda w: (-len(w), w))
    return " | ".join(f'"{w}"' for w in words)


class ExprBuilder(Transformer):
    """Turns a Lark tree of a condition into `Expr` nodes with spans in the user's file.

    `line_offset` / `col_offset` place a condition that was cut out of a larger
    file (a YAML string) back at its true position.
    """

    def __init__(self, path: str, line_offset: int = 0, col_offset: int = 0):
        super().__init__(visit_tokens=False)
        self.path = path
        self.line_offset = line_offset
        self.col_offset = col_offset

    # positions -------------------------------------------------------------
    def pos(self, line: int, col: int, end_line: int | None, end_col: int | None) -> Span:
        if line == 1:
            col += self.col_offset
        if end_line == 1 and end_col is not None:
            end_col += self.col_offset
        return Span(
            self.path,
            line + self.line_offset,
            col,
            None if end_line is None else end_line + self.line_offset,
            end_col,
        )

    def tok_span(self, tok: Token) -> Span:
        return self.pos(tok.line, tok.column, tok.end_line, tok.end_column)

    def meta_span(self, meta: Any) -> Span:
        if getattr(meta, "empty", True):
            return NOWHERE
        return self.pos(meta.line, meta.column, meta.end_line, meta.end_column)

    # literals ----------------------------------------------------------------
    def date(self, children: list[Token]) -> Lit:
        (tok,) = children
        try:
            value = date.fromisoformat(str(tok))
        except ValueError as exc:
            raise _LocatedError(self.tok_span(tok), f"not a valid date: {tok} ({exc})") from None
        return Lit(value, Type.DATE, self.tok_span(tok))

    def money(self, children: list[Token]) -> Lit:
        (tok,) = children
        try:
            return Lit(parse_money(str(tok)), Type.MONEY, self.tok_span(tok))
        except (ValueError, ArithmeticError):
            raise _LocatedError(
                self.tok_span(tok), f"not a usable number: {str(tok)[:20]}…"
            ) from None

    def duration(self, children: list[Token]) -> Lit:
        (tok,) = children
        try:
            return Lit(parse_duration(str(tok)), Type.DURATION, self.tok_span(tok))
        except (ValueError, ArithmeticError):
            raise _LocatedError(
                self.tok_span(tok), f"not a usable number: {str(tok)[:20]}…"
            ) from None

    def number(self, children: list[Token]) -> Lit:
        (tok,) = children
        try:
            return Lit(Decimal(str(tok)), Type.NUMBER, self.tok_span(tok))
        except (ValueError, ArithmeticError):
            raise _LocatedError(
                self.tok_span(tok), f"not a usable number: {str(tok)[:20]}…"
            ) from None

    def string(self, children: list[Token]) -> Lit:
        (tok,) = children
        return Lit(unquote(str(tok)), Type.STRING, self.tok_span(tok))

    @v_args(meta=True)
    def true(self, meta: Any, children: list) -> Lit:
        return Lit(True, Type.BOOL, self.meta_span(meta))

    @v_args(meta=True)
    def false(self, meta: Any, children: list) -> Lit:
        return Lit(False, Type.BOOL, self.meta_span(meta))

    # names -------------------------------------------------------------------
    @v_args(meta=True)
    def ref(self, meta: Any, children: list[Token]) -> Expr:
        name = ".".join(str(t) for t in children)
        span = self.meta_span(meta)
        if len(children) == 1 and _is_enum_word(name) and resolve_name(name) is None:
            # Bare upper-case words (B2B, B2C, DE, BY) are text constants.
            return Lit(name, Type.STRING, span)
        return Ref(name, span)

    # operators ---------------------------------------------------------------
    @v_args(meta=True)
    def or_(self, meta: Any, children: list) -> Binary:
        return Binary("or", children[0], children[1], self.meta_span(meta))

    @v_args(meta=True)
    def and_(self, meta: Any, children: list) -> Binary:
        return Binary("and", children[0], children[1], self.meta_span(meta))

    @v_args(meta=True)
    def not_(self, meta: Any, children: list) -> Unary:
        return Unary("not", children[0], self.meta_span(meta))

    @v_args(meta=True)
    def neg(self, meta: Any, children: list) -> Expr:
        (operand,) = children
        if isinstance(operand, Lit) and operand.type in (Type.NUMBER, Type.MONEY, Type.DURATION):
            value = operand.value
            negated = -value if operand.type != Type.MONEY else Money(-value.amount, value.currency)
            return Lit(negated, operand.type, self.meta_span(meta))
        return Unary("-", operand, self.meta_span(meta))

    @v_args(meta=True)
    def compare(self, meta: Any, children: list) -> Binary:
        left, op, right = children
        return Binary(str(op), left, right, self.meta_span(meta))

    @v_args(meta=True)
    def arith(self, meta: Any, children: list) -> Binary:
        left, op, right = children
        return Binary(str(op), left, right, self.meta_span(meta))

    @v_args(meta=True)
    def in_(self, meta: Any, children: list) -> Binary:
        return Binary("in", children[0], children[1], self.meta_span(meta))

    @v_args(meta=True)
    def not_in(self, meta: Any, children: list) -> Binary:
        return Binary("not in", children[0], children[1], self.meta_span(meta))

    @v_args(meta=True)
    def list_(self, meta: Any, children: list) -> ListExpr:
        return ListExpr(tuple(c for c in children if c is not None), self.meta_span(meta))


class _LocatedError(MahnwerkError):
    def __init__(self, span: Span, message: str):
        super().__init__(message)
        self.span = span
        self.message = message


def _is_enum_word(name: str) -> bool:
    return bool(re.fullmatch(r"[A-Z][A-Z0-9_]*", name))


def unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_expr(
    text: str,
    collector: Collector,
    origin: Span | None = None,
) -> Expr | None:
    """Parse one condition; on a syntax error record it in `collector` and return None.

    `origin` is where the first character of `text` stands in the user's file.
    """
    line_off = (origin.line - 1) if origin else 0
    col_off = (origin.col - 1) if origin else 0
    path = origin.path if origin else collector.path
    try:
        tree = grammar_parser().parse(text, start="condition")
    except UnexpectedInput as exc:
        line = getattr(exc, "line", 1) or 1
        col = getattr(exc, "column", 1) or 1
        span = Span(path, line + line_off, col + (col_off if line == 1 else 0))
        collector.error(span, syntax_message(exc, text), code="E001")
        return None
    try:
        return ExprBuilder(path, line_off, col_off).transform(tree)
    except VisitError as exc:
        orig = exc.orig_exc
        if isinstance(orig, _LocatedError):
            collector.error(orig.span, orig.message, code="E002")
            return None
        raise


def syntax_message(exc: UnexpectedInput, text: str) -> str:
    """A plain-language message for a Lark parse error."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        if tok.type == "$END":
            return "the text ends too early: " + _expected(exc.expected)
        known = _known_mistake(text, tok)
        if known is not None:
            return known
        return f"unexpected {str(tok)!r}: " + _expected(exc.expected)
    if isinstance(exc, UnexpectedCharacters):
        ch = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        return f"unexpected character {ch!r}"
    if isinstance(exc, UnexpectedEOF):
        return "the text ends too early: " + _expected(exc.expected)
    return str(exc)


_DECIMAL_COMMA = re.compile(r"(\d+),(\d+)([ \t]*[A-Z]{3}\b|[ \t]*%)?")
_CONTAINS = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\s+contains\s+(\"[^\"\n]*\"|[A-Za-z_]\w*)")


def _known_mistake(text: str, tok: Any) -> str | None:
    """Two mistakes people make, said in their words: `2,50 EUR` and `tags contains "x"`."""
    pos = getattr(tok, "start_pos", None)
    if pos is None:
        return None
    comma = _DECIMAL_COMMA.match(text, pos)
    if comma is not None and (tok.type in ("NUMBER", "MONEY", "PERCENT") or str(tok).isdigit()):
        unit = comma[3] or ""
        return f"amounts use a decimal point: write {comma[1]}.{comma[2]}{unit}, not {comma[0]}"
    if str(tok) == "contains":
        line_start = text.rfind("\n", 0, pos) + 1
        found = None
        for m in _CONTAINS.finditer(text, line_start):
            if m.start() <= pos <= m.end():
                found = m
                break
        if found is not None:
            return (
                f"`contains` is not a word of the policy language: write {found[2]} in {found[1]}"
            )
        return '`contains` is not a word of the policy language: write "x" in customer.tags'
    return None


_TERMINAL_WORDS = {
    "NAME": "a name",
    "STRING": 'a quoted text ("...")',
    "NUMBER": "a number",
    "MONEY": "an amount like 5.00 EUR",
    "DURATION": "a duration like 14d",
    "DATE": "a date like 2026-01-31",
    "PERCENT": "a percentage like 2%",
    "CLOCK": "a time like 20:00",
    "COMP_OP": "a comparison (==, <, ...)",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "SEMICOLON": "';'",
    "COLON": "':'",
    "COMMA": "','",
    "MINUS": "'-'",
    "_SEP": "';'",
    "ARROW": "'->'",
    "MORETHAN": "'>'",
}


def _channel_phrase() -> str:
    """`a channel (email, letter, sms, call or letter_shop)`, from `ir.Channel`."""
    from mahnwerk.dsl import ir  # ir imports this module (through dsl.expr)

    *rest, last = [c.value for c in ir.Channel]
    return f"a channel ({', '.join(rest)} or {last})"


def _expected(expected: Any) -> str:
    words = []
    for name in sorted(expected or ()):
        if name == "CHANNEL":
            words.append(_channel_phrase())
        elif name in _TERMINAL_WORDS:
            words.append(_TERMINAL_WORDS[name])
        elif name.startswith("__") or name == "$END":
            continue
        else:
            words.append(repr(name.lower()))
    words = sorted(set(words))
    if not words:
        return "check the spelling"
    if len(words) > 8:
        words = words[:8] + ["..."]
    return "expected " + ", ".join(words)
