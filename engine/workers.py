"""Scale-out: several processes share one day's run on PostgreSQL.

The coordinator does the intake (bank rematch, new invoices, payment matching, waking
invoices with events) once; then it reads the due invoices *once* and hands each of N
worker processes its share as a list of ids.  A worker steps its list in batches, each
batch locked, stepped, written and committed in one transaction.

Work is shared by customer, not by invoice (D3): all due invoices of one customer are in
one share, so two workers never plan contacts for one customer at once — the contact book
one worker reads (a letter a week, no call after a conversation) cannot be changed under it
by another.  Customers go to the share with the fewest invoices so far, the biggest first,
so one large customer does not leave a worker idle.  Each share keeps the run's order
(`next_check_on`, invoice id), the order a single-process run steps them in.

Why lists and not a claim query: the earlier workers each claimed their next batch with
`customer_id % N = k … ORDER BY next_check_on LIMIT`, which read all still-due rows of the
day again on every batch (the other workers' too): O(due² / batch) rows per run.  Now the
due rows are read once, and a batch only locks its own ids by primary key.

No invoice is stepped twice and none is left behind: a batch takes only those of its ids
still due (a committed record's `next_check_on` has moved past the as-of date), the shares
are disjoint, and once every worker is done the coordinator steps, by the single-process
claim, whatever is due still (an event recorded meanwhile; usually nothing).  A worker that
dies (an error, kill -9) loses only its open batch, which its database transaction rolls
back: the coordinator lets the others finish, then stops with `WorkerFailed`, and a second
run for the same date steps the rest.  The coordinator holds the book lease throughout and
renews its heartbeat while it waits.
"""

from __future__ import annotations

import heapq
import json
import logging
import multiprocessing as mp
import queue as queues
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, Engine

from mahnwerk.engine.policies import PolicySet
from mahnwerk.engine.runner import RunStats, advance_batch, collector_for_a_run, intake_phase
from mahnwerk.engine.store import lease
from mahnwerk.engine.store import run as rows_of
from mahnwerk.errors import MahnwerkError

BATCH = 2_000  # as the single-process run: COPY and one UPDATE … FROM per batch
_BEAT = 5.0  # seconds between the coordinator's lease heartbeats while the workers run
log = logging.getLogger("mahnwerk.run")


class WorkerFailed(MahnwerkError):
    """A worker stopped before its share was done; the rest of the day is still due.

    `details`: each failed worker's name and what it sent back — the formatted traceback of
    an unexpected error (for the log and `--debug`, never the user's one line)."""

    details: dict[str, str]


def partition(conn: Connection, as_of: date, slots: int) -> list[list[int]]:
    """The due invoices in `slots` shares: a customer's all in one, shares about equal."""
    rows = rows_of.due_by_customer(conn, as_of)
    sizes = Counter(customer for _, customer in rows)
    load = [(0, k) for k in range(slots)]  # (invoices so far, slot): the smallest on top
    slot_of: dict[int, int] = {}
    for customer, n in sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0])):
        have, k = heapq.heappop(load)
        slot_of[customer] = k
        heapq.heappush(load, (have + n, k))
    shares: list[list[int]] = [[] for _ in range(slots)]
    for invoice_id, customer in rows:
        shares[slot_of[customer]].append(invoice_id)
    return shares


def _worker(
    url: str,
    as_of: date,
    now: datetime,
    run_id: int,
    name: str,
    share: list[int],
    queue: mp.Queue,
    policies: PolicySet | None = None,
) -> None:
    """One worker's loop over its share.  `policies`: the coordinator's, when the worker was
    forked from it (else, spawned, it loads and compiles them itself)."""
    from mahnwerk.engine.store.db import make_engine

    engine = make_engine(url)  # its own connections: never the coordinator's
    try:
        if policies is None:
            policies = PolicySet.load(engine)
        stats = RunStats(as_of)
        processed: list[int] = []
        for start in range(0, len(share), BATCH):
            with engine.begin() as conn:
                ids = rows_of.lock_due(conn, share[start : start + BATCH], as_of)
                if ids:
                    stats.merge(advance_batch(conn, ids, as_of, policies, now, run_id))
            processed.extend(ids)
    except Exception as exc:  # told to the coordinator, which names it to the user
        queue.put((name, None, (f"{type(exc).__name__}: {exc}", traceback.format_exc())))
        return
    finally:
        engine.dispose()
    queue.put((name, processed, stats.as_dict()))


