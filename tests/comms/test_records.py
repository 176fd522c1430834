"""What the books say after a dispatch: sent, retried, given up, or abandoned by a crash.

The next letter, the fee and default by reminder rest on these records, so each test reads
them as an operator would — the delivery row, the outbox row and the audit log — after a
real dispatch against a real SMTP server.  A dispatcher that dies is simulated in-process
by a hook that raises past every handler (as a kill would, nothing after it runs;
`test_crash.py` kills real processes).  Mutation testing (issue 20) found that no test
selected for it read these records whole.
"""

from __future__ import annotations

import json
import mailbox
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from mahnwerk.engine import models as m
from mahnwerk.engine.comms.config import load_settings
from mahnwerk.engine.comms.dispatch import Hooks, dispatch
from mahnwerk.engine.store.db import make_engine

from .helpers import ENV, NOW, dsn_for, write_config

BUSY = "recipient busy@example.org refused: 450 4.2.1 mailbox busy, try again later"
BOUNCE = "recipient bounce@example.org refused: 550 5.1.1 mailbox unavailable"
ABANDONED = (
    "the dispatcher stopped before it recorded the outcome: queued again, "
    "to go out again with the same Message-ID"
)


class Killed(BaseException):
    """The dispatcher process vanishes: no handler of ours catches this."""


def _at(moment) -> object:
    return moment.replace(tzinfo=None)


def _reminders(seed, number: str, email: str, invoices: int = 1, **customer) -> list[int]:
    c = seed.customer(number, name=f"Kunde {number}", email=email, **customer)
    rows = []
    for n in range(invoices):
        i = seed.invoice(c, f"R-{number}-{n}", state="erinnerung", fee=None, interest=None)
        rows.append(seed.queue(i, c, "zahlungserinnerung", "email", state="erinnerung"))
    return rows


def _deliveries(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(m.DELIVERY).order_by(m.DELIVERY.c.id)).all()


def _log(engine, kind: str) -> list[tuple[int, str]]:
    """The audit log's entries of `kind`: (outbox row, message)."""
    with engine.connect() as conn:
        events = conn.execute(
            select(m.EVENT).where(m.EVENT.c.kind == kind).order_by(m.EVENT.c.id)
        ).all()
    return [(json.loads(e.payload)["outbox_id"], e.message) for e in events]


@pytest.fixture
def settings(tmp_path, smtp_server):
    config = write_config(tmp_path / "mahnwerk.toml", smtp_server, letters=tmp_path / "letters")
    return load_settings(config, env=ENV)


def test_the_books_say_what_went_out_when_how_and_together_with_what(
    engine, seed, settings, smtp_server
):
    """K1's two invoices go out in one e-mail, K2's reminder as a letter (opted out of
    e-mail, D7), K3's bounces.  Each sent delivery is `sent` at the dispatch's moment with
    the server's answer (the letter: the print batch it is in); each row `sent` then, the
    letter's with the reason it is a letter; the log names the message and what travelled
    with it; the bounce's delivery stays `failed` with the server's reason and nothing
    added to it."""
    k1 = _reminders(seed, "K1", "k1@example.org", invoices=2)
    (k2,) = _reminders(seed, "K2", "k2@example.org", opted_out="email")
    (k3,) = _reminders(seed, "K3", "bounce@example.org")

    stats = dispatch(engine, settings, NOW)

    assert (stats.rows_sent, stats.failed) == (3, 1)
    [mail] = smtp_server.box.mails()
    mid = mail["Message-ID"]
    email, letter, bounced = _deliveries(engine)  # the letter is recorded once printed
    assert (email.status, _at(email.finished_at), email.error) == ("sent", _at(NOW), None)
    assert email.artefact.startswith("250 ") and "accepted" in email.artefact
    assert (letter.status, _at(letter.finished_at), letter.error) == ("sent", _at(NOW), None)
    assert letter.artefact.endswith(f"(in {stats.batch})")
    assert (bounced.status, bounced.error, bounced.artefact) == ("failed", BOUNCE, None)
    outbox = seed.outbox()
    d7 = "D7: the customer opted out of email"
    assert [
        (outbox[r].status, _at(outbox[r].sent_at), outbox[r].last_error) for r in k1 + [k2]
    ] == [
        ("sent", _at(NOW), None),
        ("sent", _at(NOW), None),
        ("sent", _at(NOW), d7),
    ]
    assert (outbox[k3].status, outbox[k3].sent_at, outbox[k3].last_error) == (
        "failed",
        None,
        BOUNCE,
    )
    assert _log(engine, "message_sent") == [
        (k1[0], f"email zahlungserinnerung {mid}, together with 1 more"),
        (k1[1], f"email zahlungserinnerung {mid}, together with 1 more"),
        (k2, f"letter zahlungserinnerung {letter.message_id} ({d7})"),
    ]
    assert _log(engine, "message_failed") == [(k3, f"email zahlungserinnerung failed: {BOUNCE}")]


