"""Scale-out on PostgreSQL: four workers share one day, no invoice twice, none skipped."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from test_runner import DUE, ISSUE, POLICY, at, seed  # noqa: E402

from mahnwerk.engine import models as m
from mahnwerk.engine.policies import PolicySet, deploy
from mahnwerk.engine.runner import run
from mahnwerk.engine.workers import partition, run_parallel

# Forking is chosen only from a one-threaded process, and a test runner is seldom one (an
# xdist worker has execnet's threads): what the coordinator of a real `mahnwerk run` does is
# therefore checked in a fresh interpreter.
FORKED_RUN = """
import sys
from datetime import date, datetime
from mahnwerk.engine.workers import run_parallel
stats = run_parallel(sys.argv[1], date.fromisoformat(sys.argv[2]), 3,
                     datetime.fromisoformat(sys.argv[3]))
print(stats.start_method, stats.checked, ",".join(sorted(stats.per_worker)))
"""

START_METHODS = """
import threading
from mahnwerk.engine.workers import _start_method
alone = _start_method()
stop = threading.Event()
other = threading.Thread(target=stop.wait)
other.start()
beside_a_thread = _start_method()
stop.set()
other.join()
print(alone, beside_a_thread, _start_method())
"""


def _python(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.skipif(
    not os.environ.get("MAHNWERK_TEST_PG_URL"),
    reason="MAHNWERK_TEST_PG_URL not set: worker scale-out needs PostgreSQL",
)
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_four_workers_process_each_due_invoice_exactly_once(db_url, engine):
    deploy(engine, POLICY, at(ISSUE))
    seed(engine, [(f"R{i:05d}", f"K{i % 300}", "120.00") for i in range(3000)])
    run(engine, ISSUE, PolicySet.load(engine), at(ISSUE))  # intake: every invoice gets a record
    day = DUE + timedelta(days=8)  # 7d after due, plus Easter inside the A9 payment grace
    ds = m.DunningState.__table__
    with engine.connect() as conn:
        due = conn.execute(
            select(func.count()).select_from(ds).where(ds.c.next_check_on <= day)
        ).scalar_one()
    assert due == 3000
    stats = run_parallel(db_url, day, 4, at(day))
    assert stats.checked == due  # none skipped
    assert sum(stats.per_worker.values()) == due  # and run_parallel refuses duplicates
    assert len([n for n in stats.per_worker.values() if n > 0]) >= 2  # the work was shared
    with engine.connect() as conn:
        left = conn.execute(
            select(func.count()).select_from(ds).where(ds.c.next_check_on <= day)
        ).scalar_one()
        moves = conn.execute(
            select(func.count())
            .select_from(m.Event.__table__)
            .where(m.Event.__table__.c.kind == "transition")
        ).scalar_one()
    assert left == 0
    assert moves == 2 * due  # open -> vorab -> erinnerung, caught up once per invoice


@pytest.mark.skipif(
    not os.environ.get("MAHNWERK_TEST_PG_URL"),
    reason="MAHNWERK_TEST_PG_URL not set: worker scale-out needs PostgreSQL",
)
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_workers_share_the_work_by_customer_never_one_customer_in_two(db_url, engine):
    """D3: two workers never plan contacts for one customer at once."""
    deploy(engine, POLICY, at(ISSUE))
    seed(engine, [(f"R{i:05d}", f"K{i % 37}", "120.00") for i in range(600)])
    run(engine, ISSUE, PolicySet.load(engine), at(ISSUE))
    day = DUE + timedelta(days=8)
    inv = m.Invoice.__table__
    shares: list[set[int]] = []
    with engine.begin() as conn:
        owner = dict(conn.execute(select(inv.c.id, inv.c.customer_id)).all())
        for ids in partition(conn, day, 3):
            shares.append({owner[i] for i in ids})
            assert len(ids) == sum(1 for i in owner if owner[i] in shares[-1])
    assert all(shares) and sum(len(s) for s in shares) == len(set().union(*shares)) == 37
    # forked from a one-threaded coordinator: the workers step with its compiled policies
    assert _python(FORKED_RUN, db_url, day.isoformat(), at(day).isoformat()) == (
        "fork 600 w0,w1,w2"
    )
    again = run_parallel(db_url, day, 3, at(day))  # nothing due: no worker is started
    assert again.checked == 0 and again.per_worker == {}


def test_workers_are_spawned_not_forked_while_another_thread_runs():
    """A fork copies locks other threads hold, held for good in the child: spawn then."""
    assert _python(START_METHODS) == "fork spawn fork"
