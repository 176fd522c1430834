"""`mahnwerk experiment start|report|promote|stop`: champion/challenger on live dunning.

A thin shell: assignment and routing are `engine/experiments.py`, the figures
`engine/experiment_report.py`, the statistics `engine/experiment_stats.py`.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer

from mahnwerk.engine.comms import channels
from mahnwerk.options import DbOption, day_option, open_engine

experiment_app = typer.Typer(
    no_args_is_help=True, help="Champion/challenger: let a challenger policy dun a share."
)
ByOpt = Annotated[str, typer.Option("--by", envvar="MAHNWERK_OPERATOR", help="Who does it.")]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="The day (default: today; report: the last run).")
]


def _now():  # type: ignore[no-untyped-def]
    from mahnwerk import cli

    return cli._now()


@experiment_app.command("start")
def start_cmd(
    name: str,
    champion: Annotated[str, typer.Option("--champion", help="Deployed policy (name or file).")],
    challenger: Annotated[Path, typer.Option("--challenger", help="The challenger's policy file.")],
    share: Annotated[str, typer.Option("--share", help="The challenger's share, e.g. 10%.")],
    applies_to: Annotated[
        str | None, typer.Option("--for", help='Only these customers, e.g. "customer.type == B2C".')
    ] = None,
    until: Annotated[str | None, typer.Option("--until", help="Last day to enrol.")] = None,
    until_customers: Annotated[
        int | None, typer.Option("--until-customers", help="Enrol at most this many customers.")
    ] = None,
    as_of: AsOfOpt = None,
    by: ByOpt = "operator",
    db: DbOption = None,
) -> None:
    """Start an experiment: enrol the champion's customers, a random share to the challenger."""
    from mahnwerk.engine import experiments
    from mahnwerk.engine.identity import person
    from mahnwerk.errors import EXIT_USAGE, MahnwerkError

    if until is not None and until_customers is not None:
        raise MahnwerkError("--until and --until-customers: give one of them", "", EXIT_USAGE)
    fraction = experiments.parse_share(share)
    actor = person(by)
    now = _now()
    day = day_option(as_of, "--as-of") if as_of else now.date()
    last = day_option(until, "--until") if until else None
    engine = open_engine(db)
    try:
        started = experiments.start(engine, name, champion, challenger, fraction, day, now,
                                    actor, applies_to, last, until_customers)  # fmt: skip
    finally:
        engine.dispose()
    typer.echo(f"experiment {name!r} started on {day:%d.%m.%Y}: champion {started.champion}, "
               f"challenger {started.challenger} for {fraction:.1%} of the customers")  # fmt: skip
    for seg in sorted({s for s, _ in started.counts}):
        champ = started.counts.get((seg, experiments.CHAMPION), 0)
        chall = started.counts.get((seg, experiments.CHALLENGER), 0)
        typer.echo(f"  segment {seg}: {champ} champion, {chall} challenger")
    typer.echo("the challenger's invoices move to it at their next step (segment-move rule)")


def _costs(values: list[str]) -> dict[str, Decimal]:
    from mahnwerk.errors import EXIT_USAGE, MahnwerkError

    out = {}
    for text in values:
        channel, _, amount = text.partition("=")
        try:
            value = Decimal(amount.strip().replace(",", "."))
        except InvalidOperation:
            value = Decimal(-1)
        if channel.strip() not in channels.names() or value < 0:
            raise MahnwerkError(f"--cost {text!r}: write CHANNEL=EUR",
                                "e.g. --cost letter=0.95 --cost sms=0.09", EXIT_USAGE)  # fmt: skip
        out[channel.strip()] = value
    return out


