"""Champion/challenger experiments and their assignments (issue 18).

* `experiment` — one row per experiment: the champion (a deployed policy name), the
  challenger (a stored, inactive policy version), the share, who is eligible (`--for`),
  when enrolment stops, the secret key of the assignment hash, and how it ended;
* `experiment_assignment` — which arm each enrolled customer is in, once and for good.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "experiment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("champion_name", sa.String(), nullable=False),
        sa.Column("champion_version_id", sa.Integer(), nullable=False),
        sa.Column("challenger_version_id", sa.Integer(), nullable=False),
        sa.Column("share", sa.Numeric(6, 4), nullable=False),
        sa.Column("applies_to", sa.Text(), nullable=True),
        sa.Column("until_on", sa.Date(), nullable=True),
        sa.Column("until_customers", sa.Integer(), nullable=True),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("status", sa.String(), server_default=sa.text("'running'"), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'promoted', 'stopped')", name="ck_experiment_status"
        ),
        sa.ForeignKeyConstraint(
            ["champion_version_id"],
            ["policy_version.id"],
            name="fk_experiment_champion_version_id_policy_version",
        ),
        sa.ForeignKeyConstraint(
            ["challenger_version_id"],
            ["policy_version.id"],
            name="fk_experiment_challenger_version_id_policy_version",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_experiment"),
        sa.UniqueConstraint("name", name="uq_experiment_name"),
    )
    op.create_table(
        "experiment_assignment",
        sa.Column("experiment_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("customer_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("arm", sa.String(), nullable=False),
        sa.Column("segment", sa.String(), nullable=False),
        sa.Column("assigned_on", sa.Date(), nullable=False),
        sa.CheckConstraint(
            "arm IN ('champion', 'challenger')", name="ck_experiment_assignment_arm"
        ),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiment.id"],
            name="fk_experiment_assignment_experiment_id_experiment",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name="fk_experiment_assignment_customer_id_customer",
        ),
        sa.PrimaryKeyConstraint("experiment_id", "customer_id", name="pk_experiment_assignment"),
    )
    op.create_index(
        "ix_experiment_assignment_customer_id", "experiment_assignment", ["customer_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_experiment_assignment_customer_id", table_name="experiment_assignment")
    op.drop_table("experiment_assignment")
    op.drop_table("experiment")
