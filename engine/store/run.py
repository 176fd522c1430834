"""What the daily run reads and marks, batch by batch (`engine/runner.py`, `engine/workers.py`).

The run's loop — claim a batch, step it, write it, in one transaction under the book's
lease — stays in the runner; the statements it runs are here: the run's own row, the due
invoices claimed (locked and skipped by other workers on PostgreSQL), the invoices not yet
taken up, each batch's states, customers, payments and inbox events, and the marks that
they were applied.  A batch's ids go to PostgreSQL as one array parameter and to SQLite in
slices (`bulk.id_chunks`): a run costs what is due, not what is open.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    and_,
    any_,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from mahnwerk.dsl import ir
from mahnwerk.engine.models import BEHAVIOUR, CUST, DS, INBOX, INV, PAY, RUN
from mahnwerk.engine.state import Customer
from mahnwerk.engine.store import bulk
from mahnwerk.engine.store.records import BEHAVIOUR_FACTS, customer_values, record_select


def chunks(ids: Sequence[Any]) -> Iterable[Sequence[Any]]:
    """`ids` in slices of `bulk.CHUNK`, each small enough for one IN (...) clause, on every
    database (unlike `bulk.id_chunks`: a payment's reference tokens are no array)."""
    for i in range(0, len(ids), bulk.CHUNK):
        yield ids[i : i + bulk.CHUNK]


# The run's own row ------------------------------------------------------------------------


def open_run(conn: Connection, as_of: date, now: datetime, workers: int) -> int:
    """The run's row, "started": its id marks every log entry and inbox event it applies."""
    return conn.execute(
        insert(RUN).values(as_of=as_of, started_at=now, workers=workers)
    ).inserted_primary_key[0]


def finish_run(conn: Connection, run_id: int, now: datetime, stats: str) -> None:
    """The run's row, "finished", with its figures (JSON)."""
    conn.execute(update(RUN).where(RUN.c.id == run_id).values(finished_at=now, stats=stats))


# Which invoices are due, and who steps them ------------------------------------------------


def count_due(engine: Engine, as_of: date) -> int:
    """How many invoices are due on `as_of` (the progress bar's total)."""
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(DS).where(DS.c.next_check_on <= as_of)
        ).scalar_one()