def run_parallel(
    url: str,
    as_of: date,
    workers: int,
    now: datetime,
    wait: float = lease.DEFAULT_WAIT,
    policies: PolicySet | None = None,
) -> RunStats:
    """Run `as_of` with `workers` processes; returns the merged statistics.

    The coordinator holds the book lease for the whole run (workers write under it), so a
    second run or an import waits for this one, as with a single-process run.  `policies`:
    the deployed policies when the caller has loaded them already (`mahnwerk run` has, to
    check them), else they are loaded here.
    """
    from mahnwerk.engine.store.db import make_engine

    engine = make_engine(url)
    if engine.dialect.name != "postgresql" and workers > 1:
        raise ValueError("several workers need PostgreSQL (SQLite has one writer at a time)")
    try:
        with lease.holding(engine, f"the run for {as_of.isoformat()}", wait=wait) as held:
            # as the single-process run; forked workers inherit the coordinator's setting
            with collector_for_a_run():
                return _coordinate(engine, url, as_of, workers, now, held, policies)
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
    url: str,
    as_of: date,
    now: datetime,
    run_id: int,
    shares: list[list[int]],
    policies: PolicySet,
    held: lease.Lease,
) -> tuple[str, list]:
    """Start one worker per non-empty share: how they were started, and their
    (name, ids, stats) once all have ended."""
    method = _start_method()
    ctx = mp.get_context(method)
    queue: mp.Queue = ctx.Queue()
    inherited = policies if method == "fork" else None  # nothing is pickled for a fork
    procs = {
        f"w{k}": ctx.Process(
            target=_worker,
            args=(url, as_of, now, run_id, f"w{k}", ids, queue, inherited),
            name=f"mahnwerk-run-w{k}",  # as `ps` and the tests see it
        )
        for k, ids in enumerate(shares)
        if ids
    }
    for p in procs.values():
        p.start()
    results = _collect(procs, queue, held)
    for p in procs.values():
        p.join()
    failed = {name: why for name, why in results.items() if isinstance(why, _Failed)}
    if failed:
        raise _failure(as_of, failed, {f"w{k}": len(ids) for k, ids in enumerate(shares)})
    return method, [(name, ids, part) for name, (ids, part) in results.items()]


@dataclass(frozen=True)
class _Failed:
    """Why a worker stopped: one line for the user, the traceback (if any) for the log."""

    why: str
    trace: str = ""


def _result(ids: list[int] | None, part: dict | tuple[str, str]) -> tuple | _Failed:
    """What a worker sent: (its ids, its statistics), or why it failed."""
    return _Failed(*part) if ids is None else (ids, part)


def _collect(procs: dict[str, mp.Process], queue: mp.Queue, held: lease.Lease) -> dict:
    """Each worker's (ids, stats), or why it failed — waiting for all, never for a dead one.

    While it waits the coordinator renews the lease, so a long run is not taken for dead.
    """
    results: dict[str, object] = {}
    beaten = time.monotonic()
    while len(results) < len(procs):
        try:
            name, ids, part = queue.get(timeout=0.5)
            results[name] = _result(ids, part)
            continue
        except queues.Empty:
            pass
        if time.monotonic() - beaten >= _BEAT:
            held.beat()
            beaten = time.monotonic()
        for name, p in procs.items():
            if name not in results and p.exitcode is not None:
                try:  # a worker puts its result before it ends: look once more
                    got, ids, part = queue.get(timeout=1.0)
                    results[got] = _result(ids, part)
                except queues.Empty:
                    code = p.exitcode
                    results[name] = _Failed(
                        f"killed by signal {-code}" if code < 0 else f"ended with exit code {code}"
                    )
                break
    return results


