"""The operator's Monday in the terminal UI (issue 14), driven by Textual's pilot.

Each test presses keys as an operator would and then reads the tables the engine
writes: the inbox (events waiting for the next run), the event log (withdrawals,
finished worklist items), `work_done`.  The book is `tui_book.build_monday_book`:
a key account due for a phone call, escalations, tasks and a promise due today.
"""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static
from tui_book import AS_OF, NOW, build_monday_book, keys, make_app, settle, type_text

from mahnwerk.engine.approvals import decide, pending
from mahnwerk.engine.models import APPROVAL, DS, EVENT, INBOX, INV, WORK_DONE
from mahnwerk.engine.operator_events import withdraw
from mahnwerk.engine.policies import PolicySet
from mahnwerk.engine.runner import run
from mahnwerk.engine.store.invoices import record_event
from mahnwerk.tui.app import MahnwerkApp
from mahnwerk.tui.customer import CustomerScreen
from mahnwerk.tui.dialogs import ConfirmDialog, FormDialog, PickDialog
from mahnwerk.tui.invoice import InvoiceScreen
from mahnwerk.tui.policy_text import PolicyTextScreen
from mahnwerk.tui.queue import QueueScreen
from mahnwerk.tui.today import CallDialog, TodayScreen

SIZE = (80, 24)


@pytest.fixture
def monday(tmp_path: Path):
    engine = build_monday_book(f"sqlite:///{tmp_path / 'monday.db'}")
    try:
        yield engine
    finally:
        engine.dispose()


def drive(app: MahnwerkApp, scenario: Callable[[Pilot], Awaitable[None]]) -> None:
    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await scenario(pilot)

    asyncio.run(main())


def inbox(engine: Engine, invoice: str) -> list[tuple[str, date, dict, str]]:
    with engine.connect() as conn:
        return [
            (r.kind, r.occurred_on, json.loads(r.payload), r.actor)
            for r in conn.execute(
                select(INBOX).join(INV, INV.c.id == INBOX.c.invoice_id)
                .where(INV.c.external_id == invoice, INBOX.c.applied_run_id.is_(None))
                .order_by(INBOX.c.id)
            )
        ]  # fmt: skip


def log(engine: Engine, kind: str) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        return [
            (r.actor, r.message, r.payload)
            for r in conn.execute(select(EVENT).where(EVENT.c.kind == kind).order_by(EVENT.c.id))
        ]


def notes(app: MahnwerkApp) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


def rows(table: DataTable, column: int) -> list[str]:
    return [str(table.get_row_at(i)[column]) for i in range(table.row_count)]


def test_today_opens_first_and_lists_what_waits_for_a_person(monday: Engine):
    async def scenario(pilot: Pilot) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, TodayScreen)
        status = str(screen.query_one("#today-status", Static).render())
        assert "call 1" in status and "approve 10" in status and "task 3" in status
        assert "promise 1" in status
        table = screen.query_one("#today", DataTable)
        assert rows(table, 0)[0] == "call" and rows(table, 2)[0] == "RE-3001"
        assert "+49 40 555 0300" in rows(table, 5)[0]  # the number to dial, in the list
        kinds = rows(table, 0)
        assert kinds.index("approve") < kinds.index("task") < kinds.index("promise")
        assert "1,262.03" in rows(table, 3)  # amounts whole, even at 80 columns

    drive(make_app(monday, "anna", start="today"), scenario)


def test_todays_status_line_keeps_to_one_line_with_a_big_books_counts(monday: Engine):
    """The counts of a book of a million invoices (bench/bench_tui.py's Monday) made the
    line 130 characters long: at 120 columns it took a second line when they arrived and
    pushed the list down.  It leaves out the date (the header line has it) to fit."""

    async def scenario(pilot: Pilot) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, TodayScreen)
        counts = {"call": 3_000, "approval": 30_000, "task": 5_000, "bank": 500,
                  "bounce": 2_000, "promise": 400}  # fmt: skip
        screen._counted(counts)  # as `count_waiting` hands them over
        await settle(pilot)
        status = screen.query_one("#today-status", Static)
        text = str(status.render())
        assert status.size.height == 1, text
        assert "call 3,000  approve 30,000  task 5,000  bank 500  bounce 2,000" in text
        assert "promise 400 (oldest 25 each listed)" in text
        assert "03.06.2024" in str(pilot.app.sub_title)  # the date, still on screen

    async def main() -> None:
        async with make_app(monday, "anna", start="today").run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await scenario(pilot)

    asyncio.run(main())


