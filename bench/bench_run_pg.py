"""`bench_run.py --pg`: the same book's due run on PostgreSQL, with 1 and N workers.

The SQLite book is copied once (COPY, then ANALYZE) into a database of its own, the
template; every timed run gets a fresh copy of it (`CREATE DATABASE … TEMPLATE`, a file
copy on the server: seconds, where loading the rows again took a minute at 300k).  With
`--repeat N` each worker count is timed N times, the counts alternating (1, 2, 2, 1, 1, 2 …)
so that a change in the machine's load falls on both; the figure is the median, the best is
reported beside it.

CPU is counted on both sides: the client's (this process and its worker processes) and the
server's — each PostgreSQL server process the run connected to, read from
`/proc/PID/stat` just before its connection is closed (a pool listener installed once here
and inherited by forked workers).  That is only this run's server work, whatever else the
machine's PostgreSQL serves meanwhile.
"""

from __future__ import annotations

import gc
import os
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.pool import NullPool, Pool

from mahnwerk.engine import runner
from mahnwerk.engine.policies import PolicySet, deploy
from mahnwerk.engine.store import db as mdb
from mahnwerk.engine.store.book_summary import fold_now

_TICK = os.sysconf("SC_CLK_TCK")
_SEEN = {"path": ""}  # where closing connections note their server process's CPU


def _server_cpu(pid: int) -> float:
    """User + system CPU seconds of the local server process `pid` (0 when not visible)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime (fields 14, 15)


def _note_close(dbapi_connection: Any, *_: Any) -> None:
    info = getattr(dbapi_connection, "info", None)
    pid = getattr(info, "backend_pid", None)
    if pid and _SEEN["path"]:
        with open(_SEEN["path"], "a") as out:
            out.write(f"{pid} {_server_cpu(pid)}\n")


def _watch_server() -> None:
    if not event.contains(Pool, "close", _note_close):
        event.listen(Pool, "close", _note_close)
        event.listen(Pool, "close_detached", _note_close)


def _server_seconds(path: str) -> float:
    last: dict[str, float] = {}
    for line in Path(path).read_text().splitlines():
        pid, cpu = line.split()
        last[pid] = max(last.get(pid, 0.0), float(cpu))
    return sum(last.values())


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_run(url: str, bench: Any, batch: int, workers: int) -> dict[str, Any]:
    """One run for the bench's as-of date: `runner.run`, or `run_parallel` with `workers`."""
    from mahnwerk.engine.workers import run_parallel

    engine = mdb.make_engine(url)
    policies = PolicySet.load(engine)
    gc.collect()
    log = tempfile.NamedTemporaryFile(prefix="pgcpu-", delete=False)  # noqa: SIM115
    log.close()
    _SEEN["path"] = log.name
    t0, c0, k0 = time.perf_counter(), time.process_time(), _children_cpu()
    try:
        if workers > 1:
            stats = run_parallel(url, bench.AS_OF, workers, bench.NOW, policies=policies)
        else:
            stats = runner.run(engine, bench.AS_OF, policies, bench.NOW, batch=batch)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        engine.dispose()
        server = _server_seconds(log.name)
    finally:
        _SEEN["path"] = ""
        os.unlink(log.name)
    return {"wall": wall, "cpu": cpu, "workers_cpu": _children_cpu() - k0,
            "server_cpu": server, "stats": stats, "load": os.getloadavg()[0]}  # fmt: skip


def _load_template(src: Path, url: str, bench: Any) -> float:
    """The SQLite book `src` copied into the (empty) database at `url`; seconds taken."""
    t0 = time.perf_counter()
    mdb.init_db(url)
    engine = mdb.make_engine(url)
    deploy(engine, bench.POLICY, bench.DEPLOYED)
    lite = sqlite3.connect(src)
    raw = engine.raw_connection()
    try:
        pg = raw.driver_connection
        pg.execute("SET TIME ZONE 'UTC'")  # SQLite holds naive UTC instants
        for table in ("customer", "invoice", "approval", "dunning_state"):
            cur = lite.execute(f"SELECT * FROM {table}")
            cols = ", ".join(c[0] for c in cur.description)
            with pg.cursor().copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in cur:
                    copy.write_row(row)
        for table in ("customer", "invoice", "approval"):
            pg.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        pg.commit()
    finally:
        raw.close()
        lite.close()
    fold_now(engine)  # the bulk load's summary deltas, as a run would have left them
    raw = engine.raw_connection()
    try:
        raw.driver_connection.autocommit = True
        raw.driver_connection.execute("ANALYZE")  # as autovacuum would have by the morning
    finally:
        raw.close()
    engine.dispose()
    return time.perf_counter() - t0


def figures(
    src: Path, base_url: str, bench: Any, batch: int, counts: list[int], repeat: int, keep: bool
) -> dict[int, dict[str, Any]]:
    """Each worker count's runs (`repeat` each, alternating) on fresh copies of the book."""
    base = mdb.normalize_url(base_url)
    admin = create_engine(base, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    tpl = f"bench_run_{os.getpid()}_tpl"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{tpl}"'))
    _watch_server()
    out: dict[int, dict[str, Any]] = {w: {"due": [], "idle": []} for w in counts}
    try:
        load_s = _load_template(src, _url(base, tpl), bench)
        print(f"  PostgreSQL: copied in {load_s:.0f} s", file=sys.stderr, flush=True)
        for r in range(repeat):
            for w in counts if r % 2 == 0 else counts[::-1]:
                name = f"bench_run_{os.getpid()}_{r}_{w}"
                with admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{tpl}"'))
                url = _url(base, name)
                try:
                    out[w]["due"].append(timed_run(url, bench, batch, w))
                    out[w]["idle"].append(timed_run(url, bench, batch, w))
                finally:
                    if not keep:
                        _drop(admin, name)
                d = out[w]["due"][-1]
                print(f"  PostgreSQL {w} worker(s), run {r + 1}: {d['wall']:.2f} s wall, "
                      f"client CPU {d['cpu'] + d['workers_cpu']:.2f} s, server CPU "
                      f"{d['server_cpu']:.2f} s, load {d['load']:.1f}",
                      file=sys.stderr, flush=True)  # fmt: skip
    finally:
        _drop(admin, tpl)
        admin.dispose()
    return {w: summary(v["due"], v["idle"]) for w, v in out.items()}


def _url(base: Any, database: str) -> str:
    return make_url(base).set(database=database).render_as_string(hide_password=False)


def _drop(admin: Any, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def summary(due: list[dict[str, Any]], idle: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the runs (the best wall beside them)."""

    def med(key: str) -> float:
        return round(statistics.median(r[key] for r in due), 3)

    stats = due[0]["stats"]
    wall = med("wall")
    return {
        "run_s": wall,
        "run_s_best": round(min(r["wall"] for r in due), 3),
        "runs_s": [round(r["wall"], 3) for r in due],
        "run_cpu_s": med("cpu"),
        "workers_cpu_s": med("workers_cpu"),
        "client_cpu_s": round(statistics.median(r["cpu"] + r["workers_cpu"] for r in due), 3),
        "server_cpu_s": med("server_cpu"),
        "loads": [round(r["load"], 1) for r in due],
        "checked": stats.checked,
        "transitions": stats.transitions,
        "transitions_per_s": round(stats.transitions / wall, 1),
        "start_method": getattr(stats, "start_method", None),
        "idle_run_s": round(statistics.median(r["wall"] for r in idle), 4),
        "idle_checked": max(r["stats"].checked for r in idle),
    }
