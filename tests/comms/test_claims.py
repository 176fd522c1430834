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
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from mahnwerk.engine import models as m
from mahnwerk.engine.comms.config import load_settings
from mahnwerk.engine.comms.dispatch import Hooks, dispatch
from mahnwerk.engine.store.db import make_engine

from .helpers import ENV, NOW, SmtpServer, free_port, write_config


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


def test_a_channel_down_releases_only_its_own_claim(engine, seed, smtp_server, tmp_path):
    """The mail server answers for K0, then is gone: K1's claim is released — its delivery
    `abandoned` with the reason and the time, its row queued again with no attempt counted
    and the reason — while K0's delivery stays `sent` and a row another dispatcher holds
    (`sending`) stays its."""
    k0, k1 = (_email(seed, f"K{n}")[0] for n in range(2))
    (held,) = _email(seed, "K9")
    up = load_settings(write_config(tmp_path / "up.toml", smtp_server), env=ENV)
    assert dispatch(engine, up, NOW, limit=1).rows_sent == 1
    with engine.begin() as conn:
        conn.execute(update(m.OUTBOX).where(m.OUTBOX.c.id == held).values(status="sending"))
    dead = SmtpServer("127.0.0.1", free_port(), None, None, False)  # nobody listens
    down = load_settings(write_config(tmp_path / "down.toml", dead), env={})

    later = NOW.replace(minute=45)
    stats = dispatch(engine, down, later)

    assert stats.rows_sent == 0 and len(stats.errors) == 1
    outbox = seed.outbox()
    assert (outbox[k0].status, outbox[held].status) == ("sent", "sending")
    assert (outbox[k1].status, outbox[k1].attempts) == ("queued", 0)
    assert outbox[k1].last_error and outbox[k1].last_error in stats.errors[0]
    with engine.connect() as conn:
        rows = conn.execute(
            select(m.DELIVERY.c.status, m.DELIVERY.c.finished_at, m.DELIVERY.c.error).order_by(
                m.DELIVERY.c.id
            )
        ).all()
    assert [r.status for r in rows] == ["sent", "abandoned"]
    assert rows[0].error is None and rows[0].finished_at.replace(tzinfo=None) == NOW.replace(
        tzinfo=None
    )
    assert rows[1].finished_at.replace(tzinfo=None) == later.replace(tzinfo=None)
    assert rows[1].error == outbox[k1].last_error


def test_two_permanent_failures_in_one_dispatch_are_counted_and_told_to_the_policy(
    engine, seed, smtp_server, tmp_path
):
    """Two e-mails that cannot be built (a line break in the name) fail for good in one
    dispatch: both counted, both rows `failed` after one attempt, one `delivery_failed`
    event per invoice, and the good one in between goes out."""
    bad = "Mallory\nBcc: everyone@example.org"
    rows = []
    for n, name in enumerate([bad, "Anna Alt", bad]):
        c = seed.customer(f"K{n}", name=name, email=f"k{n}@example.org")
        i = seed.invoice(c, f"R{n}", state="erinnerung", fee=None, interest=None)
        rows.append(seed.queue(i, c, "zahlungserinnerung", "email", state="erinnerung"))
    settings = load_settings(write_config(tmp_path / "mahnwerk.toml", smtp_server), env=ENV)

    stats = dispatch(engine, settings, NOW)

    assert (stats.failed, stats.rows_sent, stats.retried) == (2, 1, 0)
    outbox = seed.outbox()
    assert [(outbox[r].status, outbox[r].attempts) for r in rows] == [
        ("failed", 1),
        ("sent", 1),
        ("failed", 1),
    ]
    assert [(e.kind, e.invoice_id) for e in seed.inbox()] == [
        ("delivery_failed", outbox[rows[0]].invoice_id),
        ("delivery_failed", outbox[rows[2]].invoice_id),
    ]
    assert [status for status, _ in _deliveries(engine)] == ["failed", "sent", "failed"]


