"""The store layer (issue 21), begun: which columns make the values the step reads.

`state.py`'s values (`Record`, `Invoice`, `Customer`) are what the pure step works on; this
module is to be the one place that reads and writes the tables for them.  It starts with the
reads that had been written out again in several modules and had drifted apart: the deploy
preview (`deploy_review`) and the next-step view (`customer_view`) selected an invoice
without `claim_kind` and `skonto_terms`, so `runner.invoice_value` took every claim there for
goods or services (§ 288 Abs. 2 BGB's 9 points) and saw no Skonto tiers, where the run reads
both.  Now they select through `record_select`, and the simulator's two customer reads through
`customer_select`.

The row ↔ value mappings (`record_value`, `record_row`, `invoice_value`, `customer_value`)
live here too, with `Record`'s columns derived from its fields.  Still elsewhere, to move
here next: the run's batch reads and the queries of the TUI, CLI and API.
"""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, Select, insert, select

from mahnwerk.engine.models import BEHAVIOUR, CUST, DS, EVENT, INV
from mahnwerk.engine.state import Customer, Invoice, Record
from mahnwerk.engine.terms import offers_from_json, offers_json, tiers_from_json

#: The book's own calendar: the day of a book-level event (an import) is its Berlin day.
BERLIN = ZoneInfo("Europe/Berlin")

#: The invoice columns a step needs beside its `dunning_state` row: what
#: `runner.invoice_value` reads, with the invoice number as `inv_ext`.
STEP_INVOICE_COLUMNS: tuple[ColumnElement, ...] = (
    INV.c.external_id.label("inv_ext"),
    INV.c.customer_id,
    INV.c.issue_date,
    INV.c.due_date,
    INV.c.amount,
    INV.c.currency,
    INV.c.due_date_agreed,
    INV.c.notice_30_days,
    INV.c.received_on,
    INV.c.claim_kind,
    INV.c.skonto_terms,
)

#: The behaviour columns read as `customer.*` facts (written by `mahnwerk analyse`).
BEHAVIOUR_FACTS: tuple[ColumnElement, ...] = tuple(
    BEHAVIOUR.c[name]
    for name in (
        "median_days_late",
        "late_share",
        "trend_days",
        "disputes",
        "partial_payments",
        "overdue_invoices",
        "gone_quiet",
        "feedback_reason",
    )
)


def record_select(*extra: ColumnElement) -> Select:
    """Each `dunning_state` row with its invoice's step columns (and `extra` columns)."""
    return select(DS, *STEP_INVOICE_COLUMNS, *extra).join(INV, INV.c.id == DS.c.invoice_id)


def customer_select() -> Select:
    """Customers with their behaviour facts, as `runner.customer_value` maps them."""
    return select(CUST, *BEHAVIOUR_FACTS).outerjoin(BEHAVIOUR, BEHAVIOUR.c.customer_id == CUST.c.id)


def log_book_event(
    conn: Connection, kind: str, actor: str, now: datetime, message: str, payload: dict[str, Any]
) -> None:
    """One entry of the event log for the whole book, not an invoice (an import of customers,
    invoices, events or a bank statement): who, when, what it did, on `now`'s Berlin day."""
    conn.execute(
        insert(EVENT).values(
            kind=kind,
            occurred_on=now.astimezone(BERLIN).date(),
            recorded_at=now,
            actor=actor,
            message=message,
            payload=json.dumps(payload),
        )
    )


# ---------------------------------------------------------------------------
# Row <-> value mapping
# ---------------------------------------------------------------------------

_RECORD_COLUMNS = tuple(f.name for f in fields(Record) if f.name != "invoice_id")
"""`dunning_state`'s columns that carry a `Record`: its fields, listed once (`state.py`)."""


def _split(text: str | None) -> frozenset[str]:
    return frozenset(t.strip() for t in (text or "").replace("|", ",").split(",") if t.strip())


