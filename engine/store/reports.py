"""What the reports read (`engine/reports.py` and its companions shape the figures).

Part of the store layer (`engine/store/`), begun with the Skonto report's two reads; the
other reports' queries (`engine/reports.py`, `experiment_report.py`, `forecast.py`) are
to join it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Engine, select

from mahnwerk.engine.models import DS, INV, LEDGER


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
