"""What every database command shares: the `--db` option and opening the database.

Kept apart from `cli.py` so the command modules (`cmd_*.py`) can use them without
importing the whole command line.
"""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from mahnwerk.engine.db import DatabaseNotReady, database_url, ensure_ready, make_engine

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (sqlite:///file.db, postgresql://...) or a SQLite file path. "
        "Default: $MAHNWERK_DB, else mahnwerk.db in the current folder.",
        show_default=False,
    ),
]


def open_engine(db: str | None) -> Engine:
    """The database of `--db` ($MAHNWERK_DB, mahnwerk.db), ready for this mahnwerk version.

    A database that is missing, too old or too new, or cannot be reached ends the command
    with `error: …` on stderr and exit code 1.
    """
    engine = make_engine(database_url(db))
    try:
        ensure_ready(engine)
    except (DatabaseNotReady, SQLAlchemyError) as exc:
        engine.dispose()
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    return engine
