"""Migration 0024 on a book with invoices: each `dunning_state` row gets its invoice's due date.

The copy serves the queue's index of a state's invoices in due-date order; it must never
disagree with the invoice.  An upgraded book has it on every row; the database keeps it
when an invoice's due date changes and when a writer that does not know the column (or
names a wrong date) inserts a row.  The book summary (0020) is not moved by any of it.
"""

from __future__ import annotations

from datetime import date

from alembic import command
from sqlalchemy import Engine, select, text

from mahnwerk.engine import models as m
from mahnwerk.engine.store.db import alembic_config, init_db, make_engine

DUE = {1: date(2026, 1, 19), 2: date(2026, 2, 2), 3: date(2026, 3, 2)}


def _invoice(conn, n: int) -> None:  # type: ignore[no-untyped-def]
    conn.execute(
        text(
            "INSERT INTO invoice (id, external_id, customer_id, issue_date, due_date, amount, "
            "currency) VALUES (:n, :e, 1, '2026-01-05', :d, 100, 'EUR')"
        ),
        {"n": n, "e": f"R{n}", "d": DUE[n]},
    )


def _state(conn, n: int, extra: str = "", value: str = "") -> None:  # type: ignore[no-untyped-def]
    conn.execute(
        text(
            f"INSERT INTO dunning_state (invoice_id, segment, ladder, state, entered_on, "
            f"principal_open{extra}) VALUES (:n, 'default', 'standard', 'mahnung_1', "
            f"'2026-02-09', 100{value})"
        ),
        {"n": n},
    )


def copies(engine: Engine) -> dict[int, date | None]:
    with engine.connect() as conn:
        return dict(conn.execute(select(m.DS.c.invoice_id, m.DS.c.invoice_due_date)).all())


def summary(engine: Engine) -> list[tuple]:
    with engine.connect() as conn:
        return sorted(
            conn.execute(
                text(
                    "SELECT state, due_date, sum(invoices), sum(balance_cents) FROM ("
                    "SELECT state, due_date, invoices, balance_cents FROM book_summary "
                    "UNION ALL SELECT state, due_date, invoices, balance_cents "
                    "FROM book_summary_delta) x GROUP BY state, due_date "
                    "HAVING sum(invoices) <> 0"
                )
            ).all()
        )


def test_0024_copies_the_due_date_and_the_database_keeps_it(db_url: str) -> None:
    command.upgrade(alembic_config(db_url), "0023")
    engine = make_engine(db_url)
    with engine.begin() as conn:  # plain SQL: the models already know the new column
        conn.execute(
            text("INSERT INTO customer (id, external_id, name, type) VALUES (1, 'K1', 'E', 'B2C')")
        )
        for n in (1, 2):
            _invoice(conn, n)
            _state(conn, n)
    engine.dispose()
    init_db(db_url)  # the upgrade, as `mahnwerk init` makes it
    engine = make_engine(db_url)
    assert copies(engine) == {1: DUE[1], 2: DUE[2]}
    before = summary(engine)

    with engine.begin() as conn:  # an invoice's due date corrected
        conn.execute(text("UPDATE invoice SET due_date = '2026-01-26' WHERE id = 1"))
    assert copies(engine)[1] == date(2026, 1, 26)

    with engine.begin() as conn:  # writers that leave the copy out, or name a wrong one
        _invoice(conn, 3)
        _state(conn, 3)
        conn.execute(text("UPDATE dunning_state SET invoice_due_date = '2030-01-01'"))
    assert copies(engine) == {1: date(2026, 1, 26), 2: DUE[2], 3: DUE[3]}
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM dunning_state WHERE invoice_id = 3"))
        _state(conn, 3, ", invoice_due_date", ", '1999-12-31'")
    assert copies(engine)[3] == DUE[3]

    # the summary moved by the corrected due date and the new invoice, not by the copies
    with engine.begin() as conn:
        conn.execute(text("UPDATE invoice SET due_date = :d WHERE id = 1"), {"d": DUE[1]})
        conn.execute(text("DELETE FROM dunning_state WHERE invoice_id = 3"))
        conn.execute(text("DELETE FROM invoice WHERE id = 3"))
    assert summary(engine) == before
    engine.dispose()
