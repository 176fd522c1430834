"""E-mail: building the MIME message and handing it to an SMTP server.

The message is multipart/alternative (plain text first, then HTML, so every
client shows something sensible; the HTML with its GiroCode image as a related part),
optionally with the letter's PDF attached;
its Message-ID is the one dispatch derived from the outbox rows' idempotency
keys, so a message has the same identity however often it is attempted.

Delivery is at least once, never lost.  "Sent" is recorded only after the
server's 250 reply to the final "." — the moment the server has taken the
message.  A dispatcher that dies before recording (after the "." was written,
before or after the 250 came back) leaves the attempt unrecorded, and the next
dispatch sends the message again with the same Message-ID: the customer may
get a duplicate, recognisable as one by that Message-ID, but no message the
books call "sent" was never accepted.  (The earlier design recorded a "point
of no return" just before the "." and counted it as sent after a crash; with
a server that takes a few milliseconds per mail, killed dispatchers lost
messages that way — the window lasts until the server's reply, not until the
bytes are on the wire.)  A connection lost after the "." is a temporary
failure for the same reason: retried, same Message-ID.

Reply codes decide what happens next (RFC 5321): 4xx is temporary (retry
later, with backoff), 5xx permanent (a bounce: the policy hears of it as a
`delivery_failed` event).  A server that cannot be reached or refuses the
login is `TransportDown`: no message is charged an attempt for that.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, formataddr, parseaddr

from mahnwerk.engine.comms.config import Smtp
from mahnwerk.errors import MahnwerkError


class SendError(MahnwerkError):
    """The server refused this message; `permanent` says whether retrying can help."""

    def __init__(self, message: str, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class TransportDown(MahnwerkError):
    """The channel itself is unavailable (connection, TLS, login): nothing was sent."""


def build_email(
    *,
    sender: str,
    to: str,
    to_name: str,
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    date: datetime,
    attachments: list[tuple[str, bytes]] | None = None,
    inline: list[tuple[str, bytes]] | None = None,
) -> EmailMessage:
    """`inline`: (Content-ID, PNG) images the HTML shows as `cid:` (the GiroCode), sent as
    multipart/related beside the HTML — not as attachments, and not fetched from anywhere."""
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = sender
    msg["To"] = formataddr((to_name, to))
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    msg.set_content(text + "\n", charset="utf-8", cte="quoted-printable")
    if html:
        msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
        if inline:
            html_part = msg.get_payload()[-1]
            for cid, png in inline:
                html_part.add_related(
                    png,
                    maintype="image",
                    subtype="png",
                    cid=f"<{cid}>",
                    disposition="inline",
                    filename="girocode.png",
                )
    for filename, data in attachments or []:
        msg.add_attachment(data, maintype="application", subtype="pdf", filename=filename)
    return msg


def _code_class(code: int) -> bool:
    """True if permanent (5xx)."""
    return 500 <= code < 600


class SmtpTransport:
    """One connection for a whole dispatch, opened on first use, reopened if dropped."""

    def __init__(self, cfg: Smtp) -> None:
        self.cfg = cfg
        self.conn: smtplib.SMTP | None = None

    def _context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.cfg.ca_file)
        return ctx

    def open(self) -> smtplib.SMTP:
        if self.conn is not None:
            try:
                if self.conn.noop()[0] == 250:
                    return self.conn
            except (smtplib.SMTPException, OSError):
                pass
            self.close()
        cfg = self.cfg
        try:
            if cfg.ssl:
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    cfg.host, cfg.port, timeout=cfg.timeout, context=self._context()
                )
            else:
                conn = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
            conn.ehlo()
            if cfg.starttls:
                conn.starttls(context=self._context())
                conn.ehlo()
            if cfg.username:
                conn.login(cfg.username, cfg.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise TransportDown(f"SMTP login as {cfg.username!r} refused: {exc}") from None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise TransportDown(f"SMTP server {cfg.host}:{cfg.port}: {exc}") from None
        self.conn = conn
        return conn

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self.conn = None

    def send(self, msg: EmailMessage) -> str:
        """Deliver `msg`; return the server's reply once it accepted the message (250)."""
        conn = self.open()
        sender = parseaddr(str(msg["From"]))[1]
        rcpt = parseaddr(str(msg["To"]))[1]
        try:
            code, reply = conn.mail(sender)
            if code != 250:
                conn.rset()
                raise SendError(
                    f"MAIL FROM refused: {code} {reply.decode(errors='replace')}", _code_class(code)
                )
            code, reply = conn.rcpt(rcpt)
            if code not in (250, 251):
                conn.rset()
                raise SendError(
                    f"recipient {rcpt} refused: {code} {reply.decode(errors='replace')}",
                    _code_class(code),
                )
            code, reply = conn.docmd("DATA")
            if code != 354:
                conn.rset()
                raise SendError(
                    f"DATA refused: {code} {reply.decode(errors='replace')}", _code_class(code)
                )
            data = re.sub(rb"(?m)^\.", b"..", msg.as_bytes(policy=SMTP_POLICY))
            if not data.endswith(b"\r\n"):
                data += b"\r\n"
            conn.send(data + b".\r\n")
            code, reply = conn.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            # Whether the server kept the message is unknown: send it again later, with the
            # same Message-ID (at least once; a repeat is recognisable, a loss is not).
            self.conn = None
            raise SendError(f"connection lost: {exc}", permanent=False) from None
        if code != 250:
            raise SendError(
                f"message refused: {code} {reply.decode(errors='replace')}", _code_class(code)
            )
        return f"{code} {reply.decode(errors='replace')}"
