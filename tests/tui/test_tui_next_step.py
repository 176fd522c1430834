"""The story's "Next:" date is the day the run takes the step, also for business days.

A rule `after 3 business days in erinnerung` entered on Wednesday 27 March 2024 fires
on Wednesday 3 April: Good Friday (29.03.) and Easter Monday (01.04.) are holidays and
the weekend between them does not count.  Entered on Tuesday 2 April, the Tuesday after
Easter, it fires on Friday 5 April; the story's estimate before (seven fifths of three
days) said Saturday 06.04., a day on which nothing happens.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select
from textual.widgets import Static
from tui_book import make_app, settle

from mahnwerk.engine.customer_view import next_step
from mahnwerk.engine.models import CUST, DS, INV
from mahnwerk.engine.policies import PolicySet, deploy
from mahnwerk.engine.runner import run
from mahnwerk.engine.store.db import init_db, make_engine

POLICY = """
policy "werktage" version 1 {
  currency EUR  timezone "Europe/Berlin"  calendar DE region from customer  language de
  limits { minimum balance 5.00 EUR }
  segment default use standard
  ladder standard {
    state erinnerung "Zahlungserinnerung" at 7d after due { email "zahlungserinnerung" }
    state mahnung_1 "1. Mahnung" after 3 business days in erinnerung { email "mahnung_1"; wait }
  }
}
"""

CASES = {
    # due date, first run (erinnerung entered), the day the story names
    "over Easter": (date(2024, 3, 20), date(2024, 3, 27), date(2024, 4, 3)),
    "after Easter": (date(2024, 3, 1), date(2024, 4, 2), date(2024, 4, 5)),
}


def at(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=6)


@pytest.fixture(params=CASES)
def easter(tmp_path: Path, request) -> tuple[Engine, date, date]:
    due, entered, fires = CASES[request.param]
    url = f"sqlite:///{tmp_path / 'easter.db'}"
    init_db(url)
    engine = make_engine(url)
    policy = tmp_path / "werktage.mahn"
    policy.write_text(POLICY, encoding="utf-8")
    deploy(engine, policy, at(date(2024, 3, 1)))
    with engine.begin() as conn:
        cid = conn.execute(
            insert(CUST).values(external_id="K-1", name="Erika Muster", type="B2C", region="BY")
        ).inserted_primary_key[0]
        conn.execute(
            insert(INV).values(external_id="R-1", customer_id=cid, issue_date=date(2024, 3, 6),
                               due_date=due, amount=Decimal("120.00"))
        )  # fmt: skip
    run(engine, entered, PolicySet.load(engine), at(entered))
    yield engine, entered, fires
    engine.dispose()


def state_of(engine: Engine) -> str:
    with engine.connect() as conn:
        return conn.execute(select(DS.c.state)).scalar_one()


def test_next_step_counts_business_days_around_easter(easter):
    engine, entered, fires = easter
    assert state_of(engine) == "erinnerung"
    said = next_step(engine, "R-1", entered)
    assert said == f"1. Mahnung (mahnung_1) on {fires:%d.%m.%Y}, unless paid by then"
    # and that is the day the run takes it: not the day before, on the day named
    before = fires - timedelta(days=1)
    run(engine, before, PolicySet.load(engine), at(before))
    assert state_of(engine) == "erinnerung"
    run(engine, fires, PolicySet.load(engine), at(fires))
    assert state_of(engine) == "mahnung_1"


def test_story_shows_the_exact_business_day(easter):
    from mahnwerk.tui.invoice import InvoiceScreen

    engine, entered, fires = easter

    async def story() -> str:
        app = make_app(engine, "anna", start="queue", today=entered, now=at(entered))
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            app.push_screen(InvoiceScreen("R-1"))
            await settle(pilot)
            return str(app.screen.query_one("#next-step", Static).render())

    text = asyncio.run(story())
    assert f"1. Mahnung (mahnung_1) on {fires:%d.%m.%Y}" in text
