"""Bounces that arrive later, by mail: delivery status notifications (RFC 3464).

An SMTP server that accepted a message (250) may still fail to deliver it — the mailbox is
full, the address was closed last week — and says so hours later with a *delivery status
notification* to the sender: a `multipart/report; report-type=delivery-status` mail whose
`message/delivery-status` part names, per recipient, the `Action` (`failed`, `delayed`,
`delivered`, …) and the `Status` (`5.1.1`), and whose third part carries the original
message or its headers — with the Message-ID dispatch gave it.

`read_bounces` reads the configured mailbox (`[bounces]` in mahnwerk.toml: a Maildir folder
or an IMAP mailbox), and for each report that says `failed` about one of our messages it does
what an SMTP 5xx at sending time does: the delivery and its outbox rows become `failed`, and
each invoice gets a `delivery_failed` inbox event — the next run lets the policy react (e.g.
`on delivery_failed from erinnerung { letter … }`), so a letter replaces the bounced e-mail
without an operator.  `delayed` reports and reports about mail that is not ours are noted
and left alone.  Each report is handled once, however often the mailbox is read: its key is
stored in `bounce_seen` in the same transaction as the events it caused; the mailbox is
marked read (Maildir flag `S`, IMAP `\\Seen`) only after that commit.
"""

from __future__ import annotations

import hashlib
import imaplib
import mailbox
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, message_from_string, policy
from email.message import Message
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from mahnwerk.engine.comms.config import Bounces, ConfigError
from mahnwerk.engine.store import deliveries

Done = Callable[[], None]
"""Marks one mail of the mailbox as read, once what it caused is committed."""


@dataclass(frozen=True)
class Recipient:
    address: str
    action: str  # failed, delayed, delivered, relayed, expanded (RFC 3464 § 2.3.3)
    status: str  # e.g. 5.1.1
    diagnostic: str


@dataclass(frozen=True)
class Report:
    """One delivery status notification, as far as dispatch needs it."""

    key: str  # the report's own Message-ID, or a hash of its bytes
    original_id: str | None  # the Message-ID of the message it reports on
    recipients: tuple[Recipient, ...]

    @property
    def failed(self) -> tuple[Recipient, ...]:
        return tuple(r for r in self.recipients if r.action == "failed")


@dataclass
class BounceStats:
    reports: int = 0
    failed: int = 0  # outbox rows marked failed by a bounce
    ignored: int = 0  # delayed / delivered reports, and reports about mail not ours
    errors: list[str] = field(default_factory=list)


def parse_report(raw: bytes) -> Report | None:
    """The report in `raw`, or None when the mail is not a delivery status notification."""
    msg = message_from_bytes(raw, policy=policy.default)
    if msg.get_content_type() != "multipart/report":
        return None
    if (msg.get_param("report-type") or "").lower() != "delivery-status":
        return None
    key = _norm_id(msg.get("Message-ID")) or hashlib.sha256(raw).hexdigest()
    recipients: list[Recipient] = []
    original: str | None = None
    for part in msg.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            recipients.extend(_recipients(part))
        elif kind == "text/rfc822-headers" and original is None:
            original = _norm_id(message_from_string(_text(part))["Message-ID"])
        elif kind == "message/rfc822" and original is None:
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(inner, Message):
                original = _norm_id(inner["Message-ID"])
    return Report(key, original, tuple(recipients))


def _text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload.decode("utf-8", errors="replace")
    return str(part.get_payload())


def _recipients(part: Message) -> list[Recipient]:
    """The per-recipient blocks of a `message/delivery-status` part (after the first)."""
    blocks = part.get_payload()
    if not isinstance(blocks, list):  # some writers leave it as text: parse the blocks
        blocks = [message_from_string(b) for b in str(blocks).split("\n\n") if b.strip()]
    out = []
    for block in blocks[1:]:
        action = str(block.get("Action", "")).strip().lower()
        if not action:
            continue
        out.append(
            Recipient(
                address=_after_type(block.get("Final-Recipient", "")),
                action=action,
                status=str(block.get("Status", "")).strip(),
                diagnostic=_after_type(block.get("Diagnostic-Code", "")),
            )
        )
    return out


def _after_type(value: Any) -> str:
    """`rfc822; erika@example.org` → `erika@example.org`."""
    text = " ".join(str(value or "").split())
    return text.split(";", 1)[1].strip() if ";" in text else text


def _norm_id(value: Any) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    return text if text.startswith("<") else f"<{text}>"


# ---------------------------------------------------------------------------
# Applying a report
# ---------------------------------------------------------------------------


