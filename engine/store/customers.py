"""What the operator's views around one customer or one invoice read
(`engine/customer_view`, the TUI's customer and invoice screens).

Part of the store layer (`engine/store/`): the customer search with city and open
balance, the customer's invoices, risk reasons, notes, waiting inbox entries and
messages, an invoice's waiting inbox, the record and policy text its next step is
computed from, and the deployed text of a policy.  Each read follows an index
(customer number, `invoice.customer_id`, `outbox.customer_id`, `event.invoice_id`).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, or_, select

from mahnwerk.engine.models import BEHAVIOUR, CUST, DS, EVENT, INBOX, INV, OUTBOX, PV
from mahnwerk.engine.store.invoices import NotFound, _base
from mahnwerk.engine.store.records import record_select

NOTE_KINDS = ("received_note", "withdrawn_note", "call_done", "task_done")


def find_customers(engine: Engine, text: str, limit: int) -> list[dict[str, Any]]:
    """Customers whose number is `text`, or whose number or name contains it; with city."""
    text = text.strip()
    if not text:
        return []
    like = f"%{text.lower()}%"
    with engine.connect() as conn:
        rows = conn.execute(
            select(CUST.c.id, CUST.c.external_id, CUST.c.name, CUST.c.city, CUST.c.postal_code)
            .where(
                or_(
                    CUST.c.external_id == text,
                    func.lower(CUST.c.name).like(like),
                    func.lower(CUST.c.external_id).like(like),
                )
            )
            .order_by(CUST.c.name, CUST.c.external_id)
            .limit(limit)
        ).all()
        ids = [r.id for r in rows]
        open_ = {
            cid: (n, Decimal(total or 0))
            for cid, n, total in conn.execute(
                select(INV.c.customer_id, func.count(),
                       func.sum(DS.c.principal_open + DS.c.fees_open + DS.c.interest_open))
                .join(DS, DS.c.invoice_id == INV.c.id)
                .where(INV.c.customer_id.in_(ids), INV.c.closed_on.is_(None))
                .group_by(INV.c.customer_id)
            )
        } if ids else {}  # fmt: skip
    return [
        {
            "customer": r.external_id,
            "name": r.name,
            "city": " ".join(x for x in (r.postal_code, r.city) if x),
            "open_invoices": open_.get(r.id, (0, Decimal(0)))[0],
            "open_balance": open_.get(r.id, (0, Decimal(0)))[1],
        }
        for r in rows
    ]


def customer_rows(engine: Engine, customer: str) -> tuple[Any, list, Any, list, list, list]:
    """The customer's row, its invoices (the `_base` row with plan, pause and invoice id),
    the stored risk reasons (JSON text or None), its latest notes, the inbox entries
    waiting and its latest messages; `NotFound` for an unknown customer number.
    """
    with engine.connect() as conn:
        cust = conn.execute(select(CUST).where(CUST.c.external_id == customer)).first()
        if cust is None:
            raise NotFound(f"no customer {customer!r}: check the number")
        rows = conn.execute(
            _base()
            .add_columns(DS.c.plan_active, DS.c.paused_until, INV.c.id.label("iid"))
            .where(INV.c.customer_id == cust.id)
            .order_by(INV.c.due_date, INV.c.id)
        ).all()
        behaviour = conn.execute(
            select(BEHAVIOUR.c.risk_reasons).where(BEHAVIOUR.c.customer_id == cust.id)
        ).scalar()
        notes, waiting, messages = _history(conn, cust.id, [r.iid for r in rows])
    return cust, rows, behaviour, notes, waiting, messages


def _history(conn: Any, customer_id: int, iids: list[int]) -> tuple[list, list, list]:
    """The customer's latest notes, the inbox entries waiting, the latest messages."""
    notes = conn.execute(
        select(EVENT.c.occurred_on, EVENT.c.kind, EVENT.c.actor, EVENT.c.message,
               INV.c.external_id)
        .join(INV, INV.c.id == EVENT.c.invoice_id)
        .where(EVENT.c.invoice_id.in_(iids), EVENT.c.kind.in_(NOTE_KINDS))
        .order_by(EVENT.c.id.desc())
        .limit(30)
    ).all() if iids else []  # fmt: skip
    waiting = conn.execute(
        select(INBOX, INV.c.external_id)
        .join(INV, INV.c.id == INBOX.c.invoice_id)
        .where(INBOX.c.invoice_id.in_(iids), INBOX.c.applied_run_id.is_(None))
        .order_by(INBOX.c.id)
    ).all() if iids else []  # fmt: skip
    messages = conn.execute(
        select(OUTBOX.c.id, OUTBOX.c.channel, OUTBOX.c.template, OUTBOX.c.status,
               OUTBOX.c.not_before, OUTBOX.c.sent_at, INV.c.external_id)
        .outerjoin(INV, INV.c.id == OUTBOX.c.invoice_id)
        .where(OUTBOX.c.customer_id == customer_id)
        .order_by(OUTBOX.c.id.desc())
        .limit(30)
    ).all()  # fmt: skip
    return notes, waiting, messages


def customer_of_invoice(engine: Engine, invoice: str) -> str:
    with engine.connect() as conn:
        found = conn.execute(
            select(CUST.c.external_id)
            .join(INV, INV.c.customer_id == CUST.c.id)
            .where(INV.c.external_id == invoice)
        ).scalar()
    if found is None:
        raise NotFound(f"no invoice {invoice!r}")
    return found


def waiting_events(engine: Engine, invoice: str) -> list[dict[str, Any]]:
    """Inbox entries of this invoice no run has applied yet (each may be withdrawn)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(INBOX)
            .join(INV, INV.c.id == INBOX.c.invoice_id)
            .where(INV.c.external_id == invoice, INBOX.c.applied_run_id.is_(None))
            .order_by(INBOX.c.occurred_on, INBOX.c.id)
        ).all()
    return [
        {"id": r.id, "date": r.occurred_on.isoformat(), "kind": r.kind,
         "payload": json.loads(r.payload or "{}"), "actor": r.actor}
        for r in rows
    ]  # fmt: skip


def record_and_policy(engine: Engine, invoice: str) -> tuple[Any, Any] | None:
    """The invoice's record row with its policy's text and path, and its customer as the
    runner reads them; None for an invoice no run has taken up yet.
    """
    from mahnwerk.engine.store.run import customers as _customers

    with engine.connect() as conn:
        row = conn.execute(
            record_select(PV.c.source, PV.c.path)
            .join(PV, PV.c.id == DS.c.policy_version_id)
            .where(INV.c.external_id == invoice)
        ).first()
        if row is None:
            return None
        cust = _customers(conn, [row.customer_id])[row.customer_id]
    return row, cust


def policy_source(engine: Engine, path: str, name: str) -> Any:
    """The latest deployed version's (path, source) at `path`, else of a path ending in
    the file `name` (deployed under another spelling of the path); None if neither."""
    with engine.connect() as conn:
        row = conn.execute(
            select(PV.c.path, PV.c.source).where(PV.c.path == path).order_by(PV.c.id.desc())
        ).first()
        if row is None:  # deployed under another spelling of the path: match the file name
            row = conn.execute(
                select(PV.c.path, PV.c.source)
                .where(PV.c.path.like(f"%{name}"))
                .order_by(PV.c.id.desc())
            ).first()
    return row