def test_a_call_is_one_key_for_its_outcome_and_then_leaves_the_list(monday: Engine):
    async def scenario(pilot: Pilot) -> None:
        await keys(pilot, "enter")  # the call (first line)
        dialog = pilot.app.screen
        assert isinstance(dialog, CallDialog)
        text = str(dialog.query_one("#detail", Static).render())
        assert "+49 40 555 0300" in text and "Zahlungstermin vereinbaren" in text  # the script
        await keys(pilot, "p")  # reached, and a promise
        assert isinstance(pilot.app.screen, FormDialog)
        await type_text(pilot, "20.6.")
        await keys(pilot, "enter")
        await type_text(pilot, "18.400,00")
        await keys(pilot, "enter")
        await type_text(pilot, "zahlt nach Abnahme")
        await keys(pilot, "enter", "enter")
        assert isinstance(pilot.app.screen, TodayScreen)
        table = pilot.app.screen.query_one("#today", DataTable)
        assert "call" not in rows(table, 0)  # done items leave the list

    drive(make_app(monday, "anna", start="today"), scenario)
    assert inbox(monday, "RE-3001") == [
        ("promise_made", AS_OF, {"promised_date": "2024-06-20", "promised_amount": "18400.00",
                                 "note": "zahlt nach Abnahme"}, "anna"),
    ]  # fmt: skip
    assert [(a, m) for a, m, _ in log(monday, "call_done")] == [
        ("anna", "call promise: call +49 40 555 0300: anruf_key_account")
    ]


def test_a_promise_for_two_invoices_of_one_customer_in_german_dates(monday: Engine):
    """ctrl+f finds the customer (namesakes told apart by city), space marks, o records."""

    async def scenario(pilot: Pilot) -> None:
        await keys(pilot, "ctrl+f")
        await type_text(pilot, "weiß")
        await keys(pilot, "enter")
        picker = pilot.app.screen
        assert isinstance(picker, PickDialog)
        labels = [label for _key, label in picker.options]
        assert any("Jörg Weiß" in x and "Leipzig" in x and "K-201" in x for x in labels)
        assert any("Weiß & Söhne KG" in x and "Köln" in x for x in labels)
        await keys(pilot, *(["down"] * [k for k, _ in picker.options].index("K-201")), "enter")
        screen = pilot.app.screen
        assert isinstance(screen, CustomerScreen) and screen.customer == "K-201"
        contact = str(screen.query_one("#cust-contact", Static).render())
        assert "+49 40 5550201" in contact and "joerg.weiss@example.de" in contact
        table = screen.query_one("#cust-invoices", DataTable)
        assert rows(table, 1) == ["RE-2002", "RE-2012", "RE-2007"]
        await keys(pilot, "space", "down", "space")  # RE-2002 and RE-2007 (skips RE-2012)
        await keys(pilot, "o")
        form = pilot.app.screen
        assert isinstance(form, FormDialog) and "RE-2002, RE-2007" in form.title_text
        await type_text(pilot, "31.06.2024")  # no such day: refused, cursor stays
        await keys(pilot, "enter", "enter", "enter", "enter")
        assert "write 20.04.2026, 20.4., +14" in str(form.query_one("#error", Static).render())
        assert pilot.app.focused is form.query_one("#field-until", Input)
        form.query_one("#field-until", Input).value = "20.06.2024"
        await keys(pilot, "enter")
        await type_text(pilot, "399,90")
        await keys(pilot, "enter")
        await type_text(pilot, "am Telefon")
        await keys(pilot, "enter", "enter")
        assert isinstance(pilot.app.screen, CustomerScreen)

    drive(make_app(monday, "anna", start="today"), scenario)
    promise = {"promised_date": "2024-06-20", "promised_amount": "399.90", "note": "am Telefon"}
    assert inbox(monday, "RE-2002") == [("promise_made", AS_OF, promise, "anna")]
    assert inbox(monday, "RE-2007") == [("promise_made", AS_OF, promise, "anna")]
    assert inbox(monday, "RE-2012") == []


