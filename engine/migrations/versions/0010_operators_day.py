"""The operators' day (issue 14): finished worklist items, saved queue filters, tasks by kind.

* `work_done` — a call made, a task done, a write-off request decided; the unique key on
  (item_kind, item_id) lets only the first person decide, and tells the second who did;
* `saved_filter` — an operator's named queue filters;
* an index on event (kind, occurred_on), so the worklist finds open tasks (`task_handover`,
  `task_file_claim` …) without reading the whole log.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

AWARE = sa.DateTime(timezone=True)  # migrations never import mahnwerk code

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "work_done",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_kind", sa.String(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=sa.text("''")),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("done_at", AWARE, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_work_done"),
        sa.UniqueConstraint("item_kind", "item_id", name="uq_work_done_item_kind_item_id"),
    )
    op.create_table(
        "saved_filter",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("operator", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False, server_default=sa.text("''")),
        sa.Column("sort", sa.String(), nullable=False, server_default=sa.text("'entry'")),
        sa.Column("descending", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.PrimaryKeyConstraint("id", name="pk_saved_filter"),
        sa.UniqueConstraint("operator", "name", name="uq_saved_filter_operator_name"),
    )
    op.create_index("ix_event_kind_occurred_on", "event", ["kind", "occurred_on"])


def downgrade() -> None:
    op.drop_index("ix_event_kind_occurred_on", table_name="event")
    op.drop_table("saved_filter")
    op.drop_table("work_done")
