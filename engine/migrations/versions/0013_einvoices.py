"""Schema for e-invoices read and bookings exported (issue 16).

* `customer.vat_id` — the buyer's VAT id (BT-48), normalised, so the next e-invoice of
  the same buyer finds its customer;
* `invoice.payment_terms` — the payment terms as written (BT-20), kept verbatim;
* `einvoice_document` — every imported e-invoice and credit note, once per kind and
  number, with the open item it created or reduced;
* `datev_export`, `datev_booking` — the DATEV booking batches written and which ledger
  line went out in which, so a booking is exported once.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customer") as batch:
        batch.add_column(sa.Column("vat_id", sa.String(), nullable=True))
        batch.create_index("ix_customer_vat_id", ["vat_id"])
    with op.batch_alter_table("invoice") as batch:
        batch.add_column(sa.Column("payment_terms", sa.Text(), nullable=True))
    op.create_table(
        "einvoice_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("type_code", sa.String(), nullable=False),
        sa.Column("syntax", sa.String(), nullable=False),
        sa.Column("file_name", sa.String(), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_due", sa.Numeric(14, 2), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("preceding", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('invoice', 'credit_note')", name="ck_einvoice_document_kind"
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name="fk_einvoice_document_customer_id_customer"
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name="fk_einvoice_document_invoice_id_invoice"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_einvoice_document"),
        sa.UniqueConstraint("kind", "number", name="uq_einvoice_document_kind_number"),
    )
    op.create_index(
        "ix_einvoice_document_customer_id", "einvoice_document", ["customer_id"]
    )
    op.create_index("ix_einvoice_document_invoice_id", "einvoice_document", ["invoice_id"])
    op.create_table(
        "datev_export",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("file_name", sa.String(), nullable=False),
        sa.Column("bookings", sa.Integer(), nullable=False),
        sa.Column("total", sa.Numeric(14, 2), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_datev_export"),
    )
    op.create_table(
        "datev_booking",
        sa.Column("ledger_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ledger_id"], ["ledger.id"], name="fk_datev_booking_ledger_id_ledger"
        ),
        sa.ForeignKeyConstraint(
            ["export_id"], ["datev_export.id"], name="fk_datev_booking_export_id_datev_export"
        ),
        sa.PrimaryKeyConstraint("ledger_id", name="pk_datev_booking"),
    )
    op.create_index("ix_datev_booking_export_id", "datev_booking", ["export_id"])


def downgrade() -> None:
    op.drop_table("datev_booking")
    op.drop_table("datev_export")
    op.drop_table("einvoice_document")
    with op.batch_alter_table("invoice") as batch:
        batch.drop_column("payment_terms")
    with op.batch_alter_table("customer") as batch:
        batch.drop_index("ix_customer_vat_id")
        batch.drop_column("vat_id")
