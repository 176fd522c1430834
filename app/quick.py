"""`mahnwerk show INV` answered without loading the command line (issue 21: < 0.3 s).

The real command line imports Typer, SQLAlchemy, Alembic and the table metadata before it
reads a row — over a second of start-up for a read a script makes many times a day.  The
common case — `show INV` with `--db`, `--json`, `--as-of` on a SQLite file that is ready —
needs only `sqlite3`: this module answers it on a read-only connection, through the same
reader as the real command (`engine.timeline`) and the same proof of who is asking
(the OS user in the `person` table, or single-user mode) and role table
(`engine.roles.COMMANDS`).

It only ever answers the happy path.  Anything else — another option, a PostgreSQL URL, a
missing or not-ready database, an unknown invoice, a caller without the role — returns
False and the launcher hands the call to the real command line, which says what is wrong
in its own words.  A read changes nothing, so looking twice costs nothing but time.
"""

from __future__ import annotations

import json
import os
import pwd
import sqlite3
import sys
from datetime import date
from pathlib import Path

VERSIONS = Path(__file__).resolve().parent.parent / "engine" / "migrations" / "versions"
_INSTALLED = Path(__file__).resolve().parent / "engine" / "migrations" / "versions"


def head_revision() -> str | None:
    """The newest migration, from the files' names (`0020_….py` is revision 0020); the
    ids are their four-digit prefixes, which a test compares with Alembic's own head."""
    folder = VERSIONS if VERSIONS.is_dir() else _INSTALLED
    names = [p.name[:4] for p in folder.glob("[0-9][0-9][0-9][0-9]_*.py")]
    return max(names, default=None)


def _options(args: list[str]) -> dict[str, str | bool] | None:
    """`show INV [--db X] [--json] [--as-of DAY]`, or None for any other shape."""
    if len(args) < 2 or args[0] != "show":
        return None
    found: dict[str, str | bool] = {}
    rest = iter(args[1:])
    for arg in rest:
        name, eq, value = arg.partition("=")
        if name in ("--db", "--as-of"):
            value = value if eq else next(rest, "")
            if not value or name in found:
                return None
            found[name] = value
        elif arg == "--json" and arg not in found:
            found[arg] = True
        elif arg.startswith("-") or "invoice" in found:
            return None
        else:
            found["invoice"] = arg
    return found if "invoice" in found else None


def _sqlite_path(db: str | None) -> Path | None:
    value = (db or "").strip() or os.environ.get("MAHNWERK_DB", "").strip() or "mahnwerk.db"
    if value.startswith("sqlite:///"):
        value = value[len("sqlite:///") :]
    elif "://" in value:
        return None  # PostgreSQL and the like: the real command line
    if not value or "?" in value or value == ":memory:":
        return None
    path = Path(value)
    return path if path.is_file() and path.stat().st_size > 0 else None


def _may_show(conn: sqlite3.Connection) -> bool:
    """The caller proves who they are as `service.identity.whoami` does on SQLite."""
    from mahnwerk.engine.roles import COMMANDS, may
    from mahnwerk.engine.store.quick import anybody_registered, login_role

    role = login_role(conn, pwd.getpwuid(os.geteuid()).pw_name)
    if role is None:
        if anybody_registered(conn):
            return False  # not registered: the real command refuses, naming the login
        role = "admin"  # single-user mode
    return may(role, COMMANDS["show"])


def show(args: list[str]) -> bool:
    """Answer `mahnwerk show …` and return True, or return False to hand it on."""
    options = _options(args)
    if options is None:
        return False
    path = _sqlite_path(options.get("--db"))  # type: ignore[arg-type]
    if path is None:
        return False
    day = str(options.get("--as-of", ""))
    if day and (len(day) != 10 or day[4] != "-" or day[7] != "-"):
        return False  # 01.03.2026 and typos: the real command's parser and its messages
    try:
        as_of = date.fromisoformat(day) if day else None
    except ValueError:
        return False
    from mahnwerk.engine.store.quick import open_read_only, schema_revisions

    try:
        conn = open_read_only(path)
    except sqlite3.Error:
        return False
    try:
        from mahnwerk.engine.timeline import read_timeline, timeline_lines

        if schema_revisions(conn) != [head_revision()] or not _may_show(conn):
            return False
        data = read_timeline(conn, str(options["invoice"]), as_of)
    except (sqlite3.Error, ValueError):
        return False
    finally:
        conn.close()
    if data is None:
        return False
    if options.get("--json"):
        text = json.dumps(data, indent=2, ensure_ascii=False)
    else:
        text = "\n".join(timeline_lines(data))
    sys.stdout.write(text + "\n")
    return True
