"""What every endpoint needs: the database, the clock, and the caller's proven identity.

`requires(role)` is the one place roles are checked: an endpoint declares the role it
needs, a token without it is refused with 403 naming that role, before anything runs.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from mahnwerk.service.identity import Identity, token_identity
from mahnwerk.service.problems import Problem

bearer = HTTPBearer(auto_error=False, description="An API token (mahnwerk token create)")


def engine_of(request: Request) -> Engine:
    return request.app.state.engine


def now_of(request: Request) -> datetime:
    return request.app.state.clock()


def requires(role: str) -> Callable[..., Identity]:
    """A dependency: the caller's identity, if its token has `role` (or a higher one)."""

    def check(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
    ) -> Identity:
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
        who.require(role, f"{request.method} {request.scope['route'].path}")
        return who

    check.__name__ = f"requires_{role}"
    return check


def role_doc(role: str) -> str:
    return f"Role: **{role}** (or higher)."


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
