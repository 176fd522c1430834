"""The workers' shares: a customer's invoices never split, a dead worker loses one batch.

The coordinator reads the due invoices once and hands each worker its list
(engine/workers.py).  These tests hold it to what the claim query promised before: D3 (two
workers never plan contacts for one customer at once), every invoice stepped once, and a
worker killed mid-run leaves nothing half-written — a rerun for the day steps the rest.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, make_url, select, text
from test_runner import DUE, ISSUE, POLICY, at, seed  # noqa: E402

from mahnwerk.engine import models as m
from mahnwerk.engine.policies import PolicySet, deploy
from mahnwerk.engine.runner import run
from mahnwerk.engine.store import lease
from mahnwerk.engine.workers import BATCH, WorkerFailed, partition, run_parallel

TRAPPED = f"mahnwerk-trapped-{os.getpid()}"
DAY = DUE + timedelta(days=8)  # 7 days after due (plus Easter in the A9 grace): all due
PG_ONLY = pytest.mark.skipif(
    not os.environ.get("MAHNWERK_TEST_PG_URL"),
    reason="MAHNWERK_TEST_PG_URL not set: worker scale-out needs PostgreSQL",
)


def _book(engine, invoices: list[tuple[str, str, str]]) -> None:
    deploy(engine, POLICY, at(ISSUE))
    seed(engine, invoices)
    run(engine, ISSUE, PolicySet.load(engine), at(ISSUE))  # intake: every invoice a record


def _transitions(engine) -> Counter:
    ev = m.Event.__table__
    with engine.connect() as conn:
        rows = conn.execute(
            select(ev.c.invoice_id, func.count())
            .where(ev.c.kind == "transition")
            .group_by(ev.c.invoice_id)
        ).all()
    return Counter(dict(rows))


def _due(engine) -> set[int]:
    ds = m.DunningState.__table__
    with engine.connect() as conn:
        return set(conn.execute(select(ds.c.invoice_id).where(ds.c.next_check_on <= DAY)).scalars())


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_a_customers_invoices_stay_in_one_share_and_the_shares_are_even(db_url, engine):
    # one customer with 120 invoices, 60 with 5 or 6: a split by `customer_id % 3` would
    # leave the big customer's share about 120 invoices heavier than the others
    big = [(f"B{i:04d}", "K-gross", "90.00") for i in range(120)]
    small = [(f"S{i:04d}", f"K{i % 60}", "40.00") for i in range(60 * 5 + 7)]
    _book(engine, big + small)
    inv, ds = m.Invoice.__table__, m.DunningState.__table__
    with engine.connect() as conn:
        owner = dict(conn.execute(select(inv.c.id, inv.c.customer_id)).all())
        order = list(
            conn.execute(
                select(ds.c.invoice_id)
                .where(ds.c.next_check_on <= DAY)
                .order_by(ds.c.next_check_on, ds.c.invoice_id)
            ).scalars()
        )
        shares = partition(conn, DAY, 3)
    assert sorted(i for s in shares for i in s) == sorted(order)  # each due invoice once
    customers = [{owner[i] for i in s} for s in shares]
    assert not (customers[0] & customers[1] or customers[0] & customers[2]
                or customers[1] & customers[2])  # fmt: skip
    sizes = sorted(len(s) for s in shares)
    assert sizes[-1] - sizes[0] <= 6  # at most one small customer's invoices apart
    for share in shares:  # each worker steps in the single-process run's order
        assert share == [i for i in order if i in set(share)]


@PG_ONLY
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_worker_killed_mid_batch_loses_only_that_batch_and_the_rerun_steps_the_rest(
    db_url, engine
):
    _book(engine, [(f"R{i:05d}", f"K{i % 400}", "120.00") for i in range(2 * BATCH + 1200)])
    with engine.connect() as conn:
        shares = partition(conn, DAY, 2)
    victim = max(range(2), key=lambda k: len(shares[k]))
    assert len(shares[victim]) > BATCH  # its first batch commits, its second is cut off
    trap = shares[victim][BATCH + 100]
    with engine.begin() as conn:  # the database holds the worker inside its second batch
        conn.execute(text(f"""
            CREATE FUNCTION hold_here() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.invoice_id = {trap} THEN PERFORM pg_sleep(120); END IF;
            RETURN NEW; END $$;
            CREATE TRIGGER hold_here BEFORE UPDATE ON dunning_state
            FOR EACH ROW EXECUTE FUNCTION hold_here();"""))  # fmt: skip
    failure: list[BaseException] = []
    # the workers' connections named, so that only they are looked for among the sleepers
    named = make_url(db_url).update_query_dict({"application_name": TRAPPED})
    url = named.render_as_string(hide_password=False)

    def coordinator() -> None:
        try:
            run_parallel(url, DAY, 2, at(DAY))
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            failure.append(exc)

    thread = threading.Thread(target=coordinator)
    thread.start()
    held = _wait_for_sleeper(engine)
    import multiprocessing

    (worker,) = [p for p in multiprocessing.active_children()
                 if p.name == f"mahnwerk-run-w{victim}"]  # fmt: skip
    os.kill(worker.pid, signal.SIGKILL)
    with engine.begin() as conn:  # the dead client's server process would sleep on
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": held})
    thread.join(120)
    assert not thread.is_alive(), "the coordinator waits for a dead worker"
    (exc,) = failure
    assert isinstance(exc, WorkerFailed)
    assert f"worker w{victim} ({len(shares[victim])} invoices): killed by signal 9" in str(exc)
    assert f"run again for {DAY.isoformat()}" in exc.hint
    assert lease.holder(engine) is None  # the book is free again
    left = _due(engine)
    assert left == set(shares[victim][BATCH:])  # only the open batch: the other worker finished
    moved = _transitions(engine)
    assert all(moved[i] == (0 if i in left else 2) for i in shares[0] + shares[1])
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER hold_here ON dunning_state"))
    again = run_parallel(db_url, DAY, 2, at(DAY))
    assert again.checked == len(left)
    assert _due(engine) == set()
    moved = _transitions(engine)
    assert all(moved[i] == 2 for i in shares[0] + shares[1])  # each stepped once, in all


def _wait_for_sleeper(engine) -> int:
    """The server process of the worker held by the trigger, once it sleeps there."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            pid = conn.execute(
                text(
                    "SELECT pid FROM pg_stat_activity"
                    " WHERE wait_event = 'PgSleep' AND application_name = :name"
                ),
                {"name": TRAPPED},
            ).scalar()
        if pid is not None:
            return pid
        time.sleep(0.2)
    raise AssertionError("no worker reached the trapped invoice within 120 s")


