"""The HTTP API: `create_app` wires routes, errors, limits and the background work.

Why FastAPI on uvicorn: the request and response models are pydantic classes, so
validation, the problem+json errors naming the field, and the OpenAPI document
(`docs/openapi.json`) all come from one declaration instead of three that drift;
uvicorn is the reference ASGI server, small, and runs under systemd as one process.
Endpoints are plain `def` functions: FastAPI runs them in a thread pool, which suits
the engine's synchronous SQLAlchemy code.

Background work in the same process (threads, started with the app, stopped with it):
the webhook relay (`webhooks.fan_out` and `deliver_due`, every second) and, unless
disabled, the scheduler's tick. Both keep their state in the database, so several
`serve` processes on one PostgreSQL share the work safely.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import Engine

from mahnwerk.service import problems, webhooks
from mahnwerk.service.admin import router as admin_router
from mahnwerk.service.data import router as data_router
from mahnwerk.service.deps import declare_roles
from mahnwerk.service.idempotency import Guard
from mahnwerk.service.scheduler import Scheduler
from mahnwerk.service.work import router as work_router

log = logging.getLogger("mahnwerk.service")
MAX_BODY = 2 * 1024 * 1024
"""2 MiB: a batch of 1,000 invoices is about 250 KiB."""
DESCRIPTION = """The mahnwerk HTTP API: the ERP pushes customers, invoices and payments,
records events and decisions, and receives signed webhooks.

* Every request needs `Authorization: Bearer <token>` (except `/health`, `/metrics`);
  each operation states the role it needs: viewer < operator < approver < manager < admin.
* Money is a string with two decimals (`"119.00"`); dates are `YYYY-MM-DD`.
* Lists page by `cursor` (`next_cursor` of the previous page).
* A POST with an `Idempotency-Key` header returns its first answer again when retried.
* Errors are `application/problem+json` (RFC 9457) with `errors[].pointer` naming the field.
"""


class Background:
    """The relay and scheduler threads of one server; `stop` ends them within a tick."""

    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime],
        scheduler: Scheduler | None,
        relay_every: float = 1.0,
    ) -> None:
        self.engine, self.clock, self.scheduler = engine, clock, scheduler
        self.relay_every = relay_every
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        self.threads.append(threading.Thread(target=self._relay, name="webhooks", daemon=True))
        if self.scheduler is not None:
            self.threads.append(
                threading.Thread(target=self._schedule, name="scheduler", daemon=True)
            )
        for t in self.threads:
            t.start()

    def stop(self, grace: float = 3.0) -> None:
        """Ask the threads to stop and give them `grace` seconds together.

        They are daemon threads: one still inside a run or a webhook delivery after that
        ends with the process (a run writes each batch in its own transaction, and the book
        lease of a dead process is taken over), so a stopped server never hangs on them.
        """
        self.stopping.set()
        deadline = time.monotonic() + grace
        for t in self.threads:
            t.join(timeout=max(deadline - time.monotonic(), 0))

    def _relay(self) -> None:
        with httpx.Client(timeout=webhooks.TIMEOUT) as client:
            while not self.stopping.is_set():
                try:
                    webhooks.fan_out(self.engine, self.clock())
                    webhooks.deliver_due(self.engine, self.clock, client)
                except Exception:  # noqa: BLE001 - keep relaying; the log has it
                    log.exception("webhook relay failed; retrying")
                self.stopping.wait(self.relay_every)

    def _schedule(self) -> None:
        assert self.scheduler is not None
        while not self.stopping.is_set():
            try:
                self.scheduler.tick()
            except Exception:  # noqa: BLE001 - a failed job is retried next tick
                log.exception("scheduler tick failed; retrying next tick")
            self.stopping.wait(self.scheduler.schedule.tick)


def create_app(
    engine: Engine,
    clock: Callable[[], datetime],
    scheduler: Scheduler | None = None,
    background: bool = True,
    max_body: int = MAX_BODY,
    settings: Any = "demo",
) -> Any:
    """The ASGI application (FastAPI behind the size/idempotency guard), with the customer
    portal (`mahnwerk.portal`) mounted at `/p` — outside the guard, which speaks
    problem+json to API clients; the portal answers people in HTML and limits itself."""
    from mahnwerk.engine.comms.config import demo_settings
    from mahnwerk.portal.links import PATH
    from mahnwerk.portal.web import create_portal

    work = Background(engine, clock, scheduler)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> Iterator[None]:  # type: ignore[misc]
        if background:
            work.start()
        yield
        work.stop()

    app = FastAPI(
        title="mahnwerk",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.clock = clock
    app.state.run_threads = []
    problems.install(app)
    declare_roles((data_router, work_router, admin_router))  # each route's role, or no start
    if settings is not None:  # None: no creditor configured, so no customer pages
        app.mount(
            PATH, create_portal(engine, clock, demo_settings() if settings == "demo" else settings)
        )
    app.include_router(data_router)
    app.include_router(work_router)
    app.include_router(admin_router)
    guarded = Guard(app, engine, clock, max_body, bypass=PATH + "/")
    guarded.fastapi = app  # type: ignore[attr-defined]
    return guarded


def openapi_document(app: Any) -> dict[str, Any]:
    return app.fastapi.openapi()
