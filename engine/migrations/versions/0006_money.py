"""Schema for interest without drift and the kind of claim (issue 11).

* A6 — `dunning_state.interest_run_from`: the first day of the current run of one open
  principal at one surcharge.  Interest is the sum of per-period lines (one base rate, one
  principal), each rounded once; a booking is that sum minus what the run has already
  booked, so the engine needs to know where the run began.  NULL (rows from before this
  revision) starts a run with the next booking.
* A4 — `invoice.claim_kind`: `goods_services` (payment for goods or services, § 288 Abs. 2
  BGB: + 9 points between businesses, and the 40 EUR lump sum of Abs. 5) or `other` (every
  other money debt: + 5 points, no lump sum).  NULL reads as `goods_services`, what every
  invoice imported before this revision was treated as.
* D10 — `dunning_state.fees_charged_sum`: the policy's own fees charged so far (EUR), paid
  or not; the 30 % share counts these (a payment that settles a fee does not make room for
  more), never interest or the statutory lump sum.  Filled from the ledger's `fee` lines.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

MONEY = sa.Numeric(14, 2)

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dunning_state") as batch:
        batch.add_column(sa.Column("interest_run_from", sa.Date(), nullable=True))
        batch.add_column(
            sa.Column("fees_charged_sum", MONEY, server_default=sa.text("0"), nullable=False)
        )
    with op.batch_alter_table("invoice") as batch:
        batch.add_column(sa.Column("claim_kind", sa.String(), nullable=True))
    op.execute(
        "UPDATE dunning_state SET fees_charged_sum = COALESCE((SELECT SUM(ledger.amount) "
        "FROM ledger WHERE ledger.invoice_id = dunning_state.invoice_id "
        "AND ledger.kind = 'fee'), 0)"
    )


def downgrade() -> None:
    with op.batch_alter_table("invoice") as batch:
        batch.drop_column("claim_kind")
    with op.batch_alter_table("dunning_state") as batch:
        batch.drop_column("fees_charged_sum")
        batch.drop_column("interest_run_from")
