"""Webhooks out, following Standard Webhooks (https://www.standardwebhooks.com).

The path of an event to an ERP:

1. The change writes its row into the append-only `event` log; a database trigger
   (migration 0011) copies the event's id into `webhook_outbox` in the same
   transaction — no change without its webhook, no webhook without its change.
2. `fan_out` turns each outbox row into one `webhook_delivery` per subscription that
   wants its type, with the payload frozen and a stable `message_id`
   (`msg_<event id>`): the `webhook-id` a receiver deduplicates by.
3. `deliver_due` sends what is due, signed (`webhook-signature: v1,<base64 HMAC-SHA256
   of "id.timestamp.body">`), and logs every attempt in `webhook_attempt`. A non-2xx
   answer or a network error is retried with the Standard Webhooks backoff (5 s, 5 min,
   30 min, 2 h, 5 h, 10 h, 10 h); after that the delivery is `failed` until someone
   replays it (`mahnwerk webhooks replay`).

Deliveries are claimed with a short lease before sending, so several `serve`
processes never send the same attempt twice at once; the receiver's dedupe by id
covers the rest (at-least-once, like every webhook system).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine

from mahnwerk.engine.store import webhooks as store

#: Event-log kinds → webhook types (the trigger in migration 0011 selects the same kinds).
KIND_TYPES: dict[str, str] = {
    "transition": "invoice.state_changed",
    "payment": "payment.applied",
    "approval_requested": "approval.requested",
    "approval_given": "approval.decided",
    "approval_rejected": "approval.decided",
    "message_sent": "message.sent",
    "message_failed": "message.failed",
}
TYPES = (*dict.fromkeys(KIND_TYPES.values()), "invoice.paid", "task.created")
BACKOFF = (5, 300, 1800, 7200, 18000, 36000, 36000)
"""Seconds before each retry; after the last one the delivery has failed."""
LEASE = timedelta(seconds=60)
TIMEOUT = 10.0


def event_type(kind: str, state_to: str | None) -> str | None:
    if kind == "transition" and state_to == "paid":
        return "invoice.paid"
    if kind.startswith("task_"):
        return "task.created"
    return KIND_TYPES.get(kind)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for `body` (Standard Webhooks, v1)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def check_url(url: str) -> str:
    """The URL a subscription posts to: http or https with a host, or `ValueError` saying so.

    Checked here, where every subscription is made (CLI and API), so a typo is refused
    when it is typed rather than failing every delivery later."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        host, parts = None, None
    if parts is None or parts.scheme not in ("http", "https") or not host or " " in text:
        raise ValueError(
            f"{url!r} is not a web address a webhook can be sent to; "
            "write an http:// or https:// URL with a host, e.g. https://erp.example/hooks"
        )
    return text


def subscribe(
    engine: Engine, url: str, types: list[str], by: str, now: datetime
) -> tuple[int, str]:
    url = check_url(url)
    unknown = [t for t in types if t != "*" and t not in TYPES]
    if unknown:
        raise ValueError(f"unknown event type {unknown[0]!r}; use * or {', '.join(TYPES)}")
    secret = new_secret()
    with engine.begin() as conn:
        sid = store.add_subscription(
            conn,
            url=url,
            secret=secret,
            event_types=",".join(types),
            active=True,
            created_at=now,
            created_by=by,
        )
    return sid, secret


def unsubscribe(engine: Engine, subscription_id: int) -> bool:
    with engine.begin() as conn:
        return bool(store.deactivate_subscription(conn, subscription_id))


def _payload(row: Any, kind_type: str) -> dict[str, Any]:
    try:
        extra = json.loads(row.payload or "{}")
    except ValueError:
        extra = {}
    return {
        "type": kind_type,
        "timestamp": row.recorded_at.isoformat(),
        "data": {
            "event_id": row.id,
            "kind": row.kind,
            "invoice_id": row.invoice_ext,
            "customer_id": row.customer_ext,
            "occurred_on": row.occurred_on.isoformat(),
            "from": row.state_from,
            "to": row.state_to,
            "message": row.message,
            "rule": row.rule,
            "actor": row.actor,
            "details": extra,
        },
    }


def fan_out(engine: Engine, now: datetime, limit: int = 500) -> int:
    """Outbox rows → deliveries, one transaction per batch; returns deliveries created."""
    with engine.begin() as conn:
        rows = store.outbox_batch(conn, limit)
        if not rows:
            return 0
        subs = store.active_subscriptions(conn)
        deliveries = []
        for row in rows:
            kind_type = event_type(row.kind, row.state_to)
            if kind_type is None:
                continue
            body = json.dumps(_payload(row, kind_type), separators=(",", ":"))
            for sub in subs:
                wanted = sub.event_types.split(",")
                if "*" in wanted or kind_type in wanted:
                    deliveries.append(
                        {
                            "message_id": f"msg_{row.id}",
                            "subscription_id": sub.id,
                            "outbox_id": row.outbox_id,
                            "type": kind_type,
                            "payload": body,
                            "status": "pending",
                            "attempts": 0,
                            "next_attempt_at": now,
                            "created_at": now,
                        }
                    )
        if deliveries:
            store.add_deliveries(conn, deliveries)
        store.fanned_out(conn, [r.outbox_id for r in rows])
    return len(deliveries)


