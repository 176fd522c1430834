"""The audit log is append-only for real, and a rewrite outside mahnwerk is detected.

* The database refuses what the triggers of 0001 let through: `INSERT OR REPLACE` over an
  existing entry on SQLite, `TRUNCATE event` on PostgreSQL.
* Every run and dispatch seals its entries into a hash chain; `mahnwerk audit verify`
  recomputes it and names the first broken entry.  The tests tamper with the raw SQLite file
  the way someone with the file in hand would (Python's `sqlite3`, triggers dropped first).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from mahnwerk.cli import app

DATA = Path(__file__).resolve().parent.parent / "data"
POLICY = Path(__file__).resolve().parent.parent.parent / "policies" / "de_b2c_standard.mahn"
runner = CliRunner()


def cli(*args: str, code: int = 0):
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    assert result.exit_code == code, result.output
    return result


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> Path:
    """A small book with a history: imported, deployed, run on three days (each run seals)."""
    db = str(tmp_path_factory.mktemp("audit") / "book.db")
    cli("init", "--db", db)
    cli("import", "customers", str(DATA / "customers_utf8.csv"), "--db", db)
    cli("import", "invoices", str(DATA / "invoices_comma.csv"), "--db", db)
    cli("policy", "deploy", str(POLICY), "--yes", "--db", db)
    for day in ("2024-04-20", "2024-05-20", "2024-06-20"):
        cli("run", "--as-of", day, "--db", db)
    return Path(db)


@pytest.fixture
def book(history: Path, tmp_path: Path) -> Path:
    """A copy of the book for one test to tamper with."""
    copy = tmp_path / "book.db"
    source, target = sqlite3.connect(history), sqlite3.connect(copy)
    try:
        source.backup(target)  # the whole database, also what still sits in the WAL file
    finally:
        source.close()
        target.close()
    return copy


def raw(db: Path, *statements: str) -> None:
    """Change the file outside mahnwerk."""
    conn = sqlite3.connect(db)
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


def entries(db: Path) -> list[int]:
    conn = sqlite3.connect(db)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM event ORDER BY id")]
    finally:
        conn.close()


def test_a_fresh_log_verifies_and_every_entry_is_sealed(book):
    ids = entries(book)
    assert len(ids) >= 8
    out = cli("audit", "verify", "--db", str(book)).output
    assert f"audit log intact: {len(ids)} sealed entries, head " in out
    assert "not sealed" not in out


def test_insert_or_replace_over_an_existing_entry_is_refused_on_sqlite(book):
    first = entries(book)[0]
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw(
            book,
            "INSERT OR REPLACE INTO event (id, kind, occurred_on, recorded_at, actor, message, "
            f"payload) VALUES ({first}, 'note', '2024-01-01', '2024-01-01 00:00:00', 'x', "
            "'rewritten', '{}')",
        )
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw(book, "UPDATE event_seal SET hash = 'x' WHERE seq = 1")
    cli("audit", "verify", "--db", str(book))


def test_an_entry_changed_outside_mahnwerk_is_named(book):
    victim = entries(book)[4]
    raw(
        book,
        "DROP TRIGGER event_no_update",
        f"UPDATE event SET message = 'Zahlung erhalten' WHERE id = {victim}",
    )
    out = cli("audit", "verify", "--db", str(book), code=1).output
    assert out.startswith("error: the audit log was changed outside mahnwerk: ")
    assert f"entry #{victim} was changed after it was sealed" in out
    assert "4 entries before it are intact" in out


def test_a_removed_entry_is_named(book):
    victim = entries(book)[2]
    raw(book, "DROP TRIGGER event_no_delete", f"DELETE FROM event WHERE id = {victim}")
    out = cli("audit", "verify", "--db", str(book), code=1).output
    assert f"entry #{victim} is gone from the log" in out


def test_an_entry_put_back_under_its_id_with_other_content_is_named(book):
    victim = entries(book)[3]
    raw(
        book,
        "DROP TRIGGER event_no_delete",
        "CREATE TEMP TABLE saved AS SELECT * FROM event WHERE id = " + str(victim),
        f"DELETE FROM event WHERE id = {victim}",
        "UPDATE saved SET actor = 'anna.schulz'",
        "INSERT INTO event SELECT * FROM saved",
    )
    out = cli("audit", "verify", "--db", str(book), code=1).output
    assert f"entry #{victim} was changed after it was sealed" in out


def test_a_rewrite_of_the_tail_with_its_seals_is_caught_by_the_recorded_head(book):
    head = cli("audit", "verify", "--db", str(book)).output.split("head ")[1].split()[0]
    last = entries(book)[-1]
    raw(
        book,
        "DROP TRIGGER event_no_update",
        "DROP TRIGGER event_seal_no_delete",
        f"UPDATE event SET message = 'storniert' WHERE id = {last}",
        f"DELETE FROM event_seal WHERE event_id = {last}",
    )
    # Without the head written down, the rewritten entry looks merely unsealed ...
    out = cli("audit", "verify", "--db", str(book)).output
    assert "1 newer entry not sealed yet" in out
    # ... with it, the rewrite is plain.
    out = cli("audit", "verify", "--head", head, "--db", str(book), code=1).output
    assert f"the recorded head {head} is not in the chain" in out


def test_new_entries_are_sealed_by_the_next_run_or_by_audit_seal(book):
    raw(
        book,
        "INSERT INTO event (kind, occurred_on, recorded_at, actor, message, payload) "
        "VALUES ('note', '2024-07-01', '2024-07-01 10:00:00', 'tui', 'Rückruf erbeten', '{}')",
    )
    assert "1 newer entry not sealed yet" in cli("audit", "verify", "--db", str(book)).output
    assert "sealed 1 new entry" in cli("audit", "seal", "--db", str(book)).output
    assert "not sealed" not in cli("audit", "verify", "--db", str(book)).output


def test_truncating_the_log_is_refused_on_postgresql(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's; SQLite has none (DELETE is refused above)")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO event (kind, occurred_on, recorded_at, actor, message, payload) "
                "VALUES ('note', '2024-07-01', now(), 'test', 'bleibt', '{}')"
            )
        )
    for table in ("event", "event_seal"):
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {table}"))
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO event (id, kind, occurred_on, recorded_at, actor, message, "
                    "payload) SELECT id, kind, occurred_on, recorded_at, actor, 'neu', payload "
                    "FROM event ON CONFLICT (id) DO UPDATE SET message = 'neu'"
                )
            )
    with engine.connect() as conn:
        assert conn.execute(text("SELECT message FROM event")).scalar_one() == "bleibt"
