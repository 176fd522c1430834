"""What the command line reads of an SQLite file before it loads anything heavy.

Part of the store layer (`engine/store/`), through `sqlite3` alone: no SQLAlchemy is
imported, so `mahnwerk show INV` (`app/quick.py`) answers in well under 0.3 s (issue
21), and `open_engine` (`app/options.py`) can look at a file read-only before
mahnwerk's connection settings write to it.  The rules stay with the callers: which
revision is ready, who may show, what a refused file is called.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def open_read_only(path: Path) -> sqlite3.Connection:
    """The SQLite file, opened read-only (`sqlite3.Error` if it cannot be)."""
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def schema_revisions(conn: sqlite3.Connection) -> list[str]:
    """The Alembic revisions the file says it is at (`sqlite3.DatabaseError` when it has
    no such table or is no database)."""
    return [r[0] for r in conn.execute("SELECT version_num FROM alembic_version").fetchall()]


def login_role(conn: sqlite3.Connection, os_user: str) -> str | None:
    """The role of the enabled person the OS user proves, or None."""
    row = conn.execute(
        "SELECT role FROM person WHERE os_user = ? AND disabled_at IS NULL", (os_user,)
    ).fetchone()
    return None if row is None else row[0]


def anybody_registered(conn: sqlite3.Connection) -> bool:
    """Whether any enabled person is registered (else single-user mode)."""
    return bool(conn.execute("SELECT count(*) FROM person WHERE disabled_at IS NULL").fetchone()[0])
