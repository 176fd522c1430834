"""Schema for the legal rules the engine enforces at run time.

* C2 — `report_notice_on`: the day the debtor received the announcement of a possible
  credit-bureau report (§ 31 Abs. 2 Nr. 4 c BDSG);
* C4 — `limitation_restart_on`: the last part payment, which restarts limitation (§ 212 BGB);
* C3 — `court_stage`, `court_served_on`: the court payment order (§§ 688 ff. ZPO) and its
  deadlines;
* E3 — `interest_rule`: the policy line that claims default interest, cited by every
  interest booking;
* D3 — an index on the outbox by customer and time, so a run can count a customer's recent
  contacts without scanning the outbox;
* the operators' queue — indexes on invoice (due_date, id) and (amount, id), so sorting a
  million invoices by due date or amount pages by key instead of sorting the table.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dunning_state") as batch:
        batch.add_column(sa.Column("report_notice_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("limitation_restart_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("court_stage", sa.String(), nullable=True))
        batch.add_column(sa.Column("court_served_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("interest_rule", sa.String(), nullable=True))
    op.create_index("ix_outbox_customer_not_before", "outbox", ["customer_id", "not_before"])
    op.create_index("ix_invoice_due_date_id", "invoice", ["due_date", "id"])
    op.create_index("ix_invoice_amount_id", "invoice", ["amount", "id"])


def downgrade() -> None:
    op.drop_index("ix_invoice_amount_id", table_name="invoice")
    op.drop_index("ix_invoice_due_date_id", table_name="invoice")
    op.drop_index("ix_outbox_customer_not_before", table_name="outbox")
    with op.batch_alter_table("dunning_state") as batch:
        for column in (
            "interest_rule",
            "court_served_on",
            "court_stage",
            "limitation_restart_on",
            "report_notice_on",
        ):
            batch.drop_column(column)
