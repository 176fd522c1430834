"""Printing an expression tree back to source text (for `mahnwerk policy convert`),
with as few parentheses as the precedences allow.
"""

from __future__ import annotations

from mahnwerk.dsl.expr_check import _CMP
from mahnwerk.dsl.expr_parse import _is_enum_word, quote
from mahnwerk.dsl.expr_tree import Binary, Expr, ListExpr, Lit, Ref, Type, Unary, resolve_name

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
