"""What the reports read (`engine/reports.py` and its companions shape the figures).

Part of the store layer (`engine/store/`), begun with the Skonto report's and the cash
forecast's reads; the other reports' queries (`engine/reports.py`, `experiment_report.py`,
`report_pack.py`) are to join it.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import Engine, select

from mahnwerk.engine.models import CUST, DS, INBOX, INV, LEDGER


def skonto_facts(engine: Engine, as_of: date) -> tuple[list[Any], dict[int, Any]]:
    """The ledger's Skonto, discount, payment and write-off lines booked by `as_of`, in
    booking order, and every invoice with a dunning state (its amounts, state, the
    discounts offered and any deduction the customer made), by invoice id."""
    with engine.connect() as conn:
        lines = conn.execute(
            select(LEDGER.c.invoice_id, LEDGER.c.kind, LEDGER.c.amount, LEDGER.c.booked_on)
            .where(
                LEDGER.c.booked_on <= as_of,
                LEDGER.c.kind.in_(("skonto", "discount", "payment", "write_off")),
            )
            .order_by(LEDGER.c.booked_on, LEDGER.c.id)
        ).all()
        invoices = {
            r.id: r
            for r in conn.execute(
                select(
                    INV.c.id,
                    INV.c.issue_date,
                    INV.c.amount,
                    DS.c.state,
                    DS.c.principal_open,
                    DS.c.discount_offers,
                    DS.c.deduction_on,
                    DS.c.deduction_note,
                ).join(DS, DS.c.invoice_id == INV.c.id)
            )
        }
    return lines, invoices


def forecast_facts(engine: Engine, as_of: date) -> tuple[list[Any], dict[int, date]]:
    """The cash forecast's open items at the end of `as_of`: every invoice issued by then
    and not closed, with its customer's number and its dunning record's balance and state
    (None before the engine took it up); and per invoice the date of the latest
    `promise_made` recorded by then."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(INV.c.id, INV.c.external_id, INV.c.issue_date, INV.c.due_date, INV.c.amount,
                   CUST.c.external_id.label("customer"), DS.c.state, DS.c.principal_open,
                   DS.c.fees_open, DS.c.interest_open, DS.c.disputed)
            .join(CUST, CUST.c.id == INV.c.customer_id)
            .outerjoin(DS, DS.c.invoice_id == INV.c.id)
            .where(INV.c.issue_date <= as_of, INV.c.closed_on.is_(None))
        ).all()  # fmt: skip
        promises: dict[int, date] = {}
        for invoice_id, payload in conn.execute(
            select(INBOX.c.invoice_id, INBOX.c.payload)
            .where(INBOX.c.kind == "promise_made", INBOX.c.occurred_on <= as_of)
            .order_by(INBOX.c.occurred_on, INBOX.c.id)
        ):
            promised = json.loads(payload or "{}").get("promised_date")
            if promised:
                promises[invoice_id] = date.fromisoformat(promised)
    return rows, promises
