"""`mahnwerk analyse`, `mahnwerk report` and `mahnwerk simulate`: know the customers and the cash.

Kept apart from `cli.py` and wired in with one call: `register(app)`.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from mahnwerk import clock
from mahnwerk.options import DbOption, open_engine

AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="The day to analyse or report on (default: the last run's)."),
]
HistoryOption = Annotated[
    Path | None,
    typer.Option(
        "--history",
        help="An accounts-receivable CSV (IBM sample layout, e.g. "
        "../shared/data/WA_Fn-UseC_-Accounts-Receivable.csv) instead of the database.",
    ),
]


def _err(text: str) -> None:
    typer.echo(text, err=True)


def _date(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        _err(f"error: {what} {value!r} is not a date; write YYYY-MM-DD, e.g. 2026-03-31")
        raise typer.Exit(2) from None


def _as_of(engine: Any, as_of: str | None) -> date:
    from mahnwerk.engine.reports import ReportError, last_run_day

    if as_of:
        return _date(as_of, "--as-of")
    try:
        return last_run_day(engine)
    except ReportError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(1) from None


def _history(path: Path) -> list[Any]:
    from mahnwerk.engine.history import HistoryError, read_ar_csv

    try:
        return read_ar_csv(path)
    except HistoryError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(1) from None


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, Decimal):
        return f"{value:,}"
    return str(value)


def _print_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for i, col in enumerate(columns):
        numeric = any(isinstance(r[i], int | Decimal) for r in rows)
        table.add_column(col, justify="right" if numeric else "left")
    for r in rows:
        table.add_row(*(_cell(v) for v in r))
    # Not on a terminal (a pipe, a file, a test): as wide as the table needs, never wrapped.
    Console(width=None if sys.stdout.isatty() else 240).print(table)


# ---------------------------------------------------------------------------
# analyse
# ---------------------------------------------------------------------------


def analyse_cmd(
    as_of: AsOfOption = None,
    model: Annotated[
        bool,
        typer.Option(
            "--model",
            help="Score with a logistic regression fitted on the history instead of the scorecard.",
        ),
    ] = False,
    customer: Annotated[
        str | None,
        typer.Option("--customer", help="Show one customer's stored figures and score, why."),
    ] = None,
    evaluate: Annotated[
        bool,
        typer.Option(
            "--evaluate",
            help="Test model and scorecard on held-out invoices (AUC, Brier score, "
            "reliability); writes nothing.",
        ),
    ] = False,
    history: HistoryOption = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    db: DbOption = None,
) -> None:
    """Refresh every customer's payment behaviour and risk score (the customer.* facts)."""
    if evaluate:
        _evaluate(history, as_of, db, as_json)
        return
    if history is not None:
        _err("error: --history works with --evaluate only; `analyse` writes to the database")
        raise typer.Exit(2)
    engine = open_engine(db)
    try:
        if customer is not None:
            from mahnwerk.engine.analyse import explain_customer

            try:
                out = explain_customer(engine, customer)
            except LookupError as exc:
                _err(f"error: {exc}")
                raise typer.Exit(1) from None
            if as_json:
                typer.echo(json.dumps(out, indent=2, ensure_ascii=False))
                return
            for key, value in out.items():
                if key != "reasons":
                    typer.echo(f"{key:18} {_cell(value)}")
            typer.echo("scorecard points:")
            for why, points in out["reasons"]:
                typer.echo(f"  {points:>6}  {why}")
            return
        from mahnwerk.engine.analyse import analyse

        day = _as_of(engine, as_of)
        try:
            result = analyse(engine, day, clock.now(), model=model)
        except ValueError as exc:
            _err(f"error: {exc}")
            raise typer.Exit(1) from None
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2))
        return
    typer.echo(
        f"{result.as_of}: {result.customers} customers analysed ({result.with_history} with "
        f"paid invoices), scored by {result.scored_by}: {result.high_risk} with risk >= 70, "
        f"{result.trend_worse} paying later than before, {result.gone_quiet} gone quiet"
    )
    for name, weight in result.coefficients.items():
        typer.echo(f"  {name:18} {weight:+.4f}")
    if result.feedback:
        typer.echo("what customers last told us (the portal's 'tell us why'), per segment:")
        for segment, reasons in result.feedback.items():
            said = ", ".join(f"{reason} {n}" for reason, n in reasons.items())
            typer.echo(f"  {segment:18} {said}")


