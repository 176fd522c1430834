"""`mahnwerk tui` in a real terminal: tmux runs it, keys approve an escalation.

This is the whole path an operator takes — the installed command, argument
parsing, the terminal driver, the key presses — not the pilot's shortcut.
It uses its own tmux server (`-L`), so it never touches a user's sessions.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select
from tui_book import build_book, register_me

from mahnwerk.engine.models import APPROVAL, DECISION, EVENT, INV

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(
    TMUX is None, reason="tmux is not installed (apt-get install tmux) — the real-terminal test"
)


def mahnwerk_command() -> str:
    beside = Path(sys.executable).parent / "mahnwerk"
    found = str(beside) if beside.exists() else shutil.which("mahnwerk")
    if found is None:
        pytest.skip("the `mahnwerk` command is not installed (pip install -e .)")
    return found


class Terminal:
    def __init__(self, command: list[str], size: tuple[int, int] = (120, 36)) -> None:
        self.socket = f"mahnwerk-test-{uuid.uuid4().hex[:8]}"
        self.tmux = [TMUX, "-L", self.socket, "-f", "/dev/null"]
        subprocess.run(
            [*self.tmux, "new-session", "-d", "-s", "tui", "-x", str(size[0]), "-y", str(size[1]),
             *command],
            check=True,
        )  # fmt: skip

    def screen(self) -> str:
        out = subprocess.run(
            [*self.tmux, "capture-pane", "-p", "-t", "tui"], capture_output=True, text=True
        )
        return out.stdout

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.1)
        raise AssertionError(f"{text!r} did not appear within {timeout} s; screen:\n{shown}")

    def keys(self, *keys: str, literal: bool = False) -> None:
        subprocess.run(
            [*self.tmux, "send-keys", "-t", "tui", *(["-l"] if literal else []), *keys], check=True
        )

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)


def test_approve_an_escalation_with_key_presses_in_tmux(tmp_path: Path):
    db = tmp_path / "book.db"
    engine = build_book(f"sqlite:///{db}")
    register_me(engine, "carla")  # the TUI acts as the proven login, never a typed name
    term = Terminal(
        [mahnwerk_command(), "tui", "--db", str(db), "--operator", "carla", "--as-of",
         "2024-06-03"]
    )  # fmt: skip
    try:
        term.wait_for("waiting:")  # the Today screen comes first
        term.keys("3")
        shown = term.wait_for("escalation(s) waiting")
        assert "RE-2001" in shown and "you are carla" in shown
        term.keys("a")
        term.wait_for("Approve 1 escalation(s) as carla")
        term.keys("im Terminal geprüft", literal=True)
        term.keys("Enter")
        term.wait_for("This cannot be undone.")
        term.keys("y")
        term.wait_for("waiting for another person")
        term.keys("C-q")
        deadline = time.monotonic() + 10
        while "mahnwerk" in term.screen() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        term.close()
    with engine.connect() as conn:
        row = conn.execute(
            select(APPROVAL.c.id, APPROVAL.c.status, APPROVAL.c.invoice_id)
            .join(INV, INV.c.id == APPROVAL.c.invoice_id)
            .where(INV.c.external_id == "RE-2001")
        ).one()
        votes = conn.execute(
            select(DECISION.c.approver, DECISION.c.decision, DECISION.c.comment).where(
                DECISION.c.approval_id == row.id
            )
        ).all()
        audit = conn.execute(
            select(EVENT.c.actor).where(
                EVENT.c.invoice_id == row.invoice_id, EVENT.c.kind == "approval_given"
            )
        ).scalars().all()  # fmt: skip
    engine.dispose()
    assert row.status == "pending"  # two people needed; carla was the first
    assert [tuple(v) for v in votes] == [("carla", "approve", "im Terminal geprüft")]
    assert audit == ["carla"]
