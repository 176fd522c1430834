"""The `mahnwerk` command line: wires the policy language, the engine and the UI."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from mahnwerk.boundary import MahnwerkGroup
from mahnwerk.cmd_lifecycle import ConfigOption, TemplatesOption, deploy_cmd
from mahnwerk.dsl.compile import check_file, load_policy
from mahnwerk.dsl.errors import PolicyError
from mahnwerk.dsl.events import EVENTS
from mahnwerk.errors import MahnwerkError, UsageError
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


def _err(text: str) -> None:
    typer.echo(text, err=True)


@policy_app.command("check")
def policy_check(
    files: Annotated[list[Path], typer.Argument(help="Policy files (.mahn or .yaml).")],
    templates: TemplatesOption = None,
    config: ConfigOption = None,
    languages: Annotated[
        str | None,
        typer.Option(help="Languages your customers speak besides the policy's, e.g. de,en."),
    ] = None,
) -> None:
    """Check policies; print every error as file:line:col with the offending text.

    Every template a policy sends must exist for each of its languages and channels,
    in the own folder (--templates, else [delivery] templates in mahnwerk.toml) or the
    shipped ones."""
    from mahnwerk.cmd_lifecycle import template_errors, template_store
    from mahnwerk.dsl.compile import TEXT_SUFFIXES, YAML_SUFFIXES

    store = template_store(templates, config)
    spoken = [x.strip() for x in (languages or "").split(",") if x.strip()]
    failed = checked = 0
    for path in files:
        if path.suffix.lower() not in TEXT_SUFFIXES | YAML_SUFFIXES:
            typer.echo(f"{path}: skipped (not a policy file: .mahn, .yaml or .yml)")
            continue
        checked += 1
        diagnostics = check_file(path)
        errors = [d for d in diagnostics if d.severity == "error"]
        if not errors:
            errors = template_errors(path, store, spoken)
            diagnostics = sorted(diagnostics + errors, key=lambda d: (d.span.line, d.span.col))
        for d in diagnostics:
            _err(d.render())
        if errors:
            failed += 1
            _err(f"{path}: {len(errors)} error(s)")
        else:
            warnings = len(diagnostics)
            typer.echo(f"{path}: ok" + (f" ({warnings} warning(s))" if warnings else ""))
    if failed:
        raise typer.Exit(1)
    if not checked:
        raise MahnwerkError(
            f"nothing checked: {', '.join(map(str, files))} — no .mahn, .yaml or .yml file",
            hint="name policy files",
        )


def _load(path: Path):
    try:
        return load_policy(path)
    except PolicyError as exc:
        _err(exc.render())
        raise typer.Exit(1) from None


@policy_app.command("graph")
def policy_graph(
    file: Path,
    segment: Annotated[str | None, typer.Option(help="Only this segment.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text, mermaid or dot.")] = "text",
    events: Annotated[bool, typer.Option(help="Also draw policy-wide event rules.")] = False,
) -> None:
    """Draw each segment's ladder."""
    from mahnwerk.dsl.render import RENDERERS

    if fmt not in RENDERERS:
        _err(f"error: unknown format {fmt!r}: use one of {', '.join(RENDERERS)}")
        raise typer.Exit(2)
    compiled = _load(file)
    names = list(compiled.graphs)
    if segment is not None:
        if segment not in compiled.graphs:
            _err(f"error: {file}: unknown segment {segment!r}; segments: {', '.join(names)}")
            raise typer.Exit(1)
        names = [segment]
    if fmt == "mermaid":  # one valid Mermaid document, whatever the number of segments
        from mahnwerk.dsl.render import to_mermaid_all

        graphs = [compiled.graphs[n] for n in names]
        typer.echo(to_mermaid_all(graphs, with_handlers=events), nl=False)
        return
    out = [RENDERERS[fmt](compiled.graphs[n], with_handlers=events) for n in names]
    typer.echo("\n".join(out), nl=False)


@policy_app.command("convert")
def policy_convert(
    file: Path,
    to: Annotated[str, typer.Option(help="yaml or dsl.")],
    output: Annotated[Path | None, typer.Option("-o", "--output")] = None,
) -> None:
    """Translate a policy between YAML and the text form (comments are not carried over)."""
    from mahnwerk.dsl import writers

    compiled = _load(file)
    if to == "yaml":
        text = writers.to_yaml(compiled.policy)
    elif to in ("dsl", "text", "mahn"):
        text = writers.to_text(compiled.policy)
    else:
        _err(f"error: unknown target {to!r}: use yaml or dsl")
        raise typer.Exit(2)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


