"""What each screen looks like, pinned as SVG snapshots (pytest-textual-snapshot).

Fixed book (`conftest.build_book`), fixed business date and clock, fixed
terminal size: a change in any screen's look shows up here as a diff to
review.  Update deliberately with `pytest tests/tui --snapshot-update`.
"""

from __future__ import annotations

from sqlalchemy import Engine
from textual.pilot import Pilot
from textual.widgets import Input
from tui_book import NOW, SIZE, keys, make_app, make_bank_app, settle, type_text

from mahnwerk.engine.approvals import decide, pending


def shoot(snap_compare, engine: Engine, *presses: str, text: str = "", then: tuple = (), app=None):
    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await keys(pilot, *presses)
        if text:
            await type_text(pilot, text)
        if then:
            await keys(pilot, *then)
        await settle(pilot)
        for field in pilot.app.screen.query(Input):  # a blinking cursor is not deterministic
            field.cursor_blink = False
        await pilot.pause()

    app = app or make_app(engine, "anna")
    return snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_dashboard(snap_compare, sqlite_book: Engine):
    assert shoot(snap_compare, sqlite_book)


def test_queue(snap_compare, sqlite_book: Engine):
    assert shoot(snap_compare, sqlite_book, "2")


def test_queue_filtered(snap_compare, sqlite_book: Engine):
    assert shoot(
        snap_compare, sqlite_book, "2", "f", text="state=mahnung_2 amount>=100", then=("enter",)
    )


def test_approvals_with_a_first_approver(snap_compare, sqlite_book: Engine):
    first = pending(sqlite_book)[0]
    decide(sqlite_book, first.id, "ben", True, NOW, NOW.date(), "geprüft")
    assert shoot(snap_compare, sqlite_book, "3")


def test_approve_asks_for_confirmation(snap_compare, sqlite_book: Engine):
    assert shoot(snap_compare, sqlite_book, "3", "a", text="ok", then=("enter",))


def test_invoice_detail(snap_compare, sqlite_book: Engine):
    assert shoot(snap_compare, sqlite_book, "2", "slash", text="RE-2011", then=("enter", "enter"))


def test_payment_form(snap_compare, sqlite_book: Engine):
    assert shoot(
        snap_compare, sqlite_book, "2", "slash", text="RE-2011", then=("enter", "enter", "p")
    )


def test_policy_graph(snap_compare, sqlite_book: Engine):
    assert shoot(snap_compare, sqlite_book, "4")


def test_run_and_what_changed(snap_compare, sqlite_book: Engine):
    assert shoot(snap_compare, sqlite_book, "5", "ctrl+a", "ctrl+k", text="2024-06-17",
                 then=("enter", "y"))  # fmt: skip


def test_help(snap_compare, sqlite_book: Engine):
    assert shoot(snap_compare, sqlite_book, "3", "question_mark")


def test_bank_queue(snap_compare, sqlite_bank_book: Engine):
    """Two unmatched credits and a returned direct debit, each with why it waits."""
    assert shoot(snap_compare, sqlite_bank_book, app=make_bank_app(sqlite_bank_book, "anna"))
