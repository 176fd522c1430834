"""A real `mahnwerk serve` on a free localhost port, and a webhook receiver that checks signatures.

Named `service_harness` (not conftest) so tests import it by name; fixtures live in conftest.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import make_url, text

from mahnwerk.engine.store.db import make_engine
from mahnwerk.service.identity import Identity, create_token

ADMIN = Identity("root-admin", "admin", "test harness")
POLICY = """policy "api-b2b" version 1 {
  currency EUR  timezone "Europe/Berlin"  calendar DE region from customer  language de
  segment default use b2b
  ladder b2b {
    state erinnerung at 7d after due { email "zahlungserinnerung" }
    state gericht after 14d in erinnerung {
      approval by 2 when balance > 1000 EUR else 1
      court order; wait
    }
  }
  on dispute_opened pause
  on dispute_resolved resume
  on hold pause
  on release resume
}
"""


def mahnwerk(url: str, *args: str, code: int = 0) -> str:
    """The command line in this process on `url`, as no named operator; its output.

    Fails the test unless it ends with `code`.
    """
    from typer.testing import CliRunner

    from mahnwerk.cli import app

    result = CliRunner().invoke(app, [*args, "--db", url], env={"MAHNWERK_OPERATOR": ""})
    assert result.exit_code == code, (args, result.output)
    return result.output


@contextmanager
def database_logins(db_url: str, people: Iterable[str]) -> Iterator[dict[str, str]]:
    """A PostgreSQL login role per person, dropped afterwards (SQLite: the test is skipped).

    Yields `who` → the URL its connections use and `who_login` → the role's name.
    """
    if not db_url.startswith("postgresql"):
        pytest.skip("database logins and grants are PostgreSQL's")
    tag = uuid.uuid4().hex[:8]
    names = {who: f"mw_{who}_{tag}" for who in people}
    owner = make_engine(db_url)
    with owner.begin() as conn:
        for login in names.values():
            conn.execute(text(f"CREATE ROLE {login} LOGIN"))
    try:
        yield {
            who: make_url(db_url).set(username=login).render_as_string(hide_password=False)
            for who, login in names.items()
        } | {f"{who}_login": login for who, login in names.items()}
    finally:
        with owner.begin() as conn:
            for login in names.values():
                conn.execute(text(f"DROP OWNED BY {login}"))
                conn.execute(text(f"DROP ROLE IF EXISTS {login}"))
        owner.dispose()


def mahnwerk_command() -> str:
    return str(Path(sys.executable).with_name("mahnwerk"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def token(db_url: str, role: str, acts_as: str | None = None) -> str:
    engine = make_engine(db_url)
    try:
        return create_token(engine, acts_as or role, role, acts_as, ADMIN, datetime.now(UTC))[1]
    finally:
        engine.dispose()


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def client(self, bearer: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(db_url: str, folder: Path, *args: str, name: str = "serve") -> Server:
    """`mahnwerk serve` as a user starts it; returns once /health answers."""
    return ready(spawn_server(db_url, folder, *args, name=name))


def spawn_server(db_url: str, folder: Path, *args: str, name: str = "serve") -> Server:
    """Start `mahnwerk serve` without waiting (several at once: `ready` each after)."""
    port = free_port()
    log = folder / f"{name}-{port}.log"
    process = subprocess.Popen(
        [mahnwerk_command(), "serve", "--port", str(port), "--db", db_url, "--name", name,
         *args],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=folder,
    )  # fmt: skip
    return Server(f"http://127.0.0.1:{port}", process, log)


def ready(server: Server) -> Server:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"serve exited: {server.log.read_text()}")
        try:
            if httpx.get(server.url + "/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise AssertionError(f"serve did not answer: {server.log.read_text()}")


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Standard Webhooks, written out here independently of mahnwerk's signer."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    given = [s.split(",", 1)[1] for s in headers["webhook-signature"].split() if "," in s]
    return any(hmac.compare_digest(expected, g) for g in given)


@dataclass
class Receiver:
    """An ERP's webhook endpoint: verifies signatures, deduplicates by webhook-id."""

    secret: str = ""
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    received: int = 0
    bad_signatures: int = 0
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> str:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["content-length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    receiver.received += 1
                    if receiver.fail_next > 0:
                        receiver.fail_next -= 1
                        self.send_response(503)
                        self.end_headers()
                        return
                    if not verify(receiver.secret, headers, body):
                        receiver.bad_signatures += 1
                        self.send_response(400)
                        self.end_headers()
                        return
                    receiver.messages.setdefault(headers["webhook-id"], json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.http.server_address[1]}/hooks"

    def stop(self) -> None:
        self.http.shutdown()

    def types(self) -> list[str]:
        with self.lock:
            return [m["type"] for m in self.messages.values()]

    def wait_for(self, predicate: Any, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if predicate(list(self.messages.values())):
                    return
            time.sleep(0.2)
        raise AssertionError(f"webhooks not received in time; got {self.types()}")


def wait_run(client: httpx.Client, as_of: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = client.get("/runs").json()["items"]
        done = [r for r in runs if r["as_of"] == as_of and r["status"] == "finished"]
        if done:
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"run {as_of} did not finish")
