"""Bounces that arrive later by mail (RFC 3464 delivery status notifications).

The SMTP server took the reminder e-mail (250); an hour later the recipient's server reports
that the mailbox does not exist.  The report lands in a real Maildir folder; the next
`mahnwerk dispatch` reads it, the e-mail becomes `failed`, the invoice gets `delivery_failed`,
and the next `mahnwerk run` sends the reminder as a letter (the shipped B2C policy's
`on delivery_failed from erinnerung`) — no operator involved.  A report read twice, a
"delayed" report and a report about somebody else's mail change nothing.
"""

from __future__ import annotations

import mailbox
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mahnwerk.cli import app
from mahnwerk.engine.comms.bounces import parse_report

from .helpers import ENV, dsn_for, write_config

POLICY = Path(__file__).resolve().parent.parent.parent / "policies" / "de_b2c_standard.mahn"
runner = CliRunner()


def cli(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args), env=ENV)
    assert "Traceback" not in result.output
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture
def book(tmp_path, smtp_server):
    """One consumer, one invoice due 2026-04-20, the shipped B2C policy, a bounce Maildir."""
    db = str(tmp_path / "book.db")
    (tmp_path / "kunden.csv").write_text(
        "customer_id;name;type;email;street;postal_code;city;region;language\n"
        "K1;Erika Mustermann;B2C;erika@example.org;Heidestraße 17;51147;Köln;NW;de\n",
        encoding="utf-8",
    )
    (tmp_path / "rechnungen.csv").write_text(
        "invoice_id;customer_id;issue_date;due_date;amount\nR1;K1;06.04.2026;20.04.2026;119,00\n",
        encoding="utf-8",
    )
    maildir = mailbox.Maildir(tmp_path / "bounces", create=True)
    config = write_config(
        tmp_path / "mahnwerk.toml",
        smtp_server,
        letters=tmp_path / "briefe",
        extra=f'\n[bounces]\nmaildir = "{(tmp_path / "bounces").as_posix()}"\n',
    )
    cli("init", "--db", db)
    cli("import", "customers", str(tmp_path / "kunden.csv"), "--db", db)
    cli("import", "invoices", str(tmp_path / "rechnungen.csv"), "--db", db)
    cli("policy", "deploy", str(POLICY), "--yes", "--db", db)
    return db, str(config), maildir


def dispatch(db: str, config: str, now: str) -> str:
    return cli("dispatch", "--db", db, "--config", config, "--now", now)


def test_a_bounced_reminder_becomes_a_letter_without_an_operator(book, smtp_server, tmp_path):
    db, config, maildir = book
    cli("run", "--as-of", "2026-04-27", "--db", db)
    dispatch(db, config, "2026-04-27T10:00+02:00")
    (mail,) = smtp_server.box.mails()
    assert "erika@example.org" in mail["To"]

    maildir.add(dsn_for(mail, "erika@example.org", "5.1.1", "550 5.1.1 user unknown"))
    out = dispatch(db, config, "2026-04-27T16:00+02:00")
    assert "1 bounced later" in out

    shown = cli("show", "R1", "--db", db)
    assert "bounced after delivery: 5.1.1" in shown
    cli("run", "--as-of", "2026-04-28", "--db", db)
    shown = cli("show", "R1", "--db", db)
    assert "erinnerung -> erinnerung_brief" in shown
    # The letter waits for the week of the e-mail to pass (one written reminder a week, D3).
    out = dispatch(db, config, "2026-05-04T10:00+02:00")
    assert "{'letter': 1}" in out
    assert len(list((tmp_path / "briefe").rglob("K1_zahlungserinnerung_*.pdf"))) == 1
    assert len(smtp_server.box.messages) == 1  # no second e-mail to the dead address


def test_a_report_counts_once_and_delays_or_strangers_change_nothing(book, smtp_server):
    db, config, maildir = book
    cli("run", "--as-of", "2026-04-27", "--db", db)
    dispatch(db, config, "2026-04-27T10:00+02:00")
    (mail,) = smtp_server.box.mails()
    stranger = EmailMessage()
    stranger["From"], stranger["To"] = "someone@else.example", "x@example.org"
    stranger["Message-ID"] = "<not-ours@else.example>"
    maildir.add(dsn_for(mail, "erika@example.org", "4.2.2", "452 mailbox full, retrying"))
    maildir.add(dsn_for(stranger, "x@example.org", "5.1.1", "550 user unknown"))
    failure = dsn_for(mail, "erika@example.org", "5.1.1", "550 5.1.1 user unknown")
    maildir.add(failure)
    maildir.add(failure)  # the same report twice (a resend by the MTA, a copied mailbox)

    assert "1 bounced later" in dispatch(db, config, "2026-04-27T16:00+02:00")
    assert all("S" in maildir.get_message(k).get_flags() for k in maildir.iterkeys())
    assert "bounced" not in dispatch(db, config, "2026-04-27T17:00+02:00")  # all read
    shown = cli("show", "R1", "--db", db)
    assert shown.count("bounced after delivery") == 1


def test_a_report_is_parsed_as_rfc_3464_lays_it_out():
    original = EmailMessage()
    original["From"] = "Muster Versand <forderungen@muster.example>"
    original["To"] = "erika@example.org"
    original["Message-ID"] = "<abc123@muster.example>"
    report = parse_report(dsn_for(original, "erika@example.org", "5.2.2", "552 mailbox full"))
    assert report is not None and report.original_id == "<abc123@muster.example>"
    (r,) = report.failed
    assert (r.address, r.status, r.diagnostic) == ("erika@example.org", "5.2.2", "552 mailbox full")
    plain = message_from_bytes(b"From: a@b\nSubject: hallo\n\ntext\n", policy=policy.default)
    assert parse_report(plain.as_bytes()) is None


def test_a_bounce_read_from_an_imap_mailbox(book, smtp_server, imap_server, tmp_path, monkeypatch):
    """The same through IMAP (a real Dovecot): the report is flagged \\Seen once handled."""
    import imaplib

    db, _, _ = book
    config = write_config(
        tmp_path / "mahnwerk-imap.toml",
        smtp_server,
        letters=tmp_path / "briefe",
        extra=(
            f'\n[bounces]\nimap_host = "{imap_server.host}"\nimap_port = {imap_server.port}\n'
            f'imap_user = "{imap_server.user}"\nimap_ssl = false\n'
        ),
    )
    monkeypatch.setenv("MAHNWERK_BOUNCES_IMAP_PASSWORD", imap_server.password)
    cli("run", "--as-of", "2026-04-27", "--db", db)
    dispatch(db, str(config), "2026-04-27T10:00+02:00")
    (mail,) = smtp_server.box.mails()
    box = imaplib.IMAP4(imap_server.host, imap_server.port)
    box.login(imap_server.user, imap_server.password)
    box.append("INBOX", None, None, dsn_for(mail, "erika@example.org", "5.1.1", "550 unknown"))

    assert "1 bounced later" in dispatch(db, str(config), "2026-04-27T16:00+02:00")
    box.select("INBOX")
    assert box.uid("SEARCH", None, "UNSEEN")[1] == [b""]  # read, and marked so
    box.logout()
    assert "bounced after delivery: 5.1.1" in cli("show", "R1", "--db", db)
