"""Skonto terms, the Skonto and discount ledger kinds, unjustified deductions (issue 19).

* `invoice.skonto_terms` — the invoice's Skonto tiers as read from the CSV columns or the
  e-invoice's BT-20 (JSON, `engine/terms.py`); the net due date stays `due_date`;
* `dunning_state.discount_offers` — discounts a policy offered (`offer discount …`), each
  with its last day and policy line;
* `dunning_state.deduction_on`, `deduction_note` — a Skonto deducted after its period:
  the day of the payment and the term it missed, for the Skonto letter and the reports;
* ledger kinds `skonto` and `discount`.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_KINDS = (
    "principal",
    "fee",
    "lump_sum",
    "interest",
    "payment",
    "write_off",
    "collection_cost",
    "credit",
)
_NEW_KINDS = (*_OLD_KINDS, "skonto", "discount")


def _kinds(kinds: tuple[str, ...]) -> str:
    return f"kind IN ({', '.join(repr(k) for k in kinds)})"


def upgrade() -> None:
    with op.batch_alter_table("invoice") as batch:
        batch.add_column(sa.Column("skonto_terms", sa.Text(), nullable=True))
    with op.batch_alter_table("dunning_state") as batch:
        batch.add_column(sa.Column("discount_offers", sa.Text(), nullable=True))
        batch.add_column(sa.Column("deduction_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("deduction_note", sa.Text(), nullable=True))
    with op.batch_alter_table("ledger") as batch:
        batch.drop_constraint("ck_ledger_kind", type_="check")
        batch.create_check_constraint("kind", _kinds(_NEW_KINDS))


def downgrade() -> None:
    with op.batch_alter_table("ledger") as batch:
        batch.drop_constraint("ck_ledger_kind", type_="check")
        batch.create_check_constraint("kind", _kinds(_OLD_KINDS))
    with op.batch_alter_table("dunning_state") as batch:
        batch.drop_column("deduction_note")
        batch.drop_column("deduction_on")
        batch.drop_column("discount_offers")
    with op.batch_alter_table("invoice") as batch:
        batch.drop_column("skonto_terms")