def customer_value(
    row: Any, open_balance: Decimal = Decimal(0), open_invoices: int = 0
) -> Customer:
    return Customer(
        id=row.external_id,
        name=row.name,
        type=row.type,
        country=row.country or "DE",
        region=row.region,
        language=row.language or "de",
        tags=_split(row.tags),
        vulnerable=bool(row.vulnerable),
        opted_out=_split(row.opted_out),
        timezone=row.timezone or "Europe/Berlin",
        risk_score=row.risk_score,
        avg_days_late=row.avg_days_late,
        # behaviour facts (customer_behaviour, outer-joined by `_customers`; absent: None)
        median_days_late=getattr(row, "median_days_late", None),
        late_share=getattr(row, "late_share", None),
        trend_days=getattr(row, "trend_days", None),
        disputes=getattr(row, "disputes", None) or 0,
        partial_payments=getattr(row, "partial_payments", None) or 0,
        overdue_invoices=getattr(row, "overdue_invoices", None) or 0,
        gone_quiet=bool(getattr(row, "gone_quiet", False)),
        feedback=getattr(row, "feedback_reason", None) or "",
        open_balance=open_balance,
        open_invoices=open_invoices,
        insolvent_since=row.insolvent_since,
        deceased_since=row.deceased_since,
    )


def invoice_value(row: Any, customer_ext: str, external_id: str | None = None) -> Invoice:
    return Invoice(
        id=external_id or row.external_id,
        customer_id=customer_ext,
        issue_date=row.issue_date,
        due_date=row.due_date,
        amount=Decimal(row.amount),
        currency=row.currency,
        due_date_agreed=bool(row.due_date_agreed),
        notice_30_days=bool(row.notice_30_days),
        received_on=row.received_on,
        goods_or_services=getattr(row, "claim_kind", None) != "other",
        skonto=tiers_from_json(getattr(row, "skonto_terms", None)),
    )


def record_value(row: Any, invoice_ext: str) -> Record:
    values = {c: getattr(row, c) for c in _RECORD_COLUMNS}
    for money in ("principal_open", "fees_open", "interest_open", "plan_paid"):
        values[money] = Decimal(values[money])
    values["fees_charged_sum"] = Decimal(values["fees_charged_sum"] or 0)
    values["add_ons_paid"] = Decimal(values["add_ons_paid"] or 0)
    values["plan"] = _plan_from_json(values["plan"])
    values["sent_templates"] = _split(values["sent_templates"])
    values["discount_offers"] = offers_from_json(values["discount_offers"])
    values["fees_charged"] = values["fees_charged"] or 0
    values["fee_floor"] = values["fee_floor"] or 0
    values["interest_deferred"] = tuple(
        (date.fromisoformat(a), date.fromisoformat(b), Decimal(p), Decimal(x))
        for a, b, p, x in json.loads(values["interest_deferred"] or "[]")
    )
    for flag in (
        "interest_active",
        "lump_sum_charged",
        "held",
        "disputed",
        "plan_active",
        "credit_stopped",
    ):
        values[flag] = bool(values[flag])
    return Record(invoice_id=invoice_ext, **values)


def record_row(record: Record) -> dict[str, Any]:
    row = {c: getattr(record, c) for c in _RECORD_COLUMNS}
    row["sent_templates"] = ",".join(sorted(record.sent_templates)) or None
    row["discount_offers"] = offers_json(record.discount_offers)
    row["plan"] = (
        json.dumps([[d.isoformat(), str(a)] for d, a in record.plan]) if record.plan else None
    )
    row["interest_deferred"] = (
        json.dumps(
            [
                [a.isoformat(), b.isoformat(), str(p), str(x)]
                for a, b, p, x in record.interest_deferred
            ]
        )
        if record.interest_deferred
        else None
    )
    return row


def _plan_from_json(text: str | None) -> tuple[tuple[date, Decimal], ...]:
    if not text:
        return ()
    return tuple((date.fromisoformat(d), Decimal(a)) for d, a in json.loads(text))
