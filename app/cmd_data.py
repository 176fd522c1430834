"""`mahnwerk init` and `mahnwerk import customers|invoices|payments FILE`.

The database commands live apart from `cli.py` so the top-level CLI only wires
command groups together (`register(app)`).  Problems go to stderr with exit
code 1; an import prints every bad row at once, so the export can be fixed in
one pass.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from mahnwerk.boundary import note_database
from mahnwerk.engine.importer import COLUMNS, ImportFailed, Kind, import_file
from mahnwerk.engine.store.db import database_url, describe_url, init_db
from mahnwerk.options import DEFAULT_WAIT, DbOption, WaitOption, open_engine


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(1)


def init(db: DbOption = None) -> None:
    """Create the database, or upgrade an existing one to this version's schema."""
    url = database_url(db)
    note_database(describe_url(url))
    typer.echo(init_db(url))


def _columns_help(kind: Kind) -> str:
    names = [spec.name + ("*" if spec.required else "") for spec in COLUMNS[kind]]
    return f"Columns (* = required): {', '.join(names)}."


def _run_import(
    kind: Kind, file: Path, db: str | None, wait: float, allow_future: bool = False
) -> None:
    engine = open_engine(db)
    try:
        result = import_file(engine, kind, file, wait=wait, allow_future=allow_future)
    except ImportFailed as exc:
        raise _fail(str(exc)) from exc
    finally:
        engine.dispose()
    typer.echo(str(result))


FileArg = Annotated[Path, typer.Argument(help="CSV file (; or , separated, UTF-8 or cp1252).")]


def import_customers(file: FileArg, db: DbOption = None, wait: WaitOption = DEFAULT_WAIT) -> None:
    """Import customers, matched by customer_id (Kundennummer)."""
    _run_import("customers", file, db, wait)


def import_invoices(file: FileArg, db: DbOption = None, wait: WaitOption = DEFAULT_WAIT) -> None:
    """Import invoices, matched by invoice_id; their customers must exist."""
    _run_import("invoices", file, db, wait)


def import_payments(
    file: FileArg,
    db: DbOption = None,
    wait: WaitOption = DEFAULT_WAIT,
    allow_future: Annotated[
        bool,
        typer.Option(
            "--allow-future",
            help="Accept payments dated after today (announced transfers); each is held "
            "until its date.",
        ),
    ] = False,
) -> None:
    """Import payments, matched by payment_id; without invoice_id they stay unmatched.
    A payment dated after today is refused unless --allow-future holds it until its date."""
    _run_import("payments", file, db, wait, allow_future)


def register(app: typer.Typer) -> None:
    """Add `init` and the `import` group to the top-level `mahnwerk` app."""
    app.command("init")(init)
    import_app = typer.Typer(
        no_args_is_help=True,
        help="Import a CSV export; the whole file or nothing, re-imports change nothing.",
    )
    commands: tuple[tuple[Kind, Callable[..., None]], ...] = (
        ("customers", import_customers),
        ("invoices", import_invoices),
        ("payments", import_payments),
    )
    for kind, command in commands:
        import_app.command(kind, epilog=_columns_help(kind))(command)
    app.add_typer(import_app, name="import")
