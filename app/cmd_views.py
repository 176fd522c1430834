"""`mahnwerk show|invoices|demo|tui`: looking at the book (an invoice's timeline, the
invoice list, the terminal UI) and generating a demo portfolio to look at.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from mahnwerk.cli_helpers import _date, _err, _now
from mahnwerk.options import DbOption, open_engine

AsOfLimitation = Annotated[
    str | None,
    typer.Option("--as-of", help="Judge limitation (C4) on this day (default: the last run's)."),
]


def show(
    invoice: str,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    as_of: AsOfLimitation = None,
) -> None:
    """An invoice's timeline: every event, charge and message with the rule behind it."""
    from mahnwerk.engine.store.invoices import NotFound, timeline

    day = _date(as_of, "--as-of") if as_of else None
    try:
        data = timeline(open_engine(db), invoice, day)
    except NotFound as exc:
        _err(f"error: {exc}")
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    from mahnwerk.engine.timeline import timeline_lines

    typer.echo("\n".join(timeline_lines(data)))


def invoices_cmd(
    state: Annotated[str | None, typer.Option()] = None,
    segment: Annotated[str | None, typer.Option()] = None,
    limit: int = 100,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    as_of: AsOfLimitation = None,
) -> None:
    """List invoices with their dunning state."""
    from mahnwerk.engine.store.invoices import list_invoices

    day = _date(as_of, "--as-of") if as_of else None
    rows = list_invoices(open_engine(db), state, segment, limit, as_of=day)
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for r in rows:
        typer.echo(
            f"{r['invoice']:<14} {r['customer']:<8} {r['balance']:>10}  due {r['due_date']}  "
            f"{r['segment'] or '-':<14} {r['state']}"
            + (f"  time-barred since {r['time_barred_since']}" if r["time_barred"] else "")
        )


def demo_cmd(
    db: Annotated[Path, typer.Option(help="SQLite file to create.")] = Path("mahnwerk-demo.db"),
    start: Annotated[str, typer.Option(help="First simulated day.")] = "2026-01-05",
    days: int = 90,
    customers: int = 5000,
    invoices: int = 20000,
    seed: int = 7,
    einvoices: Annotated[
        Path | None,
        typer.Option(help="A folder of e-invoices (XRechnung, ZUGFeRD) to import and dun too."),
    ] = None,
) -> None:
    """Generate a realistic portfolio and dun it day by day under the shipped policies."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from mahnwerk.engine.demo import run_demo

    console = Console()
    policy_dir = _policy_dir()
    first = _date(start, "--start")
    with Progress(
        TextColumn("[bold]dunning[/] {task.fields[day]}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} days"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("run", total=days, day="")
        out = run_demo(
            db,
            policy_dir,
            first,
            days,
            customers,
            invoices,
            seed,
            progress=lambda d, s: progress.update(task, advance=1, day=d.isoformat()),
            einvoices=einvoices,
        )
    if out["einvoices"] is not None:
        console.print(str(out["einvoices"]).splitlines()[-1] + f" (from {einvoices})")
    table = Table(title=f"Invoices per segment and state after {days} days")
    for col in ("segment", "state", "invoices", "open balance EUR"):
        table.add_column(
            col, justify="right" if col in ("invoices", "open balance EUR") else "left"
        )
    for seg, state, n, bal in sorted(out["states"]):
        table.add_row(seg, state, str(n), f"{bal:,.2f}")
    console.print(table)
    money = Table(title="Money")
    money.add_column("what")
    money.add_column("EUR", justify="right")
    for kind in ("fee", "lump_sum", "interest", "write_off"):
        money.add_row(f"{kind.replace('_', ' ')} charged", f"{out['charges'].get(kind, 0):,.2f}")
    money.add_row("collected (payments applied)", f"{out['collected']:,.2f}")
    console.print(money)
    console.print(
        "Messages queued per channel: "
        + ", ".join(f"{k} {v}" for k, v in sorted(out["messages"].items()))
    )
    console.print(
        f"Approvals waiting: {out['approvals_waiting']}  "
        f"(decided: {', '.join(f'{k} {v}' for k, v in sorted(out['approvals'].items()))})"
    )
    console.print(f"Payments not yet matched to an invoice: {out['payments_unapplied']}")
    console.print("Experiment nachfass (10 % of the consumers get a second e-mail reminder; "
                  "`mahnwerk experiment report nachfass`):")  # fmt: skip
    for line in out["experiment"]:
        console.print(f"  {line}")
    post = out["post"]
    console.print(
        f"The last day's post, as files (dispatch --dry-run, {post['seconds']:.1f} s): "
        f"{post['files'].get('.eml', 0)} e-mails (.eml), {post['files'].get('.pdf', 0)} letters "
        f"(.pdf), {post['files'].get('.sms.txt', 0)} SMS in {post['folder'].resolve()}"
        + (f" (print batch {post['batch'].name})" if post["batch"] else "")
    )
    console.print(
        f"Database: {db.resolve()}  ({out['runs']} daily runs, "
        f"{out['seconds_in_runs']:.1f} s in the engine)"
    )
    _demo_portal_link(db, console)


def _demo_portal_link(db: Path, console) -> None:
    """A customer's portal link, to open after `mahnwerk serve --db <demo db>`."""
    from mahnwerk.dsl.ir import TERMINAL_NAMES
    from mahnwerk.engine.comms.config import demo_settings
    from mahnwerk.engine.store.invoices import a_customer_in_dunning
    from mahnwerk.portal.links import new_link

    engine = open_engine(str(db))
    number = a_customer_in_dunning(engine, [*TERMINAL_NAMES, "open", "vorab"])
    if number is None:
        return
    link = new_link(engine, number, demo_settings().portal, _now(), "demo")
    console.print(
        f"Customer {number}'s page: {link.url('http://127.0.0.1:8080')}  "
        f"(after `mahnwerk serve --db {db}`)", soft_wrap=True,
    )  # fmt: skip