def apply_report(engine: Engine, report: Report, now: datetime) -> tuple[str, int]:
    """Record one report once; returns (what happened, outbox rows failed)."""
    with engine.begin() as conn:
        if deliveries.bounce_seen(conn, report.key):
            return "seen before", 0
        failed = report.failed
        delivery = None
        if failed and report.original_id:
            delivery = deliveries.sent_delivery(conn, report.original_id)
        status = "failed" if delivery else ("not ours" if failed else "not a failure")
        deliveries.note_bounce(conn, report.key, report.original_id or "",
                          delivery.id if delivery else None, status, now)  # fmt: skip
        if delivery is None:
            return status, 0
        return status, _fail_delivery(conn, delivery, failed, now)


def _fail_delivery(conn: Connection, delivery: Any, failed: list[Any], now: datetime) -> int:
    """A sent delivery bounced: it and its rows `failed`, an inbox entry per invoice."""
    from mahnwerk.engine.comms.ledger import write_failure

    first = failed[0]
    reason = (
        f"bounced after delivery: {first.status} {first.diagnostic}".strip()
        + f" ({first.address})"
    )
    ids = deliveries.delivery_outbox_ids(conn, delivery.id)
    rows = deliveries.outbox_rows(conn, ids)
    message = f"{delivery.channel} {delivery.template} {delivery.message_id}: {reason}"
    write_failure(conn, delivery.id, ids, "sent", rows, delivery.channel, delivery.template,
                  reason, "message_bounced", message, now)  # fmt: skip
    return len(rows)


# ---------------------------------------------------------------------------
# Mailboxes
# ---------------------------------------------------------------------------


def maildir_mails(path: str | Path) -> Iterator[tuple[bytes, Done]]:
    """Unread mails of a Maildir (new/ and cur/ without the `S` flag)."""
    folder = Path(path)
    if not (folder / "cur").is_dir() or not (folder / "new").is_dir():
        raise ConfigError(
            "[bounces]", "maildir", f"{folder} is not a Maildir", "it needs cur/, new/ and tmp/"
        )
    box = mailbox.Maildir(folder, factory=None, create=False)
    for key in list(box.iterkeys()):
        msg = box.get_message(key)
        if "S" in msg.get_flags():
            continue

        def done(key: str = key, msg: mailbox.MaildirMessage = msg) -> None:
            msg.set_subdir("cur")
            msg.add_flag("S")
            box[key] = msg

        yield box.get_bytes(key), done


def imap_mails(cfg: Bounces) -> Iterator[tuple[bytes, Done]]:
    """Unseen mails of an IMAP folder; each is flagged `\\Seen` once handled."""
    assert cfg.imap_host is not None
    try:
        conn = (
            imaplib.IMAP4_SSL(cfg.imap_host, cfg.imap_port)
            if cfg.imap_ssl
            else imaplib.IMAP4(cfg.imap_host, cfg.imap_port)
        )
        conn.login(cfg.imap_user or "", cfg.imap_password or "")
        status, answer = conn.select(cfg.imap_folder)
        if status != "OK":
            raise imaplib.IMAP4.error(f"no folder {cfg.imap_folder!r}: {answer!r}")
        _, found = conn.uid("SEARCH", None, "UNSEEN")  # type: ignore[arg-type]
    except (imaplib.IMAP4.error, OSError) as exc:
        raise ConfigError(
            "[bounces]",
            "imap_host",
            f"cannot read {cfg.imap_folder} at {cfg.imap_host}:{cfg.imap_port}: {exc}",
            "check host, port, imap_user and $MAHNWERK_BOUNCES_IMAP_PASSWORD",
        ) from None
    try:
        for uid in (found[0] or b"").split():
            _, data = conn.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((item[1] for item in data if isinstance(item, tuple)), b"")

            def done(uid: bytes = uid) -> None:
                conn.uid("STORE", uid, "+FLAGS", "(\\Seen)")

            yield raw, done
    finally:
        try:
            conn.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def read_bounces(engine: Engine, cfg: Bounces, now: datetime) -> BounceStats:
    """Read the bounce mailbox and turn each failure report into `delivery_failed` events."""
    stats = BounceStats()
    mails = maildir_mails(cfg.maildir) if cfg.maildir else imap_mails(cfg)
    for raw, done in mails:
        report = parse_report(raw)
        if report is None:
            stats.ignored += 1
            done()
            continue
        stats.reports += 1
        _what, rows = apply_report(engine, report, now)
        stats.failed += rows
        if not rows:
            stats.ignored += 1
        done()
    return stats


__all__ = [
    "BounceStats",
    "Recipient",
    "Report",
    "apply_report",
    "imap_mails",
    "maildir_mails",
    "parse_report",
    "read_bounces",
]
