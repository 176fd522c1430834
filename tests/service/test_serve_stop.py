"""`mahnwerk serve` stops within seconds on SIGTERM, even with a request that never ends.

A server left behind by a killed test run ignored SIGTERM for minutes: uvicorn's graceful
shutdown waits for every open request, and had no bound.  A client that sends the headers
of a POST and only part of its body holds such a request open for as long as it likes
(the same as a request that computes for minutes); SIGTERM must still end the process.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

from service_harness import Server, start_server

from mahnwerk.service.cli import SHUTDOWN_GRACE


def _half_sent_request(server: Server, token: str) -> socket.socket:
    """A POST whose body is announced as 1,000 bytes and stops after 10."""
    url = urlsplit(server.url)
    sock = socket.create_connection((url.hostname, url.port), timeout=10)
    sock.sendall(
        b"POST /customers HTTP/1.1\r\nHost: localhost\r\n"
        + f"Authorization: Bearer {token}\r\n".encode()
        + b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        + b'{"items": '
    )
    return sock


def test_sigterm_ends_serve_within_seconds_while_a_request_hangs(
    store: str, tmp_path: Path, admin: str
) -> None:
    server = start_server(store, tmp_path, "--no-schedule")
    sock = _half_sent_request(server, admin)
    try:
        time.sleep(1)  # the request is in the app, waiting for the rest of its body
        assert server.process.poll() is None
        started = time.monotonic()
        server.process.terminate()
        deadline = started + SHUTDOWN_GRACE + 12  # the grace, and a loaded machine's slack
        while server.process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        took = time.monotonic() - started
        alive = server.process.poll() is None
    finally:
        sock.close()
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()
    log = server.log.read_text()
    assert not alive, f"serve still running {took:.1f} s after SIGTERM:\n{log}"
    assert "timeout graceful shutdown exceeded" in log  # it did wait for the request first
