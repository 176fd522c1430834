"""How fast the operators' queue is on a one-million-invoice book.

The issue's target: opening the queue and moving a page each take under 200 ms
on a database of 1,000,000 invoices.  Measured end to end through the real app
in Textual's headless pilot.  The figure is the app's own: from the moment the
screen handles the key (or, when opening, is created) until the new page's
rows have been painted by the compositor (`call_after_refresh`), including the
query in its worker thread.  The pilot's own round trip per key (which adds
its idle waits of ~20 ms each) is printed beside it for context.  The count of
matching invoices runs in the background and is reported separately:

    open queue     key `2` from the dashboard (after the dashboard's own figures
                   have loaded): from the queue screen's creation until its first
                   page is painted; also, for context, the whole app start straight
                   into the queue (`start="queue"`), Textual's own start-up included;
    next page      key `n`, 30 times in a row (pages 2..31), per sort order and
                   for a state filter; median and worst;
    previous page  key `p`, back over the same pages;
    count          the background count of matching invoices (not on a key press);
    dashboard      the dashboard's aggregates (a background worker as well).

The database is `bench_run.py`'s generator (cached in `$MAHNWERK_BENCH_CACHE`,
built on first use in ~30-60 s): 1,000,000 open invoices of 250,000 B2C customers
spread over the ladder of `policies/de_b2c_standard.mahn`, ~30,000 escalations
waiting.  Only reads happen, so the cached file is used as it is.

The operators' first screens are timed on the same book with a Monday's worth of
work on top (`monday_layer`, written into a copy of the cached file, cached beside
it): every invoice with a sent message and two log lines, 30,000 escalations
waiting, 3,000 calls due, 2,000 bounces, 5,000 tasks, 500 unmatched credits, and
300,000 operator events applied by earlier runs, 30,000 of them promises (20,000
invoices still paused by one, a few hundred falling due on the as-of date):

    open Today      key `0` from the dashboard: from the screen's creation until
                    its list is painted (`latencies`, as the queue's);
    (each also with the CPU time the process spent meanwhile, pilot and background
    counts included: on a shared machine under load the wall time is mostly waiting
    for a core, and the CPU time says what the screen itself costs);
    customer view   from Today's line, key `c`: the same figure for the customer
                    screen of a customer with 16 invoices, their messages and notes;
    customer search the name search of ctrl+f (`find_customers`), for context.

    /tmp/venv/bin/python bench/bench_tui.py [--invoices 1000000] [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import bench_run  # noqa: E402  (the generator of the big book lives there)

from mahnwerk.engine.store.db import make_engine  # noqa: E402
from mahnwerk.engine.store.screens import (  # noqa: E402
    PAGE_SIZE,
    QueueFilter,
    dashboard,
    queue_count,
)
from mahnwerk.tui.app import MahnwerkApp  # noqa: E402

TARGET_MS = 200.0


def _clock() -> datetime:
    return datetime(2025, 9, 15, 9, tzinfo=UTC)


SIZE = (120, 40)
PAGES = 30


async def _wait(pilot: Any, groups: set[str]) -> None:
    """Until the workers of `groups` are done and their results are on screen."""
    while True:
        busy = [w for w in pilot.app.workers if w.is_running and w.group in groups]
        if not busy:
            break
        await pilot.app.workers.wait_for_complete(busy)
    await pilot.pause()


async def _timed(pilot: Any, key: str, groups: set[str]) -> float:
    """The app's own figure: from handling the key to the page painted (`latencies`)."""
    screen = pilot.app.screen
    before = len(getattr(screen, "latencies", []))
    started = time.perf_counter()
    await pilot.press(key)
    await _wait(pilot, groups)
    pilot_ms = (time.perf_counter() - started) * 1000
    _ROUND_TRIPS.append(pilot_ms)
    return await _painted(pilot, before if pilot.app.screen is screen else 0)


async def _painted(pilot: Any, before: int = 0) -> float:
    """The screen's latest figure, once its frame is painted (a loaded machine may need a
    few more idle rounds than the pilot's one pause)."""
    screen = pilot.app.screen
    for _ in range(600):
        if len(screen.latencies) > before:
            return screen.latencies[-1]
        await pilot.pause(0.1)
    raise AssertionError(f"no page was painted on {type(screen).__name__}")


