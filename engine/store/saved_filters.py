"""The operators' saved queue filters (`saved_filter`), for `engine/saved_filters`.

Part of the store layer (`engine/store/`): the list of one operator's filters, the
write that replaces a filter of that name, and on PostgreSQL the person the login
proves, which the write hands to the owner check before it changes anything.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine, delete, insert, select, text

from mahnwerk.engine.models import SAVED_FILTER


def login_person(conn: Connection) -> str | None:
    """On PostgreSQL the person the login proves (`person.db_role`); None on SQLite,
    where the TUI passes the proven OS user's name, or for a login that is nobody's."""
    if conn.dialect.name != "postgresql":
        return None
    return conn.execute(
        text("SELECT name FROM person WHERE db_role = session_user AND disabled_at IS NULL")
    ).scalar()


def replace_filter(
    engine: Engine,
    operator: str,
    name: str,
    values: dict[str, object],
    check_owner: Callable[[str | None], None],
) -> None:
    """Saves `operator`'s filter `name` (replacing one of that name) in one transaction,
    after `check_owner` has seen the login's person and not refused."""
    with engine.begin() as conn:
        check_owner(login_person(conn))
        conn.execute(
            delete(SAVED_FILTER).where(
                SAVED_FILTER.c.operator == operator, SAVED_FILTER.c.name == name
            )
        )
        conn.execute(insert(SAVED_FILTER).values(operator=operator, name=name, **values))


def saved_filters(engine: Engine, operator: str) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(SAVED_FILTER)
            .where(SAVED_FILTER.c.operator == operator)
            .order_by(SAVED_FILTER.c.name)
        ).all()
    return [dict(r._mapping) for r in rows]