def test_the_delivery_row_says_to_whom_what_and_which_attempt(engine, seed, smtp_server, tmp_path):
    """The delivery a claim opens is the record of what went out: the recipient, the
    subject and body as sent, and the attempt's number."""
    (row,) = _email(seed, "K1")
    settings = load_settings(write_config(tmp_path / "mahnwerk.toml", smtp_server), env=ENV)
    dispatch(engine, settings, NOW)
    [mail] = smtp_server.box.mails()
    with engine.connect() as conn:
        (d,) = conn.execute(select(m.DELIVERY)).all()
    assert (d.recipient, d.attempt, d.subject) == ("k1@example.org", 1, mail["Subject"])
    assert d.body and "R-K1-0" in d.body
    assert d.body.split() == mail.get_body(("plain",)).get_content().split()


def test_a_dispatcher_past_its_lease_does_not_queue_again_what_another_sent(
    engine, db_url, seed, smtp_server, tmp_path
):
    """A claims K1's e-mail at 10:30 and then hangs; B, started 11 minutes later (the lease
    is 10), takes the row over and sends it.  A then finds its mail server gone and gives
    its claim back — but only what is still its own: the row B sent stays `sent`, with
    B's attempt and no error, and no later dispatch sends it a second time."""
    (row,) = _email(seed, "K1")
    up = load_settings(write_config(tmp_path / "up.toml", smtp_server), env=ENV)
    dead = SmtpServer("127.0.0.1", free_port(), None, None, False)  # nobody listens
    down = load_settings(write_config(tmp_path / "down.toml", dead), env={})
    later = NOW + timedelta(seconds=up.delivery.lease_seconds + 60)
    second: list = []

    def b_takes_over(bundle) -> None:
        other = make_engine(db_url)
        try:
            second.append(dispatch(other, up, later))
        finally:
            other.dispose()

    first = dispatch(engine, down, NOW, hooks=Hooks(after_claim=b_takes_over))

    assert (second[0].reconciled_requeued, second[0].rows_sent) == (1, 1)
    assert (first.rows_sent, len(first.errors)) == (0, 1)  # A: the server is gone
    r = seed.outbox()[row]
    assert (r.status, r.attempts, r.last_error) == ("sent", 2, None)
    assert [status for status, _ in _deliveries(engine)] == ["abandoned", "sent"]
    assert dispatch(engine, up, later + timedelta(hours=1)).rows_sent == 0
    assert len(smtp_server.box.mails()) == 1


def test_temporary_failures_of_several_messages_in_one_dispatch_are_all_counted(
    engine, seed, smtp_server, tmp_path
):
    """Two customers' mailboxes are busy (450): K1's two invoices travel in one e-mail,
    K2's one in another; K0's goes out.  The dispatch reports 3 rows retried, and each of
    them waits a minute (the backoff) with one attempt counted, no `delivery_failed` yet."""
    rows = {}
    for n, address in enumerate(["k0@example.org", "busy1@example.org", "busy2@example.org"]):
        c = seed.customer(f"K{n}", name=f"Kunde {n}", email=address)
        for k in range(2 if n == 1 else 1):
            i = seed.invoice(c, f"R{n}-{k}", state="erinnerung", fee=None, interest=None)
            rows[i] = seed.queue(i, c, "zahlungserinnerung", "email", state="erinnerung")
    settings = load_settings(write_config(tmp_path / "mahnwerk.toml", smtp_server), env=ENV)

    stats = dispatch(engine, settings, NOW)

    assert (stats.rows_sent, stats.retried, stats.failed) == (1, 3, 0)
    outbox = seed.outbox()
    waiting = [outbox[r] for r in list(rows.values())[1:]]
    assert [(r.status, r.attempts) for r in waiting] == [("queued", 1)] * 3
    assert {r.not_before.replace(tzinfo=None) for r in waiting} == {
        (NOW + timedelta(seconds=60)).replace(tzinfo=None)
    }
    assert all("450" in r.last_error for r in waiting)
    assert seed.inbox() == []
    assert [mail["To"] for mail in smtp_server.box.mails()] == ["Kunde 0 <k0@example.org>"]
