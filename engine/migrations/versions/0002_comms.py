"""Schema for communications: one row per delivery attempt, and the messages it carried.

`delivery` records each attempt to deliver a message — one outbox row, or
several of one customer bundled into one letter or e-mail (D3) — with its
deterministic Message-ID, the point of no return (`committed_at`) that makes
exactly-once delivery possible after a crash, the outcome, and the rendered
subject and text as sent (the archive).  `delivery_item` links an attempt to
the outbox rows it carries.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AWARE = sa.DateTime(timezone=True)


def _one_of(column: str, *values: str) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("template", sa.String(), nullable=False),
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("recipient", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempt", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("started_at", AWARE, nullable=False),
        sa.Column("committed_at", AWARE, nullable=True),
        sa.Column("finished_at", AWARE, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("artefact", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_delivery"),
        sa.CheckConstraint(
            _one_of("status", "transmitting", "committed", "sent", "failed", "abandoned"),
            name="ck_delivery_status",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name="fk_delivery_customer_id_customer"
        ),
    )
    op.create_index("ix_delivery_message_id", "delivery", ["message_id"])
    op.create_index("ix_delivery_status", "delivery", ["status"])

    op.create_table(
        "delivery_item",
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("delivery_id", "outbox_id", name="pk_delivery_item"),
        sa.ForeignKeyConstraint(
            ["delivery_id"], ["delivery.id"], name="fk_delivery_item_delivery_id_delivery"
        ),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name="fk_delivery_item_outbox_id_outbox"
        ),
    )
    op.create_index("ix_delivery_item_outbox_id", "delivery_item", ["outbox_id"])


def downgrade() -> None:
    op.drop_index("ix_delivery_item_outbox_id", table_name="delivery_item")
    op.drop_table("delivery_item")
    op.drop_index("ix_delivery_status", table_name="delivery")
    op.drop_index("ix_delivery_message_id", table_name="delivery")
    op.drop_table("delivery")
