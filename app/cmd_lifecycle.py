"""`mahnwerk policy deploy` as a reviewed change, and the template checks of policies.

Kept apart from `cli.py`: the deploy preview (`engine/deploy_review.py`), the
confirmation on a terminal, and the template store every policy check uses
(the own folder of `mahnwerk.toml`'s `[delivery] templates`, then the shipped one).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from mahnwerk.options import DbOption, open_engine

TemplatesOption = Annotated[
    Path | None,
    typer.Option(
        "--templates",
        help="Own template folder, searched before the shipped templates "
        "(default: [delivery] templates in mahnwerk.toml).",
    ),
]
ConfigOption = Annotated[
    str | None,
    typer.Option("--config", help="Settings file (default: $MAHNWERK_CONFIG or mahnwerk.toml)."),
]


def _err(text: str) -> None:
    typer.echo(text, err=True)


def template_store(templates: Path | None, config: str | None):
    """The own folder (option, else the settings'), then the shipped templates."""
    from mahnwerk.engine.comms.config import ConfigError, config_path, load_settings
    from mahnwerk.engine.comms.templates import TemplateError, TemplateStore

    folder = templates
    if folder is None and (config or config_path().is_file()):
        try:
            own = load_settings(config).delivery.templates
        except ConfigError as exc:
            _err(f"error: {exc}")
            raise typer.Exit(2) from None
        folder = Path(own) if own else None
    try:
        return TemplateStore([folder] if folder is not None else [])
    except TemplateError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(2) from None


def template_errors(path: Path, store, languages: Iterable[str] = ()) -> list:
    """E040 errors of a policy file that compiles: templates it sends that do not exist."""
    from mahnwerk.dsl.compile import load_policy
    from mahnwerk.engine.template_check import missing_templates

    return missing_templates(load_policy(path).policy, store, languages)


def deploy_cmd(
    file: Path,
    applies_to: Annotated[
        str | None,
        typer.Option("--for", help='Which customers, e.g. "customer.type == B2B".'),
    ] = None,
    priority: Annotated[int | None, typer.Option(help="Lower is tried first.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show what the deploy would do.")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="Deploy without asking (after a --dry-run review).")
    ] = False,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The next run's date (default: today).")
    ] = None,
    templates: TemplatesOption = None,
    config: ConfigOption = None,
    db: DbOption = None,
) -> None:
    """Deploy a policy version as a reviewed change.

    Shows per segment and state how many invoices move where, which would strand, which
    messages the next run would queue that the deployed version would not, missing
    templates and the diff of the texts; asks on a terminal, refuses in a script
    without --yes.  Invoices are re-evaluated (segment and state) at their next step.
    """
    from mahnwerk import cli
    from mahnwerk.engine.deploy_review import plan_deploy, render
    from mahnwerk.engine.policies import deploy

    now = cli._now()  # the wall clock, read in one place
    day = _day(as_of) if as_of else now.date()
    store = template_store(templates, config)
    engine = open_engine(db)
    plan = plan_deploy(engine, file, day, applies_to, priority, templates=store)
    preview = render(plan)
    if dry_run:
        typer.echo(preview, nl=False)
        typer.echo("dry run: nothing deployed" + ("; the deploy would be refused" * plan.refused))
        raise typer.Exit(1 if plan.refused else 0)
    if plan.refused:
        typer.echo(preview, nl=False)
        _err("error: deploy refused: " + _why(plan) + "; nothing deployed")
        raise typer.Exit(1)
    if not yes:
        if not sys.stdin.isatty():
            _err(
                "error: deploy refused: not on a terminal, so nobody can confirm it; review it "
                f"with `mahnwerk policy deploy {file} --dry-run`, then deploy with --yes; "
                "nothing deployed"
            )
            raise typer.Exit(1)
        typer.echo(preview, nl=False)
        if not typer.confirm(f"Deploy {plan.name} version {plan.version}?", default=False):
            typer.echo("nothing deployed")
            raise typer.Exit(1)
    _id, message = deploy(engine, file, now, applies_to, priority, reviewed=True)
    typer.echo(message)


def _why(plan) -> str:
    parts = []
    if plan.stranded:
        parts.append(f"{len(plan.stranded)} invoice(s) would strand")
    if plan.template_errors:
        parts.append(f"{len(plan.template_errors)} template(s) missing")
    return " and ".join(parts)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        _err(f"error: --as-of {value!r} is not a date; write YYYY-MM-DD, e.g. 2026-03-31")
        raise typer.Exit(2) from None
