"""The audit log's hash chain: seal new entries, verify the sealed ones.

The event log is append-only in the database (triggers refuse UPDATE, DELETE, an INSERT over
an existing id and, on PostgreSQL, TRUNCATE).  A person with the database file in hand can
still rewrite it outside mahnwerk — drop the triggers, edit a row, put them back.  The chain
makes such a rewrite visible: every sealed entry has a row in `event_seal` holding the hash of
its predecessor and its own hash, sha256 over the predecessor's hash and the entry's fields.
Changing, removing or inserting an entry in the sealed part breaks the chain from that entry
on, and `verify` names the first broken one.  (Whoever rewrites the seals as well can recompute
the whole chain; `verify` prints the head hash so it can be written down elsewhere — a printed
run report, a ticket — and compared later: `mahnwerk audit verify --head HASH`.)

Why sealing is a separate step and not part of every insert: events are written by the run,
its parallel workers, dispatch, imports, approvals and the UI, often at once.  A chain built
inside each insert would serialise all of them on the chain's head.  Instead `seal` runs after
the writers (at the end of `mahnwerk run` and `mahnwerk dispatch`, or `mahnwerk audit seal`),
takes the entries after the last sealed one in id order under a lock that also waits for the
event writers in flight (so an entry committed late is never skipped), and extends the chain in
one batch.  Entries not sealed yet are counted by `verify`, not judged.  A gap in the sealed
ids is legitimate (an id a rolled-back transaction used); an entry that appears inside the
sealed range later was inserted behind mahnwerk's back — `verify` reports it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine

from mahnwerk.engine.store import audit as store

GENESIS = "0" * 64
"""The predecessor hash of the first sealed entry."""

SEAL_BATCH = 20_000
_WIDTH = store.EVENT_WIDTH


@lru_cache(maxsize=1024)  # a run's entries share their `recorded_at`: converted once
def _instant(value: datetime) -> str:
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


_AS_TEXT: dict[type, Any] = {datetime: _instant, date: date.isoformat}
_AS_IS = frozenset({int, str, type(None)})


#: `json.dumps(…, ensure_ascii=False, separators=(",", ":"))`, its encoder made once
_CANONICAL = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def entry_hash(prev: str, values: Sequence[Any]) -> str:
    """sha256 over the predecessor's hash and the entry's fields (canonical JSON).

    `values` are the event's columns in table order.  Each field becomes stable text, so
    the same entry hashes alike on SQLite and PostgreSQL: instants in UTC to the
    microsecond, days as ISO dates, numbers and text as they are.  This runs once per log
    entry at the end of every run, so it avoids per-field calls where it can.
    """
    fields = [v if type(v) in _AS_IS else _AS_TEXT.get(type(v), str)(v) for v in values]
    blob = _CANONICAL([prev, fields])
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _lock(conn: Connection) -> None:
    """One sealer at a time, and no event writer in flight while it reads
    (`store.audit.lock`): sealing by `id > head` then never skips an entry that
    committed late."""
    store.lock(conn)


def _head(conn: Connection) -> tuple[int, int, str]:
    """(seq, event id, hash) of the newest seal, or the genesis."""
    row = store.newest_seal(conn)
    return (row.seq, row.event_id, row.hash) if row else (0, 0, GENESIS)


def head(engine: Engine) -> str:
    """The newest seal's hash (the genesis for an empty chain): write it down to anchor."""
    with engine.connect() as conn:
        return _head(conn)[2]


def seal(engine: Engine) -> int:
    """Extend the chain over every entry newer than the last sealed one; return how many.

    Costs what is new, not what is old: the entries after the head, read by primary key.
    """
    sealed = 0
    while True:
        with engine.begin() as conn:
            _lock(conn)
            seq, last_id, prev = _head(conn)
            rows = store.entries_after(conn, last_id, SEAL_BATCH)
            if not rows:
                return sealed
            seals = []
            for row in rows:
                seq += 1
                digest = entry_hash(prev, row)
                seals.append({"seq": seq, "event_id": row[_ID], "prev_hash": prev, "hash": digest})
                prev = digest
            store.add_seals(conn, seals)  # through the DBAPI (engine/store/bulk.py)
            sealed += len(seals)
        if len(rows) < SEAL_BATCH:
            return sealed


_ID = store.EVENT_ID_AT


@dataclass(frozen=True)
class Broken:
    """The first place where the chain does not hold."""

    seq: int
    event_id: int | None
    reason: str


@dataclass(frozen=True)
class Verdict:
    sealed: int
    unsealed: int
    head: str
    broken: Broken | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def verify(engine: Engine, head: str | None = None, batch: int = SEAL_BATCH) -> Verdict:
    """Recompute the chain from the first seal on; stop at the first entry that disagrees.

    `head`: a head hash written down earlier; the chain must still pass through it, else
    the entries sealed up to it were rewritten together with their seals.
    """
    prev, checked, last_seq, last_id, seen_head = GENESIS, 0, 0, 0, head is None
    with engine.connect() as conn:
        while True:
            rows = store.seals_with_entries(conn, last_seq, batch)
            for r in rows:
                problem = _check(r, prev, last_seq, last_id)
                if problem:
                    broken = Broken(r.seq, r.event_id, problem)
                    return Verdict(checked, _unsealed(conn, last_id), prev, broken)
                prev, last_seq, last_id = r.seal_hash, r.seq, r.event_id
                checked += 1
                seen_head = seen_head or r.seal_hash == head
            if len(rows) < batch:
                break
        unsealed = _unsealed(conn, last_id)
        intruder = _intruder(conn, last_id)
        if intruder is not None:
            broken = Broken(
                last_seq,
                intruder,
                f"entry #{intruder} is not in the chain although later entries are: "
                "it was inserted behind mahnwerk's back",
            )
            return Verdict(checked, unsealed, prev, broken)
        if not seen_head:
            broken = Broken(
                last_seq,
                None,
                f"the recorded head {head} is not in the chain: entries sealed up to it were "
                "rewritten or removed, together with their seals",
            )
            return Verdict(checked, unsealed, prev, broken)
        return Verdict(checked, unsealed, prev, None)


def _check(r: Any, prev: str, last_seq: int, last_id: int) -> str | None:
    if r.seq != last_seq + 1:
        return f"seal {last_seq + 1} is missing (the next one is {r.seq}): entries were removed"
    if r.id is None:
        return f"entry #{r.event_id} is gone from the log"
    if r.prev_hash != prev:
        return f"entry #{r.event_id}: the seal's predecessor hash does not match the chain"
    if r.event_id <= last_id:
        return f"entry #{r.event_id} is sealed out of order"
    if entry_hash(prev, tuple(r)[-_WIDTH:]) != r.seal_hash:
        return f"entry #{r.event_id} was changed after it was sealed"
    return None


def _intruder(conn: Connection, last_id: int) -> int | None:
    """The first entry inside the sealed range that has no seal."""
    return store.first_unsealed_within(conn, last_id)


def _unsealed(conn: Connection, last_id: int) -> int:
    """Entries after the last sealed one (the next `seal` takes them)."""
    return store.entries_after_count(conn, last_id)


__all__ = ["GENESIS", "Broken", "Verdict", "entry_hash", "head", "seal", "verify"]
