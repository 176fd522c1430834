"""The dashboard's book summary, kept by triggers (issue 21, engine/summary_tables.py).

`book_summary` holds invoices and open balance in cents per (segment, state, due date);
`book_summary_delta` the changes not folded into it yet.  Triggers on `dunning_state` and
`invoice` append a delta for every change of segment, state, open amounts, due date or
closing, so no writer can forget it; the run folds the deltas.  Invoices without a
`dunning_state` row that are not closed count as state 'new', segment ''.

SQLite has row triggers only; each fires only when a summed column changed (the run's
UPDATE of an invoice whose next check merely moved costs one comparison).  PostgreSQL gets
statement triggers with transition tables for `dunning_state` and for new invoices — one
grouped INSERT per statement, however many rows a COPY or an `UPDATE … FROM` wrote — and
row triggers for the rare changes of an invoice's due date, amount or closing.

Also an index `ledger (kind, booked_on)` for the dashboard's payments of the week.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = "segment, state, due_date, invoices, balance_cents"
DELTA = f"INSERT INTO book_summary_delta ({COLUMNS}) "


def _cents(row: str, dialect: str) -> str:
    total = f"({row}.principal_open + {row}.fees_open + {row}.interest_open) * 100"
    if dialect == "sqlite":
        return f"CAST(round({total}) AS INTEGER)"
    return f"round({total})::bigint"


def _amount(expr: str, dialect: str) -> str:
    return f"CAST(round({expr} * 100) AS INTEGER)" if dialect == "sqlite" else (
        f"round({expr} * 100)::bigint"
    )


def upgrade() -> None:
    op.create_table(
        "book_summary",
        sa.Column("segment", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("invoices", sa.Integer(), nullable=False),
        sa.Column("balance_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("segment", "state", "due_date", name="pk_book_summary"),
    )
    op.create_table(
        "book_summary_delta",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("segment", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("invoices", sa.Integer(), nullable=False),
        sa.Column("balance_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_book_summary_delta"),
    )
    op.create_index("ix_ledger_kind_booked_on", "ledger", ["kind", "booked_on"])
    dialect = op.get_bind().dialect.name
    d = dialect
    op.execute(
        f"INSERT INTO book_summary ({COLUMNS}) "
        f"SELECT segment, state, due_date, sum(n), sum(c) FROM ("
        f" SELECT d.segment, d.state, i.due_date, 1 AS n, {_cents('d', d)} AS c"
        " FROM dunning_state d JOIN invoice i ON i.id = d.invoice_id"
        f" UNION ALL SELECT '', 'new', i.due_date, 1, {_amount('i.amount', d)}"
        " FROM invoice i WHERE i.closed_on IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM dunning_state d WHERE d.invoice_id = i.id)"
        ") x GROUP BY segment, state, due_date"
    )
    if dialect == "sqlite":
        _sqlite_triggers()
    else:
        _postgres_triggers()


_CHANGED = " OR ".join(
    f"OLD.{c} IS NOT NEW.{c}"
    for c in ("segment", "state", "principal_open", "fees_open", "interest_open", "invoice_id")
)


def _sqlite_triggers() -> None:
    d = "sqlite"
    new_bucket = f"SELECT '', 'new', i.due_date, {{sign}}1, {{sign}}{_amount('i.amount', d)}"
    op.execute(
        "CREATE TRIGGER book_summary_ds_insert AFTER INSERT ON dunning_state BEGIN "
        f"{DELTA}SELECT NEW.segment, NEW.state, i.due_date, 1, {_cents('NEW', d)} "
        "FROM invoice i WHERE i.id = NEW.invoice_id "
        f"UNION ALL {new_bucket.format(sign='-')} FROM invoice i "
        "WHERE i.id = NEW.invoice_id AND i.closed_on IS NULL; END"
    )
    op.execute(
        f"CREATE TRIGGER book_summary_ds_update AFTER UPDATE ON dunning_state WHEN {_CHANGED} "
        f"BEGIN {DELTA}SELECT OLD.segment, OLD.state, i.due_date, -1, -{_cents('OLD', d)} "
        "FROM invoice i WHERE i.id = OLD.invoice_id "
        f"UNION ALL SELECT NEW.segment, NEW.state, i.due_date, 1, {_cents('NEW', d)} "
        "FROM invoice i WHERE i.id = NEW.invoice_id; END"
    )
    op.execute(
        "CREATE TRIGGER book_summary_ds_delete AFTER DELETE ON dunning_state BEGIN "
        f"{DELTA}SELECT OLD.segment, OLD.state, i.due_date, -1, -{_cents('OLD', d)} "
        "FROM invoice i WHERE i.id = OLD.invoice_id "
        f"UNION ALL {new_bucket.format(sign='')} FROM invoice i "
        "WHERE i.id = OLD.invoice_id AND i.closed_on IS NULL; END"
    )
    op.execute(
        "CREATE TRIGGER book_summary_invoice_insert AFTER INSERT ON invoice "
        f"WHEN NEW.closed_on IS NULL BEGIN {DELTA}"
        f"VALUES ('', 'new', NEW.due_date, 1, {_amount('NEW.amount', d)}); END"
    )
    bare = "NOT EXISTS (SELECT 1 FROM dunning_state WHERE invoice_id = OLD.id)"
    op.execute(
        "CREATE TRIGGER book_summary_invoice_update AFTER UPDATE OF due_date, amount, closed_on "
        "ON invoice WHEN OLD.due_date IS NOT NEW.due_date OR OLD.amount IS NOT NEW.amount "
        f"OR OLD.closed_on IS NOT NEW.closed_on BEGIN {DELTA}"
        f"SELECT d.segment, d.state, OLD.due_date, -1, -{_cents('d', d)} FROM dunning_state d "
        "WHERE d.invoice_id = OLD.id AND OLD.due_date IS NOT NEW.due_date "
        f"UNION ALL SELECT d.segment, d.state, NEW.due_date, 1, {_cents('d', d)} "
        "FROM dunning_state d WHERE d.invoice_id = OLD.id AND OLD.due_date IS NOT NEW.due_date "
        f"UNION ALL SELECT '', 'new', OLD.due_date, -1, -{_amount('OLD.amount', d)} "
        f"WHERE OLD.closed_on IS NULL AND {bare} "
        f"UNION ALL SELECT '', 'new', NEW.due_date, 1, {_amount('NEW.amount', d)} "
        f"WHERE NEW.closed_on IS NULL AND {bare}; END"
    )
    op.execute(
        "CREATE TRIGGER book_summary_invoice_delete AFTER DELETE ON invoice "
        f"WHEN OLD.closed_on IS NULL AND {bare} BEGIN {DELTA}"
        f"VALUES ('', 'new', OLD.due_date, -1, -{_amount('OLD.amount', d)}); END"
    )


def _pg_function(name: str, body: str) -> None:
    op.execute(
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"{body} RETURN NULL; END $$"
    )


def _postgres_triggers() -> None:
    d = "postgresql"
    grouped = " GROUP BY 1, 2, 3"

    def rows(table: str, sign: str) -> str:
        return (
            f"SELECT {table}.segment, {table}.state, i.due_date, {sign}count(*), "
            f"{sign}sum({_cents(table, d)}) FROM {table} JOIN invoice i ON i.id = "
            f"{table}.invoice_id"
        )

    new_bucket = (
        "SELECT '', 'new', i.due_date, {sign}count(*), {sign}sum("
        + _amount("i.amount", d)
        + ") FROM {table} JOIN invoice i ON i.id = {table}.invoice_id "
        "WHERE i.closed_on IS NULL GROUP BY 1, 2, 3"
    )
    _pg_function(
        "book_summary_ds_insert",
        f"{DELTA}{rows('nr', '')}{grouped} UNION ALL "
        f"{new_bucket.format(sign='-', table='nr')};",
    )
    changed = (
        "(o.segment, o.state, o.principal_open, o.fees_open, o.interest_open) IS DISTINCT FROM "
        "(nr.segment, nr.state, nr.principal_open, nr.fees_open, nr.interest_open)"
    )
    _pg_function(
        "book_summary_ds_update",
        f"{DELTA}SELECT segment, state, due_date, sum(n), sum(c) FROM ("
        f"SELECT o.segment, o.state, i.due_date, -1 AS n, -{_cents('o', d)} AS c "
        f"FROM o JOIN nr USING (invoice_id) JOIN invoice i ON i.id = o.invoice_id "
        f"WHERE {changed} UNION ALL "
        f"SELECT nr.segment, nr.state, i.due_date, 1, {_cents('nr', d)} "
        f"FROM o JOIN nr USING (invoice_id) JOIN invoice i ON i.id = nr.invoice_id "
        f"WHERE {changed}) x GROUP BY 1, 2, 3;",
    )
    _pg_function(
        "book_summary_ds_delete",
        f"{DELTA}{rows('o', '-')}{grouped} UNION ALL {new_bucket.format(sign='', table='o')};",
    )
    _pg_function(
        "book_summary_invoice_insert",
        f"{DELTA}SELECT '', 'new', due_date, count(*), sum({_amount('amount', d)}) "
        "FROM nr WHERE closed_on IS NULL GROUP BY due_date;",
    )
    bare = "NOT EXISTS (SELECT 1 FROM dunning_state WHERE invoice_id = OLD.id)"
    _pg_function(
        "book_summary_invoice_change",
        "IF TG_OP = 'UPDATE' AND OLD.due_date IS DISTINCT FROM NEW.due_date THEN "
        f"{DELTA}SELECT d.segment, d.state, OLD.due_date, -1, -{_cents('d', d)} "
        "FROM dunning_state d WHERE d.invoice_id = OLD.id "
        f"UNION ALL SELECT d.segment, d.state, NEW.due_date, 1, {_cents('d', d)} "
        "FROM dunning_state d WHERE d.invoice_id = OLD.id; END IF; "
        f"IF OLD.closed_on IS NULL AND {bare} THEN {DELTA}"
        f"VALUES ('', 'new', OLD.due_date, -1, -{_amount('OLD.amount', d)}); END IF; "
        f"IF TG_OP = 'UPDATE' AND NEW.closed_on IS NULL AND {bare} THEN {DELTA}"
        f"VALUES ('', 'new', NEW.due_date, 1, {_amount('NEW.amount', d)}); END IF;",
    )
    for op_name, table, refs in (
        ("insert", "dunning_state", "NEW TABLE AS nr"),
        ("update", "dunning_state", "OLD TABLE AS o NEW TABLE AS nr"),
        ("delete", "dunning_state", "OLD TABLE AS o"),
        ("insert", "invoice", "NEW TABLE AS nr"),
    ):
        short = "ds" if table == "dunning_state" else "invoice"
        op.execute(
            f"CREATE TRIGGER book_summary_{short}_{op_name} AFTER {op_name.upper()} ON {table} "
            f"REFERENCING {refs} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION book_summary_{short}_{op_name}()"
        )
    op.execute(
        "CREATE TRIGGER book_summary_invoice_change AFTER UPDATE OF due_date, amount, closed_on "
        "OR DELETE ON invoice FOR EACH ROW EXECUTE FUNCTION book_summary_invoice_change()"
    )


_TRIGGERS = (
    ("book_summary_ds_insert", "dunning_state"),
    ("book_summary_ds_update", "dunning_state"),
    ("book_summary_ds_delete", "dunning_state"),
    ("book_summary_invoice_insert", "invoice"),
    ("book_summary_invoice_update", "invoice"),
    ("book_summary_invoice_delete", "invoice"),
    ("book_summary_invoice_change", "invoice"),
)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name, table in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + ("" if sqlite else f" ON {table}"))
        if not sqlite:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_index("ix_ledger_kind_booked_on", table_name="ledger")
    op.drop_table("book_summary_delta")
    op.drop_table("book_summary")
