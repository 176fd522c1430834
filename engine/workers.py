"""Scale-out: several processes share one day's run on PostgreSQL.

The coordinator does the intake (new invoices, payment matching, waking
invoices with events) once; then N worker processes each loop: claim a batch
of due records, step them, write the outcomes and commit.

Work is shared by customer, not by invoice (D3): worker k of N takes the due
invoices of the customers with `customer_id % N == k`, so two workers never plan
contacts for one customer at once — the contact book one worker reads (a letter
a week, no call after a conversation) cannot be changed under it by another.
A committed record's `next_check_on` has moved past the as-of date, so no
invoice is processed twice and none is left behind.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import threading
from datetime import date, datetime

from sqlalchemy import Connection, Engine, insert, select, update

from mahnwerk.engine import lease
from mahnwerk.engine import models as m
from mahnwerk.engine.policies import PolicySet
from mahnwerk.engine.runner import RunStats, _count_due, advance_batch, intake_phase

BATCH = 2_000  # as the single-process run: COPY and one UPDATE … FROM per batch


def claim_share(conn: Connection, as_of: date, limit: int, slot: int, slots: int) -> list[int]:
    """The next batch of due invoices of this worker's customers (`customer_id % slots`)."""
    ds, inv = m.DunningState.__table__, m.Invoice.__table__
    query = (
        select(ds.c.invoice_id)
        .join(inv, inv.c.id == ds.c.invoice_id)
        .where(ds.c.next_check_on <= as_of, inv.c.customer_id % slots == slot)
        .order_by(ds.c.next_check_on, ds.c.invoice_id)
        .limit(limit)
        .with_for_update(of=ds)
    )
    return list(conn.execute(query).scalars())


def _worker(
    url: str,
    as_of: date,
    now: datetime,
    run_id: int,
    share: tuple[int, int],
    queue: mp.Queue,
    policies: PolicySet | None = None,
) -> None:
    """One worker's loop.  `policies`: the coordinator's, when the worker was forked from it
    (else, spawned, it loads and compiles them itself)."""
    from mahnwerk.engine.db import make_engine

    engine = make_engine(url)  # its own connections: never the coordinator's
    if policies is None:
        policies = PolicySet.load(engine)
    stats = RunStats(as_of)
    processed: list[int] = []
    while True:
        with engine.begin() as conn:
            ids = claim_share(conn, as_of, BATCH, *share)
            if not ids:
                break
            stats.merge(advance_batch(conn, ids, as_of, policies, now, run_id))
        processed.extend(ids)
    engine.dispose()
    queue.put((f"w{share[0]}", processed, stats.as_dict()))


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
        with lease.holding(engine, f"the run for {as_of.isoformat()}", wait=wait) as held:
            return _coordinate(engine, url, as_of, workers, now, held)
    finally:
        engine.dispose()


def _start_method() -> str:
    """`fork` where it is safe, else `spawn`.

    A spawned worker imports mahnwerk and compiles every deployed policy before it writes a
    row (1.2–1.7 s of CPU each, measured in issue 21): on a 2-core machine that start made two
    workers slower than one.  A forked worker inherits the coordinator's compiled policies and
    starts at once.  Forking is safe only from a process with one thread (a lock another
    thread holds would stay locked in the child) and where the platform has it.
    """
    if "fork" in mp.get_all_start_methods() and threading.active_count() == 1:
        return "fork"
    return "spawn"


def _spawn(
    url: str, as_of: date, now: datetime, run_id: int, workers: int, policies: PolicySet
) -> tuple[str, list]:
    """Start the workers, each on its share of the customers: how they were started, and
    their (name, ids, stats)."""
    method = _start_method()
    ctx = mp.get_context(method)
    queue: mp.Queue = ctx.Queue()
    inherited = policies if method == "fork" else None  # nothing is pickled for a fork
    procs = [
        ctx.Process(target=_worker, args=(url, as_of, now, run_id, (i, workers), queue, inherited))
        for i in range(workers)
    ]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    return method, results


def _coordinate(
    engine: Engine, url: str, as_of: date, workers: int, now: datetime, held: lease.Lease
) -> RunStats:
    run_t = m.Run.__table__
    with engine.begin() as conn:
        run_id = conn.execute(
            insert(run_t).values(as_of=as_of, started_at=now, workers=workers)
        ).inserted_primary_key[0]
    policies = PolicySet.load(engine)
    stats = intake_phase(engine, as_of, policies, now, run_id, 2_000)
    due = _count_due(engine, as_of)
    # Nothing due (a second run the same day): no processes to start and load policies in.
    method, results = _spawn(url, as_of, now, run_id, workers, policies) if due else ("", [])
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
    stats.start_method = method  # type: ignore[attr-defined]
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
        held.release(conn)  # "finished" and the book free in one commit (engine/runner.py)
    return stats
