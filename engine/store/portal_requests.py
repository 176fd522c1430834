"""What the portal keeps of its requests: rate-limit counts (`portal_hit`), one-use form
tokens (`portal_form`), visits (`portal_visit`) and dispute uploads (`portal_upload`).

Part of the store layer (`engine/store/`), for `portal/guard` and `portal/actions`.
The rules stay there: the sliding minute and what is over it, the keys' hashing, how
long a form token and a client address are kept, what an upload may be.  Here are the
rows, each in the caller's transaction, so a refused action spends no form token.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from mahnwerk.portal.tables import PORTAL_FORM, PORTAL_HIT, PORTAL_LINK, PORTAL_UPLOAD, PORTAL_VISIT


def count_hit(conn: Connection, key: str, minute: int) -> None:
    """One more hit for `key` in `minute`: an upsert, atomic in SQLite and PostgreSQL."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    conn.execute(
        upsert(PORTAL_HIT)
        .values(key=key, minute=minute, hits=1)
        .on_conflict_do_update(
            index_elements=[PORTAL_HIT.c.key, PORTAL_HIT.c.minute],
            set_={"hits": PORTAL_HIT.c.hits + 1},
        )
    )


def hits(conn: Connection, keys: Iterable[str], since_minute: int) -> list[Any]:
    """(key, minute, hits) of the keys from `since_minute` on."""
    return conn.execute(
        select(PORTAL_HIT.c.key, PORTAL_HIT.c.minute, PORTAL_HIT.c.hits).where(
            PORTAL_HIT.c.key.in_(list(keys)), PORTAL_HIT.c.minute >= since_minute
        )
    ).all()


def sweep_hits(conn: Connection, before_minute: int) -> None:
    conn.execute(delete(PORTAL_HIT).where(PORTAL_HIT.c.minute < before_minute))


def add_form(conn: Connection, nonce: str, link_id: str, now: datetime) -> None:
    conn.execute(insert(PORTAL_FORM).values(nonce=nonce, link_id=link_id, created_at=now))


def spend_form(
    conn: Connection, link_id: str, nonce: str, now: datetime, made_after: datetime
) -> int:
    """Mark the link's unspent token made after `made_after` used; rows changed (0 or 1)."""
    return conn.execute(
        update(PORTAL_FORM)
        .where(
            PORTAL_FORM.c.nonce == nonce,
            PORTAL_FORM.c.link_id == link_id,
            PORTAL_FORM.c.used_at.is_(None),
            PORTAL_FORM.c.created_at > made_after,
        )
        .values(used_at=now)
    ).rowcount


def drop_forms(conn: Connection, made_before: datetime) -> None:
    conn.execute(delete(PORTAL_FORM).where(PORTAL_FORM.c.created_at < made_before))


def add_visit(conn: Connection, **values: Any) -> int:
    return conn.execute(insert(PORTAL_VISIT).values(**values)).inserted_primary_key[0]


def erase_addresses(conn: Connection, before: datetime) -> int:
    """Erase the client addresses of visits before the instant; rows changed."""
    return conn.execute(
        update(PORTAL_VISIT)
        .where(PORTAL_VISIT.c.at < before, PORTAL_VISIT.c.client_address.is_not(None))
        .values(client_address=None)
    ).rowcount


def erase_customer_addresses(conn: Connection, customer_id: int) -> int:
    """Erase the client addresses of every visit through the customer's links; rows changed."""
    links = select(PORTAL_LINK.c.id).where(PORTAL_LINK.c.customer_id == customer_id)
    return conn.execute(
        update(PORTAL_VISIT)
        .where(PORTAL_VISIT.c.link_id.in_(links), PORTAL_VISIT.c.client_address.is_not(None))
        .values(client_address=None)
    ).rowcount


def add_upload(conn: Connection, **values: Any) -> int:
    return conn.execute(insert(PORTAL_UPLOAD).values(**values)).inserted_primary_key[0]
