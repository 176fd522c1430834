"""Commands of the service: `serve`, `scheduler`, `users`, `token`, `webhooks`.

Registered into the `mahnwerk` command by `app/cli.py` with one call (`register`).
Every command that changes who may do what proves the caller by the OS user
(`identity.whoami`) and needs the admin role.
"""

from __future__ import annotations

import json
import logging
import time as clock_time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from mahnwerk import clock as wall_clock
from mahnwerk.options import DbOption, open_engine
from mahnwerk.service import identity, webhooks
from mahnwerk.service.identity import Refused


def _err(text: str) -> None:
    typer.echo(text, err=True)


def _clock(start: str | None):
    """The wall clock, or one that starts at `--now` and runs on from there (drills, tests)."""
    if not start:
        return wall_clock.now
    try:
        at = datetime.fromisoformat(start)
    except ValueError:
        _err(f"error: --now {start!r}: write an ISO instant, e.g. 2026-03-31T07:00:00+02:00")
        raise typer.Exit(2) from None
    if at.tzinfo is None:
        _err("error: --now needs a time zone offset, e.g. +02:00")
        raise typer.Exit(2)
    began = clock_time.monotonic()
    return lambda: at.astimezone(UTC) + timedelta(seconds=clock_time.monotonic() - began)


ConfigOpt = Annotated[
    Path, typer.Option("--config", envvar="MAHNWERK_CONFIG", help="mahnwerk.toml ([schedule]).")
]
NowOpt = Annotated[
    str | None, typer.Option("--now", help="Start the clock at this instant (drills, tests).")
]


SHUTDOWN_GRACE = 3
"""Seconds `serve` lets open requests finish after SIGTERM before it cancels them."""


def _scheduler(engine, config: Path, clock, name: str):
    from mahnwerk.service.scheduler import ScheduleError, Scheduler, load_schedule

    try:
        return Scheduler(engine, load_schedule(config), clock, name)
    except ScheduleError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(2) from None


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    db: DbOption = None,
    config: ConfigOpt = Path("mahnwerk.toml"),
    schedule: Annotated[
        bool, typer.Option("--schedule/--no-schedule", help="Run the daily cycle too.")
    ] = True,
    now: NowOpt = None,
    name: Annotated[str, typer.Option(help="This server's name in job records.")] = "serve",
) -> None:
    """The HTTP API (and, unless --no-schedule, the scheduler) on the store of the CLI."""
    import uvicorn

    from mahnwerk.service.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    engine = open_engine(db)
    clock = _clock(now)
    runner = _scheduler(engine, config, clock, name) if schedule else None
    settings = _portal_settings(config)
    # On SIGTERM uvicorn waits for open requests; without a bound a client that never
    # finishes sending its body (or a request that computes for minutes) kept a stopped
    # server alive forever.  After the grace it cancels them and the process ends.
    uvicorn.run(
        create_app(engine, clock, runner, settings=settings),
        host=host, port=port, log_level="info", access_log=False,
        timeout_graceful_shutdown=SHUTDOWN_GRACE,
    )  # fmt: skip


def _portal_settings(config: Path):
    """The creditor and `[portal]` of mahnwerk.toml for the customer pages; without the file
    the demo's made-up creditor (what `mahnwerk demo` printed its letters with); a file
    without a `[creditor]` (a scheduler-only set-up): no portal (None)."""
    import tomllib

    from mahnwerk.engine.comms.config import ConfigError, demo_settings, load_settings

    log = logging.getLogger("mahnwerk.portal")
    if not config.is_file():
        log.warning("%s not found: the portal shows the demo's creditor details", config)
        return demo_settings()
    try:
        if "creditor" not in tomllib.loads(config.read_text(encoding="utf-8")):
            log.warning("%s has no [creditor]: the customer portal is off", config)
            return None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        pass  # load_settings below names the problem
    try:
        return load_settings(config)
    except ConfigError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(2) from None


def scheduler_cmd(
    db: DbOption = None,
    config: ConfigOpt = Path("mahnwerk.toml"),
    now: NowOpt = None,
    once: Annotated[bool, typer.Option("--once", help="One tick, then exit.")] = False,
    name: Annotated[str, typer.Option(help="This process's name in job records.")] = "scheduler",
) -> None:
    """Run the schedule of mahnwerk.toml without the HTTP API."""
    from mahnwerk.service.app import Background

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    engine = open_engine(db)
    clock = _clock(now)
    runner = _scheduler(engine, config, clock, name)
    if once:
        for line in runner.tick():
            typer.echo(line)
        return
    work = Background(engine, clock, runner)
    work.start()
    try:
        while True:
            clock_time.sleep(3600)
    except KeyboardInterrupt:
        work.stop()


users_app = typer.Typer(no_args_is_help=True, help="People and their roles (admin).")
token_app = typer.Typer(no_args_is_help=True, help="API tokens (admin).")
hooks_app = typer.Typer(no_args_is_help=True, help="Webhook subscriptions and deliveries.")
Role = Annotated[str, typer.Option("--role", help="viewer, operator, approver, manager, admin.")]


def _admin(db):
    engine = open_engine(db)
    try:
        return engine, identity.whoami(engine)
    except Refused as exc:
        _err(f"error: {exc}")
        raise typer.Exit(1) from None


def _guard(call):
    try:
        return call()
    except (Refused, ValueError, LookupError) as exc:
        _err(f"error: {exc}")
        raise typer.Exit(1) from None


