"""The one expression language of mahnwerk policies.

`customer.type == B2C and balance >= 50 EUR and not invoice.disputed` is a
condition in both policy syntaxes: the text reader parses it inline, the YAML
reader parses the string with the same grammar (`policy.lark`, start rule
`condition`).  This module holds the value types with units (`Money`,
`Duration`), the typed expression tree, the fact schema the checker knows, the
type checker, an evaluator over an invoice's facts and a printer that turns a
tree back into source text (for `mahnwerk policy convert`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedInput, VisitError

from mahnwerk.dsl.errors import NOWHERE, Collector, Span
from mahnwerk.errors import MahnwerkError

# ---------------------------------------------------------------------------
# Values with units
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in a currency.  Always `Decimal`; quantised only at the ledger."""

    amount: Decimal
    currency: str = "EUR"

    def __str__(self) -> str:
        return f"{format_decimal(self.amount)} {self.currency}"

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise EvalError(f"cannot combine {self} with {other}: different currencies")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount


@dataclass(frozen=True, slots=True, order=True)
class Duration:
    """A number of calendar days, or of business days (no weekends and holidays)."""

    days: int
    business: bool = False

    def __str__(self) -> str:
        if self.business:
            return f"{self.days} business day" + ("" if abs(self.days) == 1 else "s")
        return f"{self.days}d"

    def __neg__(self) -> Duration:
        return Duration(-self.days, self.business)


def format_decimal(value: Decimal) -> str:
    """`Decimal` as plain source text: no exponent; amounts keep their cents (`1.00`)."""
    text = format(value, "f")
    if "." in text:
        whole, frac = text.split(".")
        frac = frac.rstrip("0")
        text = f"{whole}.{frac.ljust(2, '0')}"
    return text


_DURATION_RE = re.compile(r"(\d+)\s*(business\s+days?|d|w|days?|weeks?)$")
_MONEY_RE = re.compile(r"(\d+(?:\.\d+)?)\s*([A-Z]{3})$")


def parse_duration(text: str) -> Duration:
    m = _DURATION_RE.match(text.strip())
    if not m:
        raise ValueError(f"not a duration: {text!r} (write e.g. 14d, 2w or 3 business days)")
    n, unit = int(m.group(1)), m.group(2)
    if unit.startswith("business"):
        return Duration(n, business=True)
    if unit.startswith("w"):
        return Duration(n * 7)
    return Duration(n)


def parse_money(text: str) -> Money:
    m = _MONEY_RE.match(text.strip())
    if not m:
        raise ValueError(f"not an amount: {text!r} (write e.g. 2.50 EUR)")
    return Money(Decimal(m.group(1)), m.group(2))


# ---------------------------------------------------------------------------
# Types and the fact schema
# ---------------------------------------------------------------------------


class Type(StrEnum):
    BOOL = "bool"
    NUMBER = "number"
    MONEY = "money"
    DURATION = "duration"
    DATE = "date"
    STRING = "text"
    LIST = "list of text"


@dataclass(frozen=True, slots=True)
class Fact:
    type: Type
    doc: str


