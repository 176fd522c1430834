"""The service (issue 15): people, API tokens, idempotency records, webhooks, scheduled jobs.

`webhook_outbox` is filled by a trigger on the append-only `event` log, for the event
kinds webhooks report and only while an active subscription exists: the webhook is then
written in the same transaction as the change (a run's transition, a dispatch, a
decision), whichever program made it, and costs nothing while nobody subscribes.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AWARE = sa.DateTime(timezone=True)
ROLES = "role IN ('viewer', 'operator', 'approver', 'manager', 'admin')"
#: The event kinds that become webhooks (see mahnwerk.service.webhooks.TYPES).
REPORTED = (
    "NEW.kind IN ('transition', 'payment', 'approval_requested', 'approval_given', "
    "'approval_rejected', 'message_sent', 'message_failed') OR NEW.kind LIKE 'task_%'"
)
ACTIVE = "EXISTS (SELECT 1 FROM webhook_subscription WHERE active)"


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("os_user", sa.String(), nullable=True),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("created_at", AWARE, nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("disabled_at", AWARE, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_person"),
        sa.UniqueConstraint("name", name="uq_person_name"),
        sa.UniqueConstraint("os_user", name="uq_person_os_user"),
        sa.CheckConstraint(ROLES, name="ck_person_role"),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("acts_as", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", AWARE, nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("revoked_at", AWARE, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_token"),
        sa.UniqueConstraint("token_hash", name="uq_api_token_token_hash"),
        sa.CheckConstraint(ROLES, name="ck_api_token_role"),
    )
    op.create_table(
        "idempotency_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("created_at", AWARE, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_idempotency_record"),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_token.id"], name="fk_idempotency_record_token_id_api_token"
        ),
        sa.UniqueConstraint("token_id", "key", name="uq_idempotency_record_token_id_key"),
    )
    op.create_table(
        "webhook_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.String(), nullable=False),
        sa.Column("event_types", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", AWARE, nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_subscription"),
    )
    op.create_table(
        "webhook_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("created_at", AWARE, nullable=False),
        sa.Column("fanned_out", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_outbox"),
        sa.UniqueConstraint("event_id", name="uq_webhook_outbox_event_id"),
    )
    op.create_index("ix_webhook_outbox_fanned_out", "webhook_outbox", ["fanned_out", "id"])
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", AWARE, nullable=False),
        sa.Column("created_at", AWARE, nullable=False),
        sa.Column("delivered_at", AWARE, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_delivery"),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscription.id"],
            name="fk_webhook_delivery_subscription_id_webhook_subscription",
        ),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["webhook_outbox.id"],
            name="fk_webhook_delivery_outbox_id_webhook_outbox",
        ),
        sa.UniqueConstraint(
            "subscription_id", "outbox_id", name="uq_webhook_delivery_subscription_id_outbox_id"
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')", name="ck_webhook_delivery_status"
        ),
    )
    op.create_index("ix_webhook_delivery_due", "webhook_delivery", ["status", "next_attempt_at"])
    op.create_table(
        "webhook_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", AWARE, nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("milliseconds", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_attempt"),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_delivery.id"],
            name="fk_webhook_attempt_delivery_id_webhook_delivery",
        ),
    )
    op.create_index("ix_webhook_attempt_delivery_id", "webhook_attempt", ["delivery_id"])
    op.create_table(
        "schedule_job",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=True),
        sa.Column("last_started_at", AWARE, nullable=True),
        sa.Column("last_finished_at", AWARE, nullable=True),
        sa.Column("last_result", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("runner", sa.String(), nullable=True),
        sa.Column("lease_until", AWARE, nullable=True),
        sa.Column("runs", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_schedule_job"),
    )
    _webhook_trigger()


def _webhook_trigger() -> None:
    """Every reported event, while someone subscribes, enters the webhook outbox."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER event_webhook AFTER INSERT ON event "
            f"WHEN ({REPORTED.replace('NEW.', 'new.')}) AND {ACTIVE} "
            "BEGIN INSERT INTO webhook_outbox (event_id, created_at, fanned_out) "
            "VALUES (new.id, new.recorded_at, 0); END"
        )
        return
    op.execute(
        "CREATE FUNCTION event_webhook() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN IF ({REPORTED}) AND {ACTIVE} THEN "
        "INSERT INTO webhook_outbox (event_id, created_at, fanned_out) "
        "VALUES (NEW.id, NEW.recorded_at, false); END IF; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER event_webhook AFTER INSERT ON event "
        "FOR EACH ROW EXECUTE FUNCTION event_webhook()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS event_webhook")
    else:
        op.execute("DROP TRIGGER IF EXISTS event_webhook ON event")
        op.execute("DROP FUNCTION IF EXISTS event_webhook()")
    for table in (
        "schedule_job",
        "webhook_attempt",
        "webhook_delivery",
        "webhook_outbox",
        "webhook_subscription",
        "idempotency_record",
        "api_token",
        "person",
    ):
        op.drop_table(table)
