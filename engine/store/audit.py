"""What the audit log's hash chain reads and writes (`event`, `event_seal`), for
`engine/audit`.

Part of the store layer (`engine/store/`).  The chain's rules — the hash of an entry,
what makes it broken, sealing in batches after the writers — stay in `engine/audit`;
here are the lock that makes a seal see every committed entry, the reads of the head,
of the entries after it and of the seals with their entries, and the seals' insert.
Each works in the connection (and transaction) `engine/audit` opens.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select, text

from mahnwerk.engine.models import EVENT, EVENT_SEAL
from mahnwerk.engine.store import bulk

EVENT_WIDTH = len(EVENT.columns)
"""How many columns an entry has: the last ones of a row of `seals_with_entries`."""
EVENT_ID_AT = [c.name for c in EVENT.columns].index("id")
"""Where the entry's id is among its columns (table order)."""


def lock(conn: Connection) -> None:
    """One sealer at a time, and no event writer in flight while it reads.

    SQLite: taking the write lock does both.  PostgreSQL: `SHARE` on `event` waits for every
    transaction that is inserting events and holds new ones back until the seal commits, so
    every entry with an id below the newest is committed when the sealer reads: sealing by
    `id > head` then never skips one that committed late.
    """
    if conn.dialect.name == "postgresql":
        # LOCK TABLE event_seal IN EXCLUSIVE MODE; LOCK TABLE event IN SHARE MODE — with
        # the owner's rights (migration 0021): a person's login may not lock the log itself
        conn.execute(text("SELECT seal_lock()"))
    else:
        conn.exec_driver_sql("UPDATE event_seal SET hash = hash WHERE 0")  # the write lock


def newest_seal(conn: Connection) -> Any:
    """The newest seal (`seq`, `event_id`, `hash`), or None for an empty chain."""
    return conn.execute(
        select(EVENT_SEAL.c.seq, EVENT_SEAL.c.event_id, EVENT_SEAL.c.hash)
        .order_by(EVENT_SEAL.c.seq.desc())
        .limit(1)
    ).first()


def entries_after(conn: Connection, last_id: int, limit: int) -> list[tuple[Any, ...]]:
    """The next `limit` entries after `last_id` in id order, each its columns' values in
    table order as SQLAlchemy reads them.  On SQLite through the DBAPI cursor, each column
    through SQLAlchemy's own result processor, once per distinct value (a run's entries
    share their instant and day): building a `Row` for each of a run's entries cost more
    than hashing it."""
    if conn.dialect.name != "sqlite":
        query = select(EVENT).where(EVENT.c.id > last_id).order_by(EVENT.c.id).limit(limit)
        return [tuple(row) for row in conn.execute(query)]
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(
            f"SELECT {', '.join(c.name for c in EVENT.columns)} FROM event "
            "WHERE id > ? ORDER BY id LIMIT ?",
            (last_id, limit),
        )
        rows = cursor.fetchall()
    finally:
        cursor.close()
    processors = [c.type._cached_result_processor(conn.dialect, None) for c in EVENT.columns]
    return bulk.by_column(rows, processors)


def add_seals(conn: Connection, seals: list[dict[str, Any]]) -> None:
    """The new seals (`seq`, `event_id`, `prev_hash`, `hash`), through the DBAPI
    (`engine/store/bulk.py`): a run's entries are sealed at its end, thousands at once."""
    bulk.insert_rows(conn, EVENT_SEAL, seals)


def seals_with_entries(conn: Connection, after_seq: int, limit: int) -> list[Any]:
    """The next `limit` seals after `after_seq` in order, each with its entry's columns
    last (`seq`, `event_id`, `prev_hash`, `seal_hash`, then the entry's columns, None
    where the entry is gone)."""
    return conn.execute(
        select(
            EVENT_SEAL.c.seq,
            EVENT_SEAL.c.event_id,
            EVENT_SEAL.c.prev_hash,
            EVENT_SEAL.c.hash.label("seal_hash"),
            *EVENT.columns,
        )
        .select_from(EVENT_SEAL.outerjoin(EVENT, EVENT.c.id == EVENT_SEAL.c.event_id))
        .where(EVENT_SEAL.c.seq > after_seq)
        .order_by(EVENT_SEAL.c.seq)
        .limit(limit)
    ).all()


def first_unsealed_within(conn: Connection, last_id: int) -> int | None:
    """The first entry up to `last_id` that has no seal (None: there is none)."""
    sealed = select(EVENT_SEAL.c.event_id).where(EVENT_SEAL.c.event_id == EVENT.c.id)
    return conn.execute(
        select(func.min(EVENT.c.id)).where(EVENT.c.id <= last_id, ~sealed.exists())
    ).scalar_one()


def entries_after_count(conn: Connection, last_id: int) -> int:
    """How many entries come after `last_id`."""
    return conn.execute(
        select(func.count()).select_from(EVENT).where(EVENT.c.id > last_id)
    ).scalar_one()