def _claim(engine: Engine, now: datetime, limit: int) -> list[Any]:
    """Due deliveries, each leased for a minute by a conditional update (no double sends)."""
    due = store.due_deliveries(engine, now, limit)
    claimed = []
    for row in due:
        with engine.begin() as conn:
            won = store.lease_delivery(conn, row, now + LEASE)
        if won:
            claimed.append(row.id)
    if not claimed:
        return []
    return store.deliveries_to_send(engine, claimed)


def deliver_due(
    engine: Engine,
    clock: Callable[[], datetime],
    client: httpx.Client | None = None,
    limit: int = 50,
) -> dict[str, int]:
    """Send every due delivery once; returns how many were delivered and how many failed."""
    counts = {"delivered": 0, "retry": 0, "failed": 0}
    rows = _claim(engine, clock(), limit)
    own = client is None
    client = client or httpx.Client(timeout=TIMEOUT)
    try:
        for row in rows:
            counts[_send(engine, clock, client, row)] += 1
    finally:
        if own:
            client.close()
    return counts


def _send(engine: Engine, clock: Callable[[], datetime], client: httpx.Client, row: Any) -> str:
    now = clock()
    stamp = int(now.timestamp())
    body = row.payload.encode()
    headers = {
        "content-type": "application/json",
        "webhook-id": row.message_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(row.secret, row.message_id, stamp, body),
        "user-agent": "mahnwerk-webhooks/1",
    }
    started = time.perf_counter()
    code: int | None = None
    error: str | None = None
    try:
        response = client.post(row.url, content=body, headers=headers)
        code = response.status_code
        if not 200 <= code < 300:
            error = f"HTTP {code}: {response.text[:200]}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    ms = int((time.perf_counter() - started) * 1000)
    attempt = row.attempts + 1
    if error is None:
        status, values = "delivered", {"delivered_at": now, "last_error": None}
    elif attempt > len(BACKOFF):
        status, values = "failed", {"last_error": error}
    else:
        status = "retry"
        values = {
            "last_error": error,
            "next_attempt_at": now + timedelta(seconds=BACKOFF[attempt - 1]),
        }
    with engine.begin() as conn:
        store.attempted(
            conn,
            row.id,
            {
                "attempt": attempt,
                "at": now,
                "status_code": code,
                "error": error,
                "milliseconds": ms,
            },
            attempts=attempt,
            status="pending" if status == "retry" else status,
            **values,
        )
    return status


def replay(
    engine: Engine,
    now: datetime,
    delivery_id: int | None = None,
    failed: bool = False,
    since: datetime | None = None,
) -> int:
    """Send deliveries again (one by id, every failed one, or all since an instant)."""
    if delivery_id is None and not failed and since is None:
        raise ValueError("say what to replay: a delivery id, --failed or --since")
    with engine.begin() as conn:
        count = store.send_again(conn, now, delivery_id, failed, since)
    if delivery_id is not None and not count:
        raise LookupError(
            f"no delivery {delivery_id}; `mahnwerk webhooks deliveries` lists the deliveries"
        )
    return count


def deliveries(
    engine: Engine, after: int = 0, limit: int = 100, status: str | None = None
) -> list[dict[str, Any]]:
    """The delivery log, with every attempt."""
    with engine.connect() as conn:
        rows = store.deliveries_page(conn, after, limit, status)
        attempts: dict[int, list[dict[str, Any]]] = {}
        if rows:
            for a in store.attempts_of(conn, [r.id for r in rows]):
                attempts.setdefault(a.delivery_id, []).append(
                    {
                        "attempt": a.attempt,
                        "at": a.at.isoformat(),
                        "status_code": a.status_code,
                        "error": a.error,
                        "milliseconds": a.milliseconds,
                    }
                )
    return [
        {
            "id": r.id,
            "message_id": r.message_id,
            "subscription_id": r.subscription_id,
            "type": r.type,
            "status": r.status,
            "attempts": r.attempts,
            "next_attempt_at": r.next_attempt_at.isoformat() if r.status == "pending" else None,
            "delivered_at": r.delivered_at.isoformat() if r.delivered_at else None,
            "last_error": r.last_error,
            "log": attempts.get(r.id, []),
        }
        for r in rows
    ]