def _evaluate(history: Path | None, as_of: str | None, db: str | None, as_json: bool) -> None:
    from mahnwerk.engine.risk import evaluate

    if history is not None:
        invoices = _history(history)
    else:
        from mahnwerk.engine.history import read_database

        engine = open_engine(db)
        try:
            invoices = read_database(engine, _as_of(engine, as_of))
        finally:
            engine.dispose()
    try:
        results = evaluate(invoices)
    except ValueError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in results], indent=2))
        return
    for r in results:
        typer.echo("\n".join(r.lines()))


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------

FORMATS = ("table", "csv", "xlsx", "json", "png")


def report_cmd(
    name: Annotated[
        str,
        typer.Argument(
            help="aging, dso, effectiveness, stages, channels, skonto, feedback, or pack."
        ),
    ],
    as_of: AsOfOption = None,
    fmt: Annotated[
        str, typer.Option("--format", help="table, csv, xlsx, json or png (with an SVG).")
    ] = "table",
    lang: Annotated[
        str, typer.Option("--lang", help="de (CSV: ; and decimal comma) or en.")
    ] = "de",
    month: Annotated[
        str | None, typer.Option("--month", help="pack: the month, e.g. 2026-03.")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="File to write (default report-NAME.png/.pdf)."),
    ] = None,
    within: Annotated[
        int, typer.Option(help="channels: paid within this many days after a message.")
    ] = 14,
    db: DbOption = None,
) -> None:
    """Aging, DSO, collection effectiveness, recovery per state, channels, Skonto; `pack`."""
    from mahnwerk.engine.report_pack import pack
    from mahnwerk.engine.reports import REPORTS

    if name not in (*REPORTS, "pack"):
        _err(f"error: unknown report {name!r}: use one of {', '.join(REPORTS)} or pack")
        raise typer.Exit(2)
    if fmt not in FORMATS or lang not in ("de", "en"):
        _err(f"error: use --format {'|'.join(FORMATS)} and --lang de|en")
        raise typer.Exit(2)
    engine = open_engine(db)
    try:
        if name == "pack":
            if not month:
                _err("error: report pack needs --month YYYY-MM")
                raise typer.Exit(2)
            first = _date(f"{month}-01", "--month")
            path = output or Path(f"report-pack-{month}.pdf")
            path.write_bytes(pack(engine, first, lang))
            typer.echo(f"wrote {path}")
            return
        day = _as_of(engine, as_of)
        report = (
            REPORTS[name](engine, day, within) if name == "channels" else REPORTS[name](engine, day)
        )
    finally:
        engine.dispose()
    if fmt in ("png", "xlsx"):
        path = output or Path(f"report-{name}.{fmt}")
        written = report.to_png(path, lang) if fmt == "png" else report.to_xlsx(path)
        typer.echo(
            f"wrote {written}" + (f" and {written.with_suffix('.svg')}" if fmt == "png" else "")
        )
        return
    if fmt in ("csv", "json"):
        text = report.to_csv(lang) if fmt == "csv" else report.to_json()
        if output:
            encoding = "utf-8-sig" if fmt == "csv" and lang == "de" else "utf-8"
            output.write_text(text + ("" if fmt == "csv" else "\n"), encoding=encoding)
            typer.echo(f"wrote {output}")
        else:
            typer.echo(text, nl=fmt != "csv")
        return
    _print_table(report.title, report.columns, report.rows)
    for note in report.notes:
        typer.echo(note)


# ---------------------------------------------------------------------------
# simulate
# ---------------------------------------------------------------------------