@policy_app.command("facts")
def policy_facts() -> None:
    """List the facts a condition can use."""
    from mahnwerk.dsl.expr import ALIASES, FACTS

    for name, fact in FACTS.items():
        typer.echo(f"{name:28} {fact.type.value:12} {fact.doc}")
    typer.echo("")
    for alias, target in ALIASES.items():
        typer.echo(f"{alias:28} = {target}")


def main() -> None:  # pragma: no cover
    app()


def _json_arg(value: str, option: str) -> dict:
    """`--customer`/`--invoice`: a .json file or JSON text; either way a dict."""
    path = Path(value)
    text = path.read_text(encoding="utf-8") if path.is_file() else value
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{option} {value!r}: neither a JSON file nor JSON text ({exc})",
            hint='write e.g. \'{"type": "B2C"}\' or the name of a .json file',
        ) from None
    if not isinstance(data, dict):
        raise UsageError(f"{option} {value!r}: a JSON object {{...}} is needed")
    return data


# ---------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------


def _now():
    """The wall clock (`mahnwerk.clock`); tests move the command line's day by patching this."""
    from mahnwerk.clock import now

    return now()


def _date(value: str, what: str = "date"):
    from datetime import date

    try:
        return date.fromisoformat(value)
    except ValueError:
        _err(f"error: {what} {value!r} is not a date; write YYYY-MM-DD, e.g. 2026-03-31")
        raise typer.Exit(2) from None


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
        stats = run_parallel(
            str(engine.url.render_as_string(hide_password=False)), day, workers, _now(), wait
        )
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


event_app = typer.Typer(no_args_is_help=True, help="Record what happened to an invoice.")
app.add_typer(event_app, name="event")


def _event(
    invoice: str, kind: str, on: str | None, db: str | None, by: str | None, **payload
) -> None:
    """Record an event under `by`, the proven name (`mahnwerk.authority` put it there)."""
    from mahnwerk.engine.identity import IdentityError
    from mahnwerk.engine.queries import NotFound, record_event

    now = _now()
    day = _date(on, "--on") if on else now.date()
    engine = open_engine(db)
    try:
        eid = record_event(
            engine, invoice, kind, day, by, now, {k: v for k, v in payload.items() if v is not None}
        )
    except (NotFound, IdentityError) as exc:
        _err(f"error: {exc}")
        raise typer.Exit(1) from None
    typer.echo(f"recorded {kind} for {invoice} on {day} (#{eid}); the next run applies it")


OnOpt = Annotated[str | None, typer.Option("--on", help="The day it happened (default today).")]
ByOpt = Annotated[
    str | None,
    typer.Option(
        "--by",
        envvar="MAHNWERK_OPERATOR",
        help="Your name, checked against who you are (your login); default: you.",
    ),
]

#: `mahnwerk event VERB`: the events that need only an invoice, a day and a note — from the
#: one table of event kinds (`dsl/events.py`).
_SIMPLE_EVENTS = {spec.verb: (spec.kind.value, spec.help) for spec in EVENTS if spec.verb}


def _make_simple(name: str, kind: str, doc: str) -> None:
    def command(
        invoice: str, on: OnOpt = None, by: ByOpt = None, note: str = "", db: DbOption = None
    ) -> None:
        _event(invoice, kind, on, db, by, note=note or None)

    command.__doc__ = doc
    event_app.command(name)(command)


for _name, (_kind, _doc) in _SIMPLE_EVENTS.items():
    _make_simple(_name, _kind, _doc)


@event_app.command("customer")
def event_customer(
    customer: str,
    kind: Annotated[str, typer.Argument(help="insolvency or death")],
    on: OnOpt = None,
    by: ByOpt = None,
    db: DbOption = None,
) -> None:
    """Insolvency (C5: claims from before the opening stop) or death (C6) of a customer."""
    from mahnwerk.engine.identity import IdentityError
    from mahnwerk.engine.queries import NotFound, record_customer_event

    kinds = {"insolvency": "insolvency", "death": "death_notice"}
    if kind not in kinds:
        _err(f"error: {kind!r}: write insolvency or death")
        raise typer.Exit(2)
    now = _now()
    day = _date(on, "--on") if on else now.date()
    try:
        told = record_customer_event(open_engine(db), customer, kinds[kind], day, by, now)
    except (NotFound, IdentityError) as exc:
        _err(f"error: {exc}")
        raise typer.Exit(1) from None
    typer.echo(
        f"recorded {kind} of {customer} on {day} for {len(told)} invoice(s): "
        f"{', '.join(told) or '-'}; the next run applies it"
    )


