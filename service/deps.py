"""What every endpoint needs: the database, the clock, and the caller's proven identity.

`caller` is the one place roles are checked: it looks the operation's role up in
`engine.roles.ENDPOINTS` (method and route), so a token without it is refused with
403 naming that role, before anything runs. `declare_roles` runs when the app is made:
it refuses to start with a route the table does not know (deny by default) and writes
each operation's role into its OpenAPI description, from the same table.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from datetime import datetime

from fastapi import Depends, Request
from fastapi.routing import APIRoute, APIRouter
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from mahnwerk.engine.roles import ANYONE, ENDPOINTS, role_of
from mahnwerk.service.identity import Identity, token_identity
from mahnwerk.service.problems import Problem

bearer = HTTPBearer(auto_error=False, description="An API token (mahnwerk token create)")


def engine_of(request: Request) -> Engine:
    return request.app.state.engine


def now_of(request: Request) -> datetime:
    return request.app.state.clock()


def operation(method: str, path: str) -> str:
    """The key of an operation in `engine.roles.ENDPOINTS`, e.g. "GET /invoices/{invoice_id}"."""
    return f"{'GET' if method == 'HEAD' else method} {path}"


def caller(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> Identity:
    """A dependency: the caller's identity, if its token has the operation's role."""
    key = operation(request.method, request.scope["route"].path)
    role = role_of(ENDPOINTS, key, "the endpoint")
    if credentials is None:
        raise Problem(
            401,
            "Unauthorized",
            "send an API token: Authorization: Bearer mw_… "
            "(an admin creates one with `mahnwerk token create`)",
        )
    with engine_of(request).connect() as conn:
        found = token_identity(conn, credentials.credentials)
    if found is None:
        raise Problem(401, "Unauthorized", "unknown or revoked API token")
    _, who = found
    who.require(role, key)
    return who


def role_doc(role: str) -> str:
    if role == ANYONE:
        return "No token needed."
    return f"Role: **{role}** (or higher)."


def declare_roles(routers: Iterable[APIRouter]) -> None:
    """Check every route against `ENDPOINTS` and state its role in its description."""
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                continue
            for method in sorted(route.methods):
                key = operation(method, route.path)
                role = role_of(ENDPOINTS, key, "the endpoint")
                uses_caller = any(d.call is caller for d in route.dependant.dependencies)
                if uses_caller == (role == ANYONE):
                    raise LookupError(
                        f"{key}: the role table says {role!r} but the endpoint "
                        + ("checks a token" if uses_caller else "checks no token")
                    )
                doc = role_doc(role)
                if doc.rstrip(".") not in (route.description or ""):
                    route.description = f"{(route.description or '').strip()} {doc}".strip()


def encode_cursor(value: int) -> str:
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        value = int(text)
    except (ValueError, UnicodeDecodeError):
        value = -1
    if value < 0:
        raise Problem(
            422,
            "Invalid request",
            "cursor: not a cursor this API gave out — pass next_cursor "
            "from the previous page, or leave it out for the first page",
            [{"pointer": "query:/cursor", "field": "cursor", "detail": "unknown cursor"}],
        )
    return value
