"""Schema for segments that follow the customer (issue 13).

An invoice whose segment changes moves to the new segment's ladder at its next step
(`engine/segment_moves.py`).  So the move never re-sends a letter or charges a fee level
twice, the record remembers:

* `sent_templates` — the templates queued for the invoice so far (comma-separated);
* `fees_charged` — how many dunning fees were charged;
* `fee_floor` — how many fees were charged before the last segment move: the new
  ladder's first `fee_floor` fee levels are not charged again;
* `segment_moved_on` — the day of the last move (None: never moved).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dunning_state") as batch:
        batch.add_column(sa.Column("sent_templates", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("fees_charged", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("fee_floor", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("segment_moved_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dunning_state") as batch:
        for column in ("segment_moved_on", "fee_floor", "fees_charged", "sent_templates"):
            batch.drop_column(column)
