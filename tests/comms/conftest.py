"""Real counterparts for the communications tests: an SMTP server, a webhook, a database.

* `smtp_server`: aiosmtpd on 127.0.0.1 with STARTTLS (a self-signed certificate
  made by the `openssl` command) and a login, which the tests read the mails
  from; recipients starting with `bounce` are refused with 550, `busy` with 450.
* `slow_smtp`: a plain aiosmtpd server that takes a few milliseconds per mail
  before its 250, for crash and race tests.
* `imap_server`: Dovecot on 127.0.0.1 (skipped where it is not installed), for the
  bounce mailbox.
* `webhook`: an `http.server` on 127.0.0.1 recording each request; the status it
  answers can be set per test.
* `seed`: customers, invoices, their dunning state and ledger lines, and queued
  outbox rows, written with plain inserts into the database of the `engine`
  fixture (SQLite, and PostgreSQL when configured).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from mahnwerk.engine import models as m

from .helpers import (
    EARLY,
    PASSWORD,
    USER,
    Answer,
    Mailbox,
    SmtpServer,
    free_port,
    http_receiver,
)

# ---------------------------------------------------------------------------
# SMTP
# ---------------------------------------------------------------------------


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("bounce"):
            return "550 5.1.1 mailbox unavailable"
        if address.startswith("busy"):
            return "450 4.2.1 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.box.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str] | None:
    """A self-signed certificate for 127.0.0.1, or None where `openssl` is missing."""
    if shutil.which("openssl") is None:
        return None
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


@pytest.fixture
def smtp_server(tls_files: tuple[str, str] | None) -> Iterator[SmtpServer]:
    """A real SMTP server: STARTTLS and login required (plain SMTP without openssl)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == USER.encode()
            and auth_data.password == PASSWORD.encode()
        )
        return AuthResult(success=ok)

    box = Mailbox()
    port = free_port()
    kwargs: dict[str, Any] = {}
    if tls_files:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(*tls_files)
        kwargs = dict(
            tls_context=ctx, require_starttls=True, authenticator=authenticate, auth_required=True
        )
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield SmtpServer(
            "127.0.0.1", port, box, tls_files[0] if tls_files else None, bool(tls_files)
        )
    finally:
        controller.stop()


SERVER_DELAY = 0.005  # seconds the server takes per mail before its 250


class _SlowHandler:
    """Takes a few milliseconds per mail before it answers 250, as a real server does;
    a mail counts as accepted only once that answer is given."""

    def __init__(self, box) -> None:
        self.box = box

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        await asyncio.sleep(SERVER_DELAY)
        self.box.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def slow_smtp() -> Iterator[SmtpServer]:
    """A plain SMTP server (no TLS, no login) that takes SERVER_DELAY per mail."""
    from aiosmtpd.controller import Controller

    box = Mailbox()
    port = free_port()
    controller = Controller(_SlowHandler(box), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, box, None, False)
    finally:
        controller.stop()


@dataclass
class ImapServer:
    host: str
    port: int
    user: str
    password: str


DOVECOT = Path("/usr/sbin/dovecot")
_DOVECOT_CONF = """
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
mail_uid = 65534
mail_gid = 65534
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={root}/mail/%u
}}
"""


