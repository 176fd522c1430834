"""What each screen looks like, pinned as SVG snapshots (pytest-textual-snapshot).

Fixed book (`conftest.build_book`), fixed business date and clock, fixed
terminal size: a change in any screen's look shows up here as a diff to
review.  Update deliberately with `pytest tests/tui --snapshot-update`.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from textual.pilot import Pilot
from textual.widgets import Input
from tui_book import (
    NOW,
    SIZE,
    build_monday_book,
    keys,
    make_app,
    make_bank_app,
    settle,
    type_text,
)

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
        for bar in pilot.app.screen.query("#run-progress"):  # its animation is not deterministic
            bar.display = False
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
                 then=("enter", "y", "escape"))  # fmt: skip  (Esc: out of the date field)


def test_help(snap_compare, sqlite_book: Engine):
    assert shoot(snap_compare, sqlite_book, "3", "question_mark")


def test_bank_queue(snap_compare, sqlite_bank_book: Engine):
    """Two unmatched credits and a returned direct debit, each with why it waits."""
    assert shoot(snap_compare, sqlite_bank_book, app=make_bank_app(sqlite_bank_book, "anna"))


# ---------------------------------------------------------------------------
# The operators' day (issue 14): every new screen at 80×24 and at 160×48
# ---------------------------------------------------------------------------

SIZES = {"80x24": (80, 24), "160x48": (160, 48)}


@pytest.fixture
def sqlite_monday(tmp_path):
    engine = build_monday_book(f"sqlite:///{tmp_path / 'monday.db'}")
    try:
        yield engine
    finally:
        engine.dispose()


def shoot_at(snap_compare, engine: Engine, size: str, *presses: str, text: str = "",
             then: tuple = (), invoice: str = "", app=None) -> bool:  # fmt: skip
    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        if invoice:
            from mahnwerk.tui.invoice import InvoiceScreen

            pilot.app.push_screen(InvoiceScreen(invoice))
            await settle(pilot)
        await keys(pilot, *presses)
        if text:
            await type_text(pilot, text)
        if then:
            await keys(pilot, *then)
        await settle(pilot)
        for bar in pilot.app.screen.query("#run-progress"):  # its animation is not deterministic
            bar.display = False
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        await pilot.pause()

    app = app or make_app(engine, "anna", start="today")
    return snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_today(snap_compare, sqlite_monday: Engine, size):
    assert shoot_at(snap_compare, sqlite_monday, size)


@pytest.mark.parametrize("size", SIZES)
def test_call_dialog(snap_compare, sqlite_monday: Engine, size):
    assert shoot_at(snap_compare, sqlite_monday, size, "enter")


@pytest.mark.parametrize("size", SIZES)
def test_customer_at_a_glance(snap_compare, sqlite_monday: Engine, size):
    assert shoot_at(snap_compare, sqlite_monday, size, "ctrl+f", text="K-201", then=("enter",))


@pytest.mark.parametrize("size", SIZES)
def test_promise_form_for_two_invoices(snap_compare, sqlite_monday: Engine, size):
    assert shoot_at(snap_compare, sqlite_monday, size, "ctrl+f", text="K-201",
                    then=("enter", "space", "down", "space", "o"))  # fmt: skip


@pytest.mark.parametrize("size", SIZES)
def test_invoice_story_with_next_step(snap_compare, sqlite_monday: Engine, size):
    assert shoot_at(snap_compare, sqlite_monday, size, "end", invoice="RE-2004")


@pytest.mark.parametrize("size", SIZES)
def test_queue_of_open_invoices(snap_compare, sqlite_monday: Engine, size):
    assert shoot_at(snap_compare, sqlite_monday, size, "2")


@pytest.mark.parametrize("size", SIZES)
def test_approvals_with_customer_names(snap_compare, sqlite_monday: Engine, size):
    assert shoot_at(snap_compare, sqlite_monday, size, "3")


@pytest.mark.parametrize("size", SIZES)
def test_dashboard_small_and_large(snap_compare, sqlite_monday: Engine, size):
    assert shoot_at(snap_compare, sqlite_monday, size, "1")


# ---------------------------------------------------------------------------
# Policy, run and bank at 80×24 and 160×48: columns give way by rank, amounts and
# the footer stay whole
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_policy_graph_small_and_large(snap_compare, sqlite_monday: Engine, size):
    assert shoot_at(snap_compare, sqlite_monday, size, "4")


@pytest.mark.parametrize("size", SIZES)
def test_run_and_what_changed_small_and_large(snap_compare, sqlite_monday: Engine, size):
    assert shoot_at(snap_compare, sqlite_monday, size, "5", "ctrl+a", "ctrl+k", text="2024-06-10",
                    then=("enter", "y", "escape"))  # fmt: skip


@pytest.mark.parametrize("size", SIZES)
def test_bank_queue_small_and_large(snap_compare, sqlite_bank_book: Engine, size):
    app = make_bank_app(sqlite_bank_book, "anna")
    assert shoot_at(snap_compare, sqlite_bank_book, size, app=app)


@pytest.mark.parametrize("size", SIZES)
def test_deploy_preview(snap_compare, sqlite_monday: Engine, size, tmp_path, monkeypatch):
    """The preview of a deploy that strands invoices: refused, and it says so."""
    from tui_book import POLICY

    text = POLICY.read_text(encoding="utf-8").replace("version 1", "version 2")
    (tmp_path / "v2.mahn").write_text(text.replace("mahnung_2", "mahnung_zwei"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # the preview names the file as typed
    assert shoot_at(snap_compare, sqlite_monday, size, "4", "d", text="v2.mahn",
                    then=("enter", "enter"))  # fmt: skip
