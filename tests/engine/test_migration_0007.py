"""Migration 0007 on a database that has data: invoices and bank entries carried over."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import select, text

from mahnwerk.engine import models as m
from mahnwerk.engine.bank import read_statement
from mahnwerk.engine.store.db import alembic_config, init_db, make_engine

CAMT = Path(__file__).parents[1] / "data" / "bank" / "overlap" / "camt053_0317_0318.xml"


def test_0007_keys_stored_entries_anew_and_flags_intake(db_url: str) -> None:
    command.upgrade(alembic_config(db_url), "0006")
    engine = make_engine(db_url)
    now = datetime(2026, 3, 18, tzinfo=UTC)
    with engine.begin() as conn:  # plain SQL: the models already know later columns
        conn.execute(
            text("INSERT INTO customer (id, external_id, name, type) VALUES (1, 'K1', 'E', 'B2C')")
        )
        for n in (1, 2):
            conn.execute(
                text(
                    "INSERT INTO invoice (id, external_id, customer_id, issue_date, due_date, "
                    "amount, currency) VALUES (:n, :e, 1, '2026-01-01', '2026-02-01', 10, 'EUR')"
                ),
                {"n": n, "e": f"R{n}"},
            )
        conn.execute(
            text(
                "INSERT INTO dunning_state (invoice_id, segment, ladder, state, entered_on) "
                "VALUES (1, 'default', 'standard', 'open', '2026-01-01')"
            )
        )
        for n, entry in enumerate(read_statement(CAMT)):
            conn.execute(
                text(
                    "INSERT INTO bank_entry (entry_key, account, statement, booked_on, value_date,"
                    " amount, currency, direction, kind, end_to_end_id, remittance, file, status,"
                    " imported_at) VALUES (:k, :a, :s, :b, :v, :amt, 'EUR', :d, :kind, :e2e, :r,"
                    " 'x.xml', 'unmatched', :now)"
                ),
                {
                    "k": f"old-key-{n}", "a": entry.account, "s": entry.statement,
                    "b": entry.booked_on, "v": entry.value_date, "amt": str(entry.amount),
                    "d": entry.direction, "kind": entry.kind, "e2e": entry.end_to_end_id or None,
                    "r": entry.remittance, "now": now.isoformat(),
                },
            )
    engine.dispose()
    init_db(db_url)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        keys = list(conn.execute(select(m.BANK_ENTRY.c.entry_key).order_by(m.BANK_ENTRY.c.id)))
        pending = dict(conn.execute(select(m.INV.c.external_id, m.INV.c.intake_pending)).all())
    engine.dispose()
    assert [k for (k,) in keys] == [e.key for e in read_statement(CAMT)]
    assert {k: bool(v) for k, v in pending.items()} == {"R1": False, "R2": True}
