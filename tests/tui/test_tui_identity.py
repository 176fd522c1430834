"""The TUI acts as the proven login, in single-user mode too, and holds it to its role.

`mahnwerk tui --operator NAME` used to take NAME as given while nobody was registered,
so one person could approve an escalation twice under two names. Now the TUI is
opened as the login (the OS user on SQLite, the database role on PostgreSQL) the
way `mahnwerk tui` opens it (`cli.tui_app`); `--operator` may only name that login.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine, select
from textual.pilot import Pilot
from tui_book import AS_OF, NOW, SIZE, keys, settle, type_text
from typer.testing import CliRunner

from mahnwerk.cli import app, tui_app
from mahnwerk.engine.models import APPROVAL, DECISION, INV
from mahnwerk.service.identity import login


def _mahnwerk(url: str, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, [*args, "--db", url], env={"MAHNWERK_OPERATOR": ""})
    assert result.exit_code == code, (args, result.output)
    return result.output


def _approval(engine: Engine, invoice: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(APPROVAL.c.id).join(INV, INV.c.id == APPROVAL.c.invoice_id)
            .where(INV.c.external_id == invoice)
        ).scalar_one()  # fmt: skip


def _decisions(engine: Engine, approval_id: int) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [
            (r.approver, r.decision)
            for r in conn.execute(select(DECISION).where(DECISION.c.approval_id == approval_id))
        ]


def _session(engine: Engine, operator: str | None, presses) -> str:  # type: ignore[no-untyped-def]
    """One TUI session as `mahnwerk tui --operator OPERATOR` opens it; its notifications."""
    tui = tui_app(engine, operator, AS_OF, lambda: NOW, poll=0)

    async def main() -> None:
        async with tui.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await presses(pilot)

    asyncio.run(main())
    return "\n".join(str(n.message) for n in tui._notifications)


async def _approve(pilot: Pilot) -> None:
    await keys(pilot, "3", "a")  # the approvals; RE-2001 (needs two people) is first
    await type_text(pilot, "ok")
    await keys(pilot, "enter", "y")


def test_one_login_cannot_approve_twice_under_two_names(book: Engine) -> None:
    url = book.url.render_as_string(hide_password=False)
    kind, me = login(book)
    first = _approval(book, "RE-2001")

    refused = _mahnwerk(url, "tui", "--operator", "anna", code=1)
    assert f"--operator anna is not who you are: you are {me} ({kind} {me}, single-user" in refused

    said = _session(book, None, _approve)
    assert _decisions(book, first) == [(me, "approve")]
    assert "waiting for another person" in said
    said = _session(book, me.upper(), _approve)  # another session, the same login
    assert "a second approval must come from a different person" in said
    assert _decisions(book, first) == [(me, "approve")]
    again = _mahnwerk(url, "approvals", "approve", str(first), code=1)
    assert "a second approval must come from a different person" in again
    assert _decisions(book, first) == [(me, "approve")]


def test_a_viewer_cannot_decide_in_the_tui(book: Engine) -> None:
    url = book.url.render_as_string(hide_password=False)
    kind, me = login(book)
    option = "--db-role" if kind == "database role" else "--os-user"
    _mahnwerk(url, "users", "add", "chef", "--role", "admin", option, me)
    _mahnwerk(url, "users", "role", "chef", "viewer")
    first = _approval(book, "RE-2001")

    said = _session(book, "chef", _approve)
    needs = "ApprovalsScreen.decide needs the role approver; you are chef with the role viewer"
    assert needs in said
    assert _decisions(book, first) == []
