"""Schema for payment-behaviour facts per customer.

`customer_behaviour`: one row per customer, written by `mahnwerk analyse`
(the behaviour figures and the scorecard's reasons); the customer's own
`risk_score` and `avg_days_late` columns (0001) carry the two headline figures.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _count(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "customer_behaviour",
        sa.Column("customer_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        _count("invoices"),
        _count("paid"),
        sa.Column("median_days_late", sa.Numeric(8, 2), nullable=True),
        sa.Column("late_share", sa.Numeric(5, 4), nullable=True),
        sa.Column("trend_days", sa.Numeric(8, 2), nullable=True),
        _count("disputes"),
        _count("partial_payments"),
        _count("open_invoices"),
        sa.Column("open_amount", sa.Numeric(14, 2), server_default=sa.text("0"), nullable=False),
        _count("overdue_invoices"),
        _count("max_days_overdue"),
        sa.Column("last_invoice_on", sa.Date(), nullable=True),
        sa.Column("gone_quiet", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("risk_reasons", sa.Text(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name="fk_customer_behaviour_customer_id_customer"
        ),
        sa.PrimaryKeyConstraint("customer_id", name="pk_customer_behaviour"),
    )


def downgrade() -> None:
    op.drop_table("customer_behaviour")