#: Every fact a condition may read; `customer.*`, `invoice.*`, `event.*` and short aliases.
FACTS: dict[str, Fact] = {
    "customer.id": Fact(Type.STRING, "the customer's number"),
    "customer.name": Fact(Type.STRING, "the customer's name"),
    "customer.type": Fact(Type.STRING, "B2B (a business) or B2C (a consumer, § 13 BGB)"),
    "customer.country": Fact(Type.STRING, "ISO country code, e.g. DE"),
    "customer.region": Fact(Type.STRING, "region / Bundesland code, e.g. BY"),
    "customer.language": Fact(Type.STRING, "language for letters, e.g. de"),
    "customer.tags": Fact(Type.LIST, "free tags, e.g. key_account"),
    "customer.vulnerable": Fact(Type.BOOL, "flagged vulnerable or in hardship"),
    "customer.risk_score": Fact(Type.NUMBER, "0 (safe) .. 100 (risky)"),
    "customer.avg_days_late": Fact(Type.NUMBER, "average days late over the history"),
    "customer.open_balance": Fact(Type.MONEY, "all open invoices of the customer together"),
    "customer.open_invoices": Fact(Type.NUMBER, "number of open invoices"),
    "customer.median_days_late": Fact(Type.NUMBER, "median days late (mahnwerk analyse)"),
    "customer.late_share": Fact(Type.NUMBER, "share of paid invoices paid late, 0 .. 1"),
    "customer.trend_days": Fact(
        Type.NUMBER, "days later the last 5 invoices were paid than the earlier ones"
    ),
    "customer.disputes": Fact(Type.NUMBER, "invoices the customer disputed"),
    "customer.partial_payments": Fact(Type.NUMBER, "invoices paid in more than one part"),
    "customer.overdue_invoices": Fact(Type.NUMBER, "invoices overdue at the last analysis"),
    "customer.gone_quiet": Fact(Type.BOOL, "used to buy often, no invoice for a long time"),
    "customer.feedback": Fact(
        Type.STRING,
        "the reason last given in the portal's 'tell us why' (forgot, cash_flow, unclear, "
        "not_received, disagree, other; empty: none), stored by mahnwerk analyse",
    ),
    "invoice.id": Fact(Type.STRING, "the invoice number"),
    "invoice.amount": Fact(Type.MONEY, "the invoice's original amount"),
    "invoice.balance": Fact(Type.MONEY, "what is still owed: principal, fees and interest"),
    "invoice.principal": Fact(Type.MONEY, "the unpaid part of the invoice amount"),
    "invoice.fees": Fact(Type.MONEY, "fees charged so far"),
    "invoice.interest": Fact(Type.MONEY, "interest charged so far"),
    "invoice.issue_date": Fact(Type.DATE, "date of the invoice"),
    "invoice.due_date": Fact(Type.DATE, "payment due date"),
    "invoice.days_overdue": Fact(Type.NUMBER, "calendar days since the due date"),
    "invoice.disputed": Fact(Type.BOOL, "the customer disputes the claim"),
    "invoice.currency": Fact(Type.STRING, "ISO currency code"),
    "invoice.promises": Fact(Type.NUMBER, "promises to pay made so far"),
    "invoice.time_barred": Fact(Type.BOOL, "limitation (§§ 195, 199 BGB) has run out"),
    "event.date": Fact(Type.DATE, "the date of the event being handled"),
    "event.promised_date": Fact(Type.DATE, "the date the customer promised to pay by"),
    "event.amount": Fact(Type.MONEY, "the amount of a payment event"),
    "today": Fact(Type.DATE, "the as-of date of the run"),
}

#: Short names a finance manager would write, and what they stand for.
ALIASES: dict[str, str] = {
    "balance": "invoice.balance",
    "amount": "invoice.amount",
    "principal": "invoice.principal",
    "days_overdue": "invoice.days_overdue",
    "disputed": "invoice.disputed",
    "promised_date": "event.promised_date",
}


def resolve_name(name: str) -> str | None:
    """The canonical fact name for `name`, or None if no such fact exists."""
    name = ALIASES.get(name, name)
    return name if name in FACTS else None


# ---------------------------------------------------------------------------
# The expression tree
# ---------------------------------------------------------------------------


