"""`mahnwerk customer export|erase`: a customer's GDPR rights (Art. 15, 17; rule E2).

Kept apart from `cli.py`, which wires it in with one call: `register(app)`.
The work is done by `engine/privacy.py`; this module only reads options,
prints and turns refusals into exit code 1 with a hint.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from mahnwerk.engine.privacy import PrivacyError, erase_customer, export_customer
from mahnwerk.options import DbOption, open_engine

CustomerArg = Annotated[
    str, typer.Argument(help="The customer number (customer_id of the import).")
]


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def export_cmd(
    external_id: CustomerArg,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the JSON to this file (default: stdout).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Everything stored about a customer, as JSON (GDPR Art. 15 access request)."""
    engine = open_engine(db)
    try:
        data = export_customer(engine, external_id)
    except PrivacyError as exc:
        raise _fail(f"error: {exc}") from None
    finally:
        engine.dispose()
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _fail(f"error: cannot write {out}: {exc.strerror}; choose another --out") from None
    counts = ", ".join(
        f"{len(data[k])} {k}" for k in ("invoices", "ledger", "payments", "events", "outbox")
    )
    typer.echo(f"exported customer {external_id} to {out} ({counts})")


def erase_cmd(
    external_id: CustomerArg,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            envvar="MAHNWERK_OPERATOR",
            help="Your name, checked against who you are (your login); default: you.",
        ),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The day retention is judged on (default today).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Erase a customer's data as far as retention allows (GDPR Art. 17, § 147 AO, § 257 HGB).

    Before the ten-year retention of the last booking has ended, contact data,
    tags and flags are erased and name and address are kept, restricted, for the
    booking records; after it, the customer is anonymised. Refused while a claim
    is open.
    """
    from mahnwerk import cli  # the wall clock is read in one place: cli._now

    now = cli._now()
    if as_of is None:
        day = now.date()
    else:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            raise _fail(
                f"error: --as-of {as_of!r} is not a date; write YYYY-MM-DD, e.g. 2027-01-01", 2
            ) from None
    engine = open_engine(db)
    try:
        result = erase_customer(engine, external_id, day, by, now=now)
    except PrivacyError as exc:
        raise _fail(f"error: {exc}") from None
    finally:
        engine.dispose()
    typer.echo(str(result))


def register(app: typer.Typer) -> None:
    """Add `customer export` and `customer erase` (to an existing `customer` group if any)."""
    group = next((g.typer_instance for g in app.registered_groups if g.name == "customer"), None)
    if group is None:
        group = typer.Typer(no_args_is_help=True, help="A customer's data: export and erase.")
        app.add_typer(group, name="customer")
    group.command("export")(export_cmd)
    group.command("erase")(erase_cmd)
