"""The promises that fall due, found by their date (issue 14: Today on a big book).

Today lists the promises whose date has come while their invoice is still paused.
The date is in the promise's payload (`promised_date`, written by `record_event`),
so until now every promise ever made was read and its payload parsed to find the
few due today.  This partial index on the promises' date lets Today walk back from
the as-of date and stop after the lines it shows (`worklist._promises`).  The kind
leads, so that SQLite prefers it to `ix_inbox_kind_invoice_id` even in a database
that was never ANALYZEd (two columns of the index constrained instead of one).  It
is an index on an expression of the payload, not a second copy of the date in a
column that could disagree with it.

The expression is each database's own JSON accessor; a query uses the index only
when it says the same words (`worklist.PROMISED_DATE`).  `models.py` declares the
PostgreSQL one (SQLite's cannot be reflected back, so autogenerate skips it there).

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXPRESSION = {
    "sqlite": "json_extract(payload, '$.promised_date')",
    "postgresql": "(payload::jsonb ->> 'promised_date')",
}


def upgrade() -> None:
    expression = EXPRESSION[op.get_bind().dialect.name]
    op.execute(
        f"CREATE INDEX ix_inbox_promised_date ON inbox (kind, {expression}, id) "
        "WHERE kind = 'promise_made'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_inbox_promised_date")
