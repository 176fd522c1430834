"""What every database command shares: the `--db` option and opening the database.

Kept apart from `cli.py` so the command modules (`cmd_*.py`) can use them without
importing the whole command line.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from mahnwerk.boundary import database_problem, note_database
from mahnwerk.engine.store.db import (
    DatabaseNotReady,
    database_url,
    describe_url,
    ensure_ready,
    make_engine,
    normalize_url,
)
from mahnwerk.engine.store.quick import open_read_only, schema_revisions

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (sqlite:///file.db, postgresql://...) or a SQLite file path. "
        "Default: $MAHNWERK_DB, else mahnwerk.db in the current folder.",
        show_default=False,
    ),
]

WaitOption = Annotated[
    float,
    typer.Option(
        "--wait",
        help="Seconds to wait while another run or import writes the book; then give up "
        "and say who holds it.",
    ),
]
"""Runs and imports write the book one at a time (engine/store/lease.py)."""
DEFAULT_WAIT = 30.0


def open_engine(db: str | None) -> Engine:
    """The database of `--db` ($MAHNWERK_DB, mahnwerk.db), ready for this mahnwerk version.

    A database that is missing, too old or too new, not a database at all, or cannot be
    reached raises `DatabaseNotReady` naming it; the CLI's boundary prints it.  A missing
    SQLite file is refused before connecting, because connecting would create an empty
    file and a refused command must leave nothing behind.
    """
    url = database_url(db)
    parsed = normalize_url(url)
    where = describe_url(parsed)
    note_database(where)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not path.exists():
            raise DatabaseNotReady(
                f"{where}: no such database",
                hint="check --db / $MAHNWERK_DB, or create it with `mahnwerk init`",
            )
        if path.is_dir():
            raise DatabaseNotReady(f"{where} is a folder, not a database file", hint="check --db")
        _probe_sqlite(path, where)
    engine = make_engine(url)
    try:
        ensure_ready(engine)
    except DatabaseNotReady:
        engine.dispose()
        raise
    except SQLAlchemyError as exc:
        engine.dispose()
        what, todo = database_problem(exc)
        raise DatabaseNotReady(what, hint=todo) from None
    return engine


def _probe_sqlite(path: Path, where: str) -> None:
    """Look at an SQLite file read-only before mahnwerk's connection settings touch it.

    Connecting switches the file to WAL mode, which writes to it: an empty file would become
    a 4 KB database, another program's database would change its journal.  A refused command
    must leave both as they were, so they are refused here, read-only.
    """
    if path.stat().st_size == 0:
        raise DatabaseNotReady(
            f"{where} is an empty file, not a mahnwerk database",
            hint="check --db / $MAHNWERK_DB, or create the database with `mahnwerk init`",
        )
    try:
        conn = open_read_only(path)
    except sqlite3.Error:
        return  # not readable at all: the real connection reports why
    try:
        schema_revisions(conn)
    except sqlite3.DatabaseError as exc:
        text = str(exc)
        if "no such table" in text:
            raise DatabaseNotReady(
                f"{where} has no mahnwerk schema",
                hint="check --db / $MAHNWERK_DB, or run `mahnwerk init` on a new file",
            ) from None
        if "not a database" in text or "malformed" in text:
            raise DatabaseNotReady(
                f"{where}: the file is not an SQLite database", hint="check --db or $MAHNWERK_DB"
            ) from None
    finally:
        conn.close()


def day_option(text: str, option: str) -> date:
    """A date typed after `option` (2026-03-01 or 01.03.2026), read by the importer's parser.

    A date that does not exist is a usage error naming the option and the text.
    """
    from mahnwerk.engine.importer import CellError, parse_date
    from mahnwerk.errors import EXIT_USAGE, MahnwerkError

    try:
        return parse_date(text)
    except CellError as exc:
        raise MahnwerkError(f"{option}: {exc}", exc.hint, EXIT_USAGE) from None
