"""`mahnwerk policy explain`: walk one invoice through a policy, saying why at each step.

It runs the real step function — the same code as the daily run — from the
invoice's issue date to the as-of date, so the explanation cannot drift from
what the engine would do.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from mahnwerk.dsl.compile import CompiledPolicy
from mahnwerk.dsl.render import describe_rule
from mahnwerk.engine.state import Customer, Invoice, Message, Note, Transition
from mahnwerk.engine.step import step
from mahnwerk.errors import MahnwerkError


class ExplainError(MahnwerkError, ValueError):
    """The customer or invoice facts are incomplete or malformed."""


def _date(data: dict[str, Any], key: str, default: date | None = None) -> date:
    value = data.get(key)
    if value is None:
        if default is not None:
            return default
        raise ExplainError(f"invoice: {key!r} is missing (YYYY-MM-DD)")
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ExplainError(f"invoice: {key} {value!r} is not a date (YYYY-MM-DD)") from None


def _decimal(value: Any, what: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ExplainError(f"{what} {value!r} is not a number") from None


def customer_from(data: dict[str, Any]) -> Customer:
    kind = str(data.get("type", "B2C")).upper()
    if kind not in ("B2B", "B2C"):
        raise ExplainError(f"customer: type must be B2B or B2C, not {data.get('type')!r}")
    tags = data.get("tags", [])
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",") if t.strip()]
    return Customer(
        id=str(data.get("id", data.get("customer_id", "customer"))),
        name=str(data.get("name", "")),
        type=kind,
        country=str(data.get("country", "DE")),
        region=data.get("region"),
        language=str(data.get("language", "de")),
        tags=frozenset(tags),
        vulnerable=bool(data.get("vulnerable", False)),
        opted_out=frozenset(data.get("opted_out", [])),
        risk_score=_decimal(data.get("risk_score"), "customer: risk_score"),
        avg_days_late=_decimal(data.get("avg_days_late"), "customer: avg_days_late"),
        median_days_late=_decimal(data.get("median_days_late"), "customer: median_days_late"),
        late_share=_decimal(data.get("late_share"), "customer: late_share"),
        trend_days=_decimal(data.get("trend_days"), "customer: trend_days"),
        disputes=int(_decimal(data.get("disputes"), "customer: disputes") or 0),
        partial_payments=int(
            _decimal(data.get("partial_payments"), "customer: partial_payments") or 0
        ),
        overdue_invoices=int(
            _decimal(data.get("overdue_invoices"), "customer: overdue_invoices") or 0
        ),
        gone_quiet=bool(data.get("gone_quiet", False)),
        feedback=str(data.get("feedback") or ""),
    )


def invoice_from(data: dict[str, Any], customer: Customer) -> Invoice:
    amount = _decimal(data.get("amount"), "invoice: amount")
    if amount is None or amount <= 0:
        raise ExplainError("invoice: 'amount' must be a positive number, e.g. 119.00")
    issue = _date(data, "issue_date")
    return Invoice(
        id=str(data.get("id", data.get("invoice_id", "invoice"))),
        customer_id=customer.id,
        issue_date=issue,
        due_date=_date(data, "due_date"),
        amount=amount,
        currency=str(data.get("currency", "EUR")),
        due_date_agreed=bool(data.get("due_date_agreed", False)),
        notice_30_days=bool(data.get("notice_30_days", False)),
    )


def explain(
    compiled: CompiledPolicy, customer: dict[str, Any], invoice: dict[str, Any], as_of: date
) -> list[str]:
    cust = customer_from(customer)
    inv = invoice_from(invoice, cust)
    if as_of < inv.issue_date:
        raise ExplainError(f"--as-of {as_of} is before the invoice's issue date {inv.issue_date}")
    first = step(None, inv, cust, [], inv.issue_date, compiled)
    # As the daily runs see it: a step on each day the invoice has something due (one run
    # that jumps to `as_of` would catch up, moving one letter level only).
    later_actions: list[Any] = []
    record = first.record
    day = inv.issue_date
    while record.next_check_on is not None and day < record.next_check_on <= as_of:
        day = record.next_check_on
        out = step(record, inv, cust, [], day, compiled)
        later_actions += out.actions
        record = out.record
    seg = compiled.policy.segment(record.segment)
    lines = [f"invoice {inv.id}: {inv.amount} {inv.currency}, due {inv.due_date}, as of {as_of}"]
    lines += [f"  {n.text}" for n in first.notes]
    lines.append(
        f"segment {seg.name!r} walks ladder {seg.ladder!r}"
        + (f" (tone {seg.tone})" if seg.tone else "")
    )
    segment_notes = {id(n) for n in first.notes}
    for action in (*first.actions, *later_actions):
        if id(action) in segment_notes:
            continue
        if isinstance(action, Transition):
            lines.append(
                f"{action.on}  {action.source} -> {action.target}  because "
                f"`{action.reason}`  ({action.rule})"
            )
        elif isinstance(action, Message):
            lines.append(
                f"{action.on}    sends {action.channel} {action.template!r}  ({action.rule})"
            )
        elif isinstance(action, Note) and action.rule:
            lines.append(f"{action.on}    note: {action.text}  ({action.rule})")
    lines.append(
        f"state {record.state!r} since {record.entered_on}; balance {record.balance} "
        f"(fees {record.fees_open}, interest {record.interest_open})"
    )
    if record.pending_approval:
        lines.append(f"waiting for approval to enter {record.pending_approval!r}")
    upcoming = compiled.rules_from(record.segment, record.state)
    if record.next_check_on:
        nxt = [r for r in upcoming if r.kind in ("ladder", "transition") and r.trigger]
        names = ", ".join(f"{r.target} ({describe_rule(r)})" for r in nxt[:3])
        lines.append(f"next check {record.next_check_on}: {names}")
    return lines
