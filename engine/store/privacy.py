"""What GDPR access and erasure read and write (`engine/privacy*`): a customer's rows
in every table, found by customer id or by one of their invoices.

Part of the store layer (`engine/store/`).  The rules — when erasure is refused, which
fields go, what replaces them, the retention period — stay in `engine/privacy`,
`privacy_scope`, `privacy_scrub` and `privacy_rules`; these functions take and return
plain values and rows, and work in the connection (and transaction) they are given, so
an erasure stays one transaction with the customer's row locked on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    String,
    Table,
    delete,
    false,
    func,
    insert,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import SQLModel

from mahnwerk.engine.models import (
    APPROVAL,
    CUST,
    DECISION,
    DS,
    EVENT,
    INBOX,
    INV,
    LEDGER,
    OUTBOX,
    PAY,
)
from mahnwerk.engine.privacy_rules import _KNOWN_TABLES, _SETTLED_STATES, Bind


@contextmanager
def connection(bind: Bind, write: bool) -> Iterator[Connection]:
    """One connection and transaction: our own for an Engine, the caller's otherwise."""
    if isinstance(bind, Engine):
        if write:
            with bind.begin() as conn:
                yield conn
        else:
            with bind.connect() as conn:
                yield conn
    elif isinstance(bind, Session):
        bind.flush()
        yield bind.connection()
    else:
        yield bind


def customer_row(conn: Connection, external_id: str, lock: bool = False) -> Any:
    """The customer's row or None; with `lock` on PostgreSQL held `FOR UPDATE` until the
    transaction ends, so two erasures of one customer do not interleave."""
    query = select(CUST).where(CUST.c.external_id == external_id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query).first()


@dataclass(frozen=True)
class Scope:
    """The customer's id and their invoices' ids: what links a row to the person."""

    customer_id: int
    numbers: dict[int, str]

    @classmethod
    def load(cls, conn: Connection, customer_id: int) -> Scope:
        rows = conn.execute(
            select(INV.c.id, INV.c.external_id).where(INV.c.customer_id == customer_id)
        )
        return cls(customer_id, {r.id: r.external_id for r in rows})

    def of(self, table: Table) -> ColumnElement[bool]:
        """Rows of `table` about this customer, by customer id or by one of the invoices."""
        parts = []
        if "customer_id" in table.c:
            parts.append(table.c.customer_id == self.customer_id)
        if "invoice_id" in table.c and self.numbers:
            parts.append(table.c.invoice_id.in_(list(self.numbers)))
        return or_(*parts) if parts else false()


def other_tables(conn: Connection, scope: Scope) -> list[tuple[Table, ColumnElement[bool]]]:
    """Tables declared beside the core ones that hold a customer or invoice id."""
    existing = set(_table_names(conn))
    out = []
    for table in SQLModel.metadata.sorted_tables:
        if table.name in _KNOWN_TABLES or table.name not in existing:
            continue
        if "customer_id" in table.c or "invoice_id" in table.c:
            out.append((table, scope.of(table)))
    return out


def _table_names(conn: Connection) -> list[str]:
    return inspect(conn).get_table_names()


def open_invoices(conn: Connection, scope: Scope) -> list[Any]:
    """The customer's invoices not closed and not settled (`external_id`, `state`, the
    state None for an invoice no run has seen): the claims erasure must wait for."""
    query = (
        select(INV.c.external_id, DS.c.state)
        .outerjoin(DS, DS.c.invoice_id == INV.c.id)
        .where(
            INV.c.customer_id == scope.customer_id,
            INV.c.closed_on.is_(None),
            or_(DS.c.state.is_(None), DS.c.state.not_in(_SETTLED_STATES)),
        )
        .order_by(INV.c.id)
    )
    return list(conn.execute(query))


def unapplied_payments(conn: Connection, scope: Scope) -> list[str]:
    """The numbers of the customer's payments no run has applied yet."""
    return [
        r.external_id
        for r in conn.execute(
            select(PAY.c.external_id).where(scope.of(PAY), PAY.c.applied.is_(False))
        )
    ]


