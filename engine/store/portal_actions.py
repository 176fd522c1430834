"""What the portal's actions write through the engine's own doors, for `portal/actions`.

Part of the store layer (`engine/store/`).  An action's rules stay in `portal/actions`
(whose invoice it is, which dates and counts the policy allows, cleaning free text);
here are its writes, each in the action's one transaction: an event for the next run
(`inbox`), an entry in the append-only `event` log, and the customer's changed contact
columns.  The upload's row is written by `engine/store/portal_requests`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, update

from mahnwerk.engine.models import CUST, EVENT, INBOX


def add_inbox(conn: Connection, **values: Any) -> None:
    conn.execute(insert(INBOX).values(**values))


def add_event(conn: Connection, **values: Any) -> None:
    conn.execute(insert(EVENT).values(**values))


def change_customer(conn: Connection, customer_id: int, values: dict[str, Any]) -> None:
    conn.execute(update(CUST).where(CUST.c.id == customer_id).values(values))
