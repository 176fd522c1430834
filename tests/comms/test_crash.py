"""At least once, never lost, across a crash: a dispatcher process is killed mid-delivery.

The dispatcher runs in a child process that ends itself with `os._exit` (no
cleanup, no exception handlers, no commit — as a `kill -9` or a power cut
would) at a chosen moment, or is killed with SIGKILL from outside at random
moments; the SMTP server and the database live on.  No row the books call
"sent" may be missing at the server; a repeat after a crash carries the same
Message-ID, and there is at most one per kill.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from mahnwerk.engine import models as m
from mahnwerk.engine.comms.config import load_settings
from mahnwerk.engine.comms.dispatch import dispatch

from .helpers import ENV, NOW, write_config

CHILD = """
import os, sys
from datetime import datetime
from mahnwerk.engine.store.db import make_engine
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


def test_killed_after_sending_before_recording_is_sent_again_with_the_same_message_id(
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
    assert [d.status for d in deliveries(engine)] == ["transmitting"]

    settings = load_settings(config, env=ENV)
    # A dispatcher that starts while the crashed one might still be at work leaves it alone.
    stats = dispatch(engine, settings, NOW + timedelta(seconds=10))
    assert stats.reconciled_requeued == 0 and stats.due == 0
    # After the lease the rows go out again: the same message, recognisable as a repeat.
    later = NOW + timedelta(seconds=settings.delivery.lease_seconds + 1)
    stats = dispatch(engine, settings, later)
    assert stats.reconciled_requeued == 2 and stats.rows_sent == 2
    mails = smtp_server.box.mails()
    assert len(mails) == 2 and mails[0]["Message-ID"] == mails[1]["Message-ID"]
    assert {r.status for r in seed.outbox().values()} == {"sent"}
    assert [d.status for d in deliveries(engine)] == ["abandoned", "sent"]
    assert dispatch(engine, settings, later + timedelta(hours=1)).due == 0
    assert len(smtp_server.box.messages) == 2


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


def test_a_letter_killed_after_writing_is_printed_by_the_next_dispatch(
    engine, db_url, seed, config, tmp_path
):
    """A letter is `sent` once the print batch holding it is on disk: a dispatcher killed
    after writing the PDF but before the batch made nothing the print shop would get."""
    c = seed.customer("K1")
    i = seed.invoice(c, "R1")
    seed.queue(i, c, "mahnung_1", "letter")

    crash_dispatch(db_url, config, "after_transmit", tmp_path)

    folder = tmp_path / "letters" / "2026-05-04"
    assert len(list(folder.glob("K1_*.pdf"))) == 1
    assert list(folder.glob("print-batch-*.pdf")) == []  # the crashed run made no batch
    assert seed.outbox()[1].status == "sending"  # so the letter is not recorded as sent
    settings = load_settings(config, env=ENV)
    stats = dispatch(engine, settings, NOW + timedelta(seconds=settings.delivery.lease_seconds + 1))
    assert stats.reconciled_requeued == 1 and stats.rows_sent == 1
    assert seed.outbox()[1].status == "sent"
    assert len(list(folder.glob("K1_*.pdf"))) == 1  # the same file name: the same letter
    # ... and it is in this dispatch's print batch, so the print shop gets it
    from pypdf import PdfReader

    batch = PdfReader(stats.batch)
    assert "Erika Mustermann" in batch.pages[0].extract_text()
    assert [d.status for d in deliveries(engine)] == ["abandoned", "sent"]


# ---------------------------------------------------------------------------
# Killed from outside, at random moments, while a slow server takes its time
# ---------------------------------------------------------------------------

DISPATCH_CHILD = """
import sys
from datetime import datetime
from mahnwerk.engine.store.db import make_engine
from mahnwerk.engine.comms.config import load_settings
from mahnwerk.engine.comms.dispatch import dispatch

url, config, now = sys.argv[1:4]
dispatch(make_engine(url), load_settings(config), datetime.fromisoformat(now))
"""

KILLS = 4


def _received(box) -> Counter:
    return Counter(mail["Message-ID"] for mail in box.mails())


def test_killing_the_dispatcher_loses_no_mail_and_repeats_at_most_one_per_kill(
    engine, db_url, seed, slow_smtp, tmp_path
):
    config = write_config(tmp_path / "mahnwerk.toml", slow_smtp, letters=tmp_path / "letters")
    rows = 120
    for n in range(rows):
        c = seed.customer(f"K{n:03}", email=f"kunde{n}@example.org")
        i = seed.invoice(c, f"R{n:03}", state="erinnerung", fee=None, interest=None)
        seed.queue(i, c, "zahlungserinnerung", "email", state="erinnerung")
    script = tmp_path / "dispatch_child.py"
    script.write_text(DISPATCH_CHILD)
    lease = load_settings(config, env=ENV).delivery.lease_seconds
    rng = random.Random(20260504)
    for k in range(KILLS):
        now = NOW + timedelta(seconds=k * (lease + 1))
        before = len(slow_smtp.box.messages)
        proc = subprocess.Popen(
            [sys.executable, str(script), db_url, str(config), now.isoformat()],
            env={**os.environ, **ENV},
        )
        deadline = time.monotonic() + 60
        while len(slow_smtp.box.messages) < before + 5 and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(rng.uniform(0, 0.03))
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL  # killed mid-dispatch, not finished
        # Every row the books call sent was accepted by the server: nothing lost.
        with engine.connect() as conn:
            sent = conn.execute(
                select(m.DELIVERY.c.message_id).where(m.DELIVERY.c.status == "sent")
            ).scalars()
            assert set(sent) <= set(_received(slow_smtp.box))
    settings = load_settings(config, env=ENV)
    stats = dispatch(engine, settings, NOW + timedelta(seconds=KILLS * (lease + 1)))
    assert stats.errors == []

    outbox = seed.outbox()
    assert {r.status for r in outbox.values()} == {"sent"}
    with engine.connect() as conn:
        sent_ids = (
            conn.execute(select(m.DELIVERY.c.message_id).where(m.DELIVERY.c.status == "sent"))
            .scalars()
            .all()
        )
    received = _received(slow_smtp.box)
    assert len(sent_ids) == rows and set(sent_ids) == set(received)  # 0 lost
    duplicates = sum(n - 1 for n in received.values())
    assert duplicates <= KILLS  # at most one repeat per kill, each with the same Message-ID
    print(f"{KILLS} kills: {rows} mails, 0 lost, {duplicates} duplicate(s)")


def test_an_sms_killed_after_the_provider_answered_goes_again_with_the_same_key(
    engine, db_url, seed, webhook, tmp_path
):
    """The SMS path is at least once too: the repeat carries the same `Idempotency-Key`,
    so a provider that honours it drops the second request."""
    config = write_config(tmp_path / "mahnwerk.toml", hook=webhook)
    c = seed.customer("K1")
    i = seed.invoice(c, "R1", state="vorab", fee=None, interest=None)
    seed.queue(i, c, "vorab_hinweis_sms", "sms", state="vorab")

    crash_dispatch(db_url, config, "after_transmit", tmp_path)
    assert len(webhook.requests) == 1 and seed.outbox()[1].status == "sending"

    settings = load_settings(config, env=ENV)
    stats = dispatch(engine, settings, NOW + timedelta(seconds=settings.delivery.lease_seconds + 1))
    assert stats.reconciled_requeued == 1 and stats.rows_sent == 1
    first, second = webhook.requests
    assert first["headers"]["Idempotency-Key"] == second["headers"]["Idempotency-Key"]
    assert first["body"] == second["body"]
    assert seed.outbox()[1].status == "sent"