def messages_sending(conn: Connection, scope: Scope) -> int:
    """How many of the customer's messages are being sent right now."""
    return conn.execute(
        select(func.count())
        .select_from(OUTBOX)
        .where(scope.of(OUTBOX), OUTBOX.c.status == "sending")
    ).scalar_one()


def booking_days(conn: Connection, scope: Scope) -> list[Any]:
    """The latest issue day, payment day and (with invoices) ledger day, each as the
    driver returns it (None where nothing is booked, a string on SQLite): the rule
    picks the last booking among them."""
    days = [
        conn.execute(
            select(func.max(INV.c.issue_date)).where(INV.c.customer_id == scope.customer_id)
        ).scalar(),
        conn.execute(select(func.max(PAY.c.booked_on)).where(scope.of(PAY))).scalar(),
    ]
    if scope.numbers:
        days.append(
            conn.execute(
                select(func.max(LEDGER.c.booked_on)).where(
                    LEDGER.c.invoice_id.in_(list(scope.numbers))
                )
            ).scalar()
        )
    return days


# ---------------------------------------------------------------------------
# Access: everything stored about the customer
# ---------------------------------------------------------------------------


def _rows(conn: Connection, table: Table, where: ColumnElement[bool], *order: Any) -> list[Any]:
    if not order and "id" in table.c:
        order = (table.c.id,)
    query = select(table).where(where).order_by(*order)
    return [r._mapping for r in conn.execute(query)]


def customer_tables(conn: Connection, scope: Scope) -> dict[str, Any]:
    """Every row about the customer, as mappings of all their columns: `dunning_states`
    (by invoice id), `invoices`, `approvals`, `approval_decisions`, `ledger`, `payments`,
    `events`, `outbox`, `inbox`, and `other` (by table name) for tables added later that
    link to the customer or their invoices; each in id order (ledger and payments by
    booking day, events by day, other tables by primary key)."""
    states = {r.invoice_id: r._mapping for r in conn.execute(select(DS).where(scope.of(DS)))}
    invoices = [
        r._mapping
        for r in conn.execute(
            select(INV).where(INV.c.customer_id == scope.customer_id).order_by(INV.c.id)
        )
    ]
    approvals = _rows(conn, APPROVAL, scope.of(APPROVAL))
    approval_ids = [a["id"] for a in approvals]
    decisions = (
        _rows(conn, DECISION, DECISION.c.approval_id.in_(approval_ids)) if approval_ids else []
    )
    other = {
        table.name: _rows(conn, table, where, *table.primary_key.columns)
        for table, where in other_tables(conn, scope)
    }
    return {
        "dunning_states": states,
        "invoices": invoices,
        "approvals": approvals,
        "approval_decisions": decisions,
        "other": other,
        "ledger": _rows(conn, LEDGER, scope.of(LEDGER), LEDGER.c.booked_on, LEDGER.c.id),
        "payments": _rows(conn, PAY, scope.of(PAY), PAY.c.booked_on, PAY.c.id),
        "events": _rows(conn, EVENT, scope.of(EVENT), EVENT.c.occurred_on, EVENT.c.id),
        "outbox": _rows(conn, OUTBOX, scope.of(OUTBOX)),
        "inbox": _rows(conn, INBOX, scope.of(INBOX)),
    }


def latest_erasure(conn: Connection, customer_id: int, kinds: list[str]) -> Any:
    """The customer's latest log entry of `kinds` (the erasure events: `kind`,
    `occurred_on`, `actor`), or None."""
    return conn.execute(
        select(EVENT.c.kind, EVENT.c.occurred_on, EVENT.c.actor)
        .where(EVENT.c.customer_id == customer_id, EVENT.c.kind.in_(kinds))
        .order_by(EVENT.c.id.desc())
        .limit(1)
    ).first()


# ---------------------------------------------------------------------------
# Erasure: what changes, in the caller's transaction
# ---------------------------------------------------------------------------


def update_customer(conn: Connection, customer_id: int, changes: dict[str, Any]) -> None:
    """The customer's fields set to `changes`."""
    conn.execute(update(CUST).where(CUST.c.id == customer_id).values(**changes))