_ROUND_TRIPS: list[float] = []
"""The pilot's round trip per key (its own idle waits included), for context."""


async def _session(engine: Any, today: Any, presses: list[str] | None = None) -> dict[str, Any]:
    """One app session: dashboard, open the queue, page forward and back."""
    app = MahnwerkApp(engine, "bench", today, _clock, start="dashboard", poll=0)
    out: dict[str, Any] = {}
    async with app.run_test(size=SIZE) as pilot:
        await _wait(pilot, {"dashboard"})
        out["open_queue_ms"] = await _timed(pilot, "2", {"queue-page"})
        screen = app.screen
        assert screen.query_one("#queue").row_count == 50, "the first page is not full"
        await _wait(pilot, {"queue-count"})
        for key in presses or []:  # set a sort order or filter first
            await pilot.press(key)
            await _wait(pilot, {"queue-page", "queue-count"})
        out["next_ms"] = [await _timed(pilot, "n", {"queue-page"}) for _ in range(PAGES)]
        out["pages_seen"] = len(screen.starts)
        out["prev_ms"] = [await _timed(pilot, "p", {"queue-page"}) for _ in range(PAGES)]
    return out


async def _start_in_queue(engine: Any, today: Any) -> float:
    started = time.perf_counter()
    app = MahnwerkApp(engine, "bench", today, _clock, start="queue", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        await _wait(pilot, {"queue-page"})
        return (time.perf_counter() - started) * 1000


async def _filtered(engine: Any, today: Any, state: str) -> dict[str, Any]:
    app = MahnwerkApp(engine, "bench", today, _clock, start="queue", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        await _wait(pilot, {"queue-page", "queue-count"})
        await pilot.press("f", *f"state={state}", "enter")
        await _wait(pilot, {"queue-page", "queue-count"})
        screen = app.screen
        # `n` on the last page paints nothing ("This is the last page"): the book must hold
        # more than PAGES pages of the state (`_filter_state` picks one that does)
        assert screen.total is not None and screen.total > PAGES * PAGE_SIZE, (
            f"state={state} matches {screen.total} invoices: fewer than {PAGES + 1} pages"
        )
        out = {"next_ms": [await _timed(pilot, "n", {"queue-page"}) for _ in range(PAGES)]}
        out["pages_seen"] = len(screen.starts)
        return out


def _filter_state(states: dict[str, int]) -> str | None:
    """The state filter's state: the book's least common state that still fills more than
    PAGES pages.  (A fixed `mahnung_1` failed with "no page was painted" on the big book:
    its generator holds invoices in three states only, none in `mahnung_1`, so the filtered
    queue was empty and every `n` said "This is the last page".)"""
    enough = {s: n for s, n in states.items() if n > PAGES * PAGE_SIZE}
    return min(enough, key=enough.__getitem__) if enough else None


# ---------------------------------------------------------------------------
# A Monday's work on top of the big book (for Today and the customer view)
# ---------------------------------------------------------------------------

LAYER_VERSION = 1
PROMISES_PAUSED = 20_000
PROMISES_DUE_TODAY = 400


def monday_layer(path: Path) -> Path:
    """A copy of the cached book with a Monday's work in it, built once (~1 min).

    Written with plain `sqlite3` in a few `executemany` batches: what matters here
    is how many rows the screens' queries meet, not how they came about.
    """
    import random
    import shutil
    import sqlite3

    out = path.with_name(f"{path.stem}-monday{LAYER_VERSION}.db")
    if out.exists():
        return out
    part = out.with_suffix(".part.db")
    shutil.copyfile(path, part)
    rng = random.Random(20250915)
    day = bench_run.AS_OF
    stamp = f"{day:%Y-%m-%d} 06:00:00.000000"
    con = sqlite3.connect(part)
    invoices = con.execute("SELECT id, customer_id FROM invoice ORDER BY id").fetchall()

    def days_ago(k: int) -> str:
        return (day - timedelta(days=k)).isoformat()

    # every invoice: one message sent, two log lines
    con.executemany(
        "INSERT INTO outbox (idempotency_key, invoice_id, customer_id, channel, template, "
        "language, status, not_before, created_at, sent_at, attempts, payload) "
        "VALUES (?, ?, ?, 'email', 'zahlungserinnerung', 'de', 'sent', ?, ?, ?, 1, '{}')",
        ((f"m{i}", i, c, stamp, stamp, stamp) for i, c in invoices),
    )
    con.executemany(
        "INSERT INTO event (invoice_id, customer_id, kind, occurred_on, recorded_at, actor, "
        "rule, state_from, state_to, message, payload) VALUES (?, ?, ?, ?, ?, 'engine', "
        "'policies/de_b2c_standard.mahn:44', ?, ?, ?, '{}')",
        (
            row
            for i, c in invoices
            for row in (
                (i, c, "transition", days_ago(i % 40), stamp, "open", "erinnerung", "reminder"),
                (i, c, "message_queued", days_ago(i % 40), stamp, None, None, "e-mail"),
            )
        ),
    )
    picks = rng.sample(invoices, 60_000)
    calls, bounces, tasks = picks[:3_000], picks[3_000:5_000], picks[5_000:10_000]
    approvals, credits = picks[10_000:40_000], picks[40_000:40_500]
    con.executemany(
        "INSERT INTO outbox (idempotency_key, invoice_id, customer_id, channel, template, "
        "language, status, not_before, created_at, attempts, payload) "
        "VALUES (?, ?, ?, 'call', 'anruf', 'de', 'queued', ?, ?, 0, '{}')",
        ((f"c{i}", i, c, stamp, stamp) for i, c in calls),
    )
    con.executemany(
        "INSERT INTO outbox (idempotency_key, invoice_id, customer_id, channel, template, "
        "language, status, not_before, created_at, attempts, last_error, payload) "
        "VALUES (?, ?, ?, 'email', 'mahnung_1', 'de', 'failed', ?, ?, 3, '550 no such user', "
        "'{}')",
        ((f"b{i}", i, c, stamp, stamp) for i, c in bounces),
    )
    con.executemany(
        "INSERT INTO event (invoice_id, customer_id, kind, occurred_on, recorded_at, actor, "
        "message, payload) VALUES (?, ?, ?, ?, ?, 'engine', 'for a person', '{}')",
        ((i, c, rng.choice(("task_handover", "task_notify", "task_file_claim")),
          days_ago(rng.randrange(30)), stamp) for i, c in tasks),
    )  # fmt: skip
    con.executemany(
        "INSERT INTO approval (invoice_id, target_state, summary, rule, required, status, "
        "requested_on, amount) VALUES (?, 'inkasso', 'hand over', "
        "'policies/de_b2c_standard.mahn:69', 1, 'pending', ?, 100)",
        ((i, days_ago(rng.randrange(20))) for i, _c in approvals),
    )
    con.executemany(
        "INSERT INTO bank_entry (entry_key, account, statement, booked_on, amount, currency, "
        "direction, kind, counterparty_name, remittance, file, status, imported_at) "
        "VALUES (?, 'DE02', 'S1', ?, 45, 'EUR', 'C', 'credit', 'Payer', 'Danke', 'x.xml', "
        "'unmatched', ?)",
        ((f"e{i}", days_ago(1), stamp) for i, _c in credits),
    )
    # operator events applied by earlier runs; the promises among them pause invoices
    applied = rng.sample(invoices, 300_000)
    kinds = ("payment_partial", "conversation", "dispute_opened", "note")
    promised = applied[:30_000]
    rows = [
        (i, rng.choice(kinds), days_ago(rng.randrange(60)), stamp, "{}")
        for i, _c in applied[30_000:]
    ]
    for n_, (i, _c) in enumerate(promised):
        # still paused: promised for today (a few hundred) or later; the others were kept
        # or broken, so their pause ended (the engine resumes 3 business days after)
        if n_ < PROMISES_DUE_TODAY:
            until = day
        elif n_ < PROMISES_PAUSED:
            until = day + timedelta(days=rng.randrange(1, 60))
        else:
            until = day - timedelta(days=rng.randrange(5, 60))
        rows.append(
            (i, "promise_made", days_ago(10), stamp, f'{{"promised_date": "{until.isoformat()}"}}')
        )
    con.executemany(
        "INSERT INTO inbox (invoice_id, kind, occurred_on, recorded_at, actor, payload, "
        "applied_run_id) VALUES (?, ?, ?, ?, 'anna', ?, 1)",
        rows,
    )
    con.executemany(
        "UPDATE dunning_state SET pause_reason = 'promise_made' WHERE invoice_id = ?",
        ((i,) for i, _c in promised[:PROMISES_PAUSED]),
    )
    con.commit()
    con.execute("ANALYZE")
    con.close()
    os.replace(part, out)
    return out


def _busiest_customer(engine: Any) -> str:
    from sqlalchemy import func, select

    from mahnwerk.engine.models import CUST, INV

    with engine.connect() as conn:
        return conn.execute(
            select(CUST.c.external_id)
            .join(INV, INV.c.customer_id == CUST.c.id)
            .group_by(CUST.c.id)
            .order_by(func.count().desc())
            .limit(1)
        ).scalar_one()


async def _operator_screens(engine: Any, today: Any) -> dict[str, float]:
    """Today from the dashboard (key 0), then the customer of its first call (key c)."""
    app = MahnwerkApp(engine, "bench", today, _clock, start="dashboard", poll=0)
    out: dict[str, float] = {}
    async with app.run_test(size=SIZE) as pilot:
        await _wait(pilot, {"dashboard"})
        cpu = time.process_time()
        await pilot.press("0")
        await _wait(pilot, {"today"})
        out["today_ms"] = await _painted(pilot)
        out["today_cpu_ms"] = (time.process_time() - cpu) * 1000
        assert app.screen.query_one("#today").row_count > 100, "Today is nearly empty"
        cpu = time.process_time()
        await pilot.press("c")
        await _wait(pilot, {"customer"})
        out["customer_ms"] = await _painted(pilot)
        out["customer_cpu_ms"] = (time.process_time() - cpu) * 1000
    return out


async def _customer_screen(engine: Any, today: Any, customer: str) -> float:
    from mahnwerk.tui.customer import CustomerScreen

    app = MahnwerkApp(engine, "bench", today, _clock, start="dashboard", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        await _wait(pilot, {"dashboard"})
        app.push_screen(CustomerScreen(customer))
        await _wait(pilot, {"customer"})
        ms = await _painted(pilot)
        assert app.screen.query_one("#cust-invoices").row_count >= 10
        return ms


def _ms(values: list[float]) -> str:
    p95 = sorted(values)[max(0, round(len(values) * 0.95) - 1)]
    return (
        f"median {statistics.median(values):6.1f} ms, 95 % {p95:6.1f} ms, "
        f"worst {max(values):6.1f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--invoices", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3, help="sessions; the best open time counts")
    ap.add_argument("--json", action="store_true")
    ap.add_argument(
        "--screens",
        choices=("all", "queue", "operator"),
        default="all",
        help="the queue's figures, Today's and the customer's, or all",
    )
    args = ap.parse_args(argv)

    path, info = bench_run.ensure_built(
        argparse.Namespace(invoices=args.invoices, due_share=0.05, rebuild=False)
    )
    engine = make_engine(f"sqlite:///{path}")
    today = bench_run.AS_OF
    print(
        f"database {path} ({info['invoices']:,} invoices, {info['pending_approvals']:,} "
        f"escalations waiting); load average {os.getloadavg()[0]:.2f}"
    )
    figures: dict[str, Any] = {"invoices": info["invoices"]}
    verdict: list[float] = []
    if args.screens in ("all", "queue"):
        verdict += _queue_figures(engine, today, args, figures, info)
    engine.dispose()
    if args.screens in ("all", "operator"):
        verdict += _operator_figures(path, today, args, figures)

    # The verdict: the best opening and the typical (median) page move.  The worst
    # single figures are printed above: on a shared machine they show its load.
    worst = max(verdict)
    ok = worst < TARGET_MS
    print(
        f"target < {TARGET_MS:.0f} ms (best opening, median page move): "
        + ("met" if ok else "NOT met")
        + f", {worst:.1f} ms"
    )
    if args.json:
        print(json.dumps(figures))
    return 0 if ok else 1


def _operator_figures(path: Path, today: Any, args: Any, figures: dict[str, Any]) -> list[float]:
    from mahnwerk.engine.customer_view import find_customers

    started = time.perf_counter()
    monday = monday_layer(path)
    print(f"with a Monday's work: {monday} ({time.perf_counter() - started:.0f} s)")
    engine = make_engine(f"sqlite:///{monday}")
    sessions = [asyncio.run(_operator_screens(engine, today)) for _ in range(args.repeat)]
    opens = [s["today_ms"] for s in sessions]
    from_today = [s["customer_ms"] for s in sessions]
    busiest = _busiest_customer(engine)
    custs = [asyncio.run(_customer_screen(engine, today, busiest)) for _ in range(args.repeat)]
    started = time.perf_counter()
    hits = find_customers(engine, "fischer")
    search_ms = (time.perf_counter() - started) * 1000
    engine.dispose()
    figures.update(today_ms=opens, customer_from_today_ms=from_today, customer_ms=custs,
                   customer_search_ms=search_ms)  # fmt: skip
    cpu = {k: min(s[f"{k}_cpu_ms"] for s in sessions) for k in ("today", "customer")}
    figures.update(today_cpu_ms=cpu["today"], customer_from_today_cpu_ms=cpu["customer"])
    print(
        f"open Today (key 0)       best {min(opens):6.1f} ms, worst {max(opens):6.1f} ms"
        f"  (CPU {cpu['today']:.1f} ms)"
    )
    print(
        f"customer from Today (c)  best {min(from_today):6.1f} ms, worst {max(from_today):6.1f} ms"
        f"  (CPU {cpu['customer']:.1f} ms)"
    )
    print(f"customer {busiest} (busiest) best {min(custs):6.1f} ms, worst {max(custs):6.1f} ms")
    print(f"customer search 'fischer' {search_ms:6.1f} ms ({len(hits)} hits shown)")
    return [min(opens), min(from_today), min(custs)]


def _queue_figures(
    engine: Any, today: Any, args: Any, figures: dict[str, Any], info: dict[str, Any]
) -> list[float]:
    sessions = [asyncio.run(_session(engine, today)) for _ in range(args.repeat)]
    opens = [s["open_queue_ms"] for s in sessions]
    nexts = [ms for s in sessions for ms in s["next_ms"]]
    prevs = [ms for s in sessions for ms in s["prev_ms"]]
    starts = [asyncio.run(_start_in_queue(engine, today)) for _ in range(args.repeat)]
    figures.update(open_queue_ms=opens, next_page_ms=nexts, prev_page_ms=prevs, start_ms=starts)
    print(f"open queue (key 2)       best {min(opens):6.1f} ms, worst {max(opens):6.1f} ms")
    print(f"app start into queue     best {min(starts):6.1f} ms, worst {max(starts):6.1f} ms")
    print(f"next page (key n)        {_ms(nexts)}  ({len(nexts)} moves)")
    print(f"previous page (key p)    {_ms(prevs)}")
    print(f"  (pilot round trip per key, its idle waits included: {_ms(_ROUND_TRIPS)})")
    figures["pilot_round_trip_ms"] = list(_ROUND_TRIPS)

    for label, presses in (
        # `s` opens the sort menu (due date, amount, customer, number, entry)
        ("sorted by number", ["s", "down", "down", "down", "enter"]),
        ("sorted by customer", ["s", "down", "down", "enter"]),
        ("sorted by due date", ["s", "enter"]),
        ("sorted by amount", ["s", "down", "enter"]),
    ):
        s = asyncio.run(_session(engine, today, presses))
        figures[f"next_page_ms {label}"] = s["next_ms"]
        print(f"next page, {label:<13} {_ms(s['next_ms'])}")
    state = _filter_state(info["states"])
    if state is None:
        print(f"next page, state filter  not timed: no state holds {PAGES + 1} pages")
    else:
        count = info["states"][state]
        f = asyncio.run(_filtered(engine, today, state))
        figures[f"next_page_ms state={state}"] = f["next_ms"]
        print(f"next page, state filter  {_ms(f['next_ms'])}  (state {state}, {count:,})")

    for label, fn in (
        ("count, all (background)", lambda: queue_count(engine, QueueFilter(), today)),
        (
            "count, one state (bg)",
            lambda: queue_count(engine, QueueFilter(state=state or "mahnung_1"), today),
        ),
        ("dashboard (background)", lambda: dashboard(engine, today)),
    ):
        started = time.perf_counter()
        fn()
        ms = (time.perf_counter() - started) * 1000
        figures[label] = ms
        print(f"{label:<24} {ms:6.1f} ms")

    return [min(opens), statistics.median(nexts), statistics.median(prevs)]


if __name__ == "__main__":
    raise SystemExit(main())