def _failure(as_of: date, failed: dict[str, _Failed], sizes: dict[str, int]) -> WorkerFailed:
    """The user's one sentence; each worker's traceback goes to the error's `details`, its
    notes (printed with `--debug`) and the log at debug level — not to the screen."""
    which = "; ".join(f"worker {n} ({sizes[n]} invoices): {f.why}" for n, f in failed.items())
    exc = WorkerFailed(
        f"the run for {as_of.isoformat()} did not finish: {which}. Its committed batches are "
        "kept; its open batch was rolled back, and those invoices are still due",
        f"run again for {as_of.isoformat()}: it steps only what is still due",
    )
    exc.details = {n: f.trace or f.why for n, f in failed.items()}
    for n, f in failed.items():
        if f.trace:
            exc.add_note(f"worker {n}:\n{f.trace.rstrip()}")
            log.debug("worker %s failed:\n%s", n, f.trace)
    return exc


def _coordinate(
    engine: Engine,
    url: str,
    as_of: date,
    workers: int,
    now: datetime,
    held: lease.Lease,
    policies: PolicySet | None,
) -> RunStats:
    started = time.perf_counter()  # as the single-process run: from the lease taken
    with engine.begin() as conn:
        run_id = rows_of.open_run(conn, as_of, now, workers)
    policies = PolicySet.load(engine) if policies is None else policies
    # A9, as the single-process run: reconcile the bank first — a credit that waited for a
    # person or for its invoice may match now, and must count before anything escalates.
    from mahnwerk.engine.bank import rematch

    rematch(engine, now=now, actor="run")
    stats = intake_phase(engine, as_of, policies, now, run_id, BATCH)
    with engine.connect() as conn:
        shares = partition(conn, as_of, workers)
    # Nothing due (a second run the same day): no processes to start and load policies in.
    method, results = (
        _spawn(url, as_of, now, run_id, shares, policies, held) if any(shares) else ("", [])
    )
    seen: set[int] = set()
    for _name, ids, part in results:
        dup = seen.intersection(ids)
        if dup:
            raise RuntimeError(f"invoices processed twice: {sorted(dup)[:10]}")
        seen.update(ids)
        _add(stats, part)
    stats.per_worker = {name: len(ids) for name, ids, _ in results}  # type: ignore[attr-defined]
    stats.start_method = method  # type: ignore[attr-defined]
    late = _sweep(engine, as_of, policies, now, run_id, stats)
    if late:
        stats.per_worker["main"] = late  # type: ignore[attr-defined]
    from mahnwerk.engine.audit import seal

    seal(engine)  # the hash chain over the workers' log entries, once they are all done
    from mahnwerk.engine.store.book_summary import fold_now

    fold_now(engine)  # the dashboard's summary: the workers' changes folded in
    stats.seconds = time.perf_counter() - started
    with engine.begin() as conn:
        rows_of.finish_run(conn, run_id, now, json.dumps(stats.as_dict()))
        held.release(conn)  # "finished" and the book free in one commit (engine/runner.py)
    return stats


def _add(stats: RunStats, part: dict) -> None:
    """A worker's statistics (as sent, a dict) added to the run's."""
    stats.checked += part["checked"]
    stats.transitions += part["transitions"]
    stats.approvals += part["approvals"]
    stats.payments_applied += part["payments_applied"]
    stats.events_applied += part["events_applied"]
    stats.messages.update(part["messages"])


def _sweep(
    engine: Engine, as_of: date, policies: PolicySet, now: datetime, run_id: int, stats: RunStats
) -> int:
    """Step what is due still once the workers are done (usually nothing: one indexed query)."""
    done = 0
    while True:
        with engine.begin() as conn:
            ids = rows_of.claim(conn, as_of, BATCH)
            if not ids:
                return done
            stats.merge(advance_batch(conn, ids, as_of, policies, now, run_id))
        done += len(ids)