def add_event(conn: Connection, **values: Any) -> int:
    """One entry in the event log (append-only), the columns as given; its id."""
    return conn.execute(insert(EVENT).values(**values)).inserted_primary_key[0]


def drop_rows(conn: Connection, scope: Scope, tables: tuple[str, ...]) -> dict[str, int]:
    """Deletes the customer's rows in those of `tables` that exist; how many per table
    (tables without any left out)."""
    counts = {}
    for table, where in other_tables(conn, scope):
        if table.name in tables:
            deleted = conn.execute(delete(table).where(where)).rowcount or 0
            if deleted:
                counts[table.name] = deleted
    return counts


def ibans(conn: Connection, scope: Scope) -> set[str]:
    """The customer's IBANs as other tables hold them (`iban`, `*_iban` columns)."""
    found: set[str] = set()
    for table, where in other_tables(conn, scope):
        for column in (c for c in table.columns if c.name == "iban" or c.name.endswith("_iban")):
            found.update(v for (v,) in conn.execute(select(column).where(where)) if v)
    return found


def clear_payment_references(conn: Connection, scope: Scope) -> int:
    """The bank references of the customer's payments cleared; how many."""
    res = conn.execute(
        update(PAY).where(scope.of(PAY), PAY.c.reference.is_not(None)).values(reference=None)
    )
    return res.rowcount


def _free_text_columns(table: Table) -> list[str]:
    """Text columns of a table added later that are neither keys nor constrained."""
    unique = {c.name for con in table.constraints for c in getattr(con, "columns", ())}
    return [
        c.name
        for c in table.columns
        if isinstance(c.type, String) and c.name not in unique and not c.foreign_keys
    ]


def _text_targets(conn: Connection, scope: Scope) -> list[tuple[Table, Any, list[str]]]:
    """The customer's mutable rows that hold free text, and its columns."""
    targets: list[tuple[Table, Any, list[str]]] = [
        (OUTBOX, scope.of(OUTBOX), ["payload", "last_error"]),
        (INBOX, scope.of(INBOX), ["payload"]),
        (APPROVAL, scope.of(APPROVAL), ["summary"]),
        (DS, scope.of(DS), ["pause_reason"]),
        (
            DECISION,
            DECISION.c.approval_id.in_(select(APPROVAL.c.id).where(scope.of(APPROVAL))),
            ["comment"],
        ),
    ]
    return targets + [(t, where, _free_text_columns(t)) for t, where in other_tables(conn, scope)]


def free_text(conn: Connection, scope: Scope) -> Iterator[tuple[Table, Any, dict[str, Any]]]:
    """The free text of the customer's mutable rows (outbox payloads and errors, inbox
    payloads, approval summaries and comments, pause reasons, text columns of tables
    added later), one row at a time: (table, the row's key, its text by column).  Rows
    of a table without a primary key are left out (they cannot be addressed one by one).
    The row's key is what `set_text` takes; the cursor stays open while it writes."""
    for table, where, columns in _text_targets(conn, scope):
        if not columns:
            continue
        keys = list(table.primary_key.columns)
        if not keys:
            continue
        for row in conn.execute(select(*keys, *(table.c[c] for c in columns)).where(where)):
            key = tuple(k == row._mapping[k.name] for k in keys)
            yield table, key, {c: row._mapping[c] for c in columns}


def set_text(conn: Connection, table: Table, key: Any, new: dict[str, Any]) -> None:
    """The row `key` (from `free_text`) of `table` gets the columns `new`."""
    conn.execute(update(table).where(*key).values(**new))


def cancel_unsent(conn: Connection, scope: Scope) -> int:
    """The customer's queued and failed messages cancelled; how many."""
    res = conn.execute(
        update(OUTBOX)
        .where(scope.of(OUTBOX), OUTBOX.c.status.in_(("queued", "failed")))
        .values(status="cancelled")
    )
    return res.rowcount or 0


def event_texts(conn: Connection, scope: Scope) -> list[Any]:
    """The customer's log entries (`id`, `message`, `payload`) in id order."""
    query = select(EVENT.c.id, EVENT.c.message, EVENT.c.payload).where(scope.of(EVENT))
    return list(conn.execute(query.order_by(EVENT.c.id)))
