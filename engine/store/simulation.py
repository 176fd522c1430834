"""What `mahnwerk simulate` reads of the book (`engine/simulate`, `simulate_routing`):
the invoices with their customers, payments and entered events, either all of them (a
replay of the past) or the open ones with their stored records (a replay forward).

Part of the store layer (`engine/store/`).  Read only; turning the rows into the
step's values and events stays with the simulation.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Engine, select

from mahnwerk.dsl import ir
from mahnwerk.engine.models import DS, INBOX, INV, PAY
from mahnwerk.engine.store.invoices import LOG_ONLY_KINDS
from mahnwerk.engine.store.records import customer_select, customer_value


def past_book(engine: Engine) -> tuple[dict[int, Any], list[Any], dict, list[Any]]:
    """Every customer (as the step's value, by id); every invoice with its dunning state;
    each invoice's payments, oldest first; the entered events the step reads (notes
    left out), oldest first."""
    with engine.connect() as conn:
        customers = {row.id: customer_value(row) for row in conn.execute(customer_select())}
        invoices = conn.execute(
            select(INV, DS.c.state).outerjoin(DS, DS.c.invoice_id == INV.c.id).order_by(INV.c.id)
        ).all()
        payments: dict[int, list[Any]] = defaultdict(list)
        for row in conn.execute(
            select(PAY.c.invoice_id, PAY.c.booked_on, PAY.c.amount, PAY.c.external_id)
            .where(PAY.c.invoice_id.is_not(None))
            .order_by(PAY.c.booked_on, PAY.c.id)
        ):
            payments[row.invoice_id].append(row)
        notes_left_out = INBOX.c.kind.not_in(LOG_ONLY_KINDS)  # nothing for the step
        inbox = conn.execute(
            select(INBOX).where(notes_left_out).order_by(INBOX.c.occurred_on, INBOX.c.id)
        ).all()
    return customers, invoices, payments, inbox


def open_book(engine: Engine) -> tuple[dict[int, Any], list[Any], list[Any], list[Any]]:
    """Every customer (as the step's value, by id); each open invoice with its dunning
    record (`inv_ext` its number); the payments not applied yet; the inbox entries no run
    has applied yet."""
    with engine.connect() as conn:
        customers = {row.id: customer_value(row) for row in conn.execute(customer_select())}
        rows = conn.execute(
            select(INV, DS, INV.c.external_id.label("inv_ext"))
            .join(DS, DS.c.invoice_id == INV.c.id)
            .where(DS.c.state.not_in(sorted(ir.TERMINAL_NAMES)))
            .order_by(INV.c.id)
        ).all()
        payments = conn.execute(select(PAY).where(PAY.c.applied.is_(False))).all()
        inbox = conn.execute(select(INBOX).where(INBOX.c.applied_run_id.is_(None))).all()
    return customers, rows, payments, inbox
