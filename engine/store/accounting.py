"""What the books' exports read and write (`engine/accounting/`): the ledger lines a
DATEV batch takes and the batches recorded, a handed-over claim's case file, and the
customers an OPOS list may name.

Part of the store layer (`engine/store/`).  The DATEV export's reads and writes run on
the caller's connection, inside the one transaction that also moves the file into
place: a booking is recorded as exported (`datev_booking`) in the same transaction that
writes it out, so it goes to the books exactly once.  Which ledger kinds are exported,
and under which account and text, is `accounting/export`'s rule (`EXPORTED`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select

from mahnwerk.engine.models import (
    Customer,
    DatevBooking,
    DatevExport,
    DunningState,
    Event,
    Invoice,
    Ledger,
    Outbox,
)

LED = Ledger.__table__  # type: ignore[attr-defined]
INV = Invoice.__table__  # type: ignore[attr-defined]
CUST = Customer.__table__  # type: ignore[attr-defined]
DS = DunningState.__table__  # type: ignore[attr-defined]
EVENT = Event.__table__  # type: ignore[attr-defined]
OUT = Outbox.__table__  # type: ignore[attr-defined]
BATCH = DatevExport.__table__  # type: ignore[attr-defined]
DONE = DatevBooking.__table__  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------
# The DATEV export
# ---------------------------------------------------------------------------


def ledger_lines(
    conn: Connection, kinds: Iterable[str], period_from: date, period_to: date
) -> list[Any]:
    """The period's ledger lines of these kinds (not zero), each with its invoice's number
    (`invoice_no`) and currency, its customer's number (`cust`) and the batch that
    exported it before (`export_id`, None if none), by booking day."""
    query = (
        select(LED, INV.c.external_id.label("invoice_no"), INV.c.currency,
               CUST.c.external_id.label("cust"), DONE.c.export_id)
        .join(INV, INV.c.id == LED.c.invoice_id)
        .join(CUST, CUST.c.id == INV.c.customer_id)
        .outerjoin(DONE, DONE.c.ledger_id == LED.c.id)
        .where(LED.c.kind.in_(kinds), LED.c.booked_on.between(period_from, period_to),
               LED.c.amount != 0)
        .order_by(LED.c.booked_on, LED.c.id)
    )  # fmt: skip
    return conn.execute(query).all()


def record_batch(
    conn: Connection,
    *,
    now: datetime,
    period_from: date,
    period_to: date,
    file_name: str,
    bookings: int,
    total: Decimal,
    actor: str,
    ledger_ids: list[int],
) -> int:
    """Record a batch and the ledger lines it exports for the first time; its id.  A line
    recorded in an earlier batch must not be given again (`datev_booking` keys on it)."""
    batch_id = conn.execute(insert(BATCH).values(
        created_at=now, period_from=period_from, period_to=period_to,
        file_name=file_name, bookings=bookings, total=total, actor=actor,
    )).inserted_primary_key[0]  # fmt: skip
    new = [{"ledger_id": ledger_id, "export_id": batch_id} for ledger_id in ledger_ids]
    if new:
        conn.execute(insert(DONE), new)
    return batch_id


def batches(engine: Engine) -> tuple[list[Any], int]:
    """The batches written so far, oldest first, and how many bookings they exported."""
    with engine.connect() as conn:
        rows = conn.execute(select(BATCH).order_by(BATCH.c.id)).all()
        count = conn.execute(select(func.count()).select_from(DONE)).scalar()
    return rows, count


# ---------------------------------------------------------------------------
# The collection agency's case file
# ---------------------------------------------------------------------------


def handovers(conn: Connection, since: date | None) -> list[Any]:
    """Every `task_handover` event (on or after `since`): invoice id, day and message
    (the agency's name and the brief), oldest first."""
    query = (
        select(EVENT.c.invoice_id, EVENT.c.occurred_on, EVENT.c.message)
        .where(EVENT.c.kind == "task_handover")
        .order_by(EVENT.c.occurred_on, EVENT.c.id)
    )
    if since is not None:
        query = query.where(EVENT.c.occurred_on >= since)
    return conn.execute(query).all()


def claim_rows(
    conn: Connection, invoice_id: int, history: Iterable[str]
) -> tuple[Any, Any, Any, list[Any], list[Any], list[Any]]:
    """One claim as stored: its invoice, customer, dunning state (None if none), ledger
    lines by booking day, the messages sent for it in order, and its events of the
    `history` kinds (kind, day, actor, message) in order."""
    inv = conn.execute(select(INV).where(INV.c.id == invoice_id)).one()
    cust = conn.execute(select(CUST).where(CUST.c.id == inv.customer_id)).one()
    state = conn.execute(select(DS).where(DS.c.invoice_id == invoice_id)).first()
    ledger = conn.execute(
        select(LED).where(LED.c.invoice_id == invoice_id).order_by(LED.c.booked_on, LED.c.id)
    ).all()
    letters = conn.execute(
        select(OUT)
        .where(OUT.c.invoice_id == invoice_id, OUT.c.status == "sent")
        .order_by(OUT.c.sent_at, OUT.c.id)
    ).all()
    events = conn.execute(
        select(EVENT.c.kind, EVENT.c.occurred_on, EVENT.c.actor, EVENT.c.message)
        .where(EVENT.c.invoice_id == invoice_id, EVENT.c.kind.in_(history))
        .order_by(EVENT.c.occurred_on, EVENT.c.id)
    ).all()
    return inv, cust, state, ledger, letters, events


# ---------------------------------------------------------------------------
# The OPOS import
# ---------------------------------------------------------------------------


def customer_types(conn: Connection) -> dict[str, str]:
    """Every customer's type (B2B, B2C) by its number: a stored customer keeps its own."""
    return dict(conn.execute(select(Customer.external_id, Customer.type)).all())