@event_app.command("promise")
def event_promise(
    invoice: str,
    until: Annotated[str, typer.Option(help="Promised date.")],
    on: OnOpt = None,
    by: ByOpt = None,
    db: DbOption = None,
) -> None:
    """The customer promises to pay by a date (pauses dunning, D6)."""
    _event(invoice, "promise_made", on, db, by, promised_date=_date(until, "--until").isoformat())


@event_app.command("plan")
def event_plan(
    invoice: str,
    schedule: Annotated[
        str, typer.Option(help='Instalments "DATE=AMOUNT;DATE=AMOUNT", e.g. "2026-02-01=50.00".')
    ],
    on: OnOpt = None,
    by: ByOpt = None,
    db: DbOption = None,
) -> None:
    """A payment plan was agreed: dunning pauses while instalments come in time (D6)."""
    from decimal import Decimal, InvalidOperation

    instalments = []
    for part in filter(None, (p.strip() for p in schedule.split(";"))):
        day, _, amount = part.partition("=")
        try:
            value = Decimal(amount.strip().replace(",", "."))
        except InvalidOperation:
            _err(f"error: instalment {part!r}: {amount!r} is not an amount")
            raise typer.Exit(2) from None
        instalments.append([_date(day.strip(), "instalment date").isoformat(), str(value)])
    if not instalments:
        _err('error: --schedule needs at least one "DATE=AMOUNT"')
        raise typer.Exit(2)
    _event(invoice, "plan_agreed", on, db, by, instalments=instalments)


@event_app.command("payment")
def event_payment(
    invoice: str,
    amount: str,
    on: OnOpt = None,
    by: ByOpt = None,
    allow_future: Annotated[
        bool,
        typer.Option("--allow-future", help="Accept a payment dated after today."),
    ] = False,
    db: DbOption = None,
) -> None:
    """Record a payment on an invoice (allocated per § 367 BGB by the next run)."""
    from decimal import Decimal, InvalidOperation

    from sqlalchemy import insert, select

    from mahnwerk.engine import models as m

    try:
        value = Decimal(amount.replace(".", "").replace(",", ".") if "," in amount else amount)
    except InvalidOperation:
        _err(f"error: {amount!r} is not an amount; write e.g. 119.00 or 119,00")
        raise typer.Exit(2) from None
    if value <= 0:
        _err("error: a payment must be positive")
        raise typer.Exit(2)
    now = _now()
    day = _date(on, "--on") if on else now.date()
    if day > now.date() and not allow_future:
        from mahnwerk.errors import MahnwerkError

        raise MahnwerkError(
            f"a payment dated {day:%d.%m.%Y} is after today ({now.date():%d.%m.%Y})",
            "record money on the day it arrived; --allow-future holds it until its date",
        )
    engine = open_engine(db)
    inv = m.Invoice.__table__
    pay = m.Payment.__table__
    with engine.begin() as conn:
        row = conn.execute(
            select(inv.c.id, inv.c.customer_id, inv.c.currency).where(inv.c.external_id == invoice)
        ).first()
        if row is None:
            _err(f"error: no invoice {invoice!r}")
            raise typer.Exit(1)
        conn.execute(
            insert(pay).values(
                external_id=f"cli-{invoice}-{now.strftime('%Y%m%d%H%M%S%f')}",
                invoice_id=row.id,
                customer_id=row.customer_id,
                booked_on=day,
                amount=value,
                currency=row.currency,
                reference=f"entered by {by}",
                source="cli",
            )
        )
    typer.echo(f"recorded payment of {value} on {invoice} ({day}); the next run applies it")


approvals_app = typer.Typer(no_args_is_help=True, help="Four-eyes approvals of escalations.")
app.add_typer(approvals_app, name="approvals")


