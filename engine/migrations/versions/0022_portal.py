"""The portal, second part (issue 17): the customer's stated reason as a behaviour fact, and
the rate-limit counter every `serve` process shares.

* `customer_behaviour.feedback_reason`, `feedback_on`, `feedback_answers`: the reason the
  customer last gave in the portal's "tell us why" (`customer_feedback` events), when, and
  how many answers they gave — written by `mahnwerk analyse`, read by runs as
  `customer.feedback`.
* `portal_hit`: requests per key (a hashed client address or link id) and minute, so
  several `serve` processes on one database bound guessing together.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customer_behaviour") as batch:
        batch.add_column(sa.Column("feedback_reason", sa.String(), nullable=True))
        batch.add_column(sa.Column("feedback_on", sa.Date(), nullable=True))
        batch.add_column(
            sa.Column("feedback_answers", sa.Integer(), server_default=sa.text("0"),
                      nullable=False)
        )  # fmt: skip
    op.create_table(
        "portal_hit",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "minute", name="pk_portal_hit"),
    )
    op.create_index("ix_portal_hit_minute", "portal_hit", ["minute"])


def downgrade() -> None:
    op.drop_index("ix_portal_hit_minute", table_name="portal_hit")
    op.drop_table("portal_hit")
    with op.batch_alter_table("customer_behaviour") as batch:
        batch.drop_column("feedback_answers")
        batch.drop_column("feedback_on")
        batch.drop_column("feedback_reason")