def tui_cmd(
    db: DbOption = None,
    operator: Annotated[
        str | None,
        typer.Option(
            envvar="MAHNWERK_OPERATOR",
            help="Your name, checked against who you are (your login); default: you.",
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Business date (default: the later of today and the last run)."
        ),
    ] = None,
    four_eyes_write_off: Annotated[
        str,
        typer.Option(
            envvar="MAHNWERK_WRITE_OFF_FOUR_EYES",
            help="Write-offs of a larger balance need a second person (EUR).",
        ),
    ] = "500.00",
) -> None:
    """The operators' terminal UI: today's worklist, customers, queues, approvals, the policy."""
    from decimal import Decimal, InvalidOperation

    from mahnwerk.engine.identity import IdentityError, person

    try:
        if operator is not None:
            person(operator, "--operator NAME is only a label: leave it out to work as you")
    except IdentityError as exc:
        _err(f"error: who is working? {exc}")
        raise typer.Exit(2) from None
    try:
        limit = Decimal(four_eyes_write_off.replace(",", "."))
    except InvalidOperation:
        _err(f"error: --four-eyes-write-off {four_eyes_write_off!r} is not an amount; e.g. 500.00")
        raise typer.Exit(2) from None
    from mahnwerk.engine.worklist import last_run

    engine = open_engine(db)
    ran = last_run(engine)
    day = _date(as_of, "--as-of") if as_of else max(_now().date(), ran or _now().date())
    tui_app(engine, operator, day, _now, last_run=ran, four_eyes_above=limit).run()


def tui_app(engine, operator: str | None, day, clock, **options):
    """The TUI as the proven login (single-user mode too): `--operator` may only name it.

    Its name goes into every decision and its role into every screen action's check, so
    one login cannot approve twice under two typed names."""
    from mahnwerk.service.identity import acting
    from mahnwerk.tui.app import MahnwerkApp

    me = acting(engine, operator, "viewer", "mahnwerk tui", option="--operator")
    return MahnwerkApp(engine, me.name, day, clock, role=me.role, **options)


def _policy_dir() -> Path:
    """The shipped example policies: the repo's `policies/` or the installed copy."""
    here = Path(__file__).resolve().parent.parent / "policies"
    if here.is_dir():
        return here
    return Path.cwd() / "policies"


def register(app: typer.Typer) -> None:
    """show, invoices, demo and tui, in that order."""
    app.command("show")(show)
    app.command("invoices")(invoices_cmd)
    app.command("demo")(demo_cmd)
    app.command("tui")(tui_cmd)
