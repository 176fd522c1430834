"""Type checking conditions against the fact schema, and the names a condition
refers to.
"""

from __future__ import annotations

from mahnwerk.dsl.errors import Collector
from mahnwerk.dsl.expr_tree import (
    ALIASES,
    FACTS,
    Binary,
    Expr,
    ListExpr,
    Lit,
    Ref,
    Type,
    Unary,
    resolve_name,
)

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