@pytest.fixture
def imap_server() -> Iterator[ImapServer]:
    """A real IMAP server: Dovecot on 127.0.0.1 with a throwaway configuration.

    Skipped where Dovecot is not installed (`.ci/run` installs `dovecot-imapd`) or the tests
    do not run as root (Dovecot starts as root and drops to its own users)."""
    import os
    import time

    if not DOVECOT.exists():
        pytest.skip("IMAP bounce test needs Dovecot: apt-get install dovecot-imapd")
    if os.geteuid() != 0:
        pytest.skip("Dovecot must be started as root to drop to its own users")
    import tempfile

    # Outside pytest's private (0700) temp folder: Dovecot's mail process runs as nobody.
    root = Path(tempfile.mkdtemp(prefix="mahnwerk-dovecot-"))
    root.chmod(0o755)
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir(parents=True)
    os.chown(root / "mail", 65534, 65534)
    port = free_port()
    conf = root / "dovecot.conf"
    conf.write_text(_DOVECOT_CONF.format(root=root, port=port, password=PASSWORD))
    proc = subprocess.Popen(
        [str(DOVECOT), "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail(f"Dovecot did not start: {(root / 'dovecot.log').read_text()}")
                time.sleep(0.05)
        yield ImapServer("127.0.0.1", port, "bounces", PASSWORD)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


# ---------------------------------------------------------------------------
# The SMS webhook
# ---------------------------------------------------------------------------


@dataclass
class Webhook:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook("")

    def answer(request: BaseHTTPRequestHandler, body: bytes) -> Answer:
        hook.requests.append(
            {"path": request.path, "headers": dict(request.headers), "body": body.decode()}
        )
        text = b'{"ok": true}' if hook.status < 300 else b'{"error": "rejected"}'
        return hook.status, "application/json", text

    with http_receiver("/sms/send", answer) as hook.url:
        yield hook


# ---------------------------------------------------------------------------
# Settings and data
# ---------------------------------------------------------------------------


class Seed:
    """Writes customers, invoices (with state and ledger) and outbox rows."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.n = 0

    def customer(
        self,
        number: str,
        name: str = "Erika Mustermann",
        type: str = "B2C",
        email: str | None = "erika@example.org",
        phone: str | None = "+4915112345678",
        language: str = "de",
        opted_out: str = "",
        deceased_since: date | None = None,
        street: str | None = "Heidestraße 17",
    ) -> int:
        with self.engine.begin() as conn:
            return conn.execute(
                insert(m.CUST).values(
                    external_id=number,
                    name=name,
                    type=type,
                    email=email,
                    phone=phone,
                    street=street,
                    postal_code="51147",
                    city="Köln",
                    language=language,
                    opted_out=opted_out,
                    deceased_since=deceased_since,
                )
            ).inserted_primary_key[0]

    def invoice(
        self,
        customer_id: int,
        number: str,
        amount: str = "1000.00",
        state: str = "mahnung_1",
        fee: str | None = "1.00",
        interest: tuple[str, date, date, str] | None = (
            "4.78",
            date(2026, 4, 2),
            date(2026, 4, 30),
            "6.27",
        ),
        disputed: bool = False,
    ) -> int:
        with self.engine.begin() as conn:
            iid = conn.execute(
                insert(m.INV).values(
                    external_id=number,
                    customer_id=customer_id,
                    issue_date=date(2026, 3, 1),
                    due_date=date(2026, 3, 31),
                    amount=Decimal(amount),
                    currency="EUR",
                )
            ).inserted_primary_key[0]
            lines = [
                {"kind": "principal", "amount": Decimal(amount), "booked_on": date(2026, 3, 1)}
            ]
            fees = Decimal(fee or "0")
            if fee:
                lines.append({"kind": "fee", "amount": fees, "booked_on": date(2026, 4, 30)})
            owed = Decimal("0")
            if interest:
                owed = Decimal(interest[0])
                lines.append(
                    {
                        "kind": "interest",
                        "amount": owed,
                        "booked_on": interest[2],
                        "period_from": interest[1],
                        "period_to": interest[2],
                        "rate": Decimal(interest[3]),
                    }
                )
            blank = {"period_from": None, "period_to": None, "rate": None}
            conn.execute(insert(m.LEDGER), [{"invoice_id": iid, **blank, **x} for x in lines])
            conn.execute(
                insert(m.DS).values(
                    invoice_id=iid,
                    segment="default",
                    ladder="standard",
                    state=state,
                    entered_on=date(2026, 4, 30),
                    principal_open=Decimal(amount),
                    fees_open=fees,
                    interest_open=owed,
                    disputed=disputed,
                )
            )
        return iid

    def queue(
        self,
        invoice_id: int,
        customer_id: int,
        template: str,
        channel: str,
        state: str = "mahnung_1",
        not_before: datetime = EARLY,
        language: str = "de",
        tone: str | None = None,
        offers: list[str] | None = None,
    ) -> int:
        self.n += 1
        with self.engine.begin() as conn:
            return conn.execute(
                insert(m.OUTBOX).values(
                    idempotency_key=f"{invoice_id}:{state}:{template}:{channel}:{self.n}",
                    invoice_id=invoice_id,
                    customer_id=customer_id,
                    channel=channel,
                    template=template,
                    language=language,
                    tone=tone,
                    status="queued",
                    not_before=not_before,
                    created_at=EARLY,
                    attempts=0,
                    payload=json.dumps({"state": state, "offers": offers or []}),
                    rule="test:1",
                )
            ).inserted_primary_key[0]

    def outbox(self) -> dict[int, Any]:
        with self.engine.connect() as conn:
            return {r.id: r for r in conn.execute(select(m.OUTBOX))}

    def inbox(self) -> list[Any]:
        with self.engine.connect() as conn:
            return conn.execute(select(m.INBOX).order_by(m.INBOX.c.id)).all()


@pytest.fixture
def seed(engine) -> Seed:
    return Seed(engine)
