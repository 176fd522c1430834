"""A small world for the portal tests, made the way a user makes it: the `mahnwerk` command.

Two customers (K-1 German with three invoices, K-2 English with one), the shipped B2C
policy, three runs (reminder e-mail, 1st and 2nd Mahnung) each followed by a real
dispatch — e-mails to an aiosmtpd server on localhost, letters as PDFs — and then a
real `mahnwerk serve` on a free port whose clock stands on 9 February 2026.

Named `portal_book` (not conftest) so tests import it by name.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "policies" / "de_b2c_standard.mahn"
SERVE_NOW = "2026-02-09T10:00:00+01:00"
LINK = re.compile(r"http://127\.0\.0\.1:\d+/p/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
CUSTOMERS = """customer_id,name,type,email,street,postal_code,city,language
K-1,Erika Mustermann,B2C,erika@example.de,Lindenweg 3,10115,Berlin,de
K-2,John Smith,B2C,john@example.com,Baker Street 221,10117,Berlin,en
"""
INVOICES = """invoice_id,customer_id,issue_date,due_date,amount
R-1,K-1,2025-12-19,2026-01-02,480.00
R-2,K-1,2025-12-19,2026-01-02,320.00
R-3,K-1,2025-12-19,2026-01-02,260.00
R-9,K-2,2025-12-19,2026-01-02,150.00
"""
RATE = 120  # per minute and address; the rate-limit test sends from 127.0.0.2
#: The virus-scan hook's contract: a command given the file, exit 0 when clean.  This one
#: finds the EICAR test string, as a real scanner (clamdscan) does.
SCANNER = """import sys
data = open(sys.argv[1], 'rb').read()
sys.exit(1 if b'EICAR-STANDARD-ANTIVIRUS-TEST-FILE' in data else 0)
"""
DAYS = (("2026-01-09", "2026-01-09T10:00:00+01:00"),
        ("2026-01-23", "2026-01-23T10:00:00+01:00"),
        ("2026-02-06", "2026-02-06T10:00:00+01:00"))  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mahnwerk() -> str:
    return str(Path(sys.executable).with_name("mahnwerk"))


@dataclass
class Mailbox:
    raw: list[tuple[list[str], bytes]] = field(default_factory=list)

    def to(self, address: str) -> list[EmailMessage]:
        return [message_from_bytes(b, policy=policy.default) for r, b in self.raw if address in r]


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.box.raw.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@dataclass
class World:
    folder: Path
    db: str
    port: int
    box: Mailbox
    smtp: object
    server: subprocess.Popen | None = None

    @property
    def config(self) -> Path:
        return self.folder / "mahnwerk.toml"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, check: bool = True):
        """`mahnwerk ARGS` in this process (typer's runner: the user's code path without a
        second interpreter start, which costs seconds on a loaded machine)."""
        from typer.testing import CliRunner

        from mahnwerk.cli import app

        done = CliRunner().invoke(app, list(args), catch_exceptions=False)
        if check and done.exit_code != 0:
            raise AssertionError(f"mahnwerk {' '.join(args)}: {done.output}")
        return done

    def link_from_mail(self, address: str) -> str:
        """The portal link in the newest e-mail to `address` (its plain-text part)."""
        for mail in reversed(self.box.to(address)):
            text = mail.get_body(preferencelist=("plain",)).get_content()
            found = LINK.search(text)
            if found:
                return found.group(0)
        raise AssertionError(f"no portal link in any e-mail to {address}")

    def start(self, config: Path | None = None, port: int | None = None) -> None:
        log = (self.folder / "serve.log").open("wb")
        self.server = subprocess.Popen(
            [mahnwerk(), "serve", "--port", str(port or self.port), "--db", self.db,
             "--no-schedule", "--now", SERVE_NOW, "--config", str(config or self.config)],
            cwd=self.folder, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port or self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise AssertionError((self.folder / "serve.log").read_text())
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("serve did not answer: " + (self.folder / "serve.log").read_text())

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.server.kill()
        self.smtp.stop()  # type: ignore[attr-defined]


def build(folder: Path) -> World:
    """The world above, with `serve` running; call `stop()` when done."""
    from aiosmtpd.controller import Controller

    box = Mailbox()
    smtp_port, port = free_port(), free_port()
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    db = f"sqlite:///{folder / 'mahnwerk.db'}"
    world = World(folder, db, port, box, controller)
    (folder / "kunden.csv").write_text(CUSTOMERS, encoding="utf-8")
    (folder / "scan.py").write_text(SCANNER, encoding="utf-8")
    (folder / "rechnungen.csv").write_text(INVOICES, encoding="utf-8")
    example = world.cli("letters", "config-example").output
    example = example.split("[smtp]")[0]  # creditor only; our own SMTP and portal below
    (folder / "mahnwerk.toml").write_text(
        example + f'\n[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nstarttls = false\n'
        'sender = "Muster Versand GmbH <forderungen@example.com>"\n'
        f'\n[portal]\nbase_url = "http://127.0.0.1:{port}"\nlink_days = 60\n'
        f'virus_scan = "{sys.executable} {folder / "scan.py"}"\n'
        f"requests_per_minute = {RATE}\n"
        f'\n[delivery]\nletters_folder = "{folder / "briefe"}"\n',
        encoding="utf-8",
    )
    world.cli("init", "--db", db)
    world.cli("import", "customers", str(folder / "kunden.csv"), "--db", db)
    world.cli("import", "invoices", str(folder / "rechnungen.csv"), "--db", db)
    world.cli("policy", "deploy", str(POLICY), "--yes", "--db", db)
    for day, now in DAYS:
        world.cli("run", "--as-of", day, "--db", db)
        world.cli("dispatch", "--now", now, "--db", db, "--config", str(world.config))
    return world