@PG_ONLY
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_workers_unexpected_error_keeps_its_traceback_for_the_log_not_the_screen(db_url, engine):
    _book(engine, [(f"R{i:05d}", f"K{i % 40}", "120.00") for i in range(200)])
    with engine.connect() as conn:
        shares = partition(conn, DAY, 2)
    victim = 0 if shares[0] else 1
    with engine.begin() as conn:  # the database refuses one invoice of one worker's share
        conn.execute(text(f"""
            CREATE FUNCTION refuse_here() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.invoice_id = {shares[victim][0]} THEN
              RAISE EXCEPTION 'refused by the test'; END IF;
            RETURN NEW; END $$;
            CREATE TRIGGER refuse_here BEFORE UPDATE ON dunning_state
            FOR EACH ROW EXECUTE FUNCTION refuse_here();"""))  # fmt: skip
    try:
        with pytest.raises(WorkerFailed) as caught:
            run_parallel(db_url, DAY, 2, at(DAY))
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TRIGGER refuse_here ON dunning_state"))
    exc = caught.value
    assert "refused by the test" in str(exc) and "Traceback" not in exc.cli_text()
    trace = exc.details[f"w{victim}"]
    assert trace.startswith("Traceback (most recent call last)") and "advance_batch" in trace
    assert "refused by the test" in trace
    assert any(trace.rstrip() in note for note in exc.__notes__)  # shown with --debug
    again = run_parallel(db_url, DAY, 2, at(DAY))  # its one batch was rolled back: the rest
    assert again.checked == len(shares[victim]) and again.seconds > 0  # the run's time counted
