"""Reading and folding the book summary (tables: engine/summary_tables.py, triggers: 0020).

`totals(conn)` is what the dashboard reads: invoices and open balance per segment, state
and due date — the folded summary plus the deltas appended since, so it is right at any
moment, not only right after a run.  `fold(conn)` moves the deltas into the summary; the
run calls it when it has finished, so the deltas stay few and the read stays cheap
(about as many rows as there are segment × state × due-date combinations, not invoices).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, text

from mahnwerk.engine.summary_tables import NEW_SEGMENT, NEW_STATE

_SUMS = (
    "SELECT segment, state, due_date, sum(invoices) AS n, sum(balance_cents) AS c FROM ("
    " SELECT segment, state, due_date, invoices, balance_cents FROM book_summary"
    " UNION ALL"
    " SELECT segment, state, due_date, invoices, balance_cents FROM book_summary_delta"
    ") x GROUP BY segment, state, due_date"
)


@dataclass(frozen=True)
class Total:
    """Invoices and their open balance in one (segment, state, due date)."""

    segment: str
    state: str
    due_date: date
    invoices: int
    balance: Decimal

    @property
    def is_new(self) -> bool:
        """Not taken up by a run yet (no dunning record, not closed)."""
        return self.segment == NEW_SEGMENT and self.state == NEW_STATE


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def totals(conn: Connection) -> list[Total]:
    """Every non-empty (segment, state, due date) with its invoices and open balance."""
    return [
        Total(seg, state, _day(due), int(n), Decimal(int(c)).scaleb(-2))
        for seg, state, due, n, c in conn.execute(text(_SUMS))
        if n or c
    ]


_FOLD_SQLITE = (
    "INSERT INTO book_summary (segment, state, due_date, invoices, balance_cents) "
    "SELECT segment, state, due_date, sum(invoices), sum(balance_cents) "
    "FROM book_summary_delta WHERE id <= :last GROUP BY segment, state, due_date "
    "ON CONFLICT (segment, state, due_date) DO UPDATE SET "
    "invoices = book_summary.invoices + excluded.invoices, "
    "balance_cents = book_summary.balance_cents + excluded.balance_cents"
)
# One statement on PostgreSQL: exactly the rows it deletes are added, whatever other
# transactions append meanwhile; keys in order, so two folds never deadlock.
_FOLD_POSTGRES = (
    "WITH moved AS (DELETE FROM book_summary_delta RETURNING segment, state, due_date, "
    "invoices, balance_cents) "
    "INSERT INTO book_summary (segment, state, due_date, invoices, balance_cents) "
    "SELECT segment, state, due_date, sum(invoices), sum(balance_cents) FROM moved "
    "GROUP BY segment, state, due_date ORDER BY segment, state, due_date "
    "ON CONFLICT (segment, state, due_date) DO UPDATE SET "
    "invoices = book_summary.invoices + excluded.invoices, "
    "balance_cents = book_summary.balance_cents + excluded.balance_cents"
)
_DROP_EMPTY = "DELETE FROM book_summary WHERE invoices = 0 AND balance_cents = 0"


def fold(conn: Connection) -> None:
    """Move the deltas into the summary (in the caller's transaction)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(_FOLD_POSTGRES))
    else:  # SQLite: one writer at a time, so the two statements see the same deltas
        last = conn.execute(text("SELECT max(id) FROM book_summary_delta")).scalar()
        if last is None:
            return
        conn.execute(text(_FOLD_SQLITE), {"last": last})
        conn.execute(text("DELETE FROM book_summary_delta WHERE id <= :last"), {"last": last})
    conn.execute(text(_DROP_EMPTY))


def fold_now(engine: Engine) -> None:
    """`fold` in a transaction of its own (after a run, after a bulk load)."""
    with engine.begin() as conn:
        fold(conn)