def _span() -> Span:
    return field(default=NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Lit:
    value: Any
    type: Type
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Ref:
    name: str  # as written, e.g. "balance" or "customer.type"
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "not" | "-"
    operand: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # and or == != < <= > >= + - * / in "not in"
    left: Expr
    right: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ListExpr:
    items: tuple[Expr, ...]
    span: Span = _span()


Expr = Lit | Ref | Unary | Binary | ListExpr


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def grammar_parser() -> Lark:
    """The shared LALR parser for conditions and text policies (built once)."""
    text = resources.files("mahnwerk.dsl").joinpath("policy.lark").read_text(encoding="utf-8")
    return Lark(
        text,
        parser="lalr",
        start=["condition", "policy"],
        propagate_positions=True,
        maybe_placeholders=False,
    )


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
        return (
            f"amounts use a decimal point: write {comma[1]}.{comma[2]}{unit}, "
            f"not {comma[0]}"
        )
    if str(tok) == "contains":
        line_start = text.rfind("\n", 0, pos) + 1
        found = None
        for m in _CONTAINS.finditer(text, line_start):
            if m.start() <= pos <= m.end():
                found = m
                break
        if found is not None:
            return (
                f"`contains` is not a word of the policy language: write "
                f"{found[2]} in {found[1]}"
            )
        return "`contains` is not a word of the policy language: write \"x\" in customer.tags"
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
    "CHANNEL": "a channel (email, letter, sms or call)",
    "ARROW": "'->'",
    "MORETHAN": "'>'",
}


def _expected(expected: Any) -> str:
    words = []
    for name in sorted(expected or ()):
        if name in _TERMINAL_WORDS:
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


# ---------------------------------------------------------------------------
# Type checking
# ---------------------------------------------------------------------------

_ORDERED = {Type.NUMBER, Type.MONEY, Type.DATE, Type.DURATION}


def check_expr(expr: Expr, collector: Collector, want: Type | None = Type.BOOL) -> Type | None:
    """Type-check `expr`; record errors in `collector`; return its type or None."""
    got = _type_of(expr, collector)
    if got is not None and want is not None and got != want:
        collector.error(
            expr.span,
            f"this condition is {_a(got)}, but {_a(want)} is needed here",
            hint="compare it with something, e.g. `balance > 100 EUR`",
            code="E030",
        )
    return got


def _a(t: Type) -> str:
    return {
        Type.BOOL: "a yes/no value",
        Type.NUMBER: "a number",
        Type.MONEY: "an amount of money",
        Type.DURATION: "a duration",
        Type.DATE: "a date",
        Type.STRING: "a text",
        Type.LIST: "a list of texts",
    }[t]


def _type_of(expr: Expr, c: Collector) -> Type | None:
    if isinstance(expr, Lit):
        return expr.type
    if isinstance(expr, Ref):
        canonical = resolve_name(expr.name)
        if canonical is None:
            near = _nearest(expr.name)
            c.error(
                expr.span,
                f"unknown fact {expr.name!r}",
                hint=f"did you mean {near!r}?" if near else "see `mahnwerk policy facts`",
                code="E031",
            )
            return None
        return FACTS[canonical].type
    if isinstance(expr, ListExpr):
        for item in expr.items:
            t = _type_of(item, c)
            if t is not None and t != Type.STRING:
                c.error(item.span, f"a list holds texts, not {_a(t)}", code="E030")
        return Type.LIST
    if isinstance(expr, Unary):
        t = _type_of(expr.operand, c)
        if t is None:
            return None
        if expr.op == "not":
            if t != Type.BOOL:
                c.error(expr.span, f"`not` needs a yes/no value, not {_a(t)}", code="E030")
            return Type.BOOL
        if t not in (Type.NUMBER, Type.MONEY, Type.DURATION):
            c.error(expr.span, f"cannot negate {_a(t)}", code="E030")
            return None
        return t
    # Binary
    lt = _type_of(expr.left, c)
    rt = _type_of(expr.right, c)
    if lt is None or rt is None:
        return Type.BOOL if expr.op in ("and", "or", "in", "not in") or expr.op in _CMP else None
    op = expr.op
    if op in ("and", "or"):
        for side, t in ((expr.left, lt), (expr.right, rt)):
            if t != Type.BOOL:
                c.error(side.span, f"`{op}` joins yes/no conditions, not {_a(t)}", code="E030")
        return Type.BOOL
    if op in ("in", "not in"):
        if rt != Type.LIST or lt != Type.STRING:
            c.error(
                expr.span,
                f"`{op}` tests a text against a list, not {_a(lt)} against {_a(rt)}",
                hint='e.g. `"key_account" in customer.tags`',
                code="E030",
            )
        return Type.BOOL
    if op in _CMP:
        if lt != rt:
            c.error(expr.span, f"cannot compare {_a(lt)} with {_a(rt)}", code="E030")
        elif op not in ("==", "!=") and lt not in _ORDERED:
            c.error(expr.span, f"{_a(lt)} has no order; use == or !=", code="E030")
        return Type.BOOL
    result = _ARITH.get((op, lt, rt))
    if result is None:
        c.error(expr.span, f"cannot compute {_a(lt)} {op} {_a(rt)}", code="E030")
    return result


