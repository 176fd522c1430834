"""The first schema: master data, dunning state, event log, outbox, approvals, ledger.

Written by hand in plain SQLAlchemy types so it runs on SQLite and PostgreSQL
alike and never imports mahnwerk code (later code changes must not change
what an old migration does).  `test_migrations_match_models` checks that the
result equals `mahnwerk.engine.models`.

Revision ID: 0001
Revises:
Create Date: 2024-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(14, 2)
AWARE = sa.DateTime(timezone=True)
FALSE = sa.text("false")


def _one_of(column: str, *values: str) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _default(sql: str) -> sa.TextClause:
    return sa.text(sql)


def upgrade() -> None:
    op.create_table(
        "customer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("email", sa.String(), nullable=True),
        sa.Column("phone", sa.String(), nullable=True),
        sa.Column("street", sa.String(), nullable=True),
        sa.Column("postal_code", sa.String(), nullable=True),
        sa.Column("city", sa.String(), nullable=True),
        sa.Column("country", sa.String(), server_default=_default("'DE'"), nullable=False),
        sa.Column("region", sa.String(), nullable=True),
        sa.Column("language", sa.String(), server_default=_default("'de'"), nullable=False),
        sa.Column("tags", sa.Text(), server_default=_default("''"), nullable=False),
        sa.Column("vulnerable", sa.Boolean(), server_default=FALSE, nullable=False),
        sa.Column("opted_out", sa.Text(), server_default=_default("''"), nullable=False),
        sa.Column(
            "timezone", sa.String(), server_default=_default("'Europe/Berlin'"), nullable=False
        ),
        sa.Column("risk_score", sa.Numeric(7, 4), nullable=True),
        sa.Column("avg_days_late", sa.Numeric(8, 2), nullable=True),
        sa.Column("insolvent_since", sa.Date(), nullable=True),
        sa.Column("deceased_since", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_customer"),
        sa.UniqueConstraint("external_id", name="uq_customer_external_id"),
        sa.CheckConstraint(_one_of("type", "B2B", "B2C"), name="ck_customer_type"),
    )

    op.create_table(
        "policy_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("deployed_at", AWARE, nullable=False),
        sa.Column("active", sa.Boolean(), server_default=FALSE, nullable=False),
        sa.Column("applies_to", sa.Text(), nullable=True),
        sa.Column("priority", sa.Integer(), server_default=_default("100"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_policy_version"),
        sa.UniqueConstraint("name", "version", name="uq_policy_version_name_version"),
    )
    # Several policies may be active at once, but only one version of each.
    op.create_index(
        "uq_policy_version_active_name",
        "policy_version",
        ["name"],
        unique=True,
        sqlite_where=sa.text("active"),
        postgresql_where=sa.text("active"),
    )

    op.create_table(
        "run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("started_at", AWARE, nullable=False),
        sa.Column("finished_at", AWARE, nullable=True),
        sa.Column("stats", sa.Text(), server_default=_default("'{}'"), nullable=False),
        sa.Column("workers", sa.Integer(), server_default=_default("1"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_run"),
    )

    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", AWARE, nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("rule", sa.String(), nullable=True),
        sa.Column("state_from", sa.String(), nullable=True),
        sa.Column("state_to", sa.String(), nullable=True),
        sa.Column("message", sa.Text(), server_default=_default("''"), nullable=False),
        sa.Column("payload", sa.Text(), server_default=_default("'{}'"), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_event"),
    )
    op.create_index("ix_event_invoice_id", "event", ["invoice_id"])
    op.create_index("ix_event_customer_id", "event", ["customer_id"])
    op.create_index("ix_event_run_id", "event", ["run_id"])
    _make_event_log_append_only()

    op.create_table(
        "invoice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), server_default=_default("'EUR'"), nullable=False),
        sa.Column("due_date_agreed", sa.Boolean(), server_default=FALSE, nullable=False),
        sa.Column("notice_30_days", sa.Boolean(), server_default=FALSE, nullable=False),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_invoice"),
        sa.UniqueConstraint("external_id", name="uq_invoice_external_id"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name="fk_invoice_customer_id_customer"
        ),
    )
    op.create_index("ix_invoice_customer_id", "invoice", ["customer_id"])

    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), server_default=_default("'EUR'"), nullable=False),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.Column("applied", sa.Boolean(), server_default=FALSE, nullable=False),
        sa.Column("source", sa.String(), server_default=_default("'import'"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_payment"),
        sa.UniqueConstraint("external_id", name="uq_payment_external_id"),
        sa.CheckConstraint(_one_of("source", "import", "cli", "bank"), name="ck_payment_source"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name="fk_payment_customer_id_customer"
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name="fk_payment_invoice_id_invoice"
        ),
    )
    op.create_index("ix_payment_customer_id", "payment", ["customer_id"])
    op.create_index("ix_payment_invoice_id", "payment", ["invoice_id"])
    op.create_index("ix_payment_applied", "payment", ["applied"])

    op.create_table(
        "approval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("target_state", sa.String(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("rule", sa.String(), nullable=False),
        sa.Column("required", sa.Integer(), server_default=_default("1"), nullable=False),
        sa.Column("status", sa.String(), server_default=_default("'pending'"), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("decided_at", AWARE, nullable=True),
        sa.Column("amount", MONEY, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_approval"),
        sa.CheckConstraint(
            _one_of("status", "pending", "approved", "rejected"), name="ck_approval_status"
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name="fk_approval_invoice_id_invoice"
        ),
    )
    op.create_index("ix_approval_invoice_id", "approval", ["invoice_id"])
    op.create_index("ix_approval_status", "approval", ["status"])

    op.create_table(
        "approval_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("approval_id", sa.Integer(), nullable=False),
        sa.Column("approver", sa.String(), nullable=False),
        sa.Column("decision", sa.String(), nullable=False),
        sa.Column("comment", sa.Text(), server_default=_default("''"), nullable=False),
        sa.Column("decided_at", AWARE, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_approval_decision"),
        # The same person cannot approve (or reject) the same step twice.
        sa.UniqueConstraint(
            "approval_id", "approver", name="uq_approval_decision_approval_id_approver"
        ),
        sa.CheckConstraint(
            _one_of("decision", "approve", "reject"), name="ck_approval_decision_decision"
        ),
        sa.ForeignKeyConstraint(
            ["approval_id"], ["approval.id"], name="fk_approval_decision_approval_id_approval"
        ),
    )

    op.create_table(
        "dunning_state",
        sa.Column("invoice_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("policy_version_id", sa.Integer(), nullable=True),
        sa.Column("segment", sa.String(), nullable=False),
        sa.Column("ladder", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("entered_on", sa.Date(), nullable=False),
        sa.Column("next_check_on", sa.Date(), nullable=True),
        sa.Column("paused_until", sa.Date(), nullable=True),
        sa.Column("pause_reason", sa.Text(), nullable=True),
        sa.Column("held", sa.Boolean(), server_default=FALSE, nullable=False),
        sa.Column("principal_open", MONEY, server_default=_default("0"), nullable=False),
        sa.Column("fees_open", MONEY, server_default=_default("0"), nullable=False),
        sa.Column("interest_open", MONEY, server_default=_default("0"), nullable=False),
        sa.Column("interest_to", sa.Date(), nullable=True),
        sa.Column("default_since", sa.Date(), nullable=True),
        sa.Column("lump_sum_charged", sa.Boolean(), server_default=FALSE, nullable=False),
        sa.Column("last_letter_on", sa.Date(), nullable=True),
        sa.Column("last_contact_on", sa.Date(), nullable=True),
        sa.Column("promises", sa.Integer(), server_default=_default("0"), nullable=False),
        sa.Column("interest_active", sa.Boolean(), server_default=FALSE, nullable=False),
        sa.Column("interest_points", sa.Numeric(6, 3), nullable=True),
        sa.Column("interest_deferred", sa.Text(), nullable=True),
        sa.Column("first_reminder_on", sa.Date(), nullable=True),
        sa.Column("written_reminders", sa.Integer(), server_default=_default("0"), nullable=False),
        sa.Column("disputed", sa.Boolean(), server_default=FALSE, nullable=False),
        sa.Column("plan_active", sa.Boolean(), server_default=FALSE, nullable=False),
        sa.Column("plan", sa.Text(), nullable=True),
        sa.Column("plan_paid", MONEY, server_default=_default("0"), nullable=False),
        sa.Column("pending_approval", sa.String(), nullable=True),
        sa.Column("approved_target", sa.String(), nullable=True),
        sa.Column("approved_on", sa.Date(), nullable=True),
        sa.Column("time_barred_from", sa.Date(), nullable=True),
        sa.Column("credit_stopped", sa.Boolean(), server_default=FALSE, nullable=False),
        sa.Column("pending_approval_id", sa.Integer(), nullable=True),
        sa.Column("row_version", sa.Integer(), server_default=_default("0"), nullable=False),
        sa.Column("claimed_by", sa.String(), nullable=True),
        sa.Column("claimed_at", AWARE, nullable=True),
        sa.PrimaryKeyConstraint("invoice_id", name="pk_dunning_state"),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name="fk_dunning_state_invoice_id_invoice"
        ),
        sa.ForeignKeyConstraint(
            ["policy_version_id"],
            ["policy_version.id"],
            name="fk_dunning_state_policy_version_id_policy_version",
        ),
        sa.ForeignKeyConstraint(
            ["pending_approval_id"],
            ["approval.id"],
            name="fk_dunning_state_pending_approval_id_approval",
        ),
    )
    # The daily run reads `WHERE next_check_on <= :as_of ORDER BY invoice_id`.
    op.create_index("ix_dunning_state_next_check", "dunning_state", ["next_check_on", "invoice_id"])
    op.create_index("ix_dunning_state_state", "dunning_state", ["state"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("template", sa.String(), nullable=False),
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("tone", sa.String(), nullable=True),
        sa.Column("status", sa.String(), server_default=_default("'queued'"), nullable=False),
        sa.Column("not_before", AWARE, nullable=False),
        sa.Column("created_at", AWARE, nullable=False),
        sa.Column("sent_at", AWARE, nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=_default("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("payload", sa.Text(), server_default=_default("'{}'"), nullable=False),
        sa.Column("rule", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("idempotency_key", name="uq_outbox_idempotency_key"),
        sa.CheckConstraint(
            _one_of("status", "queued", "sending", "sent", "failed", "cancelled"),
            name="ck_outbox_status",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name="fk_outbox_invoice_id_invoice"
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name="fk_outbox_customer_id_customer"
        ),
    )
    op.create_index("ix_outbox_invoice_id", "outbox", ["invoice_id"])
    op.create_index("ix_outbox_status", "outbox", ["status"])

    op.create_table(
        "ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=True),
        sa.Column("period_to", sa.Date(), nullable=True),
        sa.Column("rate", sa.Numeric(9, 6), nullable=True),
        sa.Column("provisional", sa.Boolean(), server_default=FALSE, nullable=False),
        sa.Column("rule", sa.String(), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_ledger"),
        sa.CheckConstraint(
            _one_of(
                "kind",
                "principal",
                "fee",
                "lump_sum",
                "interest",
                "payment",
                "write_off",
                "collection_cost",
                "credit",
            ),
            name="ck_ledger_kind",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name="fk_ledger_invoice_id_invoice"
        ),
    )
    op.create_index("ix_ledger_invoice_id", "ledger", ["invoice_id"])
    op.create_index("ix_ledger_event_id", "ledger", ["event_id"])
    _create_inbox()


def _create_inbox() -> None:
    """Events entered by people or imports wait here until a run applies them."""
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("payload", sa.Text(), server_default=_default("'{}'"), nullable=False),
        sa.Column("recorded_at", AWARE, nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("applied_run_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_inbox"),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoice.id"], name="fk_inbox_invoice_id_invoice"),
    )
    # The run reads `WHERE applied_run_id IS NULL`: a partial index keeps that cheap.
    op.create_index("ix_inbox_pending", "inbox", ["applied_run_id", "invoice_id"])


def _make_event_log_append_only() -> None:
    """The audit trail must not be rewritten: refuse UPDATE and DELETE in the database."""
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER event_no_{action.lower()} BEFORE {action} ON event "
                "BEGIN SELECT RAISE(ABORT, 'event log is append-only'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'event log is append-only'; END $$"
    )
    op.execute(
        "CREATE TRIGGER event_append_only BEFORE UPDATE OR DELETE ON event "
        "FOR EACH ROW EXECUTE FUNCTION event_append_only()"
    )


def downgrade() -> None:
    for table in (
        "inbox",
        "ledger",
        "outbox",
        "dunning_state",
        "approval_decision",
        "approval",
        "payment",
        "invoice",
        "event",
        "run",
        "policy_version",
        "customer",
    ):
        op.drop_table(table)
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS event_append_only()")
