"""What the customer portal's page reads (`portal/view.py` shapes it).

Part of the store layer (`engine/store/`).  Every read here is filtered by the customer
id the verified link names, or by invoice ids read for that customer, so a page can show
only its own customer's rows.  The portal's own tables (links, keys, forms, visits,
uploads) are read and written in `portal_links` and `portal_requests`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Engine, select

from mahnwerk.dsl.ir import TERMINAL_NAMES
from mahnwerk.engine.models import DELIVERY, DS, INBOX, INV, LEDGER, OUTBOX


def open_invoice_ids(conn: Connection, customer_id: int) -> list[int]:
    """The customer's invoices not closed and not in a terminal state, by due date."""
    rows = conn.execute(
        select(INV.c.id, DS.c.state)
        .outerjoin(DS, DS.c.invoice_id == INV.c.id)
        .where(INV.c.customer_id == customer_id, INV.c.closed_on.is_(None))
        .order_by(INV.c.due_date, INV.c.id)
    ).all()
    return [r.id for r in rows if r.state not in TERMINAL_NAMES]


def offered(conn: Connection, invoice_id: int) -> list[Any]:
    """The offers of the newest of the invoice's last 20 messages that made any (the
    words as the run wrote them in the payload), or []."""
    for (payload,) in conn.execute(
        select(OUTBOX.c.payload)
        .where(OUTBOX.c.invoice_id == invoice_id)
        .order_by(OUTBOX.c.id.desc())
        .limit(20)
    ):
        words = json.loads(payload or "{}").get("offers") or []
        if words:
            return words
    return []


def payments(conn: Connection, ids: Iterable[int]) -> list[Any]:
    """The payments booked on these invoices (`invoice_id`, `booked_on`, `amount` < 0)."""
    return conn.execute(
        select(LEDGER.c.invoice_id, LEDGER.c.booked_on, LEDGER.c.amount)
        .where(LEDGER.c.invoice_id.in_(ids), LEDGER.c.kind == "payment")
        .order_by(LEDGER.c.booked_on, LEDGER.c.id)
    ).all()


def waiting_events(conn: Connection, ids: Iterable[int]) -> list[Any]:
    """Events recorded on these invoices that no run has applied yet."""
    return conn.execute(
        select(INBOX.c.invoice_id, INBOX.c.kind, INBOX.c.occurred_on, INBOX.c.actor)
        .where(INBOX.c.invoice_id.in_(ids), INBOX.c.applied_run_id.is_(None))
        .order_by(INBOX.c.id)
    ).all()


def promises_and_plans(conn: Connection, ids: Iterable[int]) -> dict[int, Any]:
    """Per invoice with a dunning state: its `promises` made and `plan_active`."""
    return {
        r.invoice_id: r
        for r in conn.execute(
            select(DS.c.invoice_id, DS.c.promises, DS.c.plan_active).where(DS.c.invoice_id.in_(ids))
        )
    }


def sent_written(conn: Connection, customer_id: int, written: Iterable[str]) -> list[Any]:
    """The customer's last 50 deliveries sent on a written channel, newest first."""
    return conn.execute(
        select(DELIVERY)
        .where(
            DELIVERY.c.customer_id == customer_id,
            DELIVERY.c.status == "sent",
            DELIVERY.c.channel.in_(list(written)),
        )
        .order_by(DELIVERY.c.finished_at.desc())
        .limit(50)
    ).all()


def letter_artefact(engine: Engine, customer_id: int, delivery_id: int) -> tuple[Any] | None:
    """The archive entry (`artefact`) of a letter sent to this customer, or None for a
    delivery of another customer's, not a letter or not sent."""
    with engine.connect() as conn:
        return conn.execute(
            select(DELIVERY.c.artefact).where(
                DELIVERY.c.id == delivery_id,
                DELIVERY.c.customer_id == customer_id,
                DELIVERY.c.channel == "letter",
                DELIVERY.c.status == "sent",
            )
        ).first()
