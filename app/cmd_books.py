"""Where invoices and bookings live: `import einvoice`, `export datev`, `export handover`.

The accounting side of mahnwerk: e-invoices in (XRechnung, ZUGFeRD/Factur-X), the
bookings mahnwerk made out to DATEV, and the collection agency's case file.  Each
command is a thin shell over an engine module; this file only parses options and
prints what happened.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mahnwerk.options import DbOption, open_engine


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(1)


def import_einvoice(
    files: Annotated[
        list[Path], typer.Argument(help="XRechnung XML (UBL or CII), ZUGFeRD PDFs or folders.")
    ],
    update: Annotated[
        bool, typer.Option("--update", help="Accept a changed invoice (same number).")
    ] = False,
    terms_agreed: Annotated[
        bool,
        typer.Option(
            "--terms-agreed",
            help="The due dates were agreed with the buyers (contract terms): default starts "
            "the day after without a reminder (§ 286 Abs. 2 Nr. 1 BGB).",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Import e-invoices and credit notes: all files or none, the same document twice is a no-op."""
    from mahnwerk.engine.einvoice.load import import_einvoices
    from mahnwerk.engine.importer import ImportFailed

    engine = open_engine(db)
    try:
        result = import_einvoices(engine, files, update_changed=update, terms_agreed=terms_agreed)
    except ImportFailed as exc:
        raise _fail(str(exc)) from None
    finally:
        engine.dispose()
    typer.echo(str(result))


def register(app: typer.Typer) -> None:
    """Add `import einvoice` to the `import` group (made by cmd_data.register)."""
    from mahnwerk.cmd_events import import_group

    import_group(app).command("einvoice")(import_einvoice)