def claim(conn: Connection, as_of: date, limit: int) -> list[int]:
    """The next batch of due invoices; locked and skipped by other workers on PostgreSQL."""
    query = (
        select(DS.c.invoice_id)
        .where(DS.c.next_check_on <= as_of)
        .order_by(DS.c.next_check_on, DS.c.invoice_id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(conn.execute(query).scalars())


def due_by_customer(conn: Connection, as_of: date) -> list[tuple[int, int]]:
    """(invoice, customer) of every due invoice, in the run's order: the workers' shares
    are cut from it, a customer's invoices all in one (D3)."""
    return [
        (invoice_id, customer_id)
        for invoice_id, customer_id in conn.execute(
            select(DS.c.invoice_id, INV.c.customer_id)
            .join(INV, INV.c.id == DS.c.invoice_id)
            .where(DS.c.next_check_on <= as_of)
            .order_by(DS.c.next_check_on, DS.c.invoice_id)
        )
    ]


def lock_due(conn: Connection, ids: list[int], as_of: date) -> list[int]:
    """Of `ids`, those still due, locked until the batch commits, in the run's order."""
    pg = conn.dialect.name == "postgresql"
    # PostgreSQL: the ids as one array parameter — an IN list of 2,000 parameters, rendered
    # and planned per batch, took four times as long (wall and client CPU, measured)
    ours = (
        DS.c.invoice_id == any_(bindparam("ids", ids, type_=ARRAY(Integer)))
        if pg
        else DS.c.invoice_id.in_(ids)
    )
    query = (
        select(DS.c.invoice_id)
        .where(ours, DS.c.next_check_on <= as_of)
        .order_by(DS.c.next_check_on, DS.c.invoice_id)
    )
    if pg:
        query = query.with_for_update()
    return list(conn.execute(query).scalars())


# Intake: invoices the engine has never seen, payments, events ------------------------------


def take_new_invoices(conn: Connection, batch: int) -> list[Any]:
    """The next invoices not yet taken up, with their customer's number, marked taken.

    Every invoice not yet taken up, whatever order it was committed in (an id is handed out
    at insert, so a later id can commit first: `id > max(seen)` missed the earlier one for
    good).  The partial index keeps this a look-up of the new."""
    rows = conn.execute(
        select(INV, CUST.c.external_id.label("customer_ext"))
        .join(CUST, CUST.c.id == INV.c.customer_id)
        .where(INV.c.intake_pending == True, INV.c.closed_on.is_(None))  # noqa: E712
        .order_by(INV.c.id)
        .limit(batch)
    ).all()
    for chunk in chunks([r.id for r in rows]):
        conn.execute(update(INV).where(INV.c.id.in_(chunk)).values(intake_pending=False))
    return rows


def unassigned_payments(conn: Connection, as_of: date) -> list[Any]:
    """(id, reference, customer) of each payment booked by `as_of` that names no invoice."""
    return conn.execute(
        select(PAY.c.id, PAY.c.reference, PAY.c.customer_id).where(
            PAY.c.applied.is_(False), PAY.c.invoice_id.is_(None), PAY.c.booked_on <= as_of
        )
    ).all()


def invoices_numbered(conn: Connection, numbers: Sequence[str], customer_id: int | None) -> list:
    """(id, customer) of the invoices whose number is one of `numbers` (of that customer)."""
    query = select(INV.c.id, INV.c.customer_id).where(INV.c.external_id.in_(numbers))
    if customer_id is not None:
        query = query.where(INV.c.customer_id == customer_id)
    return conn.execute(query).all()


def assign_payment(conn: Connection, payment_id: int, invoice_id: int, customer_id: int) -> None:
    """The payment belongs to this invoice (and its customer) from now on."""
    conn.execute(
        update(PAY)
        .where(PAY.c.id == payment_id)
        .values(invoice_id=invoice_id, customer_id=customer_id)
    )


def wake_pending(conn: Connection, as_of: date) -> None:
    """Make every invoice with a new payment or inbox event due today."""
    pay_ids = select(PAY.c.invoice_id).where(
        PAY.c.applied.is_(False), PAY.c.invoice_id.is_not(None), PAY.c.booked_on <= as_of
    )
    inbox_ids = select(INBOX.c.invoice_id).where(
        INBOX.c.applied_run_id.is_(None), INBOX.c.occurred_on <= as_of
    )
    for ids in (pay_ids, inbox_ids):
        conn.execute(
            update(DS)
            .where(DS.c.invoice_id.in_(ids))
            .where((DS.c.next_check_on.is_(None)) | (DS.c.next_check_on > as_of))
            .where(DS.c.state.not_in(tuple(ir.TERMINAL_NAMES)))
            .values(next_check_on=as_of)
        )


# A batch: what the step reads, and the marks after it --------------------------------------


def customers(conn: Connection, ids: Iterable[int]) -> dict[int, Customer]:
    """The customers with the behaviour facts a policy reads as `customer.*`, by id."""
    out: dict[int, Customer] = {}
    ids = sorted(ids)
    for chunk in bulk.id_chunks(conn, ids):
        rows = conn.execute(
            select(CUST, *BEHAVIOUR_FACTS)
            .outerjoin(
                BEHAVIOUR,
                and_(
                    BEHAVIOUR.c.customer_id == CUST.c.id,
                    *bulk.also(conn, BEHAVIOUR.c.customer_id, chunk),
                ),
            )
            .where(bulk.among(conn, CUST.c.id, chunk))
        ).all()
        out.update(zip((row.id for row in rows), customer_values(rows), strict=True))
    return out


def state_rows(conn: Connection, ids: list[int]) -> dict[int, Any]:
    """Each invoice's dunning state with the invoice columns the step reads."""
    rows: dict[int, Any] = {}
    for chunk in bulk.id_chunks(conn, ids):
        for row in conn.execute(
            record_select().where(
                bulk.among(conn, DS.c.invoice_id, chunk), *bulk.also(conn, INV.c.id, chunk)
            )
        ):
            rows[row.invoice_id] = row
    return rows


def pending_rows(conn: Connection, ids: list[int], as_of: date) -> tuple[list[Any], list[Any]]:
    """The payments and the inbox events (in the order they happened) not yet applied to
    these invoices by `as_of`: what the step is to hear of."""
    payments: list[Any] = []
    inbox: list[Any] = []
    for chunk in bulk.id_chunks(conn, ids):
        payments += conn.execute(
            select(PAY).where(
                bulk.among(conn, PAY.c.invoice_id, chunk),
                PAY.c.applied.is_(False),
                PAY.c.booked_on <= as_of,
            )
        ).all()
        inbox += conn.execute(
            select(INBOX)
            .where(
                bulk.among(conn, INBOX.c.invoice_id, chunk),
                INBOX.c.applied_run_id.is_(None),
                INBOX.c.occurred_on <= as_of,
            )
            .order_by(INBOX.c.occurred_on, INBOX.c.id)
        ).all()
    return payments, inbox


def mark_applied(conn: Connection, ids: list[int], as_of: date, run_id: int) -> Counter:
    """The batch's payments and inbox events are applied (by this run); how many of each."""
    applied: Counter = Counter()
    for chunk in bulk.id_chunks(conn, ids):
        res = conn.execute(
            update(PAY)
            .where(
                bulk.among(conn, PAY.c.invoice_id, chunk),
                PAY.c.applied.is_(False),
                PAY.c.booked_on <= as_of,
            )
            .values(applied=True)
        )
        applied["payments"] += res.rowcount or 0
        res = conn.execute(
            update(INBOX)
            .where(
                bulk.among(conn, INBOX.c.invoice_id, chunk),
                INBOX.c.applied_run_id.is_(None),
                INBOX.c.occurred_on <= as_of,
            )
            .values(applied_run_id=run_id)
        )
        applied["events"] += res.rowcount or 0
    return applied