def simulate_cmd(
    policy: Annotated[Path, typer.Option("--policy", help="The policy file to replay.")],
    first: Annotated[str, typer.Option("--from", help="First day of the replay.")],
    last: Annotated[str, typer.Option("--to", help="Last day of the replay.")],
    compare: Annotated[
        Path | None, typer.Option("--compare", help="A second policy, side by side.")
    ] = None,
    history: HistoryOption = None,
    customer_type: Annotated[
        str | None,
        typer.Option(
            "--customer-type",
            help="B2B or B2C.  With --history: what the export's customers are (default B2B); "
            "with the database: replay only these customers' invoices (default all).",
        ),
    ] = None,
    approve_after: Annotated[
        int, typer.Option(help="Days until a requested approval is granted.")
    ] = 3,
    applies_to: Annotated[
        str | None,
        typer.Option(
            "--for",
            help="Which customers the policy would serve (default: the --for of the deployed "
            "version of its name, else all).",
        ),
    ] = None,
    behaviour: Annotated[
        str,
        typer.Option(
            "--behaviour",
            help="replay: customers pay on the recorded days (a new step changes nothing); "
            "model: an estimate, payment days drawn from a model learned from the history, "
            "in which messages change the chance to pay.",
        ),
    ] = "replay",
    seed: Annotated[int, typer.Option(help="The model's random draws (--behaviour model).")] = 0,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    db: DbOption = None,
) -> None:
    """Replay the recorded history against a policy; nothing is sent or written."""
    from mahnwerk.dsl.compile import load_policy
    from mahnwerk.dsl.errors import PolicyError
    from mahnwerk.engine import simulate as sim
    from mahnwerk.engine.response_model import model_for
    from mahnwerk.engine.simulate_routing import ASSUMPTIONS, routing_for

    if behaviour not in ("replay", "model"):
        _err(f"error: --behaviour {behaviour!r}: write replay or model")
        raise typer.Exit(2)
    day_from, day_to = _date(first, "--from"), _date(last, "--to")
    if day_to < day_from:
        _err(f"error: --to {day_to} is before --from {day_from}")
        raise typer.Exit(2)
    compiled = []
    for path in [policy] + ([compare] if compare else []):
        try:
            compiled.append(load_policy(path))
        except PolicyError as exc:
            _err(exc.render())
            raise typer.Exit(1) from None
    if history is not None:
        from mahnwerk.engine.history import HistoryError

        try:
            data = sim.from_ar_csv(history, customer_type or "B2B")
        except (HistoryError, ValueError) as exc:
            _err(f"error: {exc}")
            raise typer.Exit(1) from None
        routings = [routing_for(None, c, applies_to) for c in compiled]
        model = model_for(None, seed) if behaviour == "model" else None
    else:
        engine = open_engine(db)
        try:
            data = sim.from_database(engine, customer_type, forward_from=day_from)
            routings = [routing_for(engine, c, applies_to) for c in compiled]
            model = model_for(engine, seed) if behaviour == "model" else None
        except ValueError as exc:
            _err(f"error: {exc}")
            raise typer.Exit(2) from None
        finally:
            engine.dispose()
    results = [
        sim.replay(data, c, day_from, day_to, approve_after, routing, model)
        for c, routing in zip(compiled, routings, strict=True)
    ]
    rows = sim.compare(results)
    names = [
        f"{c.name} version {c.policy.version} ({p.name})"
        for c, p in zip(compiled, [policy, compare], strict=False)
    ]
    assumptions = "Assumed: " + ASSUMPTIONS.format(approve_after=approve_after)
    if model is not None:
        assumptions = "\n".join(
            [*("Assumed: " + a for a in model.assumptions()),
             f"Assumed: approvals are granted {approve_after} day(s) after they are asked for"])
    if as_json:
        out = {
            "history": data.source,
            "from": day_from.isoformat(),
            "to": day_to.isoformat(),
            "policies": names,
            "behaviour": behaviour,
            "assumptions": assumptions,
            "figures": {r[0].strip(): [_json(v) for v in r[1 : 1 + len(names)]] for r in rows},
        }
        if len(names) == 2:
            out["difference"] = {r[0].strip(): _json(r[3]) for r in rows}
        typer.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    what = "ESTIMATE (behaviour model) on" if model is not None else "Replay of"
    _print_table(
        f"{what} {data.source}, {day_from} to {day_to} (nothing sent)",
        ["figure", *names] + (["difference"] if len(names) == 2 else []),
        rows,
    )
    typer.echo(assumptions)


def _json(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def register(app: typer.Typer) -> None:
    """Add `analyse`, `report` and `simulate` to the `mahnwerk` command."""
    app.command("analyse")(analyse_cmd)
    app.command("report")(report_cmd)
    app.command("simulate")(simulate_cmd)
