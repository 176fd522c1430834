"""The operators' day on a big book (issue 14): indexes Today's list reads by.

Each list on the Today screen takes its first 100 items in order; these indexes
let the database walk to them instead of reading and sorting a whole table:

* `outbox (channel, not_before)` — calls to make: calls are a sliver of the
  messages, and every e-mail and letter ever sent stays in the outbox;
* `approval (status, requested_on)` — escalations waiting, oldest first (the
  decided ones stay in the table);
* `inbox (kind, invoice_id)` — promises that fall due, and whether a newer promise
  replaced one; until now every recorded event was read.

On a book of 1,000,000 invoices Today took tens of seconds without them
(bench/bench_tui.py).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_outbox_channel_not_before", "outbox", ["channel", "not_before"])
    op.create_index("ix_approval_status_requested_on", "approval", ["status", "requested_on"])
    op.create_index("ix_inbox_kind_invoice_id", "inbox", ["kind", "invoice_id"])


def downgrade() -> None:
    op.drop_index("ix_inbox_kind_invoice_id", table_name="inbox")
    op.drop_index("ix_approval_status_requested_on", table_name="approval")
    op.drop_index("ix_outbox_channel_not_before", table_name="outbox")