_CMP = {"==", "!=", "<", "<=", ">", ">="}
_N, _M, _D, _T = Type.NUMBER, Type.MONEY, Type.DURATION, Type.DATE
_ARITH: dict[tuple[str, Type, Type], Type] = {
    ("+", _N, _N): _N,
    ("-", _N, _N): _N,
    ("*", _N, _N): _N,
    ("/", _N, _N): _N,
    ("+", _M, _M): _M,
    ("-", _M, _M): _M,
    ("*", _M, _N): _M,
    ("*", _N, _M): _M,
    ("/", _M, _N): _M,
    ("/", _M, _M): _N,
    ("+", _T, _D): _T,
    ("-", _T, _D): _T,
    ("-", _T, _T): _D,
    ("+", _D, _D): _D,
    ("-", _D, _D): _D,
    ("*", _D, _N): _D,
}


def _nearest(name: str) -> str | None:
    import difflib

    candidates = list(FACTS) + list(ALIASES)
    prefixed = sorted(c for c in candidates if c.startswith(name))
    if prefixed:
        return prefixed[0]
    found = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return found[0] if found else None


def refs(expr: Expr | None) -> set[str]:
    """The canonical fact names an expression reads."""
    out: set[str] = set()

    def walk(e: Expr) -> None:
        if isinstance(e, Ref):
            out.add(resolve_name(e.name) or e.name)
        elif isinstance(e, Unary):
            walk(e.operand)
        elif isinstance(e, Binary):
            walk(e.left)
            walk(e.right)
        elif isinstance(e, ListExpr):
            for item in e.items:
                walk(item)

    if expr is not None:
        walk(expr)
    return out


# ---------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------


class EvalError(MahnwerkError):
    """A condition could not be evaluated for an invoice (a missing fact, mixed currencies)."""


BusinessDays = Callable[[date, int], date]


def evaluate(
    expr: Expr,
    facts: Mapping[str, Any],
    add_business_days: BusinessDays | None = None,
) -> Any:
    """Evaluate `expr` against canonical facts (`{"invoice.balance": Money(...), ...}`)."""
    if isinstance(expr, Lit):
        return expr.value
    if isinstance(expr, Ref):
        name = resolve_name(expr.name) or expr.name
        if name not in facts:
            raise EvalError(f"fact {expr.name!r} is not known for this invoice")
        return facts[name]
    if isinstance(expr, ListExpr):
        return [evaluate(i, facts, add_business_days) for i in expr.items]
    if isinstance(expr, Unary):
        v = evaluate(expr.operand, facts, add_business_days)
        if expr.op == "not":
            return not v
        if isinstance(v, Money):
            return Money(-v.amount, v.currency)
        return -v
    op = expr.op
    if op == "and":
        return bool(evaluate(expr.left, facts, add_business_days)) and bool(
            evaluate(expr.right, facts, add_business_days)
        )
    if op == "or":
        return bool(evaluate(expr.left, facts, add_business_days)) or bool(
            evaluate(expr.right, facts, add_business_days)
        )
    left = evaluate(expr.left, facts, add_business_days)
    right = evaluate(expr.right, facts, add_business_days)
    try:
        return _apply(op, left, right, add_business_days)
    except (TypeError, InvalidOperation, ZeroDivisionError) as exc:
        raise EvalError(f"cannot evaluate {format_expr(expr)}: {exc}") from None


