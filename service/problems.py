"""Errors as `application/problem+json` (RFC 9457): what went wrong, which field, what to do.

Every error the API returns goes through here, so a client sees one shape: `type`,
`title`, `status`, `detail`, and for bad input `errors` — one entry per field with a
JSON pointer into the request (`/items/3/amount`) and what to write instead. No
traceback ever reaches a client; an unexpected failure is a 500 with a reference to
the server log.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from mahnwerk.service.identity import Refused

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("mahnwerk.service")


class Problem(Exception):
    """Raise from an endpoint to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        errors: list[dict[str, str]] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.errors = errors or []
        self.extra = extra


def problem_body(
    status: int, title: str, detail: str, errors: list[dict[str, str]] | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"https://mahnwerk.dev/problems/{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def problem_response(
    status: int, title: str, detail: str, errors: list[dict[str, str]] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, title, detail, errors, **extra), status, media_type=MEDIA_TYPE
    )


def _pointer(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        where, parts = parts[0], parts[1:]
        return ("/" if where == "body" else f"{where}:") + "/".join(parts)
    return "/" + "/".join(parts)


def _validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for e in exc.errors():
        loc = tuple(e.get("loc", ()))
        field = str(loc[-1]) if loc else "body"
        errors.append({"pointer": _pointer(loc), "field": field, "detail": e.get("msg", "")})
    first = errors[0] if errors else {"field": "body", "detail": "invalid"}
    return problem_response(
        422,
        "Invalid request",
        f"{first['field']}: {first['detail']} — correct the request and send it again",
        errors,
    )


def _problem(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(exc.status, exc.title, exc.detail, exc.errors, **exc.extra)


def _refused(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Refused)
    extra = {"required_role": exc.needs} if exc.needs else {}
    return problem_response(403, "Forbidden", str(exc), **extra)


def _http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    titles = {401: "Unauthorized", 404: "Not found", 405: "Method not allowed"}
    response = problem_response(
        exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail)
    )
    if exc.status_code == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem_response(
        500,
        "Internal error",
        "the server failed on this request; nothing was changed — the server log has details",
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(Problem, _problem)
    app.add_exception_handler(Refused, _refused)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
