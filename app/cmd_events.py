"""`mahnwerk import events FILE`: disputes, promises, holds, payments … from a CSV file.

Kept apart from `cmd_data.py` (which owns `init` and the other imports) and
wired in by `cli.py` with one call: `register(import_group(app))`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mahnwerk.engine.event_import import COLUMNS, ImportFailed, import_events
from mahnwerk.engine.identity import IdentityError, person
from mahnwerk.options import DEFAULT_WAIT, DbOption, WaitOption, open_engine

FileArg = Annotated[
    Path, typer.Argument(help="CSV file (; or , separated, UTF-8 or cp1252), one event a row.")
]
ByOption = Annotated[
    str | None,
    typer.Option(
        "--by",
        envvar="MAHNWERK_OPERATOR",
        help="Your name, checked against who you are (your login); default: you.",
    ),
]

EPILOG = (
    "Columns (* = required): "
    + ", ".join(spec.name + ("*" if spec.required else "") for spec in COLUMNS)
    + ". Kinds: the event kinds of `mahnwerk event`, payment, or German names such as "
    "Widerspruch, Zahlungszusage, Zahlung, Sperre, Freigabe, Ausbuchung."
)


def import_events_cmd(
    file: FileArg,
    db: DbOption = None,
    by: ByOption = None,
    wait: WaitOption = DEFAULT_WAIT,
    allow_future: Annotated[
        bool,
        typer.Option("--allow-future", help="Accept payments dated after today; held until then."),
    ] = False,
) -> None:
    """Import events (one a row); the next run applies them. The whole file or nothing."""
    try:  # D8: a person's name is checked like every other; without one the log says `import`
        actor = person(by, "--by NAME") if by else "import"
    except IdentityError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    engine = open_engine(db)
    try:
        result = import_events(engine, file, actor=actor, wait=wait, allow_future=allow_future)
    except ImportFailed as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(str(result))


def import_group(app: typer.Typer) -> typer.Typer:
    """The `import` sub-app that `cmd_data.register` added to `app`."""
    for group in app.registered_groups:
        if group.name == "import" and group.typer_instance is not None:
            return group.typer_instance
    raise LookupError("no `import` command group: call cmd_data.register(app) first")


def register(import_app: typer.Typer) -> None:
    """Add `events FILE [--db] [--by]` to the `import` sub-app."""
    import_app.command("events", epilog=EPILOG)(import_events_cmd)
