"""A note before the due date is never sent late: dispatch drops it once its day has passed."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update

from mahnwerk.engine import models as m
from mahnwerk.engine.comms.config import load_settings
from mahnwerk.engine.comms.dispatch import dispatch

from .helpers import ENV, NOW, write_config


@pytest.fixture
def settings(tmp_path, smtp_server, webhook):
    path = write_config(tmp_path / "mahnwerk.toml", smtp_server, webhook, tmp_path / "letters")
    return load_settings(path, env=ENV)


def before_due(engine, row_id: int, due: str) -> None:
    """Mark a queued row as the runner marks a note before the due date."""
    payload = {"state": "vorab", "offers": [], "before_due": due}
    with engine.begin() as conn:
        conn.execute(
            update(m.OUTBOX).where(m.OUTBOX.c.id == row_id).values(payload=json.dumps(payload))
        )


def test_a_pre_due_note_whose_due_date_passed_is_cancelled_with_the_reason(
    engine, seed, settings, smtp_server
):
    c = seed.customer("K1")
    late = seed.invoice(c, "R1", state="vorab", fee=None, interest=None)
    today = seed.invoice(c, "R2", state="vorab", fee=None, interest=None)
    first = seed.queue(late, c, "vorab_hinweis", "email", state="vorab")
    second = seed.queue(today, c, "vorab_hinweis", "email", state="vorab")
    before_due(engine, first, "2026-05-03")  # the day before the dispatch (Monday 4 May)
    before_due(engine, second, "2026-05-04")  # due today: the note still makes sense
    stats = dispatch(engine, settings, NOW)
    out = seed.outbox()
    assert out[first].status == "cancelled"
    assert "before the due date 2026-05-03: its purpose expired" in out[first].last_error
    assert out[second].status == "sent" and stats.rows_sent == 1
