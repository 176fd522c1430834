"""The dashboard's book summary (issue 21): invoices and open balance per segment, state and
due date, kept by the database itself.

The dashboard's figures — invoices and money per state, the aging buckets — are sums over
every open invoice; on 1,000,000 invoices those scans took 2.3 s.  The sums are kept
instead: triggers on `dunning_state` and `invoice` (migration 0020) append a delta row for
every change that moves an invoice between (segment, state, due date) or changes its open
balance, whoever writes it — the run, a decided approval, an import, a privacy erasure.
The run folds the deltas into `book_summary` when it ends (`engine.store.book_summary.fold`);
the dashboard reads the summary plus the deltas not folded yet, so it is right between
runs too.  Amounts are whole cents: SQLite stores money as REAL, and sums kept over months
of additions and subtractions must not drift.

Invoices without a `dunning_state` row (the "new" ones the run has not taken up, and not
closed) are counted under the state `new` with the segment '' (no policy chose one yet).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, String
from sqlmodel import Field, SQLModel

NEW_STATE = "new"
NEW_SEGMENT = ""


class BookSummary(SQLModel, table=True):
    """Folded sums: invoices and open balance (cents) per segment, state and due date."""

    __tablename__ = "book_summary"

    segment: str = Field(primary_key=True, sa_type=String)
    state: str = Field(primary_key=True, sa_type=String)
    due_date: date = Field(primary_key=True)
    invoices: int
    balance_cents: int = Field(sa_type=BigInteger)


class BookSummaryDelta(SQLModel, table=True):
    """Changes not folded yet, appended by the triggers (append-only: no writer waits)."""

    __tablename__ = "book_summary_delta"

    id: int | None = Field(default=None, primary_key=True)
    segment: str = Field(sa_type=String)
    state: str = Field(sa_type=String)
    due_date: date
    invoices: int
    balance_cents: int = Field(sa_type=BigInteger)


SUMMARY = BookSummary.__table__
SUMMARY_DELTA = BookSummaryDelta.__table__
