"""Settings for the communications tests: one mahnwerk.toml writer for all of them.

Imported by name (a conftest must not be), by the fixtures in `conftest.py` and the tests.
"""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

USER, PASSWORD = "forderungen", "geheim-123"
ENV = {"MAHNWERK_SMTP_PASSWORD": PASSWORD}
NOW = datetime(2026, 5, 4, 8, 30, tzinfo=UTC)  # a Monday, 10:30 in Berlin
EARLY = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
IBAN = "DE89 3704 0044 0532 0130 00"
SMS_BODY = '{"to": {{ to|tojson }}, "text": {{ text|tojson }}, "id": {{ message_id|tojson }}}'
#: What business letters of a GmbH must state (`letters check` refuses letters without it).
LEGAL = """legal_form = "GmbH"
seat = "Berlin"
register_court = "Amtsgericht Berlin-Charlottenburg"
register_number = "HRB 123456 B"
managing_directors = ["Erika Muster"]
"""
#: The debt collector the handover letters name.
COLLECTION = """
[collection]
agency = "Inkasso Partner GmbH"
address = "Inkassoweg 2, 20095 Hamburg"
"""


#: What a receiver answers a POST: status, content type, body.
Answer = tuple[int, str, bytes]


@contextmanager
def http_receiver(
    path: str, answer: Callable[[BaseHTTPRequestHandler, bytes], Answer]
) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 (a thread) handing each POST and its body to `answer`.

    Yields its URL ending in `path`; the SMS gateway's webhook and the print shop are both
    one `answer` on it.
    """

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, content_type, text = answer(self, body)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.end_headers()
            self.wfile.write(text)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{path}"
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Mailbox:
    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)

    def mails(self) -> list[EmailMessage]:
        return [message_from_bytes(raw, policy=policy.default) for _, _, raw in self.messages]

    def to(self, address: str) -> list[EmailMessage]:
        return [
            message_from_bytes(raw, policy=policy.default)
            for _, rcpts, raw in self.messages
            if address in rcpts
        ]


@dataclass
class SmtpServer:
    host: str
    port: int
    box: Mailbox
    ca_file: str | None
    tls: bool


def write_config(
    path: Path,
    smtp: Any = None,
    hook: Any = None,
    letters: Path | None = None,
    extra: str = "",
    *,
    iban: str | None = IBAN,
    legal: bool = False,
    collection: bool = True,
) -> Path:
    """A complete mahnwerk.toml: the creditor (`iban=None`: paid only online; `legal`: with
    the details business letters must state), the collector (`collection=False`: the
    defaults), delivery rules with a short backoff, and an SMTP server (`smtp`) and an SMS
    webhook (`hook`) when given."""
    account = f'iban = "{iban}"\nbank = "Commerzbank"\n' if iban else ""
    text = f"""
[creditor]
name = "Muster Versand GmbH"
street = "Hauptstraße 1"
postal_code = "10115"
city = "Berlin"
{account}phone = "030 1234567"
email = "buchhaltung@muster-versand.example"
payment_link = "https://pay.example.com/{{reference}}"
{LEGAL if legal else ""}{COLLECTION if collection else ""}
[delivery]
letters_folder = "{(letters or path.parent / "letters").as_posix()}"
backoff_seconds = 60
lease_seconds = 600
max_attempts = 3
"""
    if smtp is not None:
        text += f"""
[smtp]
host = "{smtp.host}"
port = {smtp.port}
starttls = {"true" if smtp.tls else "false"}
sender = "Muster Versand GmbH <forderungen@muster-versand.example>"
"""
        if smtp.tls:
            text += f'username = "{USER}"\nca_file = "{smtp.ca_file}"\n'
    if hook is not None:
        text += f"""
[sms]
url = "{hook.url}"
headers = {{ Authorization = "Bearer test-token" }}
body = '{SMS_BODY}'
"""
    path.write_text(text + extra, encoding="utf-8")
    return path


def dsn_for(original: EmailMessage, recipient: str, status: str, diagnostic: str) -> bytes:
    """A delivery status notification about `original`, laid out as Postfix writes one."""
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = "Mail Delivery System <MAILER-DAEMON@mx.example.org>"
    report["To"] = str(original["From"])
    report["Subject"] = "Undelivered Mail Returned to Sender"
    digest = hashlib.sha256(bytes(original) + status.encode()).hexdigest()[:16]
    report["Message-ID"] = f"<dsn-{digest}@mx.example.org>"
    report.attach(MIMEText(f"Your message to {recipient} could not be delivered.\n", "plain"))
    per_message, per_recipient = Message(), Message()
    per_message["Reporting-MTA"] = "dns; mx.example.org"
    per_recipient["Final-Recipient"] = f"rfc822; {recipient}"
    per_recipient["Action"] = "failed" if status.startswith("5") else "delayed"
    per_recipient["Status"] = status
    per_recipient["Diagnostic-Code"] = f"smtp; {diagnostic}"
    status_part = Message()
    status_part.set_type("message/delivery-status")
    status_part.set_payload([per_message, per_recipient])
    report.attach(status_part)
    headers = Message()
    headers.set_type("text/rfc822-headers")
    headers.set_payload(
        "".join(f"{k}: {v}\n" for k, v in original.items() if k in ("From", "To", "Message-ID"))
    )
    report.attach(headers)
    return report.as_bytes()
