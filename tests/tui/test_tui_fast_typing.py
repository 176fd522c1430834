"""Keys typed right after Enter land in the next field, however fast they come.

An operator who knows the promise form types `20.6.2024⏎500⏎zahlt per Überweisung`
without waiting for the screen.  The pilot's `press` waits until the app is idle
after each key; here the keys reach the terminal driver in one burst, as from a fast
typist or a paste, before the app has handled the first Enter.  Each test checks
what was recorded in the database.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input
from tui_book import build_monday_book, keys, make_app, settle

from mahnwerk.engine.models import INBOX, INV


@pytest.fixture
def monday(tmp_path: Path) -> Engine:
    engine = build_monday_book(f"sqlite:///{tmp_path / 'monday.db'}")
    yield engine
    engine.dispose()


async def burst(pilot: Pilot, text: str) -> None:
    """`text` as key events sent to the driver at once (`\\n` is Enter), then wait."""
    driver = pilot.app._driver
    for ch in text:
        key = {"\n": "enter", " ": "space", ".": "full_stop", ",": "comma"}.get(ch, ch)
        event = events.Key(key, "\r" if ch == "\n" else ch)
        event.set_sender(pilot.app)
        driver.send_message(event)
    await settle(pilot)


def promised(engine: Engine, invoice: str) -> dict:
    with engine.connect() as conn:
        payloads = conn.execute(
            select(INBOX.c.payload)
            .join(INV, INV.c.id == INBOX.c.invoice_id)
            .where(INV.c.external_id == invoice, INBOX.c.kind == "promise_made")
            .order_by(INBOX.c.id.desc())
        ).scalars()
        return json.loads(next(iter(payloads), "{}"))


def test_a_promise_typed_in_one_burst_fills_each_field(monday: Engine):
    async def main() -> None:
        from mahnwerk.tui.invoice import InvoiceScreen

        app = make_app(monday, "anna", start="today")
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            app.push_screen(InvoiceScreen("RE-2007"))
            await settle(pilot)
            await keys(pilot, "o")
            # date, amount, note, and the day it was promised (today, as filled in)
            await burst(pilot, "20.6.2024\n500\nzahlt per Überweisung\n\n")

    asyncio.run(main())
    assert promised(monday, "RE-2007") == {
        "promised_date": "2024-06-20",
        "promised_amount": "500.00",
        "note": "zahlt per Überweisung",
    }


def runs(engine: Engine) -> list[str]:
    from mahnwerk.engine.models import RUN

    with engine.connect() as conn:
        days = conn.execute(select(RUN.c.as_of).order_by(RUN.c.id)).scalars()
        return [d.isoformat() for d in days]


def test_a_run_typed_in_one_burst_from_another_screen(monday: Engine):
    """`5`, the date, Enter and `y` as one burst from the dashboard: before, the date's
    `2` came back up as the queue's screen key (and the rest was lost); the `y` typed
    right after Enter went into the date field ("2024-06-10y") instead of answering."""
    before = runs(monday)

    async def main() -> None:
        app = make_app(monday, "anna", start="dashboard")
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await burst(pilot, "52024-06-10\ny")
            while app.screen.query_one("#run-summary").render().plain.startswith("running"):
                await pilot.pause(0.1)
            await settle(pilot)
            assert app.current_mode == "run"

    asyncio.run(main())
    assert runs(monday) == [*before, "2024-06-10"]


def test_back_on_the_run_screen_a_date_is_typed_into_its_field(monday: Engine):
    """A finished run leaves the cursor in its table; after a look elsewhere the cursor is
    back in the date field, so the date typed goes there, not to the bank screen (`6`)."""

    async def main() -> None:
        app = make_app(monday, "anna", start="run")
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await keys(pilot, "escape")  # out of the field: into the table
            assert not isinstance(app.focused, Input)
            await keys(pilot, "1")
            await burst(pilot, "5")
            await burst(pilot, "2024-06-16")
            assert app.current_mode == "run"
            assert app.screen.query_one("#run-date", Input).value == "2024-06-16"

    asyncio.run(main())


def test_a_wrong_date_keeps_the_keys_typed_after_enter(monday: Engine):
    """Enter on a date that is no date asks nothing: what was typed after it stays typed."""
    before = runs(monday)

    async def main() -> None:
        app = make_app(monday, "anna", start="run")
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await burst(pilot, "2024-13-01\n7")
            assert app.screen.query_one("#run-date", Input).value == "2024-13-017"
            assert not app.asking

    asyncio.run(main())
    assert runs(monday) == before
