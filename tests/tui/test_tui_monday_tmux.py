"""The operator's whole Monday in a real terminal at 80×24 (tmux), checked in the database.

Two sessions, each in a tmux window of its own running the installed
`mahnwerk tui` as carla (the test's login, registered as carla): one works through
Today — a call with its outcome, a promise for two invoices of one customer in German
date format, an approval and a rejection, the release of the rejected invoice, a mistaken
note and its undo — and after every step the test reads the database; the second session
("dirk's screen") shows the change without a key press (the app polls the database).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from sqlalchemy import Engine, select
from test_tui_tmux import Terminal, mahnwerk_command, pytestmark  # noqa: F401  (skip rule)
from tui_book import build_monday_book, register_me

from mahnwerk.engine.models import APPROVAL, DECISION, EVENT, INBOX, INV, WORK_DONE


def inbox(engine: Engine, invoice: str) -> list[tuple[str, dict, str]]:
    with engine.connect() as conn:
        return [
            (r.kind, json.loads(r.payload), r.actor)
            for r in conn.execute(
                select(INBOX).join(INV, INV.c.id == INBOX.c.invoice_id)
                .where(INV.c.external_id == invoice).order_by(INBOX.c.id)
            )
        ]  # fmt: skip


def approval(engine: Engine, invoice: str) -> tuple[str, list[tuple[str, str]]]:
    with engine.connect() as conn:
        row = conn.execute(
            select(APPROVAL.c.id, APPROVAL.c.status).join(INV, INV.c.id == APPROVAL.c.invoice_id)
            .where(INV.c.external_id == invoice)
        ).one()  # fmt: skip
        votes = conn.execute(
            select(DECISION.c.approver, DECISION.c.decision).where(DECISION.c.approval_id == row.id)
        ).all()
    return row.status, [tuple(v) for v in votes]


def until(check, timeout: float = 10.0):
    """The database catches up with the key presses (the app writes in its own process)."""
    end = time.monotonic() + timeout
    while True:
        try:
            return check()
        except (AssertionError, IndexError):
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


def test_an_operators_monday_in_tmux_at_80x24_with_a_second_operator(tmp_path: Path):
    db = tmp_path / "monday.db"
    engine = build_monday_book(f"sqlite:///{db}")
    register_me(engine, "carla")  # the TUI acts as the proven login, never a typed name
    command = [mahnwerk_command(), "tui", "--db", str(db), "--as-of", "2024-06-03", "--operator"]
    carla = Terminal([*command, "carla"], size=(80, 24))
    dirk = Terminal([*command, "carla"], size=(80, 24))  # a second session, watching
    try:
        shown = seen(carla, "waiting: call 1")
        assert "Hanse Maschinenbau" in shown and "approve 10" in shown
        dirk.wait_for("waiting: call 1")

        # 1. the call: Enter shows number and script, one key for the outcome
        press(carla, "Enter")
        shown = seen(carla, "Call Hanse Maschinenbau AG (K-300)")
        assert "☎ +49 40 555 0300" in shown and "Buchhaltung" in shown  # number and script
        press(carla, "r")  # reached: a conversation
        seen(carla, "Conversation: RE-3001")
        type_in(carla, "Rückruf wegen Abnahme")
        press(carla, "Enter", "Enter")
        until(lambda: _assert(inbox(engine, "RE-3001")[-1][:1] == ("conversation",)))
        shown = dirk.wait_for("waiting: approve 10")  # the call left dirk's list too
        assert "call 1" not in shown

        # 2. a promise for two invoices of Jörg Weiß, in German date format
        press(carla, "C-f")
        seen(carla, "Find a customer")
        type_in(carla, "K-201")
        press(carla, "Enter")
        seen(carla, "Jörg Weiß (K-201")
        press(carla, "Space", "Down", "Space", "o")
        seen(carla, "Promise to pay: RE-2002, RE-2007")
        type_in(carla, "20.06.2024")
        press(carla, "Enter")
        type_in(carla, "399,90")
        press(carla, "Enter", "Enter", "Enter")
        promise = {"promised_date": "2024-06-20", "promised_amount": "399.90"}
        until(lambda: _assert(inbox(engine, "RE-2002") == [("promise_made", promise, "carla")]))
        assert inbox(engine, "RE-2007") == [("promise_made", promise, "carla")]
        assert inbox(engine, "RE-2012") == []
        press(carla, "Escape")

        # 3. approve one, reject the next
        press(carla, "3")
        seen(carla, "escalation(s) waiting")
        press(carla, "Down", "Down", "a")  # RE-2010 (one approver)
        seen(carla, "Approve 1 escalation(s) as carla")
        type_in(carla, "geprüft")
        press(carla, "Enter")
        seen(carla, "This cannot be undone.")
        press(carla, "y")
        until(lambda: _assert(approval(engine, "RE-2010")[0] == "approved"))
        press(carla, "r")  # the cursor stayed in place: now RE-1001
        seen(carla, "Reject 1 escalation(s) as carla")
        type_in(carla, "Kunde hat bezahlt")
        press(carla, "Enter")
        seen(carla, "This cannot be undone.")
        press(carla, "y")
        until(lambda: _assert(approval(engine, "RE-1001") == ("rejected", [("carla", "reject")])))
        shown = dirk.wait_for("approve 8")  # dirk's Today without a key press

        # 4. release the rejected invoice (held since the rejection)
        press(carla, "C-f")
        seen(carla, "Find a customer")
        type_in(carla, "K-100")
        press(carla, "Enter")
        seen(carla, "Bäckerei Größer GmbH (K-100")
        press(carla, "Enter")  # RE-1001, the first invoice
        seen(carla, "HELD")
        press(carla, "r")
        seen(carla, "Release: RE-1001")
        type_in(carla, "Kunde hat bezahlt, Zahlung kommt")
        press(carla, "Enter", "Enter")
        until(lambda: _assert(inbox(engine, "RE-1001")[-1][0] == "release"))

        # 5. a mistaken note, and its undo
        press(carla, "n")
        seen(carla, "Note: RE-1001")
        type_in(carla, "falsche Rechnung")
        press(carla, "Enter", "Enter")
        until(lambda: _assert(inbox(engine, "RE-1001")[-1][0] == "note"))
        press(carla, "u")
        seen(carla, "Withdraw which recorded event?")
        press(carla, "Enter")  # the latest first: the note
        until(lambda: _assert(inbox(engine, "RE-1001")[-1][0] == "release"))
        with engine.connect() as conn:
            withdrawn = conn.execute(
                select(EVENT.c.actor, EVENT.c.payload).where(EVENT.c.kind == "withdrawn_note")
            ).one()
            calls = conn.execute(select(WORK_DONE.c.actor, WORK_DONE.c.outcome)).all()
        assert withdrawn.actor == "carla"
        assert json.loads(withdrawn.payload)["payload"] == {"note": "falsche Rechnung"}
        assert [tuple(c) for c in calls] == [("carla", "reached")]
        press(carla, "C-q")
        press(dirk, "C-q")
    finally:
        carla.close()
        dirk.close()
        engine.dispose()


def seen(term: Terminal, text: str) -> str:
    """Wait until `text` is on screen, then a moment, as a person reads before typing."""
    shown = term.wait_for(text)
    time.sleep(0.5)
    return shown


def type_in(term: Terminal, text: str) -> None:
    """Text into the field that has the cursor, then a moment, as a person types."""
    term.keys(text, literal=True)
    time.sleep(0.4)


def press(term: Terminal, *keys: str) -> None:
    """One key at a time, as a person types: the UI moves the cursor between two Enters."""
    for key in keys:
        term.keys(key)
        time.sleep(0.25)


def _assert(value: bool) -> bool:
    assert value
    return value
