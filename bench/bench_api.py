"""Requests per second and latency of `mahnwerk serve` on localhost, SQLite or PostgreSQL.

Starts a real server (uvicorn, one process, `--no-schedule`) on a free port, loads it
with a bounded load generator, and prints two figures:

* `GET /invoices/{id}` — a closed loop of `--concurrency` clients (asyncio + httpx,
  one connection each, keep-alive) for `--seconds`, each asking for a random invoice
  of a book of `--invoices`; requests per second, p50 and p99 latency;
* batch `POST /invoices` of 1,000 invoices (new ids each time, one client) for
  `--batches` batches: batches per second, invoices per second, p50 and p99 per batch.

The load generator runs in this process and shares the two cores with the server, so
the figures are a floor for the server alone. Every request must answer 200; a single
error stops the benchmark (a load test that counts errors as speed measures nothing).

    .venv/bin/python bench/bench_api.py                     # SQLite file in a temp folder
    .venv/bin/python bench/bench_api.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from mahnwerk.engine.store.db import init_db, make_engine, normalize_url
from mahnwerk.service.identity import Identity, create_token

ADMIN = Identity("bench", "admin", "bench")


def _fresh_database(url: str | None, folder: Path) -> tuple[str, callable]:
    """A new SQLite file, or a new schema on the given PostgreSQL (dropped at the end)."""
    if url is None:
        return f"sqlite:///{folder / 'bench.db'}", lambda: None
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalize_url(url), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    scoped = normalize_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return scoped.render_as_string(hide_password=False), drop


def _serve(url: str, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = Path(sys.executable).with_name("mahnwerk")
    process = subprocess.Popen(
        [str(command), "serve", "--port", str(port), "--db", url, "--no-schedule"],
        stdout=(folder / "serve.log").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"serve did not start: {(folder / 'serve.log').read_text()}")


def _invoices(prefix: str, start: int, n: int, customers: int) -> list[dict[str, str]]:
    return [
        {
            "invoice_id": f"{prefix}{start + i:07d}",
            "customer_id": f"K{(start + i) % customers:05d}",
            "issue_date": "2026-01-01",
            "due_date": "2026-01-15",
            "amount": f"{100 + (start + i) % 900}.{(start + i) % 100:02d}",
        }
        for i in range(n)
    ]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _book(base: str, token: str, invoices: int, customers: int) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        for start in range(0, customers, 1000):
            items = [{"customer_id": f"K{i:05d}", "name": f"Kunde {i}", "type": "B2B"}
                     for i in range(start, min(customers, start + 1000))]  # fmt: skip
            client.post("/customers", json={"items": items}).raise_for_status()
        for start in range(0, invoices, 1000):
            batch = _invoices("R", start, min(1000, invoices - start), customers)
            client.post("/invoices", json={"items": batch}).raise_for_status()


async def _get_load(base: str, token: str, invoices: int, seconds: float, clients: int):
    latencies: list[float] = []
    stop = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {token}"}

    async def one(seed: int) -> None:
        rnd = random.Random(seed)
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits) as client:
            while time.perf_counter() < stop:
                started = time.perf_counter()
                response = await client.get(f"/invoices/R{rnd.randrange(invoices):07d}")
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise SystemExit(f"GET answered {response.status_code}: {response.text}")

    began = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(clients)))
    return latencies, time.perf_counter() - began


def _post_load(base: str, token: str, batches: int, customers: int) -> list[float]:
    latencies = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=300) as client:
        for b in range(batches):
            items = _invoices("N", b * 1000, 1000, customers)
            started = time.perf_counter()
            response = client.post("/invoices", json={"items": items})
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200 or response.json()["inserted"] != 1000:
                raise SystemExit(f"POST answered {response.status_code}: {response.text[:300]}")
    return latencies


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", help="PostgreSQL URL (a fresh schema is made); default SQLite")
    ap.add_argument("--invoices", type=int, default=20_000, help="book size for the GETs")
    ap.add_argument("--customers", type=int, default=2_000)
    ap.add_argument("--seconds", type=float, default=15.0, help="duration of the GET load")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--batches", type=int, default=10, help="POSTs of 1,000 invoices")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url, drop = _fresh_database(args.db, folder)
        try:
            init_db(url)
            engine = make_engine(url)
            token = create_token(engine, "bench", "operator", None, ADMIN, datetime.now(UTC))[1]
            engine.dispose()
            process, base = _serve(url, folder)
            try:
                _book(base, token, args.invoices, args.customers)
                gets, wall = asyncio.run(
                    _get_load(base, token, args.invoices, args.seconds, args.concurrency)
                )
                posts = _post_load(base, token, args.batches, args.customers)
            finally:
                process.terminate()
                process.wait(timeout=30)
        finally:
            drop()
    backend = "PostgreSQL" if args.db else "SQLite"
    print(f"{backend}, book of {args.invoices} invoices, load average "
          f"{open('/proc/loadavg').read().split()[0]}")  # fmt: skip
    print(
        f"GET /invoices/{{id}}: {len(gets) / wall:,.0f} req/s over {wall:.1f} s "
        f"({args.concurrency} clients), p50 {statistics.median(gets) * 1000:.1f} ms, "
        f"p99 {_pct(gets, 0.99) * 1000:.1f} ms"
    )
    total = sum(posts)
    print(
        f"POST /invoices x1,000: {len(posts) / total:.2f} batches/s = "
        f"{1000 * len(posts) / total:,.0f} invoices/s ({len(posts)} batches), "
        f"p50 {statistics.median(posts) * 1000:.0f} ms, p99 {_pct(posts, 0.99) * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