@approvals_app.command("list")
def approvals_list(db: DbOption = None, as_json: Annotated[bool, typer.Option("--json")] = False):
    """Escalations waiting for a decision."""
    from mahnwerk.engine.approvals import pending

    items = pending(open_engine(db))
    if as_json:
        typer.echo(json.dumps([i.as_dict() for i in items], indent=2))
        return
    for i in items:
        by = f" approved by {', '.join(i.approved_by)}" if i.approved_by else ""
        typer.echo(
            f"#{i.id:<6} {i.invoice:<14} {i.balance:>10} EUR  needs {i.required}{by}  "
            f"{i.summary}  [{i.rule}]"
        )
    if not items:
        typer.echo("no approvals waiting")


def _decide(approval_id: int, by: str | None, approve: bool, comment: str, db: str | None):
    """Decide as the proven identity (the OS user, see mahnwerk.service.identity)."""
    from mahnwerk.engine.approvals import ApprovalError, decide
    from mahnwerk.service.identity import Refused, acting

    now = _now()
    engine = open_engine(db)
    try:
        me = acting(engine, by, "approver", "deciding an approval")
        typer.echo(decide(engine, approval_id, me.name, approve, now, now.date(), comment))
    except (ApprovalError, Refused) as exc:
        _err(f"error: {exc}")
        raise typer.Exit(1) from None


DeciderOpt = Annotated[
    str | None,
    typer.Option(
        "--by",
        envvar="MAHNWERK_OPERATOR",
        help="Your name, checked against who you are (the OS user); default: you.",
    ),
]


@approvals_app.command("approve")
def approvals_approve(
    approval_id: int, by: DeciderOpt = None, comment: str = "", db: DbOption = None
):
    """Approve an escalation (a rule may need two different people). Role: approver."""
    _decide(approval_id, by, True, comment, db)


@approvals_app.command("reject")
def approvals_reject(
    approval_id: int, by: DeciderOpt = None, comment: str = "", db: DbOption = None
):
    """Reject an escalation; the invoice goes on hold until released. Role: approver."""
    _decide(approval_id, by, False, comment, db)


AsOfLimitation = Annotated[
    str | None,
    typer.Option("--as-of", help="Judge limitation (C4) on this day (default: the last run's)."),
]


@app.command("show")
def show(
    invoice: str,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    as_of: AsOfLimitation = None,
) -> None:
    """An invoice's timeline: every event, charge and message with the rule behind it."""
    from mahnwerk.engine.queries import NotFound, timeline

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


@app.command("invoices")
def invoices_cmd(
    state: Annotated[str | None, typer.Option()] = None,
    segment: Annotated[str | None, typer.Option()] = None,
    limit: int = 100,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    as_of: AsOfLimitation = None,
) -> None:
    """List invoices with their dunning state."""
    from mahnwerk.engine.queries import list_invoices

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


@app.command("demo")
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
    from sqlalchemy import select

    from mahnwerk.dsl.ir import TERMINAL_NAMES
    from mahnwerk.engine.comms.config import demo_settings
    from mahnwerk.engine.models import CUST, DS, INV
    from mahnwerk.portal.links import new_link

    engine = open_engine(str(db))
    with engine.connect() as conn:
        number = conn.execute(
            select(CUST.c.external_id)
            .join(INV, INV.c.customer_id == CUST.c.id)
            .join(DS, DS.c.invoice_id == INV.c.id)
            .where(DS.c.state.not_in([*TERMINAL_NAMES, "open", "vorab"]), INV.c.closed_on.is_(None))
            .order_by(INV.c.id)
            .limit(1)
        ).scalar()
    if number is None:
        return
    link = new_link(engine, number, demo_settings().portal, _now(), "demo")
    console.print(
        f"Customer {number}'s page: {link.url('http://127.0.0.1:8080')}  "
        f"(after `mahnwerk serve --db {db}`)", soft_wrap=True,
    )  # fmt: skip


@app.command("tui")
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


@policy_app.command("explain")
def policy_explain(
    file: Path,
    customer: Annotated[str, typer.Option(help="Customer facts: JSON text or a .json file.")],
    invoice: Annotated[str, typer.Option(help="Invoice facts: JSON text or a .json file.")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date to explain for.")] = None,
) -> None:
    """Which segment, which ladder, which state an invoice would be in, and why."""
    from mahnwerk.engine.explain import ExplainError, explain

    compiled = _load(file)
    day = _date(as_of, "--as-of") if as_of else _now().date()
    try:
        facts = _json_arg(customer, "--customer"), _json_arg(invoice, "--invoice")
        lines = explain(compiled, *facts, day)
    except ExplainError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(1) from None
    typer.echo("\n".join(lines))


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
