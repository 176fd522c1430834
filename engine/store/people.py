"""The service's people and API tokens (`person`, `api_token`), for `service/identity`.

Part of the store layer (`engine/store/`).  The rules stay in `service/identity`: who
a login proves, the roles, how a token is made and hashed (a token reaches this module
only as its SHA-256 hash).  Functions that take a `Connection` run in the caller's
transaction, so a check and the write it guards stay one transaction as before.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, text, update

from mahnwerk.service.tables import PERSON, TOKEN


def registered_count(conn: Connection) -> int:
    """How many people are registered and not disabled."""
    return conn.execute(
        select(func.count()).select_from(PERSON).where(PERSON.c.disabled_at.is_(None))
    ).scalar_one()


def session_user(conn: Connection) -> str:
    """PostgreSQL: the role the connection authenticated as (`SET ROLE` cannot change it)."""
    return conn.execute(text("SELECT session_user")).scalar_one()


def person_by_login(conn: Connection, db_role: bool, key: str) -> Any | None:
    """The enabled person whose database role (`db_role`) or OS user is `key`, or None."""
    column = PERSON.c.db_role if db_role else PERSON.c.os_user
    return conn.execute(select(PERSON).where(column == key, PERSON.c.disabled_at.is_(None))).first()


def clashing_person(
    conn: Connection, label: str, os_account: str | None, db_role: str | None
) -> Any | None:
    """A registered person with the same name (case-folded) or the same login, or None."""
    return conn.execute(
        select(PERSON.c.name).where(
            (func.lower(PERSON.c.name) == label.casefold())
            | ((PERSON.c.os_user == os_account) if os_account else False)
            | ((PERSON.c.db_role == db_role) if db_role else False)
        )
    ).first()


def insert_person(conn: Connection, **values: Any) -> None:
    conn.execute(insert(PERSON).values(**values))


def set_role(conn: Connection, name_key: str, role: str) -> int:
    """Give the person whose lower-cased name is `name_key` the role; rows changed."""
    return conn.execute(
        update(PERSON).where(func.lower(PERSON.c.name) == name_key).values(role=role)
    ).rowcount


def people(engine: Engine) -> list[Any]:
    """Every person's row, by name."""
    with engine.connect() as conn:
        return conn.execute(select(PERSON).order_by(PERSON.c.name)).all()


def insert_token(conn: Connection, **values: Any) -> int:
    """Store a token's row (its hash, never the token); returns its id."""
    return conn.execute(insert(TOKEN).values(**values)).inserted_primary_key[0]


def revoke_token(conn: Connection, token_id: int, now: datetime) -> int:
    """Revoke the token if it is active; rows changed."""
    return conn.execute(
        update(TOKEN)
        .where(TOKEN.c.id == token_id, TOKEN.c.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount


def tokens(engine: Engine) -> list[Any]:
    """Every token's row, by id."""
    with engine.connect() as conn:
        return conn.execute(select(TOKEN).order_by(TOKEN.c.id)).all()


def active_token(conn: Connection, digest: str) -> Any | None:
    """The unrevoked token with this hash (id, acts_as, role, name), or None."""
    return conn.execute(
        select(TOKEN.c.id, TOKEN.c.acts_as, TOKEN.c.role, TOKEN.c.name).where(
            TOKEN.c.token_hash == digest, TOKEN.c.revoked_at.is_(None)
        )
    ).first()


def active_token_id(conn: Connection, digest: str) -> int | None:
    """The id of the unrevoked token with this hash, or None."""
    return conn.execute(
        select(TOKEN.c.id).where(TOKEN.c.token_hash == digest, TOKEN.c.revoked_at.is_(None))
    ).scalar()
