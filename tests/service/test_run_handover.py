"""A run that reads "finished" has let go of the book: the next POST /runs is not refused.

CI met the race: the run's row was written "finished" a moment before the run let go of the
book lease and the server of its one-run-at-a-time guard, so a client that waited for
"finished" and posted the next day at once got 409 "still going".  The window was a few
milliseconds, so these tests watch the database itself (a read every fraction of a
millisecond, not a poll over HTTP every few) and post the next day over HTTP, to a real
`mahnwerk serve`, the moment the run reads finished.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

import httpx
from service_harness import POLICY, Server
from sqlalchemy import Engine, select
from test_api_day import CUSTOMERS, INVOICES

from mahnwerk.engine.models import LEASE, RUN
from mahnwerk.engine.store import lease
from mahnwerk.engine.store.db import make_engine

DAYS = 15


def _book(client: httpx.Client) -> None:
    assert client.post("/policies", json={"filename": "b2b.mahn", "source": POLICY}).is_success
    assert client.post("/customers", json={"items": CUSTOMERS}).is_success
    assert client.post("/invoices", json={"items": INVOICES}).is_success


def _watch(engine: Engine, day: date, timeout: float = 60) -> str | None:
    """Wait until the run for `day` reads finished; who held the book at that moment.

    The run's row is read before the lease, so a lease seen held was still held after the
    row was already finished (under either backend's isolation).
    """
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            with conn.begin():
                done = conn.execute(
                    select(RUN.c.finished_at).where(RUN.c.as_of == day).order_by(RUN.c.id.desc())
                ).first()
                if done is not None and done.finished_at is not None:
                    holder = conn.execute(select(LEASE.c.purpose)).scalar()
                    return holder
    raise AssertionError(f"run {day} did not finish")


def test_the_next_run_posted_the_moment_one_reads_finished_is_accepted(
    store: str, server: Server, admin: str
) -> None:
    engine = make_engine(store)
    first = date(2026, 1, 20)
    try:
        with server.client(admin) as client:
            _book(client)
            for n in range(DAYS):
                day = first + timedelta(days=n)
                posted = client.post("/runs", json={"as_of": day.isoformat()})
                assert posted.status_code == 202, f"day {n + 1} of {DAYS}: {posted.text}"
                holder = _watch(engine, day)
                assert holder is None, f"day {n + 1}: finished while {holder} held the book"
            last = client.get("/runs", params={"limit": 1}).json()["items"][0]
            assert last["as_of"] == (first + timedelta(days=DAYS - 1)).isoformat()
    finally:
        engine.dispose()


def test_a_run_is_refused_while_another_writer_holds_the_book_and_names_it(
    store: str, server: Server, admin: str
) -> None:
    engine = make_engine(store)
    try:
        with server.client(admin) as client:
            _book(client)
            held = lease.acquire(engine, "the import of kunden.csv", wait=0)
            try:
                refused = client.post("/runs", json={"as_of": "2026-01-22"})
            finally:
                lease.release(held)
            assert refused.status_code == 409, refused.text
            assert "the import of kunden.csv is in progress" in refused.json()["detail"]
            assert client.get("/runs").json()["items"] == []  # nothing was started
            assert client.post("/runs", json={"as_of": "2026-01-22"}).status_code == 202
            assert _watch(engine, date(2026, 1, 22)) is None
    finally:
        engine.dispose()
