"""Finding a customer's rows for access and erasure: the connection, the customer,
the scope of their invoices and linked rows in every table, the claims still
pursued that refuse erasure, and the last booking that starts retention.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    false,
    func,
    inspect,
    or_,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import SQLModel

from mahnwerk.engine.models import (
    CUST,
    DS,
    INV,
    LEDGER,
    OUTBOX,
    PAY,
)
from mahnwerk.engine.privacy_rules import (
    _KNOWN_TABLES,
    _SETTLED_STATES,
    Bind,
    CustomerNotFound,
    ErasureRefused,
)


@contextmanager
def _connection(bind: Bind, write: bool) -> Iterator[Connection]:
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


def _customer(conn: Connection, external_id: str, lock: bool = False) -> Any:
    query = select(CUST).where(CUST.c.external_id == external_id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise CustomerNotFound(
            f"no customer {external_id!r}: use the customer number (customer_id) of the import; "
            "`mahnwerk invoices` shows each invoice's customer"
        )
    return row


@dataclass(frozen=True)
class _Scope:
    """The customer's id and their invoices' ids: what links a row to the person."""

    customer_id: int
    numbers: dict[int, str]

    @classmethod
    def load(cls, conn: Connection, customer_id: int) -> _Scope:
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


def _other_tables(conn: Connection, scope: _Scope) -> list[tuple[Table, ColumnElement[bool]]]:
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


def _refuse_open_claims(conn: Connection, scope: _Scope, external_id: str) -> None:
    """Art. 17(3)(e): a claim still pursued keeps the data needed to pursue it."""
    problems: list[str] = []
    if scope.numbers:
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
        open_ = [f"{r.external_id} ({r.state or 'new'})" for r in conn.execute(query)]
        if open_:
            problems.append(
                f"{len(open_)} open invoice(s): {_first(open_)} — a claim still pursued is a "
                "legitimate interest (GDPR Art. 17(3)(e)); erase once they are paid or "
                "written off"
            )
    unapplied = [
        r.external_id
        for r in conn.execute(
            select(PAY.c.external_id).where(scope.of(PAY), PAY.c.applied.is_(False))
        )
    ]
    if unapplied:
        problems.append(
            f"{len(unapplied)} payment(s) not yet applied: {_first(unapplied)} — "
            "match them and run the engine first"
        )
    sending = conn.execute(
        select(func.count())
        .select_from(OUTBOX)
        .where(scope.of(OUTBOX), OUTBOX.c.status == "sending")
    ).scalar_one()
    if sending:
        problems.append(f"{sending} message(s) are being sent right now — try again later")
    if problems:
        raise ErasureRefused(
            f"erasure of customer {external_id!r} refused, nothing changed:\n  "
            + "\n  ".join(problems)
        )


def _first(items: list[str], limit: int = 10) -> str:
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _last_booking(conn: Connection, scope: _Scope) -> date | None:
    """The latest day anything was booked for the customer: invoice, ledger line, payment."""
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
    found = [_as_date(d) for d in days if d is not None]
    return max(found) if found else None


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
