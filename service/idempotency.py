"""`Idempotency-Key` and body size limits, as one ASGI middleware in front of the API.

A client that lost the answer to a POST sends it again with the same key; it gets the
first answer back (marked `Idempotent-Replayed: true`) and nothing is written twice.
The key is reserved in the database *before* the request runs, so two copies arriving
at once cannot both run: the second is told to retry (409). A request that failed
with a server error frees its key; any other answer (201, 422, 403 …) is kept, as
clients expect. The same key with a different body is refused (422): it is a bug in
the client, not a retry. Records are kept per token, so two clients never collide.

The body is read here in full, up to `max_body` bytes (413 beyond), so an endpoint
never sees a body larger than the limit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from anyio import to_thread
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from mahnwerk.engine.store import idempotency as store
from mahnwerk.engine.store.people import active_token_id
from mahnwerk.service.identity import token_hash
from mahnwerk.service.problems import MEDIA_TYPE, problem_body

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
MAX_KEY = 255


class Guard:
    """Body size limit for every request; idempotent replay for writes with a key."""

    def __init__(
        self,
        app: ASGIApp,
        engine: Engine,
        clock: Callable[[], datetime],
        max_body: int,
        bypass: str | None = None,
    ) -> None:
        self.app, self.engine, self.clock, self.max_body = app, engine, clock, max_body
        self.bypass = bypass  # a path prefix with limits of its own (the customer portal)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (
            self.bypass is not None and scope["path"].startswith(self.bypass)
        ):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            await _send_problem(send, 413, "Body too large", self._too_large())
            return
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_body:
                await _send_problem(send, 413, "Body too large", self._too_large())
                return
        replay = _replayer(body)
        key = headers.get("idempotency-key")
        if key is None or scope["method"] not in WRITES:
            await self.app(scope, replay, send)
            return
        await self._idempotent(scope, replay, send, key, headers, body)

    def _too_large(self) -> str:
        return (
            f"the request body is larger than {self.max_body} bytes; "
            "send fewer items per request (at most 1,000)"
        )

    async def _idempotent(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        key: str,
        headers: dict[str, str],
        body: bytes,
    ) -> None:
        if not key.strip() or len(key) > MAX_KEY or not key.isprintable():
            await _send_problem(
                send,
                422,
                "Invalid request",
                f"Idempotency-Key must be 1 to {MAX_KEY} printable characters, e.g. a UUID",
            )
            return
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        digest = hashlib.sha256(
            scope["method"].encode() + b" " + scope["path"].encode() + b"\n" + body
        ).hexdigest()
        outcome = await to_thread.run_sync(self._reserve, token, key, scope, digest)
        if outcome is None:  # no valid token: authentication answers
            await self.app(scope, receive, send)
            return
        if isinstance(outcome, tuple):
            status, text = outcome
            await _send_problem(send, status, "Idempotency-Key conflict", text)
            return
        if isinstance(outcome, dict):
            await _send_raw(
                send,
                outcome["status"],
                outcome["body"],
                outcome["type"],
                [(b"idempotent-replayed", b"true")],
            )
            return
        record_id = outcome
        captured: dict[str, Any] = {"status": 500, "body": b"", "type": "application/json"}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                for k, v in message.get("headers", []):
                    if k.lower() == b"content-type":
                        captured["type"] = v.decode("latin-1")
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            await to_thread.run_sync(self._settle, record_id, captured)

    def _reserve(
        self, token: str, key: str, scope: Scope, digest: str
    ) -> int | dict[str, Any] | tuple[int, str] | None:
        with self.engine.begin() as conn:
            token_id = active_token_id(conn, token_hash(token)) if token else None
            if token_id is None:
                return None
            row = store.record(conn, token_id, key)
        if row is not None:
            return _earlier(row, digest)
        try:
            with self.engine.begin() as conn:
                return store.reserve(
                    conn, token_id, key, scope["method"], scope["path"], digest, self.clock()
                )
        except IntegrityError:
            return 409, "a request with this Idempotency-Key is being processed; retry shortly"

    def _settle(self, record_id: int, captured: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            if captured["status"] >= 500:
                store.free(conn, record_id)
                return
            store.settle(
                conn,
                record_id,
                captured["status"],
                json.dumps({"type": captured["type"], "body": captured["body"].decode("utf-8")}),
            )


def _earlier(row: Any, digest: str) -> dict[str, Any] | tuple[int, str]:
    if row.request_hash != digest:
        return 422, (
            "this Idempotency-Key was used for a different request (method, path or body); "
            "use a new key for a new request"
        )
    if row.status_code is None:
        return 409, "a request with this Idempotency-Key is being processed; retry shortly"
    stored = json.loads(row.response)
    return {"status": row.status_code, "body": stored["body"].encode(), "type": stored["type"]}


def _replayer(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _send_raw(
    send: Send, status: int, body: bytes, media: str, extra: list[tuple[bytes, bytes]] = ()
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", media.encode()),
                (b"content-length", str(len(body)).encode()),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _send_problem(send: Send, status: int, title: str, detail: str) -> None:
    body = json.dumps(problem_body(status, title, detail)).encode()
    await _send_raw(send, status, body, MEDIA_TYPE)
