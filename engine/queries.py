"""Read-only views for people: an invoice's timeline and lists of invoices.

The JSON shapes here are part of mahnwerk's interface (documented in
`docs/json.md`): `show --json` returns `timeline_json`, `invoices --json`
returns a list of `invoice_row` objects.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from mahnwerk.engine.models import CUST, DS, EVENT, INBOX, INV, LEDGER, OUTBOX


class NotFound(LookupError):
    pass


LOG_ONLY_KINDS = frozenset({"note"})
"""Inbox kinds a run only writes into the audit log (`received_note`): an operator's
free-text note goes through the inbox like any event, so it can be withdrawn until a run
has taken it, but it changes nothing the step decides."""


def invoice_row(row: Any) -> dict[str, Any]:
    return {
        "invoice": row.external_id,
        "customer": row.customer_ext,
        "customer_name": row.customer_name,
        "amount": str(row.amount),
        "balance": str(
            Decimal(row.principal_open) + Decimal(row.fees_open) + Decimal(row.interest_open)
        )
        if row.state is not None
        else str(row.amount),
        "due_date": row.due_date.isoformat(),
        "segment": row.segment,
        "state": row.state or "new",
        "entered_on": row.entered_on.isoformat() if row.entered_on else None,
        "next_check_on": row.next_check_on.isoformat() if row.next_check_on else None,
        "paused": row.pause_reason,
        "held": bool(row.held) if row.held is not None else False,
        "disputed": bool(row.disputed) if row.disputed is not None else False,
    }


def _base():
    return (
        select(
            INV.c.external_id,
            INV.c.amount,
            INV.c.due_date,
            CUST.c.external_id.label("customer_ext"),
            CUST.c.name.label("customer_name"),
            DS.c.segment,
            DS.c.state,
            DS.c.entered_on,
            DS.c.next_check_on,
            DS.c.principal_open,
            DS.c.fees_open,
            DS.c.interest_open,
            DS.c.pause_reason,
            DS.c.held,
            DS.c.disputed,
        )
        .join(CUST, CUST.c.id == INV.c.customer_id)
        .outerjoin(DS, DS.c.invoice_id == INV.c.id)
    )


def list_invoices(
    engine: Engine,
    state: str | None = None,
    segment: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    query = _base().order_by(INV.c.id).limit(limit).offset(offset)
    if state:
        query = query.where(DS.c.state == state)
    if segment:
        query = query.where(DS.c.segment == segment)
    with engine.connect() as conn:
        return [invoice_row(r) for r in conn.execute(query)]


def timeline(engine: Engine, invoice: str) -> dict[str, Any]:
    """Everything that happened to one invoice, with the rule behind each entry."""
    with engine.connect() as conn:
        head = conn.execute(_base().where(INV.c.external_id == invoice)).first()
        if head is None:
            raise NotFound(f"no invoice {invoice!r}")
        iid = conn.execute(select(INV.c.id).where(INV.c.external_id == invoice)).scalar_one()
        events = conn.execute(
            select(EVENT).where(EVENT.c.invoice_id == iid).order_by(EVENT.c.occurred_on, EVENT.c.id)
        ).all()
        ledger = conn.execute(
            select(LEDGER)
            .where(LEDGER.c.invoice_id == iid)
            .order_by(LEDGER.c.booked_on, LEDGER.c.id)
        ).all()
        messages = conn.execute(
            select(OUTBOX).where(OUTBOX.c.invoice_id == iid).order_by(OUTBOX.c.id)
        ).all()
    return {
        "invoice": invoice_row(head),
        "events": [
            {
                "date": e.occurred_on.isoformat(),
                "kind": e.kind,
                "from": e.state_from,
                "to": e.state_to,
                "message": e.message,
                "rule": e.rule,
                "actor": e.actor,
            }
            for e in events
        ],
        "ledger": [
            {
                "date": line.booked_on.isoformat(),
                "kind": line.kind,
                "amount": str(line.amount),
                "period": [line.period_from.isoformat(), line.period_to.isoformat()]
                if line.period_from
                else None,
                "provisional": bool(line.provisional),
                "rule": line.rule,
            }
            for line in ledger
        ],
        "messages": [
            {
                "channel": o.channel,
                "template": o.template,
                "status": o.status,
                "not_before": o.not_before.isoformat(),
                "sent_at": o.sent_at.isoformat() if o.sent_at else None,
                "rule": o.rule,
            }
            for o in messages
        ],
    }


def record_event(
    engine: Engine,
    invoice: str,
    kind: str,
    on: date,
    actor: str,
    now: Any,
    payload: dict[str, Any] | None = None,
) -> int:
    """Put an event for the engine into the inbox; the next run for `on` or later applies it."""
    from mahnwerk.dsl.ir import EventKind

    if kind not in LOG_ONLY_KINDS:
        EventKind(kind)  # refuse unknown kinds early
    with engine.begin() as conn:
        iid = conn.execute(select(INV.c.id).where(INV.c.external_id == invoice)).scalar()
        if iid is None:
            raise NotFound(f"no invoice {invoice!r}: import it first or check the number")
        return conn.execute(
            INBOX.insert().values(
                invoice_id=iid,
                kind=kind,
                occurred_on=on,
                payload=json.dumps(payload or {}),
                recorded_at=now,
                actor=actor,
            )
        ).inserted_primary_key[0]


#: Events that concern a person, not one invoice: they reach every open invoice of the customer.
CUSTOMER_EVENTS = {"insolvency": "insolvent_since", "death_notice": "deceased_since"}


def record_customer_event(
    engine: Engine,
    customer: str,
    kind: str,
    on: date,
    actor: str,
    now: Any,
    payload: dict[str, Any] | None = None,
) -> list[str]:
    """Insolvency or death of a customer: mark the customer and tell each affected invoice.

    C5 (§§ 87, 89 InsO): the opening of insolvency proceedings stops every claim that arose
    before it — invoices issued on or before `on`; claims arising after the opening are
    kept apart and dunned normally (they are debts of the estate, not insolvency claims).
    C6: a death notice pauses every open invoice of the customer.  Returns the invoices
    told.  One transaction: all of them or none.
    """
    column = CUSTOMER_EVENTS.get(kind)
    if column is None:
        raise ValueError(f"{kind!r} is not a customer event; use one of {sorted(CUSTOMER_EVENTS)}")
    with engine.begin() as conn:
        cid = conn.execute(select(CUST.c.id).where(CUST.c.external_id == customer)).scalar()
        if cid is None:
            raise NotFound(f"no customer {customer!r}: import it first or check the number")
        conn.execute(CUST.update().where(CUST.c.id == cid).values({column: on}))
        query = select(INV.c.id, INV.c.external_id).where(
            INV.c.customer_id == cid, INV.c.closed_on.is_(None)
        )
        if kind == "insolvency":
            query = query.where(INV.c.issue_date <= on)
        invoices = conn.execute(query.order_by(INV.c.id)).all()
        if invoices:
            conn.execute(
                INBOX.insert(),
                [
                    {
                        "invoice_id": iid,
                        "kind": kind,
                        "occurred_on": on,
                        "payload": json.dumps(payload or {}),
                        "recorded_at": now,
                        "actor": actor,
                    }
                    for iid, _ in invoices
                ],
            )
    return [ext for _, ext in invoices]
