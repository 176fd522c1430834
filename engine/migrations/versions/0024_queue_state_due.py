"""A state's invoices in due-date order, on an index (issue 14: the queue filtered by state).

The queue filtered by one state and sorted by due date read a page by sorting every
invoice of that state: the state is on `dunning_state`, the due date on `invoice`, so no
index held both.  At 1,000,000 invoices a page cost ~1.3 s of CPU (241,454 in `vorab`).
Now `dunning_state.invoice_due_date` holds a copy of the invoice's due date, and the index
`(state, invoice_due_date, invoice_id)` walks one state's invoices in the queue's order:
a page reads its 51 entries and stops (`store.screens.queue_page`).

The copy is kept by the database, so no writer can let it disagree with the invoice:

* a `dunning_state` row written with a missing or different date gets the invoice's
  (the run writes it already, `runner.intake_phase`; other writers — the demo, the e-invoice
  loader, a direct SQL session — need not know about it);
* a changed due date of an invoice is copied onto its `dunning_state` row.

SQLite gets row triggers that compare first (the run's updates of `dunning_state` do not
name the column, so they fire nothing); PostgreSQL a BEFORE trigger that sets the copy on
every inserted row (a primary-key lookup) and a row trigger for the rare changed due date.
Existing rows are filled by the upgrade; the book summary's triggers (0020) do not count
the copy, so the backfill leaves the summary as it is (on PostgreSQL its statement
trigger is switched off meanwhile, not to compare a million unchanged rows).

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_dunning_state_state_due"
THE_INVOICES = "(SELECT due_date FROM invoice WHERE invoice.id = NEW.invoice_id)"


def upgrade() -> None:
    op.add_column("dunning_state", sa.Column("invoice_due_date", sa.Date(), nullable=True))
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute(
            "UPDATE dunning_state SET invoice_due_date = "
            "(SELECT due_date FROM invoice WHERE invoice.id = dunning_state.invoice_id)"
        )
    else:
        op.execute("ALTER TABLE dunning_state DISABLE TRIGGER book_summary_ds_update")
        op.execute(
            "UPDATE dunning_state d SET invoice_due_date = i.due_date "
            "FROM invoice i WHERE i.id = d.invoice_id"
        )
        op.execute("ALTER TABLE dunning_state ENABLE TRIGGER book_summary_ds_update")
    op.create_index(INDEX, "dunning_state", ["state", "invoice_due_date", "invoice_id"])
    if sqlite:
        _sqlite_triggers()
    else:
        _postgres_triggers()


def _sqlite_triggers() -> None:
    fix = (
        f"WHEN NEW.invoice_due_date IS NOT {THE_INVOICES} BEGIN UPDATE dunning_state "
        f"SET invoice_due_date = {THE_INVOICES} WHERE invoice_id = NEW.invoice_id; END"
    )
    op.execute(f"CREATE TRIGGER ds_due_date_insert AFTER INSERT ON dunning_state {fix}")
    op.execute(
        "CREATE TRIGGER ds_due_date_update AFTER UPDATE OF invoice_due_date, invoice_id "
        f"ON dunning_state {fix}"
    )
    op.execute(
        "CREATE TRIGGER ds_due_date_follow AFTER UPDATE OF due_date ON invoice "
        "WHEN OLD.due_date IS NOT NEW.due_date BEGIN UPDATE dunning_state "
        "SET invoice_due_date = NEW.due_date WHERE invoice_id = NEW.id; END"
    )


def _postgres_triggers() -> None:
    op.execute(
        "CREATE FUNCTION ds_due_date() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"NEW.invoice_due_date := {THE_INVOICES}; RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER ds_due_date BEFORE INSERT OR UPDATE OF invoice_due_date, invoice_id "
        "ON dunning_state FOR EACH ROW EXECUTE FUNCTION ds_due_date()"
    )
    op.execute(
        "CREATE FUNCTION ds_due_date_follow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "UPDATE dunning_state SET invoice_due_date = NEW.due_date WHERE invoice_id = NEW.id; "
        "RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER ds_due_date_follow AFTER UPDATE OF due_date ON invoice FOR EACH ROW "
        "WHEN (OLD.due_date IS DISTINCT FROM NEW.due_date) "
        "EXECUTE FUNCTION ds_due_date_follow()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("ds_due_date_insert", "ds_due_date_update", "ds_due_date_follow"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS ds_due_date ON dunning_state")
        op.execute("DROP TRIGGER IF EXISTS ds_due_date_follow ON invoice")
        op.execute("DROP FUNCTION IF EXISTS ds_due_date()")
        op.execute("DROP FUNCTION IF EXISTS ds_due_date_follow()")
    op.drop_index(INDEX, table_name="dunning_state")
    op.drop_column("dunning_state", "invoice_due_date")
