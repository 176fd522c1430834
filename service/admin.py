"""Tokens and webhook subscriptions (admin), the delivery log, health and metrics."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from sqlalchemy import Engine

from mahnwerk.engine.store import api as api_store
from mahnwerk.service import identity, webhooks
from mahnwerk.service.data import Cursor, Limit
from mahnwerk.service.deps import (
    caller,
    decode_cursor,
    encode_cursor,
    engine_of,
    now_of,
)
from mahnwerk.service.identity import Identity
from mahnwerk.service.problems import Problem
from mahnwerk.service.schemas import Page, TokenCreated, TokenIn, WebhookCreated, WebhookIn

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post(
    "/tokens",
    response_model=TokenCreated,
    status_code=201,
    tags=["admin"],
    description="A new API token, shown only in this answer. ",
)
def post_token(
    body: TokenIn,
    engine: Engine = Depends(engine_of),
    now: datetime = Depends(now_of),
    who: Identity = Depends(caller),
) -> TokenCreated:
    tid, token = identity.create_token(engine, body.name, body.role, body.acts_as, who, now)
    return TokenCreated(
        id=tid, token=token, role=body.role, acts_as=" ".join((body.acts_as or body.name).split())
    )


@router.get("/tokens", tags=["admin"], description="Tokens (never the token itself). ")
def list_tokens(
    engine: Engine = Depends(engine_of),
    _: Identity = Depends(caller),
) -> list[dict[str, Any]]:
    return identity.tokens(engine)


@router.delete("/tokens/{token_id}", tags=["admin"], description="")
def delete_token(
    token_id: Id,
    engine: Engine = Depends(engine_of),
    now: datetime = Depends(now_of),
    who: Identity = Depends(caller),
) -> dict[str, str]:
    try:
        return {"detail": identity.revoke_token(engine, token_id, who, now)}
    except ValueError as exc:
        raise Problem(404, "Not found", str(exc)) from None


@router.post(
    "/webhooks",
    response_model=WebhookCreated,
    status_code=201,
    tags=["webhooks"],
    description="Subscribe a URL to event types (`*` for all: " + ", ".join(webhooks.TYPES) + "). ",
)
def post_webhook(
    body: WebhookIn,
    engine: Engine = Depends(engine_of),
    now: datetime = Depends(now_of),
    who: Identity = Depends(caller),
) -> WebhookCreated:
    try:
        webhooks.check_url(body.url)
    except ValueError as exc:
        raise Problem(
            422,
            "Invalid request",
            f"url: {exc}",
            [{"pointer": "/url", "field": "url", "detail": str(exc)}],
        ) from None
    try:
        sid, secret = webhooks.subscribe(engine, body.url, body.event_types, who.name, now)
    except ValueError as exc:
        raise Problem(
            422,
            "Invalid request",
            f"event_types: {exc}",
            [{"pointer": "/event_types", "field": "event_types", "detail": str(exc)}],
        ) from None
    return WebhookCreated(id=sid, url=body.url, event_types=body.event_types, secret=secret)


@router.get("/webhooks", tags=["webhooks"], description="")
def list_webhooks(
    engine: Engine = Depends(engine_of),
    _: Identity = Depends(caller),
) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "url": r.url,
            "event_types": r.event_types.split(","),
            "active": bool(r.active),
            "created_by": r.created_by,
        }
        for r in api_store.subscriptions(engine)
    ]


@router.delete("/webhooks/{subscription_id}", tags=["webhooks"], description="")
def delete_webhook(
    subscription_id: Id,
    engine: Engine = Depends(engine_of),
    _: Identity = Depends(caller),
) -> dict[str, str]:
    if not webhooks.unsubscribe(engine, subscription_id):
        raise Problem(404, "Not found", f"no active subscription {subscription_id}")
    return {"detail": f"subscription {subscription_id} ended"}


@router.get(
    "/webhooks/deliveries",
    response_model=Page,
    tags=["webhooks"],
    description="The delivery log: each message with every attempt. ",
)
def list_deliveries(
    cursor: Cursor = None,
    limit: Limit = 100,
    status: Literal["pending", "delivered", "failed"] | None = None,
    engine: Engine = Depends(engine_of),
    _: Identity = Depends(caller),
) -> Page:
    rows = webhooks.deliveries(engine, decode_cursor(cursor), limit, status)
    return Page(
        items=rows, next_cursor=encode_cursor(rows[-1]["id"]) if len(rows) == limit else None
    )


@router.post(
    "/webhooks/deliveries/{delivery_id}/replay",
    tags=["webhooks"],
    description="Send a delivery again (same webhook-id). ",
)
def replay_delivery(
    delivery_id: Id,
    engine: Engine = Depends(engine_of),
    now: datetime = Depends(now_of),
    _: Identity = Depends(caller),
) -> dict[str, str]:
    try:
        webhooks.replay(engine, now, delivery_id=delivery_id)
    except LookupError as exc:
        raise Problem(404, "Not found", str(exc)) from None
    return {"detail": f"delivery {delivery_id} queued again"}


def health_figures(engine: Engine, now: datetime) -> dict[str, Any]:
    """Database reachable, last run, backlog, outbox age, failed deliveries."""
    found = api_store.health(engine, now.date())
    last, backlog, oldest = found.last_run, found.backlog, found.outbox_oldest
    failed = found.webhook_deliveries_failed
    if oldest is not None and oldest.tzinfo is None:
        from datetime import UTC

        oldest = oldest.replace(tzinfo=UTC)
    return {
        "status": "ok",
        "database": "reachable",
        "last_run": None
        if last is None
        else {
            "as_of": last.as_of.isoformat(),
            "finished_at": last.finished_at.isoformat() if last.finished_at else None,
        },
        "backlog": backlog,
        "outbox_oldest_seconds": max(0, int((now - oldest).total_seconds())) if oldest else 0,
        "webhook_deliveries_failed": failed,
    }


@router.get(
    "/health",
    tags=["operations"],
    description="Liveness and the day's state; 503 when the database is unreachable. "
    "No token needed.",
)
def health(
    response: Response,
    engine: Engine = Depends(engine_of),
    now: datetime = Depends(now_of),
) -> dict[str, Any]:
    try:
        return health_figures(engine, now)
    except Exception as exc:  # noqa: BLE001 - any database failure means "unhealthy"
        response.status_code = 503
        return {"status": "unavailable", "database": f"unreachable: {type(exc).__name__}"}


@router.get(
    "/metrics",
    tags=["operations"],
    response_class=Response,
    description="Prometheus text format: runs, transitions, messages, approvals "
    "waiting, webhook deliveries, durations. No token needed (figures only).",
    responses={200: {"content": {"text/plain": {}}}},
)
def metrics(engine: Engine = Depends(engine_of)) -> Response:
    from mahnwerk.service.metrics import render

    body, media = render(engine)
    return Response(body, media_type=media)


__all__ = ["router", "Query"]
