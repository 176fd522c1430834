"""The `mahnwerk` command line: wires the policy language, the engine and the UI.

The commands live in modules named for what they do — `cmd_policy` (policy files),
`cmd_record` (events and approvals), `cmd_views` (show, invoices, demo, tui) and the other
`cmd_*` modules registered below; this module builds the app, in the order `--help`
lists it, and holds the one wall clock (`_now`) and `run`.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from mahnwerk import cmd_policy, cmd_record, cmd_views
from mahnwerk.boundary import MahnwerkGroup
from mahnwerk.cli_helpers import _date, _err
from mahnwerk.cmd_lifecycle import deploy_cmd
from mahnwerk.cmd_record import _SIMPLE_EVENTS
from mahnwerk.cmd_views import tui_app
from mahnwerk.errors import UsageError
from mahnwerk.options import DEFAULT_WAIT, DbOption, WaitOption, open_engine

app = typer.Typer(
    cls=MahnwerkGroup,
    no_args_is_help=True,
    add_completion=False,
    help="mahnwerk: dunning policies as readable files, run within the law.",
)
policy_app = typer.Typer(no_args_is_help=True, help="Check, draw, explain and convert policies.")
app.add_typer(policy_app, name="policy")


@app.callback()
def _root(
    ctx: typer.Context,
    debug: Annotated[
        bool, typer.Option("--debug", help="On an error, also print the Python traceback.")
    ] = False,
) -> None:
    ctx.obj = {"debug": debug}


def main() -> None:  # pragma: no cover
    app()


def _now():
    """The wall clock (`mahnwerk.clock`); tests move the command line's day by patching this."""
    from mahnwerk.clock import now

    return now()


cmd_policy.register(policy_app)
policy_app.command("deploy")(deploy_cmd)


@app.command("run")
def run_cmd(
    as_of: Annotated[str, typer.Option("--as-of", help="The business date to run for.")],
    db: DbOption = None,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL).")] = 1,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    wait: WaitOption = DEFAULT_WAIT,
) -> None:
    """Advance every invoice that has something due on the as-of date."""
    from mahnwerk.engine.policies import PolicySet
    from mahnwerk.engine.workers import run_parallel

    day = _date(as_of, "--as-of")
    engine = open_engine(db)
    try:
        policies = PolicySet.load(engine)
    except LookupError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(1) from None
    if workers > 1 and engine.dialect.name != "postgresql":
        raise UsageError(
            f"--workers {workers}: several workers need PostgreSQL (SQLite has one writer)",
            hint="run with --workers 1 on SQLite",
        )
    if workers > 1:
        url = str(engine.url.render_as_string(hide_password=False))
        stats = run_parallel(url, day, workers, _now(), wait, policies=policies)
    else:
        from mahnwerk.engine.runner import run

        stats = run(engine, day, policies, _now(), wait=wait)
    if as_json:
        typer.echo(json.dumps(stats.as_dict(), indent=2))
        return
    d = stats.as_dict()
    typer.echo(
        f"{d['as_of']}: {d['new_invoices']} new, {d['checked']} checked, "
        f"{d['transitions']} transitions, messages {d['messages'] or 0}, "
        f"{d['approvals']} approvals requested, {d['payments_applied']} payments applied "
        f"({d['payments_unmatched']} unmatched), {d['seconds']} s"
    )


cmd_record.register(app)
cmd_views.register(app)


def _register_data_commands() -> None:
    from mahnwerk.cmd_data import register
    from mahnwerk.cmd_events import import_group
    from mahnwerk.cmd_events import register as register_events

    register(app)
    register_events(import_group(app))
    from mahnwerk.cmd_letters import register as register_letters

    register_letters(app)
    from mahnwerk.cmd_bank import register as register_bank

    register_bank(app)
    from mahnwerk.cmd_privacy import register as register_privacy

    register_privacy(app)
    from mahnwerk.cmd_audit import register as register_audit

    register_audit(app)
    from mahnwerk.cmd_books import register as register_books

    register_books(app)


_register_data_commands()


def _register_analytics_commands() -> None:
    from mahnwerk.cmd_analytics import register
    from mahnwerk.cmd_experiment import register as register_experiment
    from mahnwerk.cmd_forecast import register as register_forecast

    register(app)
    register_forecast(app)
    register_experiment(app)


_register_analytics_commands()


cmd_policy.register_explain(policy_app)


def _register_service_commands() -> None:
    from mahnwerk.portal.cli import register as register_portal
    from mahnwerk.service.cli import register

    register(app)
    register_portal(app)


_register_service_commands()


def _guard_commands() -> None:
    """Last: every command above proves its caller and checks its role (`authority`)."""
    from mahnwerk.authority import guard

    guard(app)


_guard_commands()

__all__ = ["_SIMPLE_EVENTS", "app", "main", "policy_app", "tui_app"]