def test_a_mistaken_note_is_withdrawn_and_the_withdrawal_is_in_the_audit_log(monday: Engine):
    async def scenario(pilot: Pilot) -> None:
        pilot.app.push_screen(InvoiceScreen("RE-2004"))
        await settle(pilot)
        await keys(pilot, "n")
        await type_text(pilot, "falscher Kunde angerufen")
        await keys(pilot, "enter", "enter")
        assert "note" in str(pilot.app.screen.query_one("#waiting", Static).render())
        await keys(pilot, "u")
        assert isinstance(pilot.app.screen, PickDialog)
        await keys(pilot, "enter")
        assert "withdrawn: note" in notes(pilot.app)
        assert str(pilot.app.screen.query_one("#waiting", Static).render()) == ""

    drive(make_app(monday, "anna", start="today"), scenario)
    assert inbox(monday, "RE-2004") == []
    [(actor, message, payload)] = log(monday, "withdrawn_note")
    assert actor == "anna" and "recorded by anna withdrawn" in message
    assert json.loads(payload)["payload"] == {"note": "falscher Kunde angerufen"}


def test_an_applied_event_cannot_be_withdrawn_and_a_second_withdrawal_names_the_first(
    monday: Engine,
):
    first = record_event(monday, "RE-2004", "note", AS_OF, "anna", NOW, {"note": "x"})
    withdraw(monday, first, "ben", NOW, AS_OF)
    with pytest.raises(Exception, match="already withdrawn by ben"):
        withdraw(monday, first, "anna", NOW, AS_OF)
    second = record_event(monday, "RE-2004", "note", AS_OF, "anna", NOW, {"note": "bleibt"})
    run(monday, AS_OF + timedelta(days=1), PolicySet.load(monday), NOW + timedelta(days=1))
    with pytest.raises(Exception, match="applied by the run of 2024-06-04"):
        withdraw(monday, second, "anna", NOW, AS_OF)
    # the note reached the audit trail and changed nothing the engine decides
    assert [m for _a, m, _p in log(monday, "received_note")] == ["note recorded by anna: bleibt"]


def test_reject_then_release_the_rejected_invoice(monday: Engine):
    async def scenario(pilot: Pilot) -> None:
        await keys(pilot, "3")
        table = pilot.app.screen.query_one("#approvals", DataTable)
        assert rows(table, 2)[0] == "RE-2001"
        await keys(pilot, "down", "r")  # RE-2002
        await type_text(pilot, "Kunde zahlt in Raten")
        await keys(pilot, "enter", "y")
        assert "rejected by anna" in notes(pilot.app)
        assert rows(table, 2)[1] == "RE-2010"  # the cursor on the one that took its place
        await keys(pilot, "0")
        pilot.app.push_screen(InvoiceScreen("RE-2002"))
        await settle(pilot)
        amounts = str(pilot.app.screen.query_one("#amounts", Static).render())
        assert "HELD" in amounts
        nxt = str(pilot.app.screen.query_one("#next-step", Static).render())
        assert "release it" in nxt
        await keys(pilot, "r")
        await type_text(pilot, "Ratenplan vereinbart")
        await keys(pilot, "enter", "enter")

    drive(make_app(monday, "anna", start="today"), scenario)
    with monday.connect() as conn:
        status = conn.execute(
            select(APPROVAL.c.status).join(INV, INV.c.id == APPROVAL.c.invoice_id)
            .where(INV.c.external_id == "RE-2002")
        ).scalar_one()  # fmt: skip
    assert status == "rejected"
    assert inbox(monday, "RE-2002") == [
        ("release", AS_OF, {"note": "Ratenplan vereinbart"}, "anna")
    ]


