"""The experiments screen (key 7): the list, and the report of the chosen one in the terminal.

A small real book: 48 consumers under the shipped B2C policy, half of them in the
challenger arm (the shipped challenger: one extra free reminder), dunned day by day by
the engine for eight weeks; a third of the customers pay four days after their first
reminder and, of the rest, every second one three days after the challenger's extra
step. The screen must show what `experiment report` computes from that book — the
same table, the cure rates drawn as bars, the recommendation — to a viewer, who may
read it (and nothing more).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select
from textual.widgets import DataTable, Static
from tui_book import settle

from mahnwerk.engine import models as m
from mahnwerk.engine.experiment_report import report
from mahnwerk.engine.experiments import start
from mahnwerk.engine.policies import PolicySet, deploy
from mahnwerk.engine.runner import run
from mahnwerk.engine.store.db import init_db, make_engine
from mahnwerk.tui.app import MahnwerkApp

ROOT = Path(__file__).resolve().parents[2]
CHAMPION = ROOT / "policies" / "de_b2c_standard.mahn"
CHALLENGER = ROOT / "policies" / "experiments" / "de_b2c_nachfass.mahn"
D0 = date(2026, 3, 2)
LAST = D0 + timedelta(weeks=8)
SIZE = (120, 40)


def _at(day: date) -> datetime:
    return datetime.combine(day, time(6), UTC)


def _pay_after_reminders(engine: Engine, day: date) -> None:
    """Customers answer a reminder: a third after the first, every second other after the
    challenger's extra one (its whole balance, a few days after the message)."""
    with engine.begin() as conn:
        rows = conn.execute(
            select(m.DS).where(m.DS.c.state.in_(("erinnerung", "nachfass")))
        ).all()
        for ds in rows:
            first = ds.state == "erinnerung" and ds.invoice_id % 3 == 0
            extra = ds.state == "nachfass" and ds.invoice_id % 2 == 0
            lag = 4 if first else 3
            if (first or extra) and ds.entered_on + timedelta(days=lag) == day:
                conn.execute(insert(m.PAY).values(
                    external_id=f"Z{ds.invoice_id}", booked_on=day, invoice_id=ds.invoice_id,
                    amount=ds.principal_open + ds.fees_open + ds.interest_open))  # fmt: skip


@pytest.fixture(scope="module")
def experiment_book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path_factory.mktemp('experiment') / 'book.db'}"
    init_db(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        for i in range(48):
            cid = conn.execute(insert(m.CUST).values(
                external_id=f"K{i:03d}", name=f"Kunde {i}", type="B2C", region="BE",
                email=f"k{i}@example.org")).inserted_primary_key[0]  # fmt: skip
            issued = D0 + timedelta(days=i % 4)
            conn.execute(insert(m.INV).values(
                external_id=f"R{i:04d}", customer_id=cid, issue_date=issued,
                due_date=issued + timedelta(days=14), amount=Decimal(120 + 5 * i),
                due_date_agreed=True))  # fmt: skip
    deploy(engine, CHAMPION, _at(D0))
    start(engine, "nachfass", "de-b2c-standard", CHALLENGER, Decimal("0.5"), D0, _at(D0),
          "anna.schulz", key="0123456789abcdef" * 4)  # fmt: skip
    day = D0
    while day <= LAST:
        _pay_after_reminders(engine, day)
        run(engine, day, PolicySet.load(engine), _at(day))
        day += timedelta(days=1)
    yield engine
    engine.dispose()


def _app(engine: Engine, role: str = "viewer") -> MahnwerkApp:
    moment = _at(LAST)
    return MahnwerkApp(engine, "vera", LAST, lambda: moment, start="experiments",
                       last_run=LAST, poll=0, role=role)  # fmt: skip


def test_a_viewer_reads_the_report_the_command_computes(experiment_book: Engine):
    expected = report(experiment_book, "nachfass", LAST)
    assert expected.outcomes, "the book must have measured invoices"
    asyncio.run(_reads(experiment_book, expected))


async def _reads(experiment_book: Engine, expected) -> None:  # type: ignore[no-untyped-def]
    async with _app(experiment_book).run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        listed = screen.query_one("#experiments", DataTable)
        assert listed.row_count == 1 and listed.get_row_at(0)[:2] == ["nachfass", "running"]
        shown = screen.query_one("#exp-report", DataTable)
        rows = [shown.get_row_at(i) for i in range(shown.row_count)]
        table = expected.table()
        assert [r[:3] for r in rows] == [[r[0], r[1], str(r[2])] for r in table.rows]
        cured = {(r[0], r[1]): r[3] for r in table.rows}
        assert {(r[0], r[1]): r[3] for r in rows} == {
            k: "–" if v is None else str(v) for k, v in cured.items()
        }
        bars = str(screen.query_one("#exp-bars", Static).render())
        assert "paid within 30 days" in bars and "█" in bars and "▓" in bars
        assert f"{float(cured[('champion', 'all')]):.1f} %" in bars
        verdict = str(screen.query_one("#exp-verdict", Static).render())
        assert f"recommendation: {expected.difference.verdict.upper()}" in verdict
        await pilot.press("g", "enter")  # refresh and open: a viewer may read
        await settle(pilot)
        assert not pilot.app._notifications  # nothing refused
        assert shown.row_count == len(table.rows)


def test_without_an_experiment_the_screen_says_how_to_start_one(sqlite_book: Engine):
    async def main() -> None:
        async with _app(sqlite_book).run_test(size=SIZE) as pilot:
            await settle(pilot)
            title = str(pilot.app.screen.query_one("#exp-title", Static).render())
            assert "No experiment yet" in title and "mahnwerk experiment start" in title

    asyncio.run(main())


def test_experiment_report_snapshot(snap_compare, experiment_book: Engine):
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)

    assert snap_compare(_app(experiment_book), terminal_size=SIZE, run_before=run_before)
