"""The customer portal (issue 17): signing key, links, one-use form tokens, uploads, visits.

`portal_visit` keeps the client address of each portal action apart from the append-only
event log, so it can be erased when its retention ends (E2).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AWARE = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "portal_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(), nullable=False),
        sa.Column("created_at", AWARE, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_portal_key"),
    )
    op.create_table(
        "portal_link",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", AWARE, nullable=False),
        sa.Column("expires_at", AWARE, nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("revoked_at", AWARE, nullable=True),
        sa.Column("revoked_by", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name="fk_portal_link_customer_id_customer"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_portal_link"),
    )
    op.create_index("ix_portal_link_customer_id", "portal_link", ["customer_id"])
    op.create_table(
        "portal_form",
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("link_id", sa.String(32), nullable=False),
        sa.Column("created_at", AWARE, nullable=False),
        sa.Column("used_at", AWARE, nullable=True),
        sa.ForeignKeyConstraint(
            ["link_id"], ["portal_link.id"], name="fk_portal_form_link_id_portal_link"
        ),
        sa.PrimaryKeyConstraint("nonce", name="pk_portal_form"),
    )
    op.create_index("ix_portal_form_link_id", "portal_form", ["link_id"])
    op.create_table(
        "portal_upload",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.String(32), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(), nullable=False),
        sa.Column("content_type", sa.String(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", AWARE, nullable=False),
        sa.ForeignKeyConstraint(
            ["link_id"], ["portal_link.id"], name="fk_portal_upload_link_id_portal_link"
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name="fk_portal_upload_invoice_id_invoice"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_portal_upload"),
    )
    op.create_index("ix_portal_upload_link_id", "portal_upload", ["link_id"])
    op.create_index("ix_portal_upload_invoice_id", "portal_upload", ["invoice_id"])
    op.create_table(
        "portal_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.String(32), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("client_address", sa.String(), nullable=True),
        sa.Column("at", AWARE, nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["link_id"], ["portal_link.id"], name="fk_portal_visit_link_id_portal_link"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_portal_visit"),
    )
    op.create_index("ix_portal_visit_link_id", "portal_visit", ["link_id"])
    op.create_index("ix_portal_visit_at", "portal_visit", ["at"])


def downgrade() -> None:
    for table in ("portal_visit", "portal_upload", "portal_form", "portal_link", "portal_key"):
        op.drop_table(table)
