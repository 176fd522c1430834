"""The portal's personal links and signing key (`portal_link`, `portal_key`).

Part of the store layer (`engine/store/`), for `portal/links` and `portal/guard`.  The
rules stay there: the link id's randomness, the signature over id, customer number and
expiry, the constant-time check, when a link is reused.  Here are the rows, each in
the caller's transaction: the database's own key (made once), a customer by number,
a link written, the customer's newest usable link, a link with its customer's number,
and revocations one by one or of a whole customer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from mahnwerk.engine.models import CUST
from mahnwerk.portal.tables import PORTAL_KEY, PORTAL_LINK


def stored_key(conn: Connection) -> str | None:
    """The database's signing secret (the first one made), or None."""
    row = conn.execute(select(PORTAL_KEY.c.secret).order_by(PORTAL_KEY.c.id)).first()
    return None if row is None else row.secret


def add_key(conn: Connection, secret: str, now: datetime) -> None:
    conn.execute(insert(PORTAL_KEY).values(secret=secret, created_at=now))


def customer(conn: Connection, number: str) -> Any | None:
    """The customer's `id` and `external_id` by number, or None."""
    return conn.execute(
        select(CUST.c.id, CUST.c.external_id).where(CUST.c.external_id == number)
    ).first()


def add_link(conn: Connection, **values: Any) -> None:
    conn.execute(insert(PORTAL_LINK).values(**values))


def newest_link(conn: Connection, customer_id: int, expiring_after: datetime) -> Any | None:
    """The customer's unrevoked link that expires last, if it expires after the instant."""
    return conn.execute(
        select(PORTAL_LINK)
        .where(
            PORTAL_LINK.c.customer_id == customer_id,
            PORTAL_LINK.c.revoked_at.is_(None),
            PORTAL_LINK.c.expires_at > expiring_after,
        )
        .order_by(PORTAL_LINK.c.expires_at.desc())
    ).first()


def link_with_customer(conn: Connection, link_id: str) -> Any | None:
    """The link's row with its customer's number (`external_id`), or None."""
    return conn.execute(
        select(PORTAL_LINK, CUST.c.external_id)
        .join(CUST, CUST.c.id == PORTAL_LINK.c.customer_id)
        .where(PORTAL_LINK.c.id == link_id)
    ).first()


def _revoke(conn: Connection, which: Any, by: str, now: datetime) -> int:
    return conn.execute(
        update(PORTAL_LINK)
        .where(which, PORTAL_LINK.c.revoked_at.is_(None))
        .values(revoked_at=now, revoked_by=by)
    ).rowcount


def revoke_link(conn: Connection, link_id: str, by: str, now: datetime) -> int:
    """Revoke the link if it is active; rows changed."""
    return _revoke(conn, PORTAL_LINK.c.id == link_id, by, now)


def customer_id(conn: Connection, number: str) -> int | None:
    return conn.execute(select(CUST.c.id).where(CUST.c.external_id == number)).scalar()


def revoke_customer_links(conn: Connection, customer_id: int, by: str, now: datetime) -> int:
    """Revoke every active link of the customer; rows changed."""
    return _revoke(conn, PORTAL_LINK.c.customer_id == customer_id, by, now)
