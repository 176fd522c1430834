"""Which conditions can hold together: interval reasoning over the typed facts.

The checker asks three questions of the policy's conditions: can this `when`
hold at all (`balance > 100 EUR and balance < 50 EUR` cannot), does a segment's
condition imply an earlier segment's (`risk_score > 80` after `risk_score >= 70`
can never match), and can two guards on one state hold at once.

A condition is brought into disjunctive normal form; each literal constrains
one fact to a set of its values — a union of intervals for numbers, amounts,
durations and dates, a finite set (or its complement) for texts, a truth value
for yes/no facts and for each `"x" in customer.tags`.  A conjunction holds for
some invoice exactly when every fact's constraints intersect.  That is exact for
comparisons of one fact with constants, `and`, `or`, `not` and `in` (over the
real numbers: `days_overdue > 3 and days_overdue < 4` counts as possible).
Anything else (two facts compared, arithmetic) becomes an opaque yes/no
variable, so it never causes a false alarm.  We chose this over a solver such
as z3: the facts are independent and one-dimensional, the answer comes with the
conflicting comparisons to show the author, and it needs no native dependency.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from mahnwerk.dsl.expr import (
    FACTS,
    Binary,
    Duration,
    Expr,
    ListExpr,
    Lit,
    Money,
    Ref,
    Type,
    Unary,
    format_expr,
    resolve_name,
)

#: Above this many terms a condition is not analysed (no diagnosis rather than a slow check).
MAX_TERMS = 512

Bound = Decimal | None
Interval = tuple[Bound, bool, Bound, bool]  # lo, lo included, hi, hi included; None: infinite
_ALL: tuple[Interval, ...] = ((None, False, None, False),)
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


@dataclass(frozen=True, slots=True)
class Values:
    """The values a literal allows one variable: intervals, a text set, or truth values."""

    kind: str  # "num" | "text" | "bool"
    intervals: tuple[Interval, ...] = ()
    texts: frozenset[str] = frozenset()
    excluded: bool = False  # texts: every text except these
    truths: frozenset[bool] = frozenset()

    def empty(self) -> bool:
        if self.kind == "num":
            return not self.intervals
        if self.kind == "text":
            return not self.excluded and not self.texts
        return not self.truths

    def meet(self, other: Values) -> Values:
        if self.kind == "num":
            out = [_cut(a, b) for a in self.intervals for b in other.intervals]
            return Values("num", tuple(i for i in out if i is not None))
        if self.kind == "text":
            if self.excluded and other.excluded:
                return Values("text", texts=self.texts | other.texts, excluded=True)
            if self.excluded or other.excluded:
                keep, drop = (other, self) if self.excluded else (self, other)
                return Values("text", texts=keep.texts - drop.texts)
            return Values("text", texts=self.texts & other.texts)
        return Values("bool", truths=self.truths & other.truths)

    def complement(self) -> Values:
        if self.kind == "num":
            out: tuple[Interval, ...] = _ALL
            for lo, lo_in, hi, hi_in in self.intervals:
                below = (None, False, lo, not lo_in) if lo is not None else None
                above = (hi, not hi_in, None, False) if hi is not None else None
                gaps = tuple(g for g in (below, above) if g is not None)
                out = Values("num", out).meet(Values("num", gaps)).intervals
            return Values("num", out)
        if self.kind == "text":
            return Values("text", texts=self.texts, excluded=not self.excluded)
        return Values("bool", truths=frozenset({True, False}) - self.truths)


def _cut(a: Interval, b: Interval) -> Interval | None:
    lo, lo_in = _max_lo(a[0], a[1], b[0], b[1])
    hi, hi_in = _min_hi(a[2], a[3], b[2], b[3])
    if lo is not None and hi is not None and (lo > hi or (lo == hi and not (lo_in and hi_in))):
        return None
    return (lo, lo_in, hi, hi_in)


def _max_lo(x: Bound, x_in: bool, y: Bound, y_in: bool) -> tuple[Bound, bool]:
    if x is None:
        return y, y_in
    if y is None or x > y:
        return x, x_in
    if y > x:
        return y, y_in
    return x, x_in and y_in


def _min_hi(x: Bound, x_in: bool, y: Bound, y_in: bool) -> tuple[Bound, bool]:
    if x is None:
        return y, y_in
    if y is None or x < y:
        return x, x_in
    if y < x:
        return y, y_in
    return x, x_in and y_in


@dataclass(frozen=True, slots=True)
class Literal:
    key: tuple[str, ...]  # the variable: ("fact", name), ("tag", name, text), ("opaque", text)
    values: Values
    text: str  # the comparison as written, for messages


Term = tuple[Literal, ...]  # a conjunction


def dnf(expr: Expr | None, negate: bool = False) -> list[Term] | None:
    """`expr` (negated if asked) as a list of conjunctions; None if too large."""
    if expr is None:
        return [] if negate else [()]
    try:
        return list(_dnf(expr, negate))
    except _TooBig:
        return None


class _TooBig(Exception):
    pass


def _dnf(expr: Expr, negate: bool) -> list[Term]:
    if isinstance(expr, Unary) and expr.op == "not":
        return _dnf(expr.operand, not negate)
    if isinstance(expr, Binary) and expr.op in ("and", "or"):
        conj = (expr.op == "and") != negate
        left, right = _dnf(expr.left, negate), _dnf(expr.right, negate)
        if not conj:
            return left + right
        out = [a + b for a in left for b in right]
        if len(out) > MAX_TERMS:
            raise _TooBig
        return out
    lit = literal(expr)
    return [((Literal(lit.key, lit.values.complement(), f"not ({lit.text})") if negate else lit),)]


def literal(expr: Expr) -> Literal:
    """One comparison as a constraint on one variable (opaque if it is not of that form)."""
    text = format_expr(expr)
    if isinstance(expr, Ref):
        name = resolve_name(expr.name)
        if name is not None and FACTS[name].type is Type.BOOL:
            return Literal(("fact", name), Values("bool", truths=frozenset({True})), text)
    if isinstance(expr, Binary):
        found = _compare(expr) or _membership(expr)
        if found is not None:
            return Literal(found[0], found[1], text)
    return Literal(("opaque", text), Values("bool", truths=frozenset({True})), text)


def _compare(expr: Binary) -> tuple[tuple[str, ...], Values] | None:
    if expr.op not in _FLIP:
        return None
    ref, lit, op = expr.left, expr.right, expr.op
    if isinstance(ref, Lit) and isinstance(lit, Ref):
        ref, lit, op = lit, ref, _FLIP[op]
    if not (isinstance(ref, Ref) and isinstance(lit, Lit)):
        return None
    name = resolve_name(ref.name)
    if name is None:
        return None
    kind = FACTS[name].type
    if kind is Type.BOOL and isinstance(lit.value, bool) and op in ("==", "!="):
        truth = lit.value if op == "==" else not lit.value
        return ("fact", name), Values("bool", truths=frozenset({truth}))
    if kind is Type.STRING and isinstance(lit.value, str) and op in ("==", "!="):
        return ("fact", name), Values("text", texts=frozenset({lit.value}), excluded=op == "!=")
    value = _number(lit.value)
    if value is None or kind not in (Type.NUMBER, Type.MONEY, Type.DATE, Type.DURATION):
        return None
    return ("fact", name), Values("num", _interval(op, value))


def _interval(op: str, v: Decimal) -> tuple[Interval, ...]:
    return {
        "<": ((None, False, v, False),),
        "<=": ((None, False, v, True),),
        ">": ((v, False, None, False),),
        ">=": ((v, True, None, False),),
        "==": ((v, True, v, True),),
        "!=": ((None, False, v, False), (v, False, None, False)),
    }[op]


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, Money):
        return value.amount
    if isinstance(value, Duration):
        return Decimal(value.days)
    if isinstance(value, date):
        return Decimal(value.toordinal())
    if isinstance(value, Decimal | int):
        return Decimal(value)
    return None


def _membership(expr: Binary) -> tuple[tuple[str, ...], Values] | None:
    if expr.op not in ("in", "not in"):
        return None
    inside = expr.op == "in"
    left, right = expr.left, expr.right
    if isinstance(left, Ref) and isinstance(right, ListExpr):
        name = resolve_name(left.name)
        items = [i.value for i in right.items if isinstance(i, Lit)]
        if name is None or len(items) != len(right.items):
            return None
        if FACTS[name].type is Type.STRING and all(isinstance(i, str) for i in items):
            return ("fact", name), Values("text", texts=frozenset(items), excluded=not inside)
        return None
    if isinstance(left, Lit) and isinstance(left.value, str) and isinstance(right, Ref):
        name = resolve_name(right.name)
        if name is not None and FACTS[name].type is Type.LIST:
            return ("tag", name, left.value), Values("bool", truths=frozenset({inside}))
    return None


def conflict(term: Term) -> list[str] | None:
    """The comparisons of one variable that exclude each other, or None if `term` can hold."""
    by_key: dict[tuple[str, ...], tuple[Values, list[str]]] = {}
    for lit in term:
        values, texts = by_key.get(lit.key, (None, []))
        values = lit.values if values is None else values.meet(lit.values)
        by_key[lit.key] = (values, [*texts, lit.text])
        if values.empty():
            return by_key[lit.key][1]
    return None


def satisfiable(expr: Expr | None) -> bool | None:
    """Whether `expr` can hold for some invoice; None if it is too large to tell."""
    terms = dnf(expr)
    if terms is None:
        return None
    return any(conflict(t) is None for t in terms)


def both(a: Expr | None, b: Expr | None) -> bool | None:
    """Whether `a` and `b` can hold at once; None if too large to tell."""
    left, right = dnf(a), dnf(b)
    if left is None or right is None or len(left) * len(right) > MAX_TERMS:
        return None
    return any(conflict(x + y) is None for x in left for y in right)


def covered(expr: Expr | None, earlier: list[Expr | None]) -> bool | None:
    """Whether `expr` implies the disjunction of `earlier` (so it adds nothing after them)."""
    terms = dnf(expr)
    if terms is None:
        return None
    for other in earlier:
        negated = dnf(other, negate=True)
        if negated is None:
            return None
        terms = [t + n for t in terms for n in negated if conflict(t + n) is None]
        if len(terms) > MAX_TERMS:
            return None
        if not terms:
            return True
    return not terms


def explain_conflict(expr: Expr) -> str:
    """`a` and `b` of the first conjunction, for the error message."""
    terms = dnf(expr) or []
    parts: Iterator[list[str] | None] = (conflict(t) for t in terms)
    first = next((p for p in parts if p), None)
    if not first:
        return "no invoice meets it"
    return " and ".join(f"`{t}`" for t in first) + " exclude each other"
