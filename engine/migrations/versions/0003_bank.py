"""Schema for bank statements: imported entries and their matches.

`bank_entry` holds every imported statement line once (unique `entry_key`);
`bank_account` remembers which customer a payer's IBAN belongs to.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(14, 2)
AWARE = sa.DateTime(timezone=True)


def _one_of(column: str, *values: str) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "bank_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_key", sa.String(64), nullable=False),
        sa.Column("account", sa.String(), nullable=False),
        sa.Column("statement", sa.String(), nullable=False),
        sa.Column("entry_ref", sa.String(), nullable=True),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=True),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("direction", sa.String(1), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("counterparty_name", sa.String(), nullable=True),
        sa.Column("counterparty_iban", sa.String(), nullable=True),
        sa.Column("end_to_end_id", sa.String(), nullable=True),
        sa.Column("remittance", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("bank_code", sa.String(), nullable=True),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("matched_by", sa.String(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("imported_at", AWARE, nullable=False),
        sa.Column("decided_by", sa.String(), nullable=True),
        sa.Column("decided_at", AWARE, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_bank_entry"),
        sa.UniqueConstraint("entry_key", name="uq_bank_entry_entry_key"),
        sa.CheckConstraint(
            _one_of("kind", "credit", "debit", "return", "reversal"), name="ck_bank_entry_kind"
        ),
        sa.CheckConstraint(
            _one_of("status", "matched", "assigned", "unmatched", "review", "dismissed", "other"),
            name="ck_bank_entry_status",
        ),
        sa.CheckConstraint(_one_of("direction", "C", "D"), name="ck_bank_entry_direction"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name="fk_bank_entry_customer_id_customer"
        ),
    )
    op.create_index("ix_bank_entry_status", "bank_entry", ["status"])

    op.create_table(
        "bank_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("iban", sa.String(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("learned_from", sa.String(), nullable=False),
        sa.Column("created_at", AWARE, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_bank_account"),
        sa.UniqueConstraint("iban", name="uq_bank_account_iban"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name="fk_bank_account_customer_id_customer"
        ),
    )
    op.create_index("ix_bank_account_customer_id", "bank_account", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_bank_account_customer_id", table_name="bank_account")
    op.drop_table("bank_account")
    op.drop_index("ix_bank_entry_status", table_name="bank_entry")
    op.drop_table("bank_entry")