@users_app.command("add")
def users_add(
    name: str,
    role: Role,
    os_user: Annotated[
        str | None, typer.Option("--os-user", help="The OS account that proves this person.")
    ] = None,
    db_role: Annotated[
        str | None,
        typer.Option("--db-role", help="PostgreSQL: their login role joins mahnwerk_ROLE."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Register a person (the first must be an admin, usually yourself: --os-user $(id -un))."""
    engine, me = _admin(db)
    if db_role and engine.dialect.name != "postgresql":
        _err("error: --db-role is for PostgreSQL, where the database login proves a person; "
             "on SQLite give --os-user")  # fmt: skip
        raise typer.Exit(2)
    if os_user and engine.dialect.name == "postgresql":
        _err("error: on PostgreSQL a person is proven by their database login, not the OS "
             "user (the database cannot see it); give --db-role LOGIN")  # fmt: skip
        raise typer.Exit(2)
    typer.echo(
        _guard(
            lambda: identity.add_person(
                engine, name, role, os_user, me, wall_clock.now(), db_role=db_role
            )
        )
    )
    if db_role:
        from mahnwerk.engine.store.grants import apply_grants, grant_person

        _guard(lambda: apply_grants(engine))
        _guard(lambda: grant_person(engine, db_role, role))
        typer.echo(f"database role {db_role} is a member of mahnwerk_{role}")


@users_app.command("role")
def users_role(name: str, role: str, db: DbOption = None) -> None:
    """Give a person another role."""
    engine, me = _admin(db)
    typer.echo(_guard(lambda: identity.set_role(engine, name, role, me)))


@users_app.command("list")
def users_list(db: DbOption = None) -> None:
    """Everyone registered, and who you are."""
    engine, me = _admin(db)
    for p in identity.people(engine):
        login = f"db-role {p['db_role']}" if p["db_role"] else f"os-user {p['os_user'] or '-'}"
        typer.echo(f"{p['name']:<24} {p['role']:<9} {login}")
    typer.echo(f"you: {me.name} ({me.role}, {me.proof})")


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="What the token is for, e.g. erp.")],
    role: Role,
    acts_as: Annotated[
        str | None, typer.Option("--as", help="The person it acts as (default: NAME).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Create an API token; it is printed once and stored only as a hash."""
    engine, me = _admin(db)
    tid, token = _guard(
        lambda: identity.create_token(engine, name, role, acts_as, me, wall_clock.now())
    )
    typer.echo(f"token {tid} for {acts_as or name} ({role}); shown only now:")
    typer.echo(token)


@token_app.command("revoke")
def token_revoke(token_id: int, db: DbOption = None) -> None:
    """Revoke a token; requests with it are refused from now on."""
    engine, me = _admin(db)
    typer.echo(_guard(lambda: identity.revoke_token(engine, token_id, me, wall_clock.now())))


@token_app.command("list")
def token_list(db: DbOption = None) -> None:
    """Tokens with their role (never the token)."""
    engine, me = _admin(db)
    _guard(lambda: me.require("admin", "listing tokens"))
    for t in identity.tokens(engine):
        state = f"revoked {t['revoked_at']}" if t["revoked_at"] else "active"
        typer.echo(
            f"#{t['id']:<4} {t['name']:<16} as {t['acts_as']:<16} {t['role']:<9} "
            f"{t['prefix']}…  {state}"
        )


@hooks_app.command("add")
def hooks_add(
    url: str,
    types: Annotated[
        list[str] | None, typer.Option("--type", help="Event type (repeat); default all.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Subscribe a URL; prints the signing secret once."""
    engine, me = _admin(db)
    _guard(lambda: me.require("admin", "adding a webhook"))
    sid, secret = _guard(
        lambda: webhooks.subscribe(engine, url, types or ["*"], me.name, wall_clock.now())
    )
    typer.echo(f"subscription {sid}: {url}; signing secret (shown only now):")
    typer.echo(secret)


@hooks_app.command("deliveries")
def hooks_deliveries(
    status: Annotated[str | None, typer.Option(help="pending, delivered or failed.")] = None,
    db: DbOption = None,
) -> None:
    """The delivery log as JSON: each message and every attempt."""
    from mahnwerk.service.tables import DELIVERY_STATUSES

    if status is not None and status not in DELIVERY_STATUSES:
        _err(f"error: --status {status!r}: use one of {', '.join(DELIVERY_STATUSES)}")
        raise typer.Exit(2)
    engine = open_engine(db)
    typer.echo(json.dumps(webhooks.deliveries(engine, 0, 1000, status), indent=2))


@hooks_app.command("replay")
def hooks_replay(
    delivery: Annotated[int | None, typer.Argument(help="A delivery id.")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Every failed delivery.")] = False,
    since: Annotated[str | None, typer.Option(help="Every delivery since an ISO instant.")] = None,
    db: DbOption = None,
) -> None:
    """Send deliveries again with their original webhook-id (receivers deduplicate)."""
    engine, me = _admin(db)
    _guard(lambda: me.require("admin", "replaying webhooks"))
    try:
        after = datetime.fromisoformat(since) if since else None
    except ValueError:
        _err(f"error: --since {since!r}: write an ISO instant, e.g. 2026-03-31T00:00:00+02:00")
        raise typer.Exit(2) from None
    if after is not None and after.tzinfo is None:
        _err("error: --since needs a time zone offset, e.g. +02:00")
        raise typer.Exit(2)
    count = _guard(lambda: webhooks.replay(engine, wall_clock.now(), delivery, failed, after))
    typer.echo(
        f"{count} deliver{'y' if count == 1 else 'ies'} queued again; "
        "a running `mahnwerk serve` sends them"
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("scheduler")(scheduler_cmd)
    app.add_typer(users_app, name="users")
    app.add_typer(token_app, name="token")
    app.add_typer(hooks_app, name="webhooks")
