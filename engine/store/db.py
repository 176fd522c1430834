"""Where the database is, how to connect to it, and how to bring its schema up to date.

One SQLite file is the default because a small firm runs mahnwerk on one
machine; PostgreSQL is there for several workers and a shared server.  Both
are configured here only, so the rest of the engine just receives an `Engine`.
The schema is owned by the Alembic migrations in `migrations/` (run by
`init_db`), never by `create_all`, so an existing database can be upgraded.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlmodel import Session

from mahnwerk.errors import MahnwerkError

ENV_VAR = "MAHNWERK_DB"
DEFAULT_URL = "sqlite:///mahnwerk.db"
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000
"""How long a SQLite writer waits for another one before giving up ("database is locked")."""


class DatabaseNotReady(MahnwerkError, RuntimeError):
    """The database has no mahnwerk schema, or an older one: `mahnwerk init` fixes both."""


def database_url(cli_value: str | None = None) -> str:
    """The URL to use: `--db`, else `$MAHNWERK_DB`, else `mahnwerk.db` in the current folder.

    A bare file path (no `://`) is taken as a SQLite file, so `--db books.db` works.
    """
    value = (cli_value or "").strip() or os.environ.get(ENV_VAR, "").strip() or DEFAULT_URL
    if "://" not in value:
        value = f"sqlite:///{value}"
    return value


def normalize_url(url: str | URL) -> URL:
    """Pick the psycopg 3 driver for PostgreSQL URLs written without a driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def describe_url(url: str | URL) -> str:
    """The URL for messages: password hidden, SQLite paths made absolute."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return f"sqlite:///{Path(parsed.database).resolve()}"
    return parsed.render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Per connection: WAL (readers don't block the writer), FKs enforced, wait when busy."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An `Engine` for `url`, with mahnwerk's settings for SQLite or PostgreSQL.

    Extra keyword arguments go to `sqlalchemy.create_engine` (e.g. `echo=True`).
    """
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **kwargs)


def alembic_config(url: str | URL | None = None) -> Config:
    """An Alembic `Config` without an ini file; also handy for writing new revisions.

    `command.revision(alembic_config(url), message="...", autogenerate=True)`
    writes a new file into `engine/migrations/versions/`.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        rendered = normalize_url(url).render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest migration this version of mahnwerk knows."""
    head = _scripts().get_current_head()
    assert head is not None, "no migrations found"
    return head


def _known(revision: str) -> bool:
    return any(script.revision == revision for script in _scripts().walk_revisions())


def _newer(where: str, revision: str) -> DatabaseNotReady:
    return DatabaseNotReady(
        f"{where} is at schema {revision}, made by a newer mahnwerk — upgrade mahnwerk"
    )


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None for a database mahnwerk never touched."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def ensure_ready(engine: Engine) -> None:
    """Refuse to work on a database whose schema is missing or older than this code."""
    current, head = current_revision(engine), head_revision()
    where = describe_url(engine.url)
    if current is None:
        raise DatabaseNotReady(f"{where} has no mahnwerk schema — run `mahnwerk init` first")
    if not _known(current):
        raise _newer(where, current)
    if current != head:
        raise DatabaseNotReady(
            f"{where} is at schema {current}, this mahnwerk needs {head} — "
            "run `mahnwerk init` to upgrade (back up the database first)"
        )


def init_db(url: str | URL) -> str:
    """Create the schema, or upgrade it to the newest migration; say what was done.

    Idempotent: on a database already at head nothing changes.  A database
    that has mahnwerk's tables but no migration history (made with
    `create_all`) is refused rather than guessed at.
    """
    engine = make_engine(url)
    where = describe_url(url)
    try:
        with engine.begin() as conn:
            before = MigrationContext.configure(conn).get_current_revision()
            if before is None and inspect(conn).has_table("customer"):
                raise DatabaseNotReady(
                    f"{where} has mahnwerk tables but no migration history — "
                    "it was not made by `mahnwerk init`; start from a new database"
                )
            if before is not None and not _known(before):
                raise _newer(where, before)
            config = alembic_config(url)
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            after = MigrationContext.configure(conn).get_current_revision()
            # PostgreSQL: the tables this upgrade added join the grants, in its transaction
            from mahnwerk.engine.store.grants import refresh_after_upgrade

            grants = refresh_after_upgrade(conn) if before != after else ""
    finally:
        engine.dispose()
    if before is None:
        return f"created database {where} at schema {after}"
    if before == after:
        return f"database {where} is up to date (schema {after})"
    done = f"upgraded database {where} from schema {before} to {after}"
    return f"{done}; {grants}" if grants else done


@contextmanager
def session(engine: Engine) -> Iterator[Session]:
    """A unit of work: commit when the block ends normally, roll back on any exception.

    Objects stay readable after the block (`expire_on_commit=False`): callers
    report what they wrote without a second round trip to the database.
    """
    with Session(engine, expire_on_commit=False) as s:
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise


__all__ = [
    "DEFAULT_URL",
    "ENV_VAR",
    "DatabaseNotReady",
    "alembic_config",
    "current_revision",
    "database_url",
    "describe_url",
    "ensure_ready",
    "head_revision",
    "init_db",
    "make_engine",
    "normalize_url",
    "session",
]
