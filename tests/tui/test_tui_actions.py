"""Every action of the terminal UI, driven by Textual's pilot, checked in the database.

Each test presses keys as an operator would (no method calls on screens) and
then reads the tables the engine writes: approval decisions and their audit
events, inbox entries for payments, disputes, promises and holds, a run.
They run on SQLite and, when `MAHNWERK_TEST_PG_URL` is set, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static
from tui_book import (
    AS_OF,
    BANK_AS_OF,
    BANK_NOW,
    NOW,
    SIZE,
    keys,
    make_app,
    make_bank_app,
    settle,
    type_text,
)

from mahnwerk.engine.bank import assign
from mahnwerk.engine.models import (
    APPROVAL,
    BANK_ENTRY,
    DECISION,
    DS,
    EVENT,
    INBOX,
    INV,
    LEDGER,
    PAY,
    RUN,
)
from mahnwerk.engine.policies import PolicySet
from mahnwerk.engine.runner import run
from mahnwerk.tui.app import MahnwerkApp
from mahnwerk.tui.approvals import ApprovalsScreen
from mahnwerk.tui.bank import BankEntryDialog, BankScreen
from mahnwerk.tui.dialogs import ConfirmDialog, FormDialog, HelpScreen, PickDialog
from mahnwerk.tui.invoice import InvoiceScreen


def drive(app: MahnwerkApp, scenario: Callable[[Pilot], Awaitable[None]]) -> None:
    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await scenario(pilot)

    asyncio.run(main())


def approval_of(engine: Engine, invoice: str):
    with engine.connect() as conn:
        return conn.execute(
            select(APPROVAL).join(INV, INV.c.id == APPROVAL.c.invoice_id)
            .where(INV.c.external_id == invoice)
        ).one()  # fmt: skip


def decisions(engine: Engine, approval_id: int) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(DECISION.c.approver, DECISION.c.decision, DECISION.c.comment)
                .where(DECISION.c.approval_id == approval_id)
                .order_by(DECISION.c.id)
            )
        ]


def record(engine: Engine, invoice: str):
    with engine.connect() as conn:
        return conn.execute(
            select(DS).join(INV, INV.c.id == DS.c.invoice_id).where(INV.c.external_id == invoice)
        ).one()


def inbox(engine: Engine, invoice: str) -> list[tuple[str, date, dict, str]]:
    with engine.connect() as conn:
        return [
            (r.kind, r.occurred_on, json.loads(r.payload), r.actor)
            for r in conn.execute(
                select(INBOX)
                .join(INV, INV.c.id == INBOX.c.invoice_id)
                .where(INV.c.external_id == invoice)
                .order_by(INBOX.c.id)
            )
        ]


def notes(app: MahnwerkApp) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


# ---------------------------------------------------------------------------
# Approvals
# ---------------------------------------------------------------------------


def test_four_eyes_approval_needs_two_different_operators(book: Engine):
    """RE-2001 (1,262.03 EUR to the collector) needs two people; anna cannot count twice."""
    first = approval_of(book, "RE-2001")
    assert (first.required, first.status) == (2, "pending")

    async def anna(pilot: Pilot) -> None:
        await keys(pilot, "3")
        assert isinstance(pilot.app.screen, ApprovalsScreen)
        table = pilot.app.screen.query_one("#approvals", DataTable)
        assert table.get_row_at(0)[2] == "RE-2001"  # the oldest first, under the cursor
        detail = str(pilot.app.screen.query_one("#approval-detail", Static).render())
        assert "handover to" in detail and "tui_policy.mahn:14" in detail
        assert "0 of 2" in detail
        await keys(pilot, "a")
        assert isinstance(pilot.app.screen, FormDialog)
        await type_text(pilot, "Kunde reagiert nicht")
        await keys(pilot, "enter")
        assert isinstance(pilot.app.screen, ConfirmDialog)
        await keys(pilot, "y")
        assert decisions(book, first.id) == [("anna", "approve", "Kunde reagiert nicht")]
        assert approval_of(book, "RE-2001").status == "pending"
        assert "waiting for another person" in notes(pilot.app)
        # the same operator again: the engine refuses, nothing is written
        assert table.get_row_at(0)[7] == "anna"  # approved by
        assert table.get_row_at(0)[4] == "Anna Schmidt"  # the customer's name
        detail = str(pilot.app.screen.query_one("#approval-detail", Static).render())
        assert "approved first by anna" in detail and "already approved" in detail
        await keys(pilot, "a", "enter", "y")
        assert decisions(book, first.id) == [("anna", "approve", "Kunde reagiert nicht")]
        assert "a second approval must come from a different person" in notes(pilot.app)

    drive(make_app(book, "anna"), anna)

    async def ben(pilot: Pilot) -> None:
        await keys(pilot, "3", "a")
        await type_text(pilot, "ok")
        await keys(pilot, "enter", "y")

    drive(make_app(book, "ben"), ben)
    assert [d[:2] for d in decisions(book, first.id)] == [("anna", "approve"), ("ben", "approve")]
    done = approval_of(book, "RE-2001")
    assert done.status == "approved"
    rec = record(book, "RE-2001")
    assert (rec.approved_target, rec.pending_approval_id) == ("inkasso", None)
    with book.connect() as conn:
        actors = conn.execute(
            select(EVENT.c.actor, EVENT.c.message).where(
                EVENT.c.invoice_id == done.invoice_id, EVENT.c.kind == "approval_given"
            ).order_by(EVENT.c.id)
        ).all()  # fmt: skip
    assert [a for a, _ in actors] == ["anna", "ben"]
    assert actors[1][1].startswith("approved by ben (2/2)")


def test_a_rejection_needs_a_reason_and_puts_the_invoice_on_hold(book: Engine):
    target = approval_of(book, "RE-2002")

    async def scenario(pilot: Pilot) -> None:
        await keys(pilot, "3", "down", "r")  # the second row: RE-2002
        await keys(pilot, "enter")  # no reason given: the dialog stays
        assert isinstance(pilot.app.screen, FormDialog)
        assert "needs a reason" in str(pilot.app.screen.query_one("#error", Static).render())
        await type_text(pilot, "Ratenzahlung vereinbart")
        await keys(pilot, "enter", "y")

    drive(make_app(book, "anna"), scenario)
    assert decisions(book, target.id) == [("anna", "reject", "Ratenzahlung vereinbart")]
    assert approval_of(book, "RE-2002").status == "rejected"
    assert record(book, "RE-2002").held


def test_a_marked_selection_is_decided_at_once_and_no_means_nothing(book: Engine):
    ids = {inv: approval_of(book, inv).id for inv in ("RE-1002", "RE-1003", "RE-2011")}

    async def scenario(pilot: Pilot) -> None:
        await keys(pilot, "3")
        # rows: RE-2001, RE-2002, RE-1001, RE-1002, RE-1003, RE-2011, ...
        await keys(pilot, "down", "down", "down", "space", "space", "space")
        assert "3 marked" in str(pilot.app.screen.query_one("#approvals-status", Static).render())
        await keys(pilot, "a", "enter")
        confirm = pilot.app.screen
        assert isinstance(confirm, ConfirmDialog)
        assert "Approve 3 escalation(s) as anna?" in confirm.question
        await keys(pilot, "n")  # changed her mind: nothing is written
        assert all(decisions(book, i) == [] for i in ids.values())
        await keys(pilot, "a", "enter", "y")

    drive(make_app(book, "anna"), scenario)
    for inv, aid in ids.items():
        assert decisions(book, aid) == [("anna", "approve", "")], inv
        assert approval_of(book, inv).status == "approved"
    assert approval_of(book, "RE-1001").status == "pending"


# ---------------------------------------------------------------------------
# Queue and invoice detail
# ---------------------------------------------------------------------------


def test_queue_filters_and_opens_the_invoice(book: Engine):
    async def scenario(pilot: Pilot) -> None:
        await keys(pilot, "2")
        table = pilot.app.screen.query_one("#queue", DataTable)
        assert table.row_count == 19  # open invoices only: the paid RE-2010 is left out
        status = pilot.app.screen.query_one("#queue-status", Static)
        assert "open invoices" in str(status.render()) and "of 19" in str(status.render())
        assert table.get_row_at(0)[0] == "RE-1001"  # the oldest due date first
        await keys(pilot, "f")
        await type_text(pilot, "state=mahnung_2")
        await keys(pilot, "enter")
        assert [table.get_row_at(i)[0] for i in range(table.row_count)] == [
            "RE-2001", "RE-2002", "RE-2011", "RE-2004", "RE-2005",
        ]  # fmt: skip
        assert "of 5" in str(status.render())
        await keys(pilot, "slash", "end")  # focus selects the line: append instead
        await type_text(pilot, " schmidt")
        await keys(pilot, "enter")
        assert [table.get_row_at(i)[0] for i in range(table.row_count)] == ["RE-2001", "RE-2011"]
        await keys(pilot, "x")  # clear: every open invoice again
        assert table.row_count == 19
        await keys(pilot, "a")  # open → all
        assert table.row_count == 20 and "all invoices" in str(status.render())
        await keys(pilot, "f")
        await type_text(pilot, "overdue>=viele")
        await keys(pilot, "enter")
        assert "is not a whole number" in notes(pilot.app)
        assert table.row_count == 20
        pilot.app.screen.query_one("#filter", Input).value = "overdue>=100 amount>=50"
        await keys(pilot, "enter", "s")  # filtered, then the sort menu
        assert isinstance(pilot.app.screen, PickDialog)
        await keys(pilot, "down", "down", "down", "enter")  # by invoice number
        assert [table.get_row_at(i)[0] for i in range(table.row_count)] == [
            "RE-1001", "RE-1002", "RE-1003", "RE-2001", "RE-2002", "RE-2010",
        ]  # fmt: skip
        assert "by number" in str(status.render())
        assert "amount>=50 overdue>=100" in str(status.render())
        await keys(pilot, "r")  # reversed
        assert table.get_row_at(0)[0] == "RE-2010"
        await keys(pilot, "enter")
        assert isinstance(pilot.app.screen, InvoiceScreen)
        assert pilot.app.screen.invoice == "RE-2010"
        await keys(pilot, "escape")
        assert pilot.app.screen.query_one("#queue", DataTable) is table

    drive(make_app(book, "anna"), scenario)


def test_invoice_actions_go_to_the_inbox_and_the_next_run_applies_them(book: Engine):
    async def scenario(pilot: Pilot) -> None:
        await keys(pilot, "2", "slash")
        await type_text(pilot, "RE-2007")
        await keys(pilot, "enter", "enter")
        screen = pilot.app.screen
        assert isinstance(screen, InvoiceScreen) and screen.invoice == "RE-2007"
        # a payment: a bad amount is refused in the dialog, the cursor goes back to it
        await keys(pilot, "p")
        await type_text(pilot, "zehn")
        await keys(pilot, "enter", "enter")
        assert "not an amount" in str(pilot.app.screen.query_one("#error", Static).render())
        assert pilot.app.focused is pilot.app.screen.query_one("#field-amount", Input)
        pilot.app.screen.query_one("#field-amount", Input).value = "100,00"
        await keys(pilot, "enter", "enter")  # to the date (today), then submit
        assert isinstance(pilot.app.screen, InvoiceScreen)  # recorded; u would undo it
        await keys(pilot, "o")
        await type_text(pilot, "2024-06-20")  # ISO works as well as 20.06.2024
        await keys(pilot, "enter", "enter", "enter", "enter")
        await keys(pilot, "h")
        await type_text(pilot, "Kunde ruft an")
        await keys(pilot, "enter", "enter")
        waiting = str(screen.query_one("#waiting", Static).render())
        assert "payment_partial 2024-06-03 by anna amount=100.00" in waiting
        assert "promise_made" in waiting and "hold" in waiting
        await keys(pilot, "escape", "escape")  # back to the queue
        await keys(pilot, "x", "slash")
        await type_text(pilot, "RE-2013")
        await keys(pilot, "enter", "enter", "d")
        await type_text(pilot, "Ware nie erhalten")
        await keys(pilot, "enter", "enter")

    drive(make_app(book, "anna"), scenario)
    assert inbox(book, "RE-2007") == [
        ("payment_partial", AS_OF, {"amount": "100.00"}, "anna"),
        ("promise_made", AS_OF, {"promised_date": "2024-06-20"}, "anna"),
        ("hold", AS_OF, {"note": "Kunde ruft an"}, "anna"),
    ]
    assert inbox(book, "RE-2013") == [
        ("dispute_opened", AS_OF, {"note": "Ware nie erhalten"}, "anna")
    ]

    async def run_it(pilot: Pilot) -> None:
        await keys(pilot, "5", "enter")
        assert isinstance(pilot.app.screen, ConfirmDialog)
        await keys(pilot, "y")
        summary = str(pilot.app.screen.query_one("#run-summary", Static).render())
        assert "events applied 4" in summary

    drive(make_app(book, "anna"), run_it)
    assert all(applied for applied in _applied(book))
    rec = record(book, "RE-2007")
    assert rec.held and rec.principal_open == 210
    assert record(book, "RE-2013").disputed
    with book.connect() as conn:
        paid = conn.execute(
            select(LEDGER.c.amount).join(INV, INV.c.id == LEDGER.c.invoice_id)
            .where(INV.c.external_id == "RE-2007", LEDGER.c.kind == "payment")
        ).scalars().all()  # fmt: skip
    assert paid == [-100]


def _applied(engine: Engine) -> list[bool]:
    with engine.connect() as conn:
        return [r is not None for r in conn.execute(select(INBOX.c.applied_run_id)).scalars()]


# ---------------------------------------------------------------------------
# Run, policy, help, palette
# ---------------------------------------------------------------------------


def test_a_run_from_the_ui_moves_invoices_and_shows_what_changed(book: Engine):
    with book.connect() as conn:
        runs_before = conn.execute(select(RUN.c.id)).scalars().all()

    async def scenario(pilot: Pilot) -> None:
        await keys(pilot, "5")
        field = pilot.app.screen.query_one("#run-date", Input)
        field.value = "2024-06-31"
        await keys(pilot, "enter")
        assert "is not a date" in notes(pilot.app)
        field.value = "2024-06-17"
        await keys(pilot, "enter", "n")  # asked, declined: no run
        with book.connect() as conn:
            assert conn.execute(select(RUN.c.id)).scalars().all() == runs_before
        await keys(pilot, "ctrl+r", "y")
        summary = str(pilot.app.screen.query_one("#run-summary", Static).render())
        assert summary.startswith("2024-06-17:")
        moves = pilot.app.screen.query_one("#moves", DataTable)
        rows = [[str(c) for c in moves.get_row_at(i)] for i in range(moves.row_count)]
        assert ["erinnerung", "mahnung_1", "1", "tui_policy.mahn:22"] in rows  # count, rule

    drive(make_app(book, "anna"), scenario)
    with book.connect() as conn:
        assert len(conn.execute(select(RUN.c.id)).scalars().all()) == len(runs_before) + 1
    assert record(book, "RE-1005").state == "mahnung_1"


def test_policy_screen_draws_each_segment_with_triggers_and_actions(book: Engine):
    async def scenario(pilot: Pilot) -> None:
        await keys(pilot, "4")
        graph = pilot.app.screen.query_one("#graph", Static)
        text = str(graph.render())
        assert "segment business  (ladder b2b)" in text
        assert "├─▶ gericht  after 14d in letzte" in text
        assert "does: approval by 2 when balance > 10000 EUR else 1" in text
        await keys(pilot, "down")
        text = str(graph.render())
        assert "segment default  (ladder standard)" in text
        assert "when principal >= 50 EUR" in text
        await keys(pilot, "e")
        assert "dispute_opened" in str(graph.render())

    drive(make_app(book, "anna"), scenario)


def test_help_palette_and_navigation(book: Engine):
    async def scenario(pilot: Pilot) -> None:
        assert pilot.app.current_mode == "dashboard"
        await keys(pilot, "question_mark")
        assert isinstance(pilot.app.screen, HelpScreen)
        await keys(pilot, "escape")
        await keys(pilot, "ctrl+p")
        await type_text(pilot, "go to approvals")
        await keys(pilot, "enter")
        await settle(pilot)
        assert pilot.app.current_mode == "approvals"
        await keys(pilot, "o")  # open the invoice of the highlighted escalation
        assert isinstance(pilot.app.screen, InvoiceScreen)
        await keys(pilot, "3")  # the screen's own key again: back to the list
        assert isinstance(pilot.app.screen, ApprovalsScreen)

    drive(make_app(book, "anna"), scenario)


def test_the_app_refuses_to_start_without_an_operator(book: Engine):
    with pytest.raises(ValueError, match="--operator"):
        MahnwerkApp(book, "  ", AS_OF, lambda: NOW)


def test_mahnwerk_tui_asks_who_is_working(book: Engine, db_url: str, monkeypatch):
    from typer.testing import CliRunner

    from mahnwerk.cli import app
    from mahnwerk.service.identity import login

    monkeypatch.delenv("MAHNWERK_OPERATOR", raising=False)
    result = CliRunner().invoke(app, ["tui", "--db", db_url, "--operator", " \u200b "])
    assert result.exit_code == 2
    assert "--operator NAME is only a label: leave it out to work as you" in result.stderr
    forged = CliRunner().invoke(app, ["tui", "--db", db_url, "--operator", "x"])
    assert forged.exit_code == 1 and "--operator x is not who you are" in forged.stderr
    me = login(book)[1]
    bad = CliRunner().invoke(app, ["tui", "--db", db_url, "--operator", me, "--as-of", "3.6."])
    assert bad.exit_code == 2 and "--as-of '3.6.' is not a date" in bad.stderr


def test_the_bank_screen_is_one_register_call_and_keys_stay_unique(book: Engine):
    """The bank queue plugs in through the registry; a second screen on its key is refused."""
    from mahnwerk.tui import registry
    from mahnwerk.tui.bank import BankScreen

    with pytest.raises(ValueError, match="clashes with 'bank'"):
        registry.register(registry.ScreenEntry("unmatched", "Unmatched", "6", BankScreen))
    with pytest.raises(ValueError, match="clashes with 'bank'"):
        registry.register(registry.ScreenEntry("bank", "Bank again", "7", BankScreen))
    assert [e.name for e in registry.SCREENS].count("bank") == 1

    async def scenario(pilot: Pilot) -> None:
        await keys(pilot, "6")
        assert pilot.app.current_mode == "bank"
        assert isinstance(pilot.app.screen, BankScreen)
        status = str(pilot.app.screen.query_one("#bank-status", Static).render())
        assert status == "0 unmatched credit(s), 0 return(s)/reversal(s) to review · you are anna"
        assert "Nothing waits" in str(pilot.app.screen.query_one("#bank-detail", Static).render())
        await keys(pilot, "a")  # nothing to assign: no dialog
        assert isinstance(pilot.app.screen, BankScreen)
        await keys(pilot, "question_mark")
        help_text = str(pilot.app.screen.query_one(".help-text").render())
        assert "6  Bank                 Unmatched payments: assign, dismiss" in help_text

    drive(make_app(book, "anna"), scenario)
    assert [e.name for e in registry.SCREENS] == [
        "dashboard", "queue", "approvals", "policy", "run", "bank", "today", "experiments",
    ]  # fmt: skip
    assert [e.key for e in registry.SCREENS] == ["1", "2", "3", "4", "5", "6", "0", "7"]


# ---------------------------------------------------------------------------
# Bank: the unmatched payments queue
# ---------------------------------------------------------------------------


def bank_rows(app: MahnwerkApp) -> list[tuple[str, ...]]:
    table = app.screen.query_one("#bank", DataTable)
    return [tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


def bank_entry(engine: Engine, remittance: str):
    with engine.connect() as conn:
        return conn.execute(select(BANK_ENTRY).where(BANK_ENTRY.c.remittance == remittance)).one()


def bank_payments(engine: Engine, entry_id: int) -> list[tuple[str, Decimal, str, bool]]:
    with engine.connect() as conn:
        return [
            (r.external_id, Decimal(r.amount), r.source, bool(r.applied))
            for r in conn.execute(
                select(INV.c.external_id, PAY.c.amount, PAY.c.source, PAY.c.applied)
                .join(INV, INV.c.id == PAY.c.invoice_id)
                .where(PAY.c.external_id.like(f"bank:{entry_id}:%"))
                .order_by(PAY.c.id)
            )
        ]


def test_bank_assign_books_payments_the_next_run_applies(bank_book: Engine):
    braun = bank_entry(bank_book, "Danke")
    kaution = bank_entry(bank_book, "Erstattung Kaution")

    async def scenario(pilot: Pilot) -> None:
        rows = bank_rows(pilot.app)
        assert [r[1:5] for r in rows] == [
            ("2026-03-10", "45.00", "credit", "Dieter Braun\nDE02300209000106531065"),
            ("2026-03-10", "12.34", "credit", "Max Mustermann\nDE02700202700010108669"),
            ("2026-03-10", "75.00", "return\nreview", "Frieda Lang\nDE02600501010002034304"),
        ]  # the return is marked for review
        assert rows[0][5] == "Danke"
        assert "2 open invoices of exactly 45,00" in rows[0][6]
        # Dieter Braun's 45.00: two invoices of 45.00 — the operator names the right one
        await keys(pilot, "a")
        assert isinstance(pilot.app.screen, FormDialog)
        await type_text(pilot, "R2026000105")
        await keys(pilot, "enter", "enter")
        confirm = pilot.app.screen
        assert isinstance(confirm, ConfirmDialog)
        assert confirm.question == "Assign 45.00 EUR to R2026000105 as anna?"
        await keys(pilot, "y")
        assert "45.00 to R2026000105; the next run applies it" in notes(pilot.app)
        assert [r[5] for r in bank_rows(pilot.app)] == [
            "Erstattung Kaution",
            "R2026000107 Lastschrift",
        ]
        # the 12.34 split over two invoices by amount
        await keys(pilot, "a")
        await type_text(pilot, "R2026000101 R2026000103")
        await keys(pilot, "enter")
        await type_text(pilot, "10,00 2,35")
        await keys(pilot, "enter")  # does not add up: the dialog says so and stays
        assert "add up to 12.34" in str(pilot.app.screen.query_one("#error", Static).render())
        pilot.app.screen.query_one("#field-amounts", Input).value = "10,00 2,34"
        await keys(pilot, "enter", "y")
        assert [r[5] for r in bank_rows(pilot.app)] == ["R2026000107 Lastschrift"]

    drive(make_bank_app(bank_book, "anna"), scenario)
    done = bank_entry(bank_book, "Danke")
    assert (done.status, done.matched_by, done.decided_by) == ("assigned", "person", "anna")
    assert done.decided_at is not None
    assert bank_payments(bank_book, braun.id) == [("R2026000105", Decimal("45.00"), "bank", False)]
    assert bank_payments(bank_book, kaution.id) == [
        ("R2026000101", Decimal("10.00"), "bank", False),
        ("R2026000103", Decimal("2.34"), "bank", False),
    ]
    assert bank_entry(bank_book, "Erstattung Kaution").status == "assigned"

    stats = run(bank_book, BANK_AS_OF, PolicySet.load(bank_book), BANK_NOW)
    assert stats.payments_applied >= 3
    paid = record(bank_book, "R2026000105")
    assert (paid.state, paid.principal_open) == ("paid", 0)
    assert record(bank_book, "R2026000110").principal_open == 45  # the other 45.00 stays open
    assert record(bank_book, "R2026000101").principal_open == Decimal("40.00")  # 100 - 50 - 10
    assert bank_payments(bank_book, braun.id) == [("R2026000105", Decimal("45.00"), "bank", True)]


def test_bank_dismiss_needs_a_reason_and_a_yes(bank_book: Engine):
    returned = bank_entry(bank_book, "R2026000107 Lastschrift")

    async def scenario(pilot: Pilot) -> None:
        await keys(pilot, "down", "down")  # the returned direct debit
        assert "Not a payment" in str(pilot.app.screen.query_one("#bank-detail", Static).render())
        await keys(pilot, "enter")  # its detail
        assert isinstance(pilot.app.screen, BankEntryDialog)
        shown = str(pilot.app.screen.query_one("#bank-entry", Static).render())
        assert "own/camt053_de_cases.xml" in shown and "Frieda Lang" in shown
        assert "not a payment" in shown
        await keys(pilot, "escape", "a")  # a return cannot be assigned
        assert isinstance(pilot.app.screen, BankScreen)
        assert "is a return, not a payment" in notes(pilot.app)
        await keys(pilot, "d", "enter")  # no reason: the dialog stays
        assert "needs a reason" in str(pilot.app.screen.query_one("#error", Static).render())
        await type_text(pilot, "Lastschrift neu eingereicht")
        await keys(pilot, "enter")
        assert isinstance(pilot.app.screen, ConfirmDialog)
        await keys(pilot, "n")  # changed her mind: nothing written
        assert bank_entry(bank_book, "R2026000107 Lastschrift").status == "review"
        await keys(pilot, "d")
        await type_text(pilot, "Lastschrift neu eingereicht")
        await keys(pilot, "enter", "y")
        assert f"Bank entry {returned.id}: dismissed" in notes(pilot.app)
        assert len(bank_rows(pilot.app)) == 2

    drive(make_bank_app(bank_book, "ben"), scenario)
    done = bank_entry(bank_book, "R2026000107 Lastschrift")
    assert (done.status, done.decided_by) == ("dismissed", "ben")
    assert done.note.endswith("| dismissed by ben: Lastschrift neu eingereicht")
    assert bank_payments(bank_book, returned.id) == []


def test_bank_assign_refusals_are_shown_and_write_nothing(bank_book: Engine):
    braun = bank_entry(bank_book, "Danke")

    async def scenario(pilot: Pilot) -> None:
        await keys(pilot, "a")
        await type_text(pilot, "R9999")
        await keys(pilot, "enter", "enter")
        assert isinstance(pilot.app.screen, FormDialog)
        error = str(pilot.app.screen.query_one("#error", Static).render())
        assert error == "No invoice R9999: check the number."
        pilot.app.screen.query_one("#field-invoices", Input).value = "[b]R9999"
        await keys(pilot, "enter")  # markup in what is typed is shown as typed
        error = str(pilot.app.screen.query_one("#error", Static).render())
        assert error == "No invoice [b]R9999: check the number."
        await keys(pilot, "escape")
        assert bank_entry(bank_book, "Danke").status == "unmatched"
        # someone else books the entry while anna's confirmation is open: the module refuses
        await keys(pilot, "a")
        await type_text(pilot, "R2026000110")
        await keys(pilot, "enter", "enter")
        assert isinstance(pilot.app.screen, ConfirmDialog)
        assign(bank_book, braun.id, ["R2026000105"], actor="ben", now=BANK_NOW)
        await keys(pilot, "y")
        assert isinstance(pilot.app.screen, BankScreen)
        assert f"Not assigned: bank entry {braun.id} is already assigned" in notes(pilot.app)
        assert [r[5] for r in bank_rows(pilot.app)] == [
            "Erstattung Kaution", "R2026000107 Lastschrift",
        ]  # fmt: skip

    drive(make_bank_app(bank_book, "anna"), scenario)
    done = bank_entry(bank_book, "Danke")
    assert done.decided_by == "ben"
    assert bank_payments(bank_book, braun.id) == [("R2026000105", Decimal("45.00"), "bank", False)]