def test_a_batch_approval_keeps_the_cursor_and_a_decided_one_names_who(monday: Engine):
    async def scenario(pilot: Pilot) -> None:
        await keys(pilot, "3")
        table = pilot.app.screen.query_one("#approvals", DataTable)
        await keys(pilot, "down", "down", "down", "down")  # on RE-1002
        assert rows(table, 2)[table.cursor_row] == "RE-1002"
        # ben, elsewhere, decides RE-1002 meanwhile; anna's list still shows it
        aid = next(p.id for p in pending(monday) if p.invoice == "RE-1002")
        decide(monday, aid, "ben", True, NOW, AS_OF, "passt")
        await keys(pilot, "a")
        await type_text(pilot, "ok")
        await keys(pilot, "enter", "y")
        assert "already approved" in notes(pilot.app) and "approved by ben" in notes(pilot.app)
        assert rows(table, 2)[table.cursor_row] == "RE-1003"  # the next one, not the first

    drive(make_app(monday, "anna", start="today"), scenario)


def test_screen_keys_never_fire_while_typing_and_dialogs_never_stack(monday: Engine):
    async def scenario(pilot: Pilot) -> None:
        await keys(pilot, "2", "f")
        await type_text(pilot, "R2026006512")  # digits go into the field, no screen switch
        assert isinstance(pilot.app.screen, QueueScreen)
        assert pilot.app.screen.query_one("#filter", Input).value == "R2026006512"
        await keys(pilot, "escape", "5")
        await keys(pilot, "enter", "ctrl+r")  # Enter on the run date, then ctrl+r as well
        assert isinstance(pilot.app.screen, ConfirmDialog)
        assert sum(isinstance(s, ConfirmDialog) for s in pilot.app.screen_stack) == 1
        await keys(pilot, "1")  # a screen key under a dialog: nothing
        assert isinstance(pilot.app.screen, ConfirmDialog)
        await keys(pilot, "n")

    drive(make_app(monday, "anna", start="today"), scenario)


def test_the_story_shows_the_whole_reason_the_rule_and_opens_the_policy_there(monday: Engine):
    async def scenario(pilot: Pilot) -> None:
        pilot.app.push_screen(InvoiceScreen("RE-2004"))
        await settle(pilot)
        screen = pilot.app.screen
        table = screen.query_one("#timeline", DataTable)
        at = next(i for i, line in enumerate(screen.lines) if line[1] == "approval_requested")
        table.move_cursor(row=at)
        await settle(pilot)
        detail = str(screen.query_one("#line-detail", Static).render())
        assert "mahnung_2 -> inkasso: handover to" in detail  # nothing cut
        assert "rule tui_policy.mahn:14" in detail
        await keys(pilot, "l")
        shown = pilot.app.screen
        assert isinstance(shown, PolicyTextScreen) and shown.line == 14
        source = str(shown.query_one("#policy-source", Static).render())
        assert "▶  14     state inkasso after 7d in mahnung_2" in source
        await keys(pilot, "escape")
        nxt = str(screen.query_one("#next-step", Static).render())
        assert "inkasso waits for approval" in nxt

    drive(make_app(monday, "anna", start="today"), scenario)


def test_write_off_above_the_limit_needs_a_second_person(monday: Engine):
    async def request(pilot: Pilot) -> None:
        pilot.app.push_screen(InvoiceScreen("RE-2013"))
        await settle(pilot)
        await keys(pilot, "w")
        await type_text(pilot, "Kunde unauffindbar")
        await keys(pilot, "enter", "y")
        assert "a second person confirms" in notes(pilot.app)

    drive(make_app(monday, "anna", start="today"), request)
    assert inbox(monday, "RE-2013") == []  # nothing booked yet

    async def same_person(pilot: Pilot) -> None:
        table = pilot.app.screen.query_one("#today", DataTable)
        table.move_cursor(row=rows(table, 0).index("write-off"))
        await keys(pilot, "enter", "enter")
        assert "a different person must confirm" in notes(pilot.app)

    drive(make_app(monday, "anna", start="today"), same_person)
    assert inbox(monday, "RE-2013") == []

    async def second(pilot: Pilot) -> None:
        table = pilot.app.screen.query_one("#today", DataTable)
        table.move_cursor(row=rows(table, 0).index("write-off"))
        await keys(pilot, "enter", "enter")
        assert "write-off" not in rows(table, 0)

    drive(make_app(monday, "ben", start="today"), second)
    [(kind, _on, payload, actor)] = inbox(monday, "RE-2013")
    assert (kind, actor) == ("write_off", "ben")
    assert payload["note"] == "Kunde unauffindbar (asked by anna, confirmed by ben)"


