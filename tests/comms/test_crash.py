"""Exactly once across a crash: a dispatcher process is killed mid-delivery.

The dispatcher runs in a child process that ends itself with `os._exit` (no
cleanup, no exception handlers, no commit — as a `kill -9` or a power cut
would) at a chosen moment; the SMTP server and the database live on.  The
next dispatch must neither send the message again nor lose it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from mahnwerk.engine import models as m
from mahnwerk.engine.comms.config import load_settings
from mahnwerk.engine.comms.dispatch import dispatch

from .conftest import ENV, NOW, write_config

CHILD = """
import os, sys
from datetime import datetime
from mahnwerk.engine.db import make_engine
from mahnwerk.engine.comms.config import load_settings
from mahnwerk.engine.comms.dispatch import Hooks, dispatch

url, config, moment, now = sys.argv[1:5]
def die(bundle):
    os._exit(9)  # the process vanishes: nothing after this point runs
dispatch(make_engine(url), load_settings(config), datetime.fromisoformat(now),
         hooks=Hooks(**{moment: die}))
print("not reached")
"""


def crash_dispatch(db_url: str, config: Path, moment: str, tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    proc = subprocess.run(
        [sys.executable, str(script), db_url, str(config), moment, NOW.isoformat()],
        capture_output=True,
        text=True,
        env={**os.environ, **ENV},
        timeout=120,
    )
    assert proc.returncode == 9, proc.stderr
    assert "not reached" not in proc.stdout


@pytest.fixture
def config(tmp_path, smtp_server):
    return write_config(tmp_path / "mahnwerk.toml", smtp_server, letters=tmp_path / "letters")


def deliveries(engine):
    with engine.connect() as conn:
        return conn.execute(select(m.DELIVERY).order_by(m.DELIVERY.c.id)).all()


def test_killed_after_sending_before_recording_is_not_sent_again(
    engine, db_url, seed, config, smtp_server, tmp_path
):
    c = seed.customer("K1")
    a = seed.invoice(c, "R1", state="erinnerung", fee=None, interest=None)
    b = seed.invoice(c, "R2", state="erinnerung", fee=None, interest=None)
    seed.queue(a, c, "zahlungserinnerung", "email", state="erinnerung")
    seed.queue(b, c, "zahlungserinnerung", "email", state="erinnerung")

    crash_dispatch(db_url, config, "after_transmit", tmp_path)

    assert len(smtp_server.box.messages) == 1  # the server has it ...
    assert {r.status for r in seed.outbox().values()} == {"sending"}  # ... the books do not
    assert [d.status for d in deliveries(engine)] == ["committed"]

    settings = load_settings(config, env=ENV)
    # A dispatcher that starts while the crashed one might still be at work leaves it alone.
    stats = dispatch(engine, settings, NOW + timedelta(seconds=10))
    assert stats.reconciled_sent == 0 and stats.due == 0
    # After the lease the delivery is settled: recorded as sent, not sent again.
    later = NOW + timedelta(seconds=settings.delivery.lease_seconds + 1)
    stats = dispatch(engine, settings, later)
    assert stats.reconciled_sent == 2 and stats.rows_sent == 0
    assert len(smtp_server.box.messages) == 1
    assert {r.status for r in seed.outbox().values()} == {"sent"}
    assert [d.status for d in deliveries(engine)] == ["sent"]
    assert dispatch(engine, settings, later + timedelta(hours=1)).due == 0
    assert len(smtp_server.box.messages) == 1


def test_killed_after_claiming_before_sending_is_sent_exactly_once_later(
    engine, db_url, seed, config, smtp_server, tmp_path
):
    c = seed.customer("K1")
    i = seed.invoice(c, "R1", state="erinnerung", fee=None, interest=None)
    seed.queue(i, c, "zahlungserinnerung", "email", state="erinnerung")

    crash_dispatch(db_url, config, "after_claim", tmp_path)

    assert smtp_server.box.messages == []
    assert seed.outbox()[1].status == "sending"
    assert [d.status for d in deliveries(engine)] == ["transmitting"]

    settings = load_settings(config, env=ENV)
    later = NOW + timedelta(seconds=settings.delivery.lease_seconds + 1)
    stats = dispatch(engine, settings, later)
    assert stats.reconciled_requeued == 1 and stats.rows_sent == 1
    assert len(smtp_server.box.messages) == 1
    row = seed.outbox()[1]
    assert row.status == "sent" and row.attempts == 2
    first, second = deliveries(engine)
    assert (first.status, second.status) == ("abandoned", "sent")
    assert first.message_id == second.message_id  # the same message, whatever the attempt
    dispatch(engine, settings, later + timedelta(hours=1))
    assert len(smtp_server.box.messages) == 1


def test_a_letter_killed_after_writing_is_recorded_once_and_printed_once(
    engine, db_url, seed, config, tmp_path
):
    c = seed.customer("K1")
    i = seed.invoice(c, "R1")
    seed.queue(i, c, "mahnung_1", "letter")

    crash_dispatch(db_url, config, "after_transmit", tmp_path)

    folder = tmp_path / "letters" / "2026-05-04"
    assert len(list(folder.glob("K1_*.pdf"))) == 1
    assert list(folder.glob("print-batch-*.pdf")) == []  # the crashed run made no batch
    settings = load_settings(config, env=ENV)
    stats = dispatch(engine, settings, NOW + timedelta(seconds=settings.delivery.lease_seconds + 1))
    assert stats.reconciled_sent == 1 and stats.rows_sent == 0
    assert seed.outbox()[1].status == "sent"
    assert len(list(folder.glob("K1_*.pdf"))) == 1
    # ... and it is in the next print batch, so the print shop gets it exactly once
    from pypdf import PdfReader

    batch = PdfReader(stats.batch)
    assert "Erika Mustermann" in batch.pages[0].extract_text()
