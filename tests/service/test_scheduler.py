"""The daily cycle runs itself: catch-up after downtime, one runner per job, take-over.

Servers are real `mahnwerk serve` processes started with `--now` (their clock starts
at that instant and runs on); the jobs come from a `[schedule]` section in mahnwerk.toml.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from service_harness import ready, spawn_server, start_server
from sqlalchemy import Engine, func, select, text

from mahnwerk.engine.importer import import_file
from mahnwerk.engine.models import EVENT, RUN
from mahnwerk.engine.policies import PolicySet, deploy
from mahnwerk.engine.runner import run
from mahnwerk.engine.store.db import init_db, make_engine
from mahnwerk.service.scheduler import lock_key
from mahnwerk.service.tables import JOB

DATA = Path(__file__).parents[1] / "data"
POLICY = Path(__file__).parents[1] / "engine" / "data" / "runner_policy.mahn"
NOW = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)


def _books(url: str) -> Engine:
    init_db(url)
    engine = make_engine(url)
    import_file(engine, "customers", DATA / "kunden_cp1252.csv", now=NOW)
    import_file(engine, "invoices", DATA / "rechnungen_cp1252.csv", now=NOW)
    deploy(engine, POLICY, NOW)
    return engine


def _config(folder: Path, jobs: list[str], drop: bool = False) -> Path:
    config = folder / "mahnwerk.toml"
    lines = ["[schedule]", 'run_at = "06:00"', "tick_seconds = 0.3", f"jobs = {jobs!r}"]
    if drop:
        (folder / "drop").mkdir()
        lines.append('drop_folder = "drop"')
    config.write_text("\n".join(lines).replace("'", '"') + "\n", encoding="utf-8")
    return config


def _runs(engine: Engine) -> list[date]:
    with engine.connect() as conn:
        return list(conn.execute(select(RUN.c.as_of).order_by(RUN.c.id)).scalars())


def _job_runs(engine: Engine, job: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(JOB.c.runs).where(JOB.c.name == job)).scalar() or 0


def _wait(condition, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("the scheduler did not get there in time")


def test_a_server_down_for_three_days_catches_up_with_one_run(db_url: str, tmp_path: Path):
    engine = _books(db_url)
    run(engine, date(2024, 3, 2), PolicySet.load(engine), NOW)  # the last run before the outage
    config = _config(tmp_path, ["run"])
    # 08:00 in Berlin on 5 March: the 06:00 run of the 5th is due, the 3rd and 4th were missed
    server = start_server(db_url, tmp_path, "--config", str(config), "--now",
                          "2024-03-05T08:00:00+01:00")  # fmt: skip
    try:
        _wait(lambda: _job_runs(engine, "run") == 1)
        time.sleep(2)  # several more ticks: nothing more is due today
    finally:
        server.stop()
    assert _runs(engine) == [date(2024, 3, 2), date(2024, 3, 5)]
    assert _job_runs(engine, "run") == 1
    engine.dispose()


def test_before_run_at_the_missed_day_is_yesterday(db_url: str, tmp_path: Path):
    engine = _books(db_url)
    run(engine, date(2024, 3, 2), PolicySet.load(engine), NOW)
    config = _config(tmp_path, ["run"])
    server = start_server(db_url, tmp_path, "--config", str(config), "--now",
                          "2024-03-05T05:00:00+01:00")  # fmt: skip
    try:
        _wait(lambda: _job_runs(engine, "run") == 1)
        time.sleep(1.5)
    finally:
        server.stop()
    assert _runs(engine) == [date(2024, 3, 2), date(2024, 3, 4)]
    engine.dispose()


def _schema(db_url: str) -> str:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    engine.dispose()
    return schema


def _pg(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("advisory locks: the several-servers case is PostgreSQL's")


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_servers_on_one_postgresql_run_each_job_once(db_url: str, tmp_path: Path):
    _pg(db_url)
    engine = _books(db_url)
    config = _config(tmp_path, ["import", "run", "analyse"], drop=True)
    shutil.copy(DATA / "zahlungen_utf8_bom.csv", tmp_path / "drop" / "payments-0305.csv")
    now = "2024-03-05T08:00:00+01:00"
    # both start at the same moment and see the same due jobs on their first tick
    servers = [
        spawn_server(db_url, tmp_path, "--config", str(config), "--now", now, name=name)
        for name in ("serve-a", "serve-b")
    ]
    for server in servers:
        ready(server)
    try:
        _wait(lambda: _job_runs(engine, "analyse") == 1 and _job_runs(engine, "import") == 1)
        time.sleep(2)
    finally:
        for server in servers:
            server.stop()
    assert _runs(engine) == [date(2024, 3, 5)]
    assert (_job_runs(engine, "run"), _job_runs(engine, "analyse")) == (1, 1)
    with engine.connect() as conn:
        imports = conn.execute(
            select(func.count()).select_from(EVENT).where(EVENT.c.kind == "import",
                                                          EVENT.c.actor == "scheduler")
        ).scalar_one()  # fmt: skip
    assert imports == 1
    assert (tmp_path / "drop" / "done" / "payments-0305.csv").is_file()
    engine.dispose()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_killed_runner_is_taken_over(db_url: str, tmp_path: Path):
    _pg(db_url)
    engine = _books(db_url)
    # Another server is in the middle of the run job when it is killed (kill -9).
    holder = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys, time, sqlalchemy as sa\n"
            "from mahnwerk.engine.store.db import make_engine\n"
            "c = make_engine(sys.argv[1]).connect()\n"
            "c.execute(sa.text('SELECT pg_advisory_lock(:k)'), {'k': int(sys.argv[2])})\n"
            "c.commit(); print('locked', flush=True); time.sleep(600)\n"
        ), db_url, str(lock_key("run", _schema(db_url)))],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == b"locked"
    config = _config(tmp_path, ["run"])
    server = start_server(db_url, tmp_path, "--config", str(config), "--now",
                          "2024-03-05T08:00:00+01:00")  # fmt: skip
    try:
        time.sleep(2)
        assert _runs(engine) == []  # the job is someone else's while they hold it
        os.kill(holder.pid, 9)
        holder.wait()
        _wait(lambda: _job_runs(engine, "run") == 1)
    finally:
        server.stop()
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    assert _runs(engine) == [date(2024, 3, 5)]
    engine.dispose()
