"""What the tamper-proof audit log costs the daily run: the insert trigger and the sealing.

The run writes its log entries in batches (`runner.BATCH` invoices a transaction, one
`executemany` of events each).  Migration 0008 adds a BEFORE INSERT trigger on `event` (an
INSERT over an existing id is refused) and the run ends with `audit.seal`, which hashes the new
entries into the chain.  This bench measures both on one SQLite file made by `init_db`:

    insert         N entries in batches of 2,000, with the trigger (as shipped) and with it
                   dropped (as before 0008);
    seal           sealing those N entries (what the end of a run adds), entries per second;
    verify         `mahnwerk audit verify` over them.

Wall time and this process's CPU time are both printed: on a shared machine the CPU time is
the steadier figure.
    .venv/bin/python bench/bench_audit.py [--events 200000] [--batch 2000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from mahnwerk.engine.audit import seal, verify
from mahnwerk.engine.models import EVENT
from mahnwerk.engine.store.db import init_db, make_engine


def _rows(start: int, n: int) -> list[dict]:
    now = datetime(2026, 5, 4, 8, 30, tzinfo=UTC)
    return [
        {
            "invoice_id": i,
            "customer_id": i // 4,
            "kind": "transition",
            "occurred_on": date(2026, 5, 4),
            "recorded_at": now,
            "actor": "run",
            "rule": "policies/de_b2c_standard.mahn:49",
            "state_from": "erinnerung",
            "state_to": "mahnung_1",
            "message": "1. Mahnung",
            "payload": json.dumps({"fee": "1.00", "template": "mahnung_1"}),
            "run_id": 1,
        }
        for i in range(start, start + n)
    ]


def _insert(db: Path, events: int, batch: int, trigger: bool) -> tuple[float, float]:
    init_db(f"sqlite:///{db}")
    engine = make_engine(f"sqlite:///{db}")
    if not trigger:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER event_no_overwrite")
    started, cpu = time.perf_counter(), time.process_time()
    for k in range(0, events, batch):
        with engine.begin() as conn:
            conn.execute(insert(EVENT), _rows(k, min(batch, events - k)))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    engine.dispose()
    return seconds, cpu


def _timed(work) -> tuple[Any, float, float]:
    started, cpu = time.perf_counter(), time.process_time()
    out = work()
    return out, time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=2_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        before = _insert(Path(folder) / "before.db", args.events, args.batch, trigger=False)
        db = Path(folder) / "after.db"
        after = _insert(db, args.events, args.batch, trigger=True)
        engine = make_engine(f"sqlite:///{db}")
        sealed, *sealing = _timed(lambda: seal(engine))
        verdict, *checking = _timed(lambda: verify(engine))
        assert sealed == args.events and verdict.ok
    n = args.events
    print(f"{n:,} log entries, batches of {args.batch:,}, SQLite (wall s / CPU s of this process)")
    for what, (wall, cpu) in (
        ("insert without trigger (before 0008)", before),
        ("insert with trigger (0008)", after),
        ("seal (what the end of a run adds)", sealing),
        ("audit verify", checking),
    ):
        print(f"  {what:38} {wall:6.2f} / {cpu:6.2f}   {n / wall:9,.0f} entries/s wall")


if __name__ == "__main__":
    main()
