"""The one expression language of mahnwerk policies.

`customer.type == B2C and balance >= 50 EUR and not invoice.disputed` is a
condition in both policy syntaxes: the text reader parses it inline, the YAML
reader parses the string with the same grammar (`policy.lark`, start rule
`condition`).  This module holds the value types with units (`Money`,
`Duration`), the typed expression tree, the fact schema the checker knows, the
type checker, an evaluator over an invoice's facts and a printer that turns a
tree back into source text (for `mahnwerk policy convert`).

Each of those has its own module: `expr_values` (Money, Duration),
`expr_tree` (types, the fact schema, the tree), `expr_parse`, `expr_check`,
`expr_eval` and `expr_print`.  This module is the one name the rest of
mahnwerk imports them by.
"""

from __future__ import annotations

from mahnwerk.dsl.expr_check import check_expr, refs
from mahnwerk.dsl.expr_eval import BusinessDays, EvalError, evaluate
from mahnwerk.dsl.expr_parse import (
    ExprBuilder,
    grammar_parser,
    parse_expr,
    quote,
    syntax_message,
    unquote,
)
from mahnwerk.dsl.expr_print import format_expr
from mahnwerk.dsl.expr_tree import (
    ALIASES,
    FACTS,
    Binary,
    Expr,
    Fact,
    ListExpr,
    Lit,
    Ref,
    Type,
    Unary,
    resolve_name,
)
from mahnwerk.dsl.expr_values import Duration, Money, format_decimal, parse_duration, parse_money

__all__ = [
    "ALIASES",
    "FACTS",
    "Binary",
    "BusinessDays",
    "Duration",
    "EvalError",
    "Expr",
    "ExprBuilder",
    "Fact",
    "ListExpr",
    "Lit",
    "Money",
    "Ref",
    "Type",
    "Unary",
    "check_expr",
    "evaluate",
    "format_decimal",
    "format_expr",
    "grammar_parser",
    "parse_duration",
    "parse_expr",
    "parse_money",
    "quote",
    "refs",
    "resolve_name",
    "syntax_message",
    "unquote",
]
