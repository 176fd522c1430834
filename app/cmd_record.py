"""`mahnwerk event ...` and `mahnwerk approvals ...`: recording what happened to an invoice
(the verbs come from the one table of event kinds, `dsl/events.py`) and deciding
four-eyes approvals.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from mahnwerk.cli_helpers import _date, _err, _now
from mahnwerk.dsl.events import EVENTS
from mahnwerk.options import DbOption, open_engine

event_app = typer.Typer(no_args_is_help=True, help="Record what happened to an invoice.")


def _event(
    invoice: str, kind: str, on: str | None, db: str | None, by: str | None, **payload
) -> None:
    """Record an event under `by`, the proven name (`mahnwerk.authority` put it there)."""
    from mahnwerk.engine.identity import IdentityError
    from mahnwerk.engine.store.invoices import NotFound, record_event

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


def event_customer(
    customer: str,
    kind: Annotated[str, typer.Argument(help="insolvency or death")],
    on: OnOpt = None,
    by: ByOpt = None,
    db: DbOption = None,
) -> None:
    """Insolvency (C5: claims from before the opening stop) or death (C6) of a customer."""
    from mahnwerk.engine.identity import IdentityError
    from mahnwerk.engine.store.invoices import NotFound, record_customer_event

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


def event_promise(
    invoice: str,
    until: Annotated[str, typer.Option(help="Promised date.")],
    on: OnOpt = None,
    by: ByOpt = None,
    db: DbOption = None,
) -> None:
    """The customer promises to pay by a date (pauses dunning, D6)."""
    _event(invoice, "promise_made", on, db, by, promised_date=_date(until, "--until").isoformat())


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

    from mahnwerk.engine.store.invoices import record_payment

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
    if not record_payment(open_engine(db), invoice, day, value, by, now):
        _err(f"error: no invoice {invoice!r}")
        raise typer.Exit(1)
    typer.echo(f"recorded payment of {value} on {invoice} ({day}); the next run applies it")


approvals_app = typer.Typer(no_args_is_help=True, help="Four-eyes approvals of escalations.")


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


def approvals_approve(
    approval_id: int, by: DeciderOpt = None, comment: str = "", db: DbOption = None
):
    """Approve an escalation (a rule may need two different people). Role: approver."""
    _decide(approval_id, by, True, comment, db)


def approvals_reject(
    approval_id: int, by: DeciderOpt = None, comment: str = "", db: DbOption = None
):
    """Reject an escalation; the invoice goes on hold until released. Role: approver."""
    _decide(approval_id, by, False, comment, db)


def register(app: typer.Typer) -> None:
    """The `event` and `approvals` groups."""
    app.add_typer(event_app, name="event")
    event_app.command("customer")(event_customer)
    event_app.command("promise")(event_promise)
    event_app.command("plan")(event_plan)
    event_app.command("payment")(event_payment)
    app.add_typer(approvals_app, name="approvals")
    approvals_app.command("list")(approvals_list)
    approvals_app.command("approve")(approvals_approve)
    approvals_app.command("reject")(approvals_reject)
