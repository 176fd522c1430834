"""The store layer (issue 21), begun: which columns make the values the step reads.

`state.py`'s values (`Record`, `Invoice`, `Customer`) are what the pure step works on; this
module is to be the one place that reads and writes the tables for them.  It starts with the
reads that had been written out again in several modules and had drifted apart: the deploy
preview (`deploy_review`) and the next-step view (`customer_view`) selected an invoice
without `claim_kind` and `skonto_terms`, so `runner.invoice_value` took every claim there for
goods or services (§ 288 Abs. 2 BGB's 9 points) and saw no Skonto tiers, where the run reads
both.  Now they select through `record_select`, and the simulator's two customer reads through
`customer_select`.

Still elsewhere, to move here next: the run's own reads and writes (`engine.runner`, which
holds copies of the two selects below until its split lands), the row ↔ value mappings
(`record_value`, `invoice_value`, `customer_value`) and the queries of the TUI, CLI and API.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, Select, insert, select

from mahnwerk.engine.models import BEHAVIOUR, CUST, DS, EVENT, INV

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
    return select(CUST, *BEHAVIOUR_FACTS).outerjoin(
        BEHAVIOUR, BEHAVIOUR.c.customer_id == CUST.c.id
    )


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
