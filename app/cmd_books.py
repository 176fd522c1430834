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

from mahnwerk.options import DbOption, day_option, open_engine


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

    engine = open_engine(db)
    try:
        result = import_einvoices(engine, files, update_changed=update, terms_agreed=terms_agreed)
    finally:
        engine.dispose()
    typer.echo(str(result))


def import_opos(
    file: Annotated[Path, typer.Argument(help="DATEV open items (OPOS) list of debtors, CSV.")],
    customer_type: Annotated[
        str | None,
        typer.Option("--type", help="B2B or B2C for customers the list brings new."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Import a DATEV open-items list: customers and open invoices, whole or not at all."""
    from mahnwerk.engine.accounting.opos import import_opos as run_import

    engine = open_engine(db)
    try:
        result = run_import(engine, file, customer_type)
    finally:
        engine.dispose()
    typer.echo(str(result))


def export_datev(
    period_from: Annotated[
        str | None, typer.Option("--from", help="First booking day (2026-03-01 or 01.03.2026).")
    ] = None,
    period_to: Annotated[str | None, typer.Option("--to", help="Last booking day.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="File (default EXTF_Buchungsstapel_FROM_TO.csv).")
    ] = None,
    again: Annotated[
        bool, typer.Option("--again", help="Export bookings that went out before once more.")
    ] = False,
    list_batches: Annotated[
        bool, typer.Option("--list", help="List the batches exported so far.")
    ] = False,
    config: Annotated[
        str | None, typer.Option("--config", help="Settings file (default mahnwerk.toml).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Write the fees, lump sums, interest and write-offs to a DATEV booking batch, once."""
    from mahnwerk.engine.accounting.accounts import load_datev_settings
    from mahnwerk.engine.accounting.export import export_datev, list_exports

    if list_batches:
        engine = open_engine(db)
        try:
            typer.echo("\n".join(list_exports(engine)))
        finally:
            engine.dispose()
        return
    if period_from is None or period_to is None:
        from mahnwerk.errors import EXIT_USAGE, MahnwerkError

        raise MahnwerkError("give the period", "--from DATE --to DATE (or --list)", EXIT_USAGE)
    start, end = day_option(period_from, "--from"), day_option(period_to, "--to")
    settings = load_datev_settings(config)
    target = out or Path(f"EXTF_Buchungsstapel_{start:%Y%m%d}_{end:%Y%m%d}.csv")
    engine = open_engine(db)
    try:
        result = export_datev(engine, settings, start, end, target, again=again)
    finally:
        engine.dispose()
    typer.echo(str(result))


def export_handover(
    agency: Annotated[
        str | None, typer.Option("--agency", help="Only claims handed to this agency.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only handovers on or after this day.")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for the files.")] = Path("inkasso"),
    config: Annotated[
        str | None, typer.Option("--config", help="Settings file (default mahnwerk.toml).")
    ] = None,
    db: DbOption = None,
) -> None:
    """The agency's case file: JSON and CSV of every claim handed over, and a PDF dossier each."""
    from mahnwerk.engine.accounting.handover import write_handover
    from mahnwerk.engine.comms.config import load_settings

    settings = load_settings(config)
    day = day_option(since, "--since") if since else None
    engine = open_engine(db)
    try:
        result = write_handover(engine, settings, out, agency, day)
    finally:
        engine.dispose()
    typer.echo(str(result))


def register(app: typer.Typer) -> None:
    """Add `import einvoice` to the `import` group (made by cmd_data.register), and `export`."""
    from mahnwerk.cmd_events import import_group

    import_group(app).command("einvoice")(import_einvoice)
    import_group(app).command("opos")(import_opos)
    export_app = typer.Typer(
        no_args_is_help=True, help="Hand what mahnwerk did to other systems (DATEV, agencies)."
    )
    export_app.command("datev")(export_datev)
    export_app.command("handover")(export_handover)
    app.add_typer(export_app, name="export")
