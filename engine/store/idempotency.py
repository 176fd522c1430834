"""The API's idempotency records (`idempotency_record`), for `service/idempotency`.

Part of the store layer (`engine/store/`).  The rule stays in the middleware: which
requests carry a key, the request's digest, replaying or refusing an earlier answer,
freeing a key after a server error.  Here are only the rows: found by token and key,
reserved (the unique key makes a second reservation fail with `IntegrityError`, which
the middleware turns into a 409), freed, or settled with the answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from mahnwerk.service.tables import IDEMPOTENCY


def record(conn: Connection, token_id: int, key: str) -> Any | None:
    """The record of this token's key, or None."""
    return conn.execute(
        select(IDEMPOTENCY).where(IDEMPOTENCY.c.token_id == token_id, IDEMPOTENCY.c.key == key)
    ).first()


def reserve(
    conn: Connection, token_id: int, key: str, method: str, path: str, digest: str, now: datetime
) -> int:
    """A new record without an answer yet; its id (`IntegrityError` if the key is taken)."""
    return conn.execute(
        insert(IDEMPOTENCY).values(
            token_id=token_id,
            key=key,
            method=method,
            path=path,
            request_hash=digest,
            created_at=now,
        )
    ).inserted_primary_key[0]


def free(conn: Connection, record_id: int) -> None:
    conn.execute(delete(IDEMPOTENCY).where(IDEMPOTENCY.c.id == record_id))


def settle(conn: Connection, record_id: int, status: int, response: str) -> None:
    """Keep the answer (status and the JSON of its type and body) for replays."""
    conn.execute(
        update(IDEMPOTENCY)
        .where(IDEMPOTENCY.c.id == record_id)
        .values(status_code=status, response=response)
    )
