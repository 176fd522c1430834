"""`bench/bench_run.py` keeps working: the figures of issue 21 come from it.

A benchmark that only runs by hand breaks silently when the code it reaches into moves (the
row mapping's move into `engine/store.py` once left it failing at start).  This builds a
300-invoice book in a temporary cache and checks what the figures rest on: every due
invoice was checked, the limit wrote the same rows as the engine, a second run found
nothing due.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mahnwerk.dsl.compile import load_policy

SCRIPT = Path(__file__).parents[1] / "bench" / "bench_run.py"


def test_the_run_benchmark_measures_a_small_book(tmp_path: Path) -> None:
    env = {**os.environ, "MAHNWERK_BENCH_CACHE": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--invoices", "300", "--quiet", "--json"],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["invoices"] == 300
    assert figures["due"] > 0 and figures["checked"] == figures["due"]
    assert figures["rows_written"] == sum(figures["rows"].values()) > figures["due"]
    assert figures["limit_s"] > 0 and 0 < figures["ratio"] < 10
    assert figures["idle_checked"] == 0


def test_the_book_is_spread_over_the_ladder(monkeypatch: pytest.MonkeyPatch) -> None:
    """The templates are what daily runs leave behind: reminders, Mahnungen, and collector
    steps waiting for a person — not only the first levels (a single catch-up step from
    the issue date moved every invoice at most one level that speaks: 0 approvals)."""
    spec = importlib.util.spec_from_file_location("bench_run", SCRIPT)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, bench)  # its dataclasses look themselves up
    spec.loader.exec_module(bench)
    compiled = load_policy(bench.POLICY)
    group = bench.make_group(compiled, "default", False, "NW", "large")
    templates = group.due + group.waiting
    states = {t.record.state for t in templates}
    assert {"erinnerung", "mahnung_1", "mahnung_2", "letzte_mahnung"} <= states, states
    waiting = [t for t in templates if t.approval is not None]
    assert waiting and all(t.record.pending_approval == "inkasso" for t in waiting)
    assert all(t.record.next_check_on is None for t in waiting)
    assert {t.record.state for t in group.due} - {"open", "vorab", "erinnerung"}


@pytest.mark.skipif(
    not os.environ.get("MAHNWERK_TEST_PG_URL"), reason="MAHNWERK_TEST_PG_URL not set"
)
def test_the_run_benchmark_times_postgresql_with_one_and_two_workers(tmp_path: Path) -> None:
    """`--pg`: each worker count on fresh copies, medians, the server's CPU beside the
    client's; the same invoices checked by one and two workers."""
    env = {**os.environ, "MAHNWERK_BENCH_CACHE": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--invoices", "300", "--quiet", "--json", "--repeat", "2",
         "--pg", env["MAHNWERK_TEST_PG_URL"], "--pg-workers", "1,2"],
        capture_output=True, text=True, env=env, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    one, two = figures["pg_1"], figures["pg_2"]
    assert one["checked"] == two["checked"] == figures["due"]
    assert len(one["runs_s"]) == len(two["runs_s"]) == 2
    assert two["start_method"] in ("fork", "spawn") and two["workers_cpu_s"] > 0
    assert one["server_cpu_s"] > 0 and two["server_cpu_s"] > 0
    assert one["idle_checked"] == two["idle_checked"] == 0
