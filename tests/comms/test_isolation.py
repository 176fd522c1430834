"""One bad record does not stop everyone's mail, and two dispatchers never send a row twice.

* A customer whose name carries a line break (accepted by an older import) cannot have an
  e-mail header: that one message fails with its reason — a `delivery_failed` event for the
  policy — and every other customer's mail goes out, in a real dispatch and in a dry run.
* Two dispatchers started at the same moment on one database (SQLite file, and PostgreSQL
  when configured) against a server slow enough that they overlap: every message is claimed
  by one of them and reaches the server exactly once.
"""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import select

from mahnwerk.engine import models as m
from mahnwerk.engine.comms.config import load_settings
from mahnwerk.engine.comms.dispatch import dispatch
from mahnwerk.engine.store.db import make_engine

from .helpers import ENV, NOW, write_config

POISON = "Mallory Mustermann\nBcc: everyone@example.org"


def _queue_customers(seed, names: list[str]) -> dict[str, int]:
    rows = {}
    for n, name in enumerate(names):
        c = seed.customer(f"K{n:03}", name=name, email=f"kunde{n}@example.org")
        i = seed.invoice(c, f"R{n:03}", state="erinnerung", fee=None, interest=None)
        rows[name] = seed.queue(i, c, "zahlungserinnerung", "email", state="erinnerung")
    return rows


def test_a_poisoned_name_fails_alone_and_the_others_go_out(engine, seed, smtp_server, tmp_path):
    names = ["Anna Alt", "Bernd Berg", POISON, "Clara Clausen", "Dieter Dorn"]
    rows = _queue_customers(seed, names)
    config = write_config(tmp_path / "mahnwerk.toml", smtp_server)
    settings = load_settings(config, env=ENV)

    stats = dispatch(engine, settings, NOW)

    assert stats.rows_sent == 4 and stats.failed == 1
    assert len(smtp_server.box.messages) == 4
    assert all("everyone@example.org" not in rcpts for _, rcpts, _ in smtp_server.box.messages)
    outbox = seed.outbox()
    poisoned = outbox[rows[POISON]]
    assert poisoned.status == "failed"
    assert "cannot be built" in poisoned.last_error and "linefeed" in poisoned.last_error
    assert {outbox[rows[n]].status for n in names if n != POISON} == {"sent"}
    # The policy hears of it (e.g. to send a letter instead), and nothing is left `sending`.
    (failed,) = seed.inbox()
    assert failed.kind == "delivery_failed" and failed.invoice_id == poisoned.invoice_id
    assert dispatch(engine, settings, NOW).due == 0


def test_a_poisoned_name_does_not_stop_a_dry_run(engine, seed, tmp_path):
    names = ["Anna Alt", POISON, "Clara Clausen"]
    _queue_customers(seed, names)
    settings = load_settings(write_config(tmp_path / "mahnwerk.toml"), env=ENV)
    out = tmp_path / "vorschau"

    stats = dispatch(engine, settings, NOW, dry_run=True, out=out)

    assert len(list(out.glob("*.eml"))) == 2
    assert len(stats.errors) == 1 and "K001" in stats.errors[0] and "linefeed" in stats.errors[0]
    assert {r.status for r in seed.outbox().values()} == {"queued"}  # a dry run changes nothing


def test_two_dispatchers_at_once_send_every_message_exactly_once(
    engine, db_url, seed, slow_smtp, tmp_path
):
    rows = 60
    _queue_customers(seed, [f"Kunde {n}" for n in range(rows)])
    settings = load_settings(write_config(tmp_path / "mahnwerk.toml", slow_smtp), env=ENV)
    start = threading.Barrier(2)
    results: list[object] = []

    def one_dispatcher() -> None:
        own = make_engine(db_url)
        try:
            start.wait()
            results.append(dispatch(own, settings, NOW))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=one_dispatcher) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert all(not isinstance(r, Exception) for r in results), results
    sent_by = [r.rows_sent for r in results]  # type: ignore[attr-defined]
    assert sum(sent_by) == rows
    received = Counter(mail["Message-ID"] for mail in slow_smtp.box.mails())
    assert len(received) == rows and set(received.values()) == {1}
    assert {r.status for r in seed.outbox().values()} == {"sent"}
    with engine.connect() as conn:
        sent_rows = Counter(
            conn.execute(
                select(m.DELIVERY_ITEM.c.outbox_id)
                .join(m.DELIVERY, m.DELIVERY.c.id == m.DELIVERY_ITEM.c.delivery_id)
                .where(m.DELIVERY.c.status == "sent")
            ).scalars()
        )
    assert len(sent_rows) == rows and set(sent_rows.values()) == {1}