@experiment_app.command("report")
def report_cmd(
    name: str,
    fmt: Annotated[str, typer.Option("--format", help="table, csv, json or png.")] = "table",
    lang: Annotated[str, typer.Option("--lang", help="de or en (png).")] = "de",
    cost: Annotated[
        list[str], typer.Option("--cost", help="Unit cost per message, e.g. letter=0.95.")
    ] = [],  # noqa: B006 - typer reads the default
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File to write.")] = None,
    as_of: AsOfOpt = None,
    db: DbOption = None,
) -> None:
    """Per arm and segment: cure rate, days to cash, money, cost, fees, disputes, handovers."""
    from mahnwerk.engine.experiment_report import chart, report
    from mahnwerk.engine.experiments import find
    from mahnwerk.engine.reports import last_run_day
    from mahnwerk.errors import EXIT_USAGE, MahnwerkError

    if fmt not in ("table", "csv", "json", "png") or lang not in ("de", "en"):
        raise MahnwerkError(f"unknown --format {fmt!r} or --lang {lang!r}",
                            "--format table|csv|json|png, --lang de|en", EXIT_USAGE)  # fmt: skip
    units = _costs(cost)
    engine = open_engine(db)
    try:
        with engine.connect() as conn:
            find(conn, name)  # an unknown name is the first thing to say
        day = day_option(as_of, "--as-of") if as_of else last_run_day(engine)
        rep = report(engine, name, day, units)
    finally:
        engine.dispose()
    table = rep.table()
    if fmt == "png":
        from mahnwerk.engine.charts import save

        for path in save(chart(rep, lang), output or Path(f"experiment-{name}.png")):
            typer.echo(f"wrote {path}")
        return
    if fmt in ("csv", "json"):
        text = table.to_csv(lang) if fmt == "csv" else json.dumps(
            {**json.loads(table.to_json()), "verdict": rep.difference.verdict,
             "lines": rep.verdict_lines()}, indent=2, ensure_ascii=False)  # fmt: skip
        if output:
            output.write_bytes(text.encode("utf-8-sig" if fmt == "csv" and lang == "de"
                                           else "utf-8"))  # fmt: skip
            typer.echo(f"wrote {output}")
        else:
            typer.echo(text)
        return
    from mahnwerk.cmd_analytics import _print_table

    typer.echo(f"experiment {rep.name} ({rep.status}) since {rep.started_on:%d.%m.%Y}, "
               f"as of {rep.as_of:%d.%m.%Y}: champion {rep.champion}, challenger "
               f"{rep.challenger} ({rep.share:.1%}); customers "
               f"{rep.customers.get('champion', 0)} / "
               f"{rep.customers.get('challenger', 0)}")  # fmt: skip
    _print_table(table.title, table.columns, table.rows)
    for line in [*rep.verdict_lines(), *rep.notes]:
        typer.echo(f"· {line}")


@experiment_app.command("promote")
def promote_cmd(
    name: str,
    anyway: Annotated[
        bool, typer.Option("--anyway", help="Promote although the report does not say so.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Deploy without asking.")] = False,
    by: ByOpt = "operator",
    db: DbOption = None,
) -> None:
    """Deploy the challenger in the champion's place, through the reviewed deploy."""
    from mahnwerk.engine import experiments
    from mahnwerk.engine.deploy_review import preview_text
    from mahnwerk.engine.experiment_report import report
    from mahnwerk.engine.identity import person
    from mahnwerk.engine.reports import last_run_day
    from mahnwerk.errors import MahnwerkError

    actor = person(by)
    now = _now()
    engine = open_engine(db)
    try:
        path, _chall, champ = experiments.challenger_file(engine, name)
        rep = report(engine, name, last_run_day(engine))
        if rep.difference.verdict != "promote" and not anyway:
            raise MahnwerkError(
                f"experiment {name!r}: the report says {rep.difference.verdict.upper()} "
                f"({rep.difference.why}); nothing deployed",
                "wait for the figures, or pass --anyway to decide otherwise",
            )
        applies_to = champ.applies_to if champ is not None else None
        preview, refused = preview_text(engine, path, now.date(), applies_to)
        typer.echo(preview, nl=False)
        if refused:
            raise MahnwerkError("the deploy preview refuses the challenger; nothing deployed",
                                "fix what the preview names, then promote again")  # fmt: skip
        if not yes:
            if not sys.stdin.isatty():
                raise MahnwerkError(
                    "not on a terminal, so nobody can confirm the deploy; nothing deployed",
                    "review the preview, then pass --yes",
                )
            if not typer.confirm(f"Deploy the challenger of {name}?", default=False):
                typer.echo("nothing deployed")
                raise typer.Exit(1)
        typer.echo(experiments.promote(engine, name, now, actor))
    finally:
        engine.dispose()


@experiment_app.command("stop")
def stop_cmd(name: str, by: ByOpt = "operator", db: DbOption = None) -> None:
    """End an experiment without promoting: everybody back to the champion."""
    from mahnwerk.engine import experiments
    from mahnwerk.engine.identity import person

    actor = person(by)
    engine = open_engine(db)
    try:
        typer.echo(experiments.stop(engine, name, _now(), actor))
    finally:
        engine.dispose()


def register(app: typer.Typer) -> None:
    app.add_typer(experiment_app, name="experiment")
