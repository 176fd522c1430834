"""`mahnwerk import bank FILE…` and `mahnwerk bank …`: statements in, the queue for a person.

Wired in by `cli.py` with one call, `register(app)`, like `cmd_events`.  All work is done
by `mahnwerk.engine.bank`; this module only parses arguments and prints.  Problems go
to stderr with exit code 1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine

from mahnwerk import clock
from mahnwerk.engine.bank import (
    AssignError,
    StatementError,
    assign,
    dismiss,
    entry,
    import_statement,
    list_queue,
    rematch,
    remember_account,
)
from mahnwerk.errors import UsageError
from mahnwerk.options import DEFAULT_WAIT, DbOption, WaitOption, open_engine

ByOption = Annotated[
    str | None,
    typer.Option(
        "--by",
        envvar="MAHNWERK_OPERATOR",
        help="Your name, checked against who you are (your login); default: you.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

bank_app = typer.Typer(
    no_args_is_help=True,
    help="Bank entries no rule could match: list, assign to invoices, dismiss.",
)


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(1)


def _now() -> datetime:
    return clock.now()


@contextmanager
def _database(db: str | None) -> Iterator[Engine]:
    engine = open_engine(db)
    try:
        yield engine
    except AssignError as exc:
        raise _fail(f"error: {exc}") from exc
    finally:
        engine.dispose()


def import_bank(
    files: Annotated[list[Path], typer.Argument(help="camt.053 / camt.054 (XML) or MT940 files.")],
    db: DbOption = None,
    by: ByOption = None,
    as_json: JsonOption = False,
    wait: WaitOption = DEFAULT_WAIT,
) -> None:
    """Import bank statements: each file whole or not at all; entries already imported are
    skipped. Credits are matched to invoices (reference, then payer and amount) and become
    payments for the next run; the rest waits in `mahnwerk bank unmatched`."""
    failed = 0
    results = []
    with _database(db) as engine:
        for file in files:
            try:
                result = import_statement(engine, file, actor=by, now=_now(), wait=wait)
            except StatementError as exc:
                typer.echo(exc.cli_text(), err=True)
                failed += 1
                continue
            results.append(result)
            if not as_json:
                typer.echo(str(result))
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in results], indent=2))
    if failed:
        raise typer.Exit(1)


@bank_app.command("unmatched")
def unmatched(
    db: DbOption = None,
    as_json: JsonOption = False,
    credits_only: Annotated[
        bool, typer.Option("--credits-only", help="Leave out returns and reversals.")
    ] = False,
    limit: Annotated[int, typer.Option(help="At most this many entries.")] = 200,
) -> None:
    """Entries waiting for a person, oldest first, each with why no rule matched it."""
    with _database(db) as engine:
        rows = list_queue(engine, include_review=not credits_only, limit=limit)
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        typer.echo("Nothing waiting: every imported credit is matched.")
        return
    for r in rows:
        payer = r["payer"] or "?"
        if r["customer"]:
            payer += f" → {r['customer']} {r['customer_name']}"
        typer.echo(
            f"{r['id']:>6}  {r['booked_on']}  {r['amount']:>12} {r['currency']}  "
            f"{r['status']:<9} {payer}"
        )
        if r["remittance"]:
            typer.echo(f"        {r['remittance'][:100]}")
        typer.echo(f"        {r['note']}")


@bank_app.command("show")
def show(
    entry_id: Annotated[int, typer.Argument(help="Bank entry id.")], db: DbOption = None
) -> None:
    """One bank entry with its payments, as JSON."""
    with _database(db) as engine:
        typer.echo(json.dumps(entry(engine, entry_id), indent=2, ensure_ascii=False))


@bank_app.command("assign")
def assign_cmd(
    entry_id: Annotated[int, typer.Argument(help="Bank entry id (from `bank unmatched`).")],
    invoices: Annotated[list[str], typer.Argument(help="Invoice number(s) it pays.")],
    by: ByOption = None,
    amount: Annotated[
        list[str] | None,
        typer.Option(
            "--amount",
            help="Amount per invoice, in order (e.g. --amount 100,00 --amount 19,00); "
            "default: the order of § 366 Abs. 2 BGB (due first, then the older due date, "
            "invoices due the same day in proportion to their balances).",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Book a waiting credit to invoices; the next run applies the payments."""
    amounts = None
    if amount:
        try:
            amounts = [Decimal(a.replace(".", "").replace(",", ".")) for a in amount]
        except InvalidOperation:
            raise _fail(f"error: not an amount in {amount}; write 100,00") from None
    with _database(db) as engine:
        done = assign(engine, entry_id, invoices, actor=by, now=_now(), amounts=amounts)
    for a in done:
        typer.echo(f"bank entry {entry_id}: {a.amount} to {a.number}")


@bank_app.command("dismiss")
def dismiss_cmd(
    entry_id: Annotated[int, typer.Argument(help="Bank entry id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is not a customer payment.")],
    by: ByOption = None,
    db: DbOption = None,
) -> None:
    """Close a waiting entry that books nothing (a refund, a return dealt with)."""
    with _database(db) as engine:
        dismiss(engine, entry_id, actor=by, reason=reason, now=_now())
    typer.echo(f"bank entry {entry_id}: dismissed")


@bank_app.command("account")
def account_cmd(
    customer: Annotated[str, typer.Argument(help="Customer number.")],
    iban: Annotated[str, typer.Argument(help="The payer's IBAN.")],
    db: DbOption = None,
) -> None:
    """Remember that payments from IBAN come from CUSTOMER (used to match by amount)."""
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        IBAN(iban)
    except SchwiftyException as exc:
        raise UsageError(
            f"IBAN {iban!r} is not valid: {exc}", hint="copy it from a bank statement"
        ) from None
    with _database(db) as engine:
        remember_account(engine, customer, iban, now=_now())
    typer.echo(f"{iban.replace(' ', '').upper()}: {customer}")


@bank_app.command("rematch")
def rematch_cmd(db: DbOption = None) -> None:
    """Try the waiting credits again, e.g. after importing the invoices they name."""
    with _database(db) as engine:
        n = rematch(engine, now=_now())
    typer.echo(f"{n} waiting credit(s) matched")


def register(app: typer.Typer) -> None:
    """Add `import bank` to the `import` group and the `bank` group to `app`."""
    from mahnwerk.cmd_events import import_group

    import_group(app).command("bank")(import_bank)
    app.add_typer(bank_app, name="bank")
