"""Exactly once between dispatchers: a row is claimed only while it is still queued.

A dispatcher plans its bundles first and claims each one just before it transmits it, so
between its plan and its claim another dispatcher (a second `mahnwerk dispatch`, a
scheduled one) may have sent, taken or cancelled some of the rows.  These tests put the
second dispatcher exactly into that gap — from the first one's `after_claim` hook, so the
race is the same every time (the threaded test in `test_isolation.py` races them freely)
— on SQLite and PostgreSQL.  Mutation testing (issue 20) found that a claim taking rows
whatever their status went unnoticed by every test that did not race.
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select, update

from mahnwerk.engine import models as m
from mahnwerk.engine.comms.config import load_settings
from mahnwerk.engine.comms.dispatch import Hooks, dispatch
from mahnwerk.engine.db import make_engine

from .helpers import ENV, NOW, write_config


def _email(seed, number: str, invoices: int = 1) -> list[int]:
    """`invoices` reminders to one customer: one e-mail, since they are bundled."""
    c = seed.customer(number, name=f"Kunde {number}", email=f"{number.lower()}@example.org")
    rows = []
    for n in range(invoices):
        i = seed.invoice(c, f"R-{number}-{n}", state="erinnerung", fee=None, interest=None)
        rows.append(seed.queue(i, c, "zahlungserinnerung", "email", state="erinnerung"))
    return rows


def _deliveries(engine) -> list[tuple[str, list[int]]]:
    """Each delivery's status and the outbox rows it carried, in order."""
    with engine.connect() as conn:
        items = conn.execute(
            select(m.DELIVERY.c.id, m.DELIVERY.c.status, m.DELIVERY_ITEM.c.outbox_id)
            .join(m.DELIVERY_ITEM, m.DELIVERY_ITEM.c.delivery_id == m.DELIVERY.c.id)
            .order_by(m.DELIVERY.c.id, m.DELIVERY_ITEM.c.outbox_id)
        ).all()
    out: dict[int, tuple[str, list[int]]] = {}
    for delivery, status, row in items:
        out.setdefault(delivery, (status, []))[1].append(row)
    return list(out.values())


def test_rows_another_dispatcher_sent_after_the_plan_are_not_sent_again(
    engine, db_url, seed, smtp_server, tmp_path
):
    """Dispatcher A plans three customers' e-mails.  Right after A claimed the first, B
    starts and sends the other two.  A then sends its first and claims nothing more: each
    e-mail reaches the server once, each row has one attempt and one delivery."""
    rows = [_email(seed, f"K{n}")[0] for n in range(3)]
    settings = load_settings(write_config(tmp_path / "mahnwerk.toml", smtp_server), env=ENV)
    second: list = []

    def b_runs_now(bundle) -> None:
        if not second:
            other = make_engine(db_url)
            try:
                second.append(dispatch(other, settings, NOW))
            finally:
                other.dispose()

    first = dispatch(engine, settings, NOW, hooks=Hooks(after_claim=b_runs_now))

    assert (first.rows_sent, second[0].rows_sent) == (1, 2)
    received = Counter(mail["Message-ID"] for mail in smtp_server.box.mails())
    assert len(received) == 3 and set(received.values()) == {1}
    assert sorted(mail["To"] for mail in smtp_server.box.mails()) == [
        f"Kunde K{n} <k{n}@example.org>" for n in range(3)
    ]
    outbox = seed.outbox()
    assert [(outbox[r].status, outbox[r].attempts) for r in rows] == [("sent", 1)] * 3
    assert sorted(_deliveries(engine)) == [("sent", [r]) for r in rows]


@pytest.mark.parametrize("status", ["sending", "sent", "failed", "cancelled"])
def test_a_bundle_with_one_row_no_longer_queued_is_not_claimed_in_part(
    engine, seed, smtp_server, tmp_path, status
):
    """Customer K2's two invoices are one e-mail.  Between A's plan and its claim one of the
    two rows leaves `queued` (another dispatcher took or sent it, it failed, a run cancelled
    it): A claims neither — the other row stays queued with no attempt counted and no
    delivery opened — and the next dispatch sends it on its own."""
    (anna,) = _email(seed, "K1")
    taken, left = _email(seed, "K2", invoices=2)
    settings = load_settings(write_config(tmp_path / "mahnwerk.toml", smtp_server), env=ENV)

    def meanwhile(bundle) -> None:
        if bundle.ids == [anna]:
            with engine.begin() as conn:
                conn.execute(update(m.OUTBOX).where(m.OUTBOX.c.id == taken).values(status=status))

    stats = dispatch(engine, settings, NOW, hooks=Hooks(after_claim=meanwhile))

    assert stats.rows_sent == 1
    assert [mail["To"] for mail in smtp_server.box.mails()] == ["Kunde K1 <k1@example.org>"]
    outbox = seed.outbox()
    assert (outbox[taken].status, outbox[taken].attempts) == (status, 0)
    assert (outbox[left].status, outbox[left].attempts) == ("queued", 0)
    assert _deliveries(engine) == [("sent", [anna])]

    again = dispatch(engine, settings, NOW)
    assert again.rows_sent == 1
    assert [mail["To"] for mail in smtp_server.box.mails()][1:] == ["Kunde K2 <k2@example.org>"]
    assert (seed.outbox()[left].status, seed.outbox()[left].attempts) == ("sent", 1)
    assert _deliveries(engine)[1:] == [("sent", [left])]
