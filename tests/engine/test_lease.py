"""The book lease on both backends: one holder, a stated wait, a dead holder taken over."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, insert, select

from mahnwerk.engine import models as m
from mahnwerk.engine.policies import PolicySet
from mahnwerk.engine.runner import run
from mahnwerk.engine.store import lease

NOW = datetime(2026, 5, 20, 6, tzinfo=UTC)


def test_a_run_while_the_book_is_held_waits_the_stated_time_and_names_the_holder(engine):
    held = lease.acquire(engine, "the import of kunden.csv", wait=0)
    started = time.monotonic()
    try:
        with pytest.raises(lease.BookBusy) as info:
            run(engine, date(2026, 5, 20), PolicySet([], {}), NOW, wait=0.6)
    finally:
        lease.release(held)
    waited = time.monotonic() - started
    assert 0.6 <= waited < 5
    text = info.value.cli_text()
    assert text.startswith("error: cannot start the run for 2026-05-20: the import of kunden.csv")
    assert f"process {__import__('os').getpid()} on {socket.gethostname()}" in text
    assert "waited 0.6 s, nothing was changed" in text
    with engine.connect() as conn:
        assert conn.execute(select(m.RUN)).first() is None  # not even a run row
        assert conn.execute(select(m.LEASE)).first() is None  # released


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True, text=True, check=True,
    )
    return int(done.stdout)


@pytest.mark.parametrize(
    ("host", "beat_ago", "taken"),
    [
        (socket.gethostname(), timedelta(0), True),  # same machine, process gone
        ("elsewhere", timedelta(minutes=11), True),  # other machine, silent too long
        ("elsewhere", timedelta(minutes=1), False),  # other machine, alive
    ],
)
def test_a_dead_holders_lease_is_taken_over_a_live_one_is_not(engine, host, beat_ago, taken):
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(m.LEASE).values(
                name=lease.BOOK, token="old", purpose="the run for 2026-05-19",
                pid=_dead_pid(), host=host, acquired_at=now - beat_ago,
                heartbeat_at=now - beat_ago,
            )
        )
    if taken:
        held = lease.acquire(engine, "the run for 2026-05-20", wait=0)
        lease.release(held)
    else:
        with pytest.raises(lease.BookBusy, match="the run for 2026-05-19 is in progress"):
            lease.acquire(engine, "the run for 2026-05-20", wait=0)


def test_no_commit_shows_a_finished_run_whose_lease_is_still_held(engine):
    """The run lets go of the book in the commit that writes it "finished" (the API race).

    Every commit of the run is looked at from inside, just before it is made: a state with
    the run finished and the book still held would let a client that waits for "finished"
    start the next run and be refused (CI met it as a 409).
    """
    seen: list[tuple[int, int]] = []

    def look(conn) -> None:  # type: ignore[no-untyped-def]
        cursor = conn.connection.cursor()
        try:
            counts = []
            for sql in (
                "SELECT count(*) FROM run WHERE finished_at IS NOT NULL",
                "SELECT count(*) FROM book_lease",
            ):
                cursor.execute(sql)
                counts.append(cursor.fetchone()[0])
        finally:
            cursor.close()
        seen.append((counts[0], counts[1]))

    event.listen(engine, "commit", look)
    try:
        run(engine, date(2026, 5, 20), PolicySet([], {}), NOW)
    finally:
        event.remove(engine, "commit", look)
    assert (0, 1) in seen  # the run was seen at work, holding the book
    assert (1, 1) not in seen  # never finished while held
    assert seen[-1] == (1, 0)
    assert lease.holder(engine) is None
