"""Evaluating a condition over an invoice's facts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from mahnwerk.dsl.expr_print import format_expr
from mahnwerk.dsl.expr_tree import Expr, ListExpr, Lit, Ref, Unary, resolve_name
from mahnwerk.dsl.expr_values import Duration, EvalError, Money

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
