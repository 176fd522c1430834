"""Scale-out: several processes share one day's run on PostgreSQL.

The coordinator does the intake (new invoices, payment matching, waking
invoices with events) once; then N worker processes each loop: claim a batch
of due records with `SELECT … FOR UPDATE SKIP LOCKED`, step them, write the
outcomes and commit.  Locked rows are skipped by the others, and a committed
record's `next_check_on` has moved past the as-of date, so no invoice is
processed twice and none is left behind.
"""

from __future__ import annotations

import json
import multiprocessing as mp
from datetime import date, datetime

from sqlalchemy import Engine, insert, update

from mahnwerk.engine import lease
from mahnwerk.engine import models as m
from mahnwerk.engine.runner import RunStats, advance_batch, claim, intake_phase

BATCH = 500


def _worker(url: str, as_of: date, now: datetime, run_id: int, name: str, queue: mp.Queue) -> None:
    from mahnwerk.engine.db import make_engine
    from mahnwerk.engine.policies import PolicySet

    engine = make_engine(url)
    policies = PolicySet.load(engine)
    stats = RunStats(as_of)
    processed: list[int] = []
    while True:
        with engine.begin() as conn:
            ids = claim(conn, as_of, BATCH)
            if not ids:
                break
            stats.merge(advance_batch(conn, ids, as_of, policies, now, run_id))
        processed.extend(ids)
    engine.dispose()
    queue.put((name, processed, stats.as_dict()))


def run_parallel(
    url: str, as_of: date, workers: int, now: datetime, wait: float = lease.DEFAULT_WAIT
) -> RunStats:
    """Run `as_of` with `workers` processes; returns the merged statistics.

    The coordinator holds the book lease for the whole run (workers write under it), so a
    second run or an import waits for this one, as with a single-process run.
    """
    from mahnwerk.engine.db import make_engine

    engine = make_engine(url)
    if engine.dialect.name != "postgresql" and workers > 1:
        raise ValueError("several workers need PostgreSQL (SQLite has one writer at a time)")
    try:
        with lease.holding(engine, f"the run for {as_of.isoformat()}", wait=wait):
            return _coordinate(engine, url, as_of, workers, now)
    finally:
        engine.dispose()


def _coordinate(engine: Engine, url: str, as_of: date, workers: int, now: datetime) -> RunStats:
    from mahnwerk.engine.policies import PolicySet

    run_t = m.Run.__table__
    with engine.begin() as conn:
        run_id = conn.execute(
            insert(run_t).values(as_of=as_of, started_at=now, workers=workers)
        ).inserted_primary_key[0]
    stats = intake_phase(engine, as_of, PolicySet.load(engine), now, run_id, 2_000)
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(url, as_of, now, run_id, f"w{i}", queue))
        for i in range(workers)
    ]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    seen: set[int] = set()
    for _name, ids, part in results:
        dup = seen.intersection(ids)
        if dup:
            raise RuntimeError(f"invoices processed twice: {sorted(dup)[:10]}")
        seen.update(ids)
        stats.checked += part["checked"]
        stats.transitions += part["transitions"]
        stats.approvals += part["approvals"]
        stats.payments_applied += part["payments_applied"]
        stats.events_applied += part["events_applied"]
        stats.messages.update(part["messages"])
    stats.per_worker = {name: len(ids) for name, ids, _ in results}  # type: ignore[attr-defined]
    from mahnwerk.engine.audit import seal

    seal(engine)  # the hash chain over the workers' log entries, once they are all done
    from mahnwerk.engine.book_summary import fold_now

    fold_now(engine)  # the dashboard's summary: the workers' changes folded in
    with engine.begin() as conn:
        conn.execute(
            update(run_t)
            .where(run_t.c.id == run_id)
            .values(finished_at=now, stats=json.dumps(stats.as_dict()))
        )
    return stats
