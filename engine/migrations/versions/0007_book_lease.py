"""Issue 12: one writer at a time, intake by flag, bank entries keyed without the statement.

* `book_lease` — the lease a run or an import holds while it writes the book, so two runs
  on one SQLite file (or a run and an import) cannot book the same day twice;
* `invoice.intake_pending` with a partial index — intake takes up every invoice that has no
  dunning record yet, whatever order the invoices were committed in (ids are handed out
  before commit, so `id > max(seen)` missed an invoice that committed late);
* `bank_entry.entry_key` recomputed: the key no longer contains the statement number, so
  the same booking brought by an overlapping statement is recognised.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AWARE = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "book_lease",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("token", sa.String(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(), nullable=False),
        sa.Column("acquired_at", AWARE, nullable=False),
        sa.Column("heartbeat_at", AWARE, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_book_lease"),
    )
    # A plain ADD COLUMN, not a batch (table copy): on SQLite the copy would drop `invoice`,
    # which dunning records, payments and the outbox point at.
    op.add_column(
        "invoice",
        sa.Column("intake_pending", sa.Boolean(), nullable=False, server_default=sa.text("true")),
    )
    op.execute(
        "UPDATE invoice SET intake_pending = false "
        "WHERE id IN (SELECT invoice_id FROM dunning_state)"
    )
    op.create_index(
        "ix_invoice_intake_pending",
        "invoice",
        ["id"],
        sqlite_where=sa.text("intake_pending = 1"),
        postgresql_where=sa.text("intake_pending"),
    )
    _rekey_bank_entries()


def _rekey_bank_entries() -> None:
    """Give stored bank entries the new key (same identity, ranked in import order)."""
    from mahnwerk.engine.bank.entries import BankEntry

    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT id, account, booked_on, value_date, direction, amount, end_to_end_id, "
            "remittance, entry_ref FROM bank_entry ORDER BY id"
        )
    ).all()
    seen: dict[tuple[str, ...], int] = {}
    for r in rows:
        entry = BankEntry(
            account=r.account,
            statement="",
            booked_on=_day(r.booked_on),
            value_date=_day(r.value_date) if r.value_date else None,
            amount=Decimal(str(r.amount)).quantize(Decimal("0.01")),
            currency="EUR",
            direction=r.direction,
            kind="credit",
            remittance=r.remittance or "",
            end_to_end_id=r.end_to_end_id or "",
            entry_ref=r.entry_ref or "",
        )
        rank = seen.get(entry.identity, 0)
        seen[entry.identity] = rank + 1
        # A booking stored twice under the old keys (the double booking this fixes) keeps
        # both rows, ranked 0 and 1: what was booked is for a person to correct, not a
        # migration.
        conn.execute(
            sa.text("UPDATE bank_entry SET entry_key = :k WHERE id = :id"),
            {"k": replace(entry, occurrence=rank).key, "id": r.id},
        )


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def downgrade() -> None:
    op.drop_index("ix_invoice_intake_pending", table_name="invoice")
    with op.batch_alter_table("invoice") as batch:
        batch.drop_column("intake_pending")
    op.drop_table("book_lease")
