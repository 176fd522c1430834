"""What a real terminal is sent when the TUI starts: the first screen whole, at once.

Textual (8.2.8) renders the first screen's first frame inside its start-up batch of updates
and drops it, yet counts it as shown: the next frames carried only what changed after it.
A terminal then showed Today's status line and footer over a blank screen — no list —
until something laid the screen out again (the tmux Monday test read the status line
before the list, once Today stopped reading the database twice).  The pilot's headless
driver draws nothing at all, so here the app runs with Textual's headless driver saying it
is a terminal, and what it is sent is kept, write by write.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.drivers.headless_driver import HeadlessDriver
from tui_book import build_monday_book, make_app

SENT: list[str] = []


class Terminal(HeadlessDriver):
    """Textual's headless driver, but taken for a terminal: it keeps what it is sent."""

    @property
    def is_headless(self) -> bool:
        return False

    def write(self, data: str) -> None:
        SENT.append(data)


def test_the_first_screen_is_sent_whole_with_its_list(tmp_path: Path) -> None:
    engine = build_monday_book(f"sqlite:///{tmp_path / 'monday.db'}")
    app = make_app(engine, "anna", start="today")
    app.driver_class = Terminal
    SENT.clear()

    async def start() -> None:
        async with app.run_test(headless=False, size=(80, 24)) as pilot:
            for _ in range(50):  # until the list has been sent
                await pilot.pause(0.05)
                if any("approve → inkasso" in s for s in SENT):
                    break

    try:
        asyncio.run(start())
    finally:
        engine.dispose()
    status = next(i for i, s in enumerate(SENT) if "waiting: call 1" in s)
    # the first frame with the status line is the whole screen, with the list under it
    assert "approve → inkasso" in SENT[status], SENT[status]
    assert "Hanse Maschinenbau AG" in SENT[status]  # the detail of the line under the cursor