def test_a_single_reminder_is_logged_alone(engine, seed, settings, smtp_server):
    """One invoice, one e-mail: the log entry names the message and nothing else."""
    (row,) = _reminders(seed, "K1", "k1@example.org")
    dispatch(engine, settings, NOW)
    [mail] = smtp_server.box.mails()
    assert _log(engine, "message_sent") == [(row, f"email zahlungserinnerung {mail['Message-ID']}")]


def test_a_busy_mailbox_is_given_up_after_the_third_attempt_and_the_policy_hears_why(
    engine, seed, settings, smtp_server
):
    """K1's mailbox is busy (450) three times: retried after 1 and 2 minutes, each attempt
    a `failed` delivery with the reason; the third gives up — the row `failed` saying
    after how many attempts, one `message_failed` log entry and one `delivery_failed`
    entry for the policy with the same reason.  A bounce (550) fails at once, without
    that remark."""
    (row,) = _reminders(seed, "K1", "busy@example.org")
    (bounce,) = _reminders(seed, "K2", "bounce@example.org")

    first = dispatch(engine, settings, NOW)
    assert (first.retried, first.failed) == (1, 1)
    r = seed.outbox()[row]
    assert (r.status, r.attempts, r.last_error) == ("queued", 1, BUSY)
    assert _at(r.not_before) == _at(NOW + timedelta(minutes=1))
    assert (seed.outbox()[bounce].status, seed.outbox()[bounce].last_error) == ("failed", BOUNCE)
    dispatch(engine, settings, NOW + timedelta(minutes=1))
    assert _at(seed.outbox()[row].not_before) == _at(NOW + timedelta(minutes=3))
    last = dispatch(engine, settings, NOW + timedelta(minutes=3))

    gave_up = f"{BUSY} (gave up after 3 attempts)"
    assert (last.retried, last.failed) == (0, 1)
    r = seed.outbox()[row]
    assert (r.status, r.attempts, r.last_error) == ("failed", 3, gave_up)
    tries = [d for d in _deliveries(engine) if d.recipient == "busy@example.org"]
    assert [(d.status, d.attempt, d.error) for d in tries] == [
        ("failed", 1, BUSY),
        ("failed", 2, BUSY),
        ("failed", 3, gave_up),
    ]
    assert [_at(d.finished_at) for d in tries] == [
        _at(NOW + timedelta(minutes=n)) for n in (0, 1, 3)
    ]
    assert _log(engine, "message_failed") == [
        (bounce, f"email zahlungserinnerung failed: {BOUNCE}"),
        (row, f"email zahlungserinnerung failed: {gave_up}"),
    ]
    told = [(e.invoice_id, json.loads(e.payload)) for e in seed.inbox()]
    assert told == [
        (seed.outbox()[b].invoice_id, {
            "channel": "email",
            "template": "zahlungserinnerung",
            "outbox_id": b,
            "reason": why,
            "note": f"email zahlungserinnerung: {why}",
        })
        for b, why in [(bounce, BOUNCE), (row, gave_up)]
    ]  # fmt: skip
    assert dispatch(engine, settings, NOW + timedelta(hours=1)).due == 0
    assert smtp_server.box.mails() == []


def test_crashed_dispatchers_are_taken_over_once_their_lease_has_run_out(
    engine, seed, settings, smtp_server
):
    """Three dispatchers die right after their claim: A (10:30, K1's two invoices), B
    (10:30, K2's reminder; an older version left its delivery `committed`) and C (10:35,
    K3's).  At 10:40 — A's and B's lease of 10 minutes just run out, C's not — a new
    dispatch abandons A's and B's deliveries with the reason, queues their 3 rows again
    and sends them; C's claim and a row that a running dispatcher holds are left alone.
    At 10:55 C's row goes out too, and nothing closed is touched again.  Every reminder
    reaches the server once."""
    k1 = _reminders(seed, "K1", "k1@example.org", invoices=2)
    (k2,) = _reminders(seed, "K2", "k2@example.org")
    (k3,) = _reminders(seed, "K3", "k3@example.org")
    (held,) = _reminders(seed, "K4", "k4@example.org")

    def die(bundle) -> None:
        raise Killed

    for moment, customer in [(NOW, "K1"), (NOW, "K2"), (NOW + timedelta(minutes=5), "K3")]:
        with pytest.raises(Killed):
            dispatch(engine, settings, moment, hooks=Hooks(after_claim=die))
        assert seed.outbox()[{"K1": k1[0], "K2": k2, "K3": k3}[customer]].status == "sending"
    with engine.begin() as conn:
        b = conn.execute(
            select(m.DELIVERY_ITEM.c.delivery_id).where(m.DELIVERY_ITEM.c.outbox_id == k2)
        ).scalar_one()
        conn.execute(update(m.DELIVERY).where(m.DELIVERY.c.id == b).values(status="committed"))
        conn.execute(update(m.OUTBOX).where(m.OUTBOX.c.id == held).values(status="sending"))

    lease_over = NOW + timedelta(seconds=settings.delivery.lease_seconds)
    stats = dispatch(engine, settings, lease_over)

    assert (stats.reconciled_requeued, stats.rows_sent) == (3, 3)
    a, b, c, *after = _deliveries(engine)
    assert [(d.status, _at(d.finished_at), d.error) for d in (a, b)] == [
        ("abandoned", _at(lease_over), ABANDONED)
    ] * 2
    assert (c.status, c.finished_at, c.error) == ("transmitting", None, None)
    assert [d.status for d in after] == ["sent", "sent"]
    outbox = seed.outbox()
    assert [(outbox[r].status, outbox[r].attempts) for r in k1 + [k2]] == [("sent", 2)] * 3
    assert (outbox[k3].status, outbox[held].status) == ("sending", "sending")

    later = dispatch(engine, settings, NOW + timedelta(minutes=25))
    assert (later.reconciled_requeued, later.rows_sent) == (1, 1)
    assert seed.outbox()[held].status == "sending"
    again = _deliveries(engine)
    assert [d.status for d in again] == ["abandoned"] * 3 + ["sent"] * 3
    assert [(_at(d.finished_at), d.error) for d in again[:2]] == [(_at(lease_over), ABANDONED)] * 2
    assert sorted(mail["To"] for mail in smtp_server.box.mails()) == [
        f"Kunde K{n} <k{n}@example.org>" for n in (1, 2, 3)
    ]


