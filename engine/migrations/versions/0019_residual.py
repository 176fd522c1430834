"""Residual cents (issue 11): what payments paid on costs and interest.

`dunning_state.add_ons_paid`: the part of the payments that § 367 BGB put on costs (fees,
lump sum) and interest.  The invoice's amount is paid once the open principal is no more
than that, and what is still open is then interest and fees in money, however § 367 labels
the last cents: a residual the policy's tolerance may write off (engine/residual.py).
Filled from the ledger: what was charged on top of the invoice less what is still open.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

MONEY = sa.Numeric(14, 2)

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dunning_state") as batch:
        batch.add_column(
            sa.Column("add_ons_paid", MONEY, server_default=sa.text("0"), nullable=False)
        )
    op.execute(
        "UPDATE dunning_state SET add_ons_paid = COALESCE((SELECT SUM(ledger.amount) "
        "FROM ledger WHERE ledger.invoice_id = dunning_state.invoice_id "
        "AND ledger.kind IN ('fee', 'lump_sum', 'interest')), 0) - fees_open - interest_open "
        "WHERE state NOT IN ('paid', 'written_off')"
    )


def downgrade() -> None:
    with op.batch_alter_table("dunning_state") as batch:
        batch.drop_column("add_ons_paid")
