"""One writer of the book at a time: the lease a run or an import holds while it writes.

PostgreSQL runs share a day between workers with `FOR UPDATE SKIP LOCKED`, but that only
keeps *claimed rows* apart: two whole runs for the same date on one SQLite file (no row
locks, no SKIP LOCKED) each took every due invoice and booked fees, interest and approvals
twice; an import running beside a run waited on SQLite's file lock and then failed with a
raw `database is locked`.  So every run and every import first takes the *book lease*: one
row in `book_lease`, on every backend.  Whoever finds it held waits up to a stated time,
then stops with a sentence that names the holder (what it does, process, machine, since
when) — never a traceback, and never a second booking.

A holder that died (kill -9, a power cut) cannot release its lease, so a lease is taken
over when its holder is gone: on the same machine when its process no longer exists, from
another machine when it has given no sign of life (`heartbeat_at`) for `STALE_AFTER`.
Runs renew the heartbeat with every batch.

The lease is a plain row, not a database lock, so that both backends behave alike, so
that the holder is visible to a person (`mahnwerk` prints it; a DBA can read the table),
and so that a long import's write transaction never has to share the file with it.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from mahnwerk import clock as wall_clock
from mahnwerk.engine.models import LEASE
from mahnwerk.errors import MahnwerkError

BOOK = "book"
"""The one lease name: runs and imports all write the same book."""
STALE_AFTER = timedelta(minutes=10)
"""A holder on another machine without a heartbeat for this long is taken to be dead."""
DEFAULT_WAIT = 30.0
"""Seconds a run or an import waits for the book before it gives up (`--wait`)."""
_POLL = 0.25


class BookBusy(MahnwerkError):
    """Another run or import holds the book; nothing was done."""

    def __init__(self, holder: dict[str, Any] | None, purpose: str, waited: float) -> None:
        self.holder = holder
        if holder:
            since = holder["acquired_at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            who = (
                f"{holder['purpose']} is in progress (process {holder['pid']} on "
                f"{holder['host']}, since {since})"
            )
        else:
            who = "another writer kept the database locked"
        super().__init__(
            f"cannot start {purpose}: {who}; waited {waited:g} s, nothing was changed",
            "wait for it to finish and start again, or give it longer with --wait SECONDS",
        )


@dataclass
class Lease:
    """A held lease; `beat` tells others the holder is alive."""

    engine: Engine
    token: str
    purpose: str
    clock: Callable[[], datetime]

    def beat(self, conn: Any = None) -> None:
        """Renew the heartbeat (inside `conn`'s transaction when given: no second writer)."""
        stmt = (
            update(LEASE)
            .where(LEASE.c.name == BOOK, LEASE.c.token == self.token)
            .values(heartbeat_at=self.clock())
        )
        if conn is not None:
            conn.execute(stmt)
            return
        with self.engine.begin() as own:
            own.execute(stmt)

    def release(self, conn: Any = None) -> None:
        """Let go of the book (inside `conn`'s transaction when given).

        A run lets go in the transaction that writes its row "finished", so no one ever
        reads a finished run whose lease is still held (a client that waits for "finished"
        and starts the next run at once was refused for that moment).  Letting go twice
        is harmless: only this holder's token is deleted.
        """
        stmt = delete(LEASE).where(LEASE.c.name == BOOK, LEASE.c.token == self.token)
        if conn is not None:
            conn.execute(stmt)
            return
        with self.engine.begin() as own:
            own.execute(stmt)


def _alive(row: Any, now: datetime) -> bool:
    """Is the holder of `row` still there?"""
    if row.host == socket.gethostname():
        if row.pid == os.getpid():
            return True  # this very process: a nested take is a programming error, not death
        try:
            os.kill(row.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    beat = row.heartbeat_at
    if beat.tzinfo is None:
        beat = beat.replace(tzinfo=UTC)
    return now - beat < STALE_AFTER


def _try(engine: Engine, token: str, purpose: str, now: datetime) -> dict[str, Any] | None:
    """Take the lease; None when taken, else the holder's row (as a dict)."""
    mine = {
        "name": BOOK,
        "token": token,
        "purpose": purpose,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "acquired_at": now,
        "heartbeat_at": now,
    }
    with engine.begin() as conn:
        query = select(LEASE).where(LEASE.c.name == BOOK)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            conn.execute(insert(LEASE).values(**mine))
            return None
        if _alive(row, now):
            return dict(row._mapping)
        taken = conn.execute(
            update(LEASE)
            .where(LEASE.c.name == BOOK, LEASE.c.token == row.token)
            .values(**{k: v for k, v in mine.items() if k != "name"})
        )
        return None if taken.rowcount == 1 else dict(row._mapping)


def acquire(
    engine: Engine,
    purpose: str,
    *,
    wait: float = DEFAULT_WAIT,
    clock: Callable[[], datetime] = wall_clock.now,
) -> Lease:
    """Take the book lease for `purpose` ("the run for 2026-05-20"), waiting up to `wait` s."""
    token = uuid.uuid4().hex
    deadline = time.monotonic() + max(wait, 0.0)
    while True:
        try:
            holder = _try(engine, token, purpose, clock())
        except IntegrityError:
            holder = {}  # another taker inserted the row first: look at it again
        except OperationalError as exc:
            # SQLite's file lock held by a writer that takes no lease (the TUI, an event
            # recorded by hand) for longer than the busy timeout: look again.
            if not _locked(exc):
                raise
            holder = {}
        if holder is None:
            return Lease(engine, token, purpose, clock)
        if time.monotonic() >= deadline:
            raise BookBusy(holder or None, purpose, wait)
        time.sleep(_POLL)


def release(lease: Lease) -> None:
    lease.release()


@contextmanager
def holding(
    engine: Engine,
    purpose: str,
    *,
    wait: float = DEFAULT_WAIT,
    clock: Callable[[], datetime] = wall_clock.now,
    taken: Lease | None = None,
) -> Iterator[Lease]:
    """`with holding(engine, "the run for …"):` — the block writes the book alone.

    `taken`: a lease the caller already holds (the API takes it before it answers, so a
    busy book is refused at once with its holder named); the block keeps it and lets go.
    """
    lease = taken or acquire(engine, purpose, wait=wait, clock=clock)
    try:
        yield lease
    finally:
        release(lease)


def _locked(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "locked" in text or "busy" in text


def holder(engine: Engine) -> dict[str, Any] | None:
    """Who holds the book now (for status screens), or None."""
    with engine.connect() as conn:
        row = conn.execute(select(LEASE).where(LEASE.c.name == BOOK)).first()
    return dict(row._mapping) if row is not None else None


__all__ = ["BOOK", "DEFAULT_WAIT", "STALE_AFTER", "BookBusy", "Lease", "acquire", "holding"]