def test_a_bounce_read_while_a_late_dispatcher_records_its_send_is_not_overwritten(
    engine, db_url, seed, smtp_server, tmp_path
):
    """A hands K1's reminder to the server at 10:30 and then hangs before it records it.
    At 10:41 (its lease of 10 minutes over) B takes the row over and sends it again, the
    same Message-ID.  The recipient's server reports that the mailbox does not exist; at
    10:50 C reads the report: the row `failed`, the policy told.  When A finally records
    its send, the row stays `failed` — a bounced reminder must not count as delivered (the
    next level, the fee and default by reminder rest on it) — and nothing goes out again;
    A's delivery says its copy was taken, no longer that A stopped before recording."""
    folder = tmp_path / "bounces"
    maildir = mailbox.Maildir(folder, create=True)
    extra = f'\n[bounces]\nmaildir = "{folder.as_posix()}"\n'
    settings = load_settings(
        write_config(tmp_path / "mahnwerk.toml", smtp_server, extra=extra), env=ENV
    )
    (row,) = _reminders(seed, "K1", "k1@example.org")
    late = []

    def meanwhile(bundle) -> None:
        other = make_engine(db_url)
        try:
            late.append(dispatch(other, settings, NOW + timedelta(minutes=11)))
            first = smtp_server.box.mails()[0]
            maildir.add(dsn_for(first, "k1@example.org", "5.1.1", "550 5.1.1 user unknown"))
            late.append(dispatch(other, settings, NOW + timedelta(minutes=20)))
        finally:
            other.dispose()

    a = dispatch(engine, settings, NOW, hooks=Hooks(after_transmit=meanwhile))

    b, c = late
    assert (b.reconciled_requeued, b.rows_sent, c.bounced) == (1, 1, 1)
    assert a.rows_sent == 1  # A's server did take it
    mails = smtp_server.box.mails()
    assert len(mails) == 2 and mails[0]["Message-ID"] == mails[1]["Message-ID"]
    r = seed.outbox()[row]
    assert r.status == "failed" and r.last_error.startswith("bounced after delivery: 5.1.1")
    assert [e.kind for e in seed.inbox()] == ["delivery_failed"]
    a_sent, b_sent = _deliveries(engine)  # each: what its dispatcher knows of its own copy
    assert (a_sent.status, a_sent.error, _at(a_sent.finished_at)) == ("sent", None, _at(NOW))
    assert (b_sent.status, b_sent.error) == ("failed", r.last_error)
    assert dispatch(engine, settings, NOW + timedelta(hours=1)).due == 0
    assert len(smtp_server.box.mails()) == 2


def test_a_customer_without_an_address_fails_at_once_with_that_reason(
    engine, seed, settings, smtp_server
):
    """K1 has no e-mail address: the reminder fails for good on its first attempt, and row,
    delivery, log and the policy's inbox all say why — not that the message could not be
    built; the dispatch reports it as failed, not as an error."""
    (row,) = _reminders(seed, "K1", "")
    why = "no e-mail address for the customer"

    stats = dispatch(engine, settings, NOW)

    assert (stats.failed, stats.retried, stats.rows_sent, stats.errors) == (1, 0, 0, [])
    r = seed.outbox()[row]
    assert (r.status, r.attempts, r.last_error) == ("failed", 1, why)
    [d] = _deliveries(engine)
    assert (d.status, d.recipient, d.error) == ("failed", None, why)
    assert _log(engine, "message_failed") == [(row, f"email zahlungserinnerung failed: {why}")]
    assert [json.loads(e.payload)["reason"] for e in seed.inbox()] == [why]
    assert smtp_server.box.mails() == []
