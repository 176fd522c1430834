"""The typed expression tree of policy conditions and the fact schema the checker
knows: which names a condition may use, their types and aliases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mahnwerk.dsl.errors import NOWHERE, Span


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
