"""An operator's named queue filters (`state=mahnung_2 amount>=100`, sorted by balance).

Kept per operator in `saved_filter`; saving under a name that exists replaces it.  A
person's filters are theirs: on PostgreSQL another login may read but not change them
(row-level security, and `FilterRefused` here first).
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, delete, insert, select, text
from sqlalchemy.exc import ProgrammingError

from mahnwerk.engine.models import SAVED_FILTER
from mahnwerk.errors import MahnwerkError

INSUFFICIENT_PRIVILEGE = "42501"  # PostgreSQL's SQLSTATE, row-level security's too


class FilterRefused(MahnwerkError, PermissionError):
    """A saved filter is its owner's: nobody else's login may change it."""


def _check_owner(conn: Connection, operator: str) -> None:
    """On PostgreSQL the login proves a person (`person.db_role`): refuse, before writing,
    to save under another person's name; row-level security refuses it too (`OWN_ROWS`
    in `service.grants`), this only says so plainly."""
    if conn.dialect.name != "postgresql":
        return  # SQLite: the TUI passes the proven OS user's name
    me = conn.execute(
        text("SELECT name FROM person WHERE db_role = session_user AND disabled_at IS NULL")
    ).scalar()
    if me is not None and me != operator:
        raise FilterRefused(
            f"the saved filters of {operator} are theirs: you are {me}; "
            "save it under your own name; nothing was changed"
        )


def save_filter(
    engine: Engine, operator: str, name: str, line: str, sort: str, descending: bool
) -> None:
    name = name.strip()
    if not name:
        raise ValueError("a saved filter needs a name")
    try:
        with engine.begin() as conn:
            _check_owner(conn, operator)
            conn.execute(
                delete(SAVED_FILTER).where(
                    SAVED_FILTER.c.operator == operator, SAVED_FILTER.c.name == name
                )
            )
            conn.execute(
                insert(SAVED_FILTER).values(
                    operator=operator, name=name, line=line, sort=sort, descending=descending
                )
            )
    except ProgrammingError as exc:
        if getattr(exc.orig, "sqlstate", None) != INSUFFICIENT_PRIVILEGE:
            raise
        raise FilterRefused(
            f"the database refused to save filter {name!r} for {operator}: a login may "
            "change only its own person's saved filters; nothing was changed"
        ) from exc


def saved_filters(engine: Engine, operator: str) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(SAVED_FILTER)
            .where(SAVED_FILTER.c.operator == operator)
            .order_by(SAVED_FILTER.c.name)
        ).all()
    return [dict(r._mapping) for r in rows]