def _apply(op: str, left: Any, right: Any, add_bd: BusinessDays | None) -> Any:
    if op == "in":
        return left in (right or ())
    if op == "not in":
        return left not in (right or ())
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    if op == ">=":
        return left >= right
    if isinstance(left, date) and isinstance(right, Duration):
        days = right.days if op == "+" else -right.days
        if right.business:
            if add_bd is None:
                raise EvalError("business days need a calendar")
            return add_bd(left, days)
        return left + timedelta(days=days)
    if isinstance(left, date) and isinstance(right, date) and op == "-":
        return Duration((left - right).days)
    if isinstance(left, Duration) and isinstance(right, Duration):
        return Duration(left.days + right.days if op == "+" else left.days - right.days)
    if isinstance(left, Duration) and isinstance(right, Decimal) and op == "*":
        return Duration(int(left.days * right), left.business)
    if isinstance(left, Money) or isinstance(right, Money):
        if op == "+":
            return left + right
        if op == "-":
            return left - right
        if op == "*":
            m, n = (left, right) if isinstance(left, Money) else (right, left)
            return Money(m.amount * n, m.currency)
        if op == "/":
            if isinstance(right, Money):
                left._same(right)
                return left.amount / right.amount
            return Money(left.amount / right, left.currency)
    return {
        "+": lambda a, b: a + b,
        "-": lambda a, b: a - b,
        "*": lambda a, b: a * b,
        "/": lambda a, b: a / b,
    }[op](left, right)


# ---------------------------------------------------------------------------
# Printing back to source
# ---------------------------------------------------------------------------

_PREC = {"or": 1, "and": 2, "not": 3, "cmp": 4, "+": 5, "-": 5, "*": 6, "/": 6, "neg": 7}


def format_expr(expr: Expr) -> str:
    """Source text for `expr` that parses back to an equal tree."""
    return _fmt(expr, 0)


def _prec(expr: Expr) -> int:
    if isinstance(expr, Binary):
        if expr.op in _CMP or expr.op in ("in", "not in"):
            return _PREC["cmp"]
        return _PREC[expr.op]
    if isinstance(expr, Unary):
        return _PREC["not"] if expr.op == "not" else _PREC["neg"]
    return 9


def _fmt(expr: Expr, parent: int) -> str:
    if isinstance(expr, Lit):
        text = _fmt_lit(expr)
    elif isinstance(expr, Ref):
        text = expr.name
    elif isinstance(expr, ListExpr):
        text = "[" + ", ".join(_fmt(i, 0) for i in expr.items) + "]"
    elif isinstance(expr, Unary):
        p = _prec(expr)
        inner = _fmt(expr.operand, p)
        text = f"not {inner}" if expr.op == "not" else f"-{inner}"
    else:
        p = _prec(expr)
        if expr.op in _CMP or expr.op in ("in", "not in"):
            # comparisons do not chain: both sides must bind tighter
            left, right = _fmt(expr.left, p + 1), _fmt(expr.right, p + 1)
        else:
            # left-associative: the right side needs parentheses at equal precedence
            left, right = _fmt(expr.left, p), _fmt(expr.right, p + 1)
        text = f"{left} {expr.op} {right}"
    if _prec(expr) < parent:
        return f"({text})"
    return text


def _fmt_lit(lit: Lit) -> str:
    v = lit.value
    if lit.type == Type.BOOL:
        return "true" if v else "false"
    if lit.type == Type.STRING:
        return v if _is_enum_word(v) and resolve_name(v) is None else quote(v)
    if lit.type == Type.NUMBER:
        text = format(v, "f")
        return f"({text})" if text.startswith("-") else text
    if lit.type == Type.MONEY:
        return f"({v})" if v.amount < 0 else str(v)
    if lit.type == Type.DURATION:
        return f"({v})" if v.days < 0 else str(v)
    if lit.type == Type.DATE:
        return v.isoformat()
    raise ValueError(f"cannot print literal {lit!r}")
