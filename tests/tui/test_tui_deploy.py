"""A deploy from the policy screen shows the preview first and deploys only on a "yes".

The preview is `deploy_review.preview_text`, the same text `mahnwerk policy deploy
--dry-run` prints; a deploy it refuses (invoices that would strand) cannot be
confirmed.  Each test checks the stored policy versions afterwards.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from textual.widgets import Static
from tui_book import POLICY, build_monday_book, keys, make_app, settle, type_text

from mahnwerk.engine.models import PV
from mahnwerk.tui.policy import DeployPreview


@pytest.fixture
def monday(tmp_path: Path, monkeypatch) -> Engine:
    monkeypatch.chdir(tmp_path)  # the file is typed as an operator would: `v2.mahn`
    engine = build_monday_book(f"sqlite:///{tmp_path / 'monday.db'}")
    yield engine
    engine.dispose()


def versions(engine: Engine) -> list[tuple[int, bool]]:
    with engine.connect() as conn:
        return [
            (r.version, bool(r.active))
            for r in conn.execute(select(PV).where(PV.c.name == "tui-test").order_by(PV.c.id))
        ]


def policy_file(tmp_path: Path, *changes: tuple[str, str]) -> Path:
    text = POLICY.read_text(encoding="utf-8").replace("version 1", "version 2")
    for old, new in changes:
        text = text.replace(old, new)
    path = tmp_path / "v2.mahn"
    path.write_text(text, encoding="utf-8")
    return path


def deploy_in_tui(engine: Engine, path: Path, *answer: str) -> str:
    """`4 d`, the file, no `--for`, and `answer` on the preview; returns what it showed."""

    async def main() -> str:
        app = make_app(engine, "anna", start="today")
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await keys(pilot, "4", "d")
            await type_text(pilot, path.name)
            await keys(pilot, "enter", "enter")  # the file, then no condition: submit
            await settle(pilot)
            assert isinstance(app.screen, DeployPreview), "no preview before the deploy"
            shown = str(app.screen.query_one("#deploy-preview", Static).render())
            await keys(pilot, *answer)
            await settle(pilot)
            return shown

    return asyncio.run(main())


def test_deploy_shows_the_preview_and_deploys_on_yes(monday: Engine, tmp_path: Path):
    path = policy_file(tmp_path, ('"mahnung_2"; fee 1.00 EUR', '"mahnung_2"; fee 1.50 EUR'))
    shown = deploy_in_tui(monday, path, "y")
    assert "Deploy preview: policy 'tui-test' version 1 -> version 2" in shown
    assert "+    state mahnung_2 after 14d in mahnung_1 { letter \"mahnung_2\"; fee 1.50 EUR }" in (
        shown
    )
    assert versions(monday) == [(1, False), (2, True)]


def test_no_on_the_preview_deploys_nothing(monday: Engine, tmp_path: Path):
    path = policy_file(tmp_path, ('"mahnung_2"; fee 1.00 EUR', '"mahnung_2"; fee 1.50 EUR'))
    deploy_in_tui(monday, path, "n")
    assert versions(monday) == [(1, True)]


def test_a_refused_deploy_cannot_be_confirmed(monday: Engine, tmp_path: Path):
    path = policy_file(tmp_path, ("mahnung_2", "mahnung_zwei"))
    shown = deploy_in_tui(monday, path, "y")
    assert "Invoices that would strand (the deploy is refused):" in shown
    assert "RE-2001: segment 'default', state 'mahnung_2'" in shown
    assert versions(monday) == [(1, True)]