def test_another_operators_change_appears_without_a_key_press(monday: Engine):
    async def scenario(pilot: Pilot) -> None:
        await keys(pilot, "3")
        table = pilot.app.screen.query_one("#approvals", DataTable)
        assert "RE-2001" in rows(table, 2)
        aid = next(p.id for p in pending(monday) if p.invoice == "RE-2002")
        decide(monday, aid, "ben", False, NOW, AS_OF, "nein")  # another operator
        for _ in range(40):
            await asyncio.sleep(0.05)
            await pilot.pause()
            if "RE-2002" not in rows(table, 2):
                break
        assert "RE-2002" not in rows(table, 2)

    drive(make_app(monday, "anna", start="today", poll=0.2), scenario)


def test_queue_exports_the_filter_for_german_excel_and_as_xlsx(monday: Engine, tmp_path):
    from openpyxl import load_workbook

    async def scenario(pilot: Pilot) -> None:
        await keys(pilot, "2", "f")
        await type_text(pilot, "state=mahnung_2")
        await keys(pilot, "enter")
        for name in ("out.csv", "out.xlsx"):
            await keys(pilot, "e")
            pilot.app.screen.query_one("#field-path", Input).value = str(tmp_path / name)
            await keys(pilot, "enter")
        await keys(pilot, "w")
        await type_text(pilot, "zweite Mahnung")
        await keys(pilot, "enter", "x", "l", "enter")
        assert pilot.app.screen.filters.state == "mahnung_2"

    drive(make_app(monday, "anna", start="today"), scenario)
    raw = (tmp_path / "out.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the umlauts
    lines = list(csv.reader(raw.decode("utf-8-sig").splitlines(), delimiter=";"))
    assert lines[0][:6] == ["invoice", "customer", "name", "city", "amount", "balance"]
    assert {line[9] for line in lines[1:]} == {"mahnung_2"}
    first = next(line for line in lines if line[0] == "RE-2004")
    assert first[4] == "249,00" and first[6] == "28.03.2024"
    sheet = load_workbook(tmp_path / "out.xlsx").active
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == len(lines)
    row = next(v for v in values if v[0] == "RE-2004")
    assert row[4] == 249 and row[6].date() == date(2024, 3, 28)


def test_dashboard_rows_open_the_queue_filtered_to_that_row(monday: Engine):
    async def scenario(pilot: Pilot) -> None:
        await keys(pilot, "1")
        states = pilot.app.screen.query_one("#states", DataTable)
        states.focus()
        keys_ = [str(k.value) for k in states.rows]
        states.move_cursor(row=keys_.index("default/mahnung_2"))
        await keys(pilot, "enter")
        screen = pilot.app.screen
        assert isinstance(screen, QueueScreen)
        assert (screen.filters.state, screen.filters.segment) == ("mahnung_2", "default")

    drive(make_app(monday, "anna", start="today"), scenario)


def test_a_note_goes_through_a_run_into_the_story_and_nothing_else_changes(monday: Engine):
    with monday.connect() as conn:
        before = conn.execute(
            select(DS).join(INV, INV.c.id == DS.c.invoice_id).where(INV.c.external_id == "RE-2009")
        ).one()
    record_event(monday, "RE-2009", "note", AS_OF, "anna", NOW, {"note": "Rückruf Mittwoch"})
    run(monday, AS_OF, PolicySet.load(monday), NOW)
    with monday.connect() as conn:
        after = conn.execute(
            select(DS).join(INV, INV.c.id == DS.c.invoice_id).where(INV.c.external_id == "RE-2009")
        ).one()
        work = conn.execute(select(WORK_DONE)).all()
    assert (after.state, after.next_check_on) == (before.state, before.next_check_on)
    assert [m for _a, m, _p in log(monday, "received_note")] == [
        "note recorded by anna: Rückruf Mittwoch"
    ]
    assert work == []
