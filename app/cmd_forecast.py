"""`mahnwerk forecast`: the cash the open items will bring in, week by week.

A thin shell over `engine/forecast.py` (the model and its assumptions are explained
there); the table, CSV, JSON and chart speak German or English (`--lang`).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from mahnwerk.engine.forecast_chart import TEXT, forecast_chart, money
from mahnwerk.options import DbOption, day_option, open_engine

__all__ = ["TEXT", "forecast_cmd", "forecast_chart", "register"]

def forecast_cmd(
    weeks: Annotated[int, typer.Option(min=1, max=52, help="How many weeks ahead.")] = 13,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The day (default: the last run).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv, json or png.")] = "table",
    lang: Annotated[str, typer.Option("--lang", help="de or en.")] = "de",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File to write.")] = None,
    backtest: Annotated[
        Path | None,
        typer.Option("--backtest", help="Replay a receivables history (IBM layout) instead."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Expected cash in per week from the open items, with a 10–90 % interval and a baseline."""
    from mahnwerk.engine import forecast as fc
    from mahnwerk.errors import EXIT_USAGE, MahnwerkError

    if fmt not in ("table", "csv", "json", "png") or lang not in TEXT:
        raise MahnwerkError(f"unknown --format {fmt!r} or --lang {lang!r}",
                            "--format table|csv|json|png, --lang de|en", EXIT_USAGE)
    if backtest is not None:
        _backtest(backtest, weeks)
        return
    engine = open_engine(db)
    try:
        from mahnwerk.engine.history import read_database
        from mahnwerk.engine.reports import last_run_day

        day = day_option(as_of, "--as-of") if as_of else last_run_day(engine)
        model = fc.Model(read_database(engine, day), day)
        result = fc.forecast(model, fc.items_from_database(engine, day), weeks)
    finally:
        engine.dispose()
    _show(result, fmt, lang, output)


def _show(result, fmt: str, lang: str, output: Path | None) -> None:  # type: ignore[no-untyped-def]
    t = TEXT[lang]
    if fmt == "png":
        from mahnwerk.engine.charts import save

        chart = forecast_chart(result, lang)
        for path in save(chart, output or Path("forecast.png")):
            typer.echo(f"wrote {path}")
        return
    head = [t["week"], t["expected"], t["low"], t["high"], t["baseline"]]
    rows = [[w.start, w.expected, w.low, w.high, w.baseline] for w in result.weeks]
    if fmt == "json":
        text = json.dumps({
            "as_of": result.as_of.isoformat(), "items": result.items,
            "open_total": f"{result.open_total:.2f}", "assumptions": result.assumptions,
            "weeks": [{"from": w.start.isoformat(), "to": w.end.isoformat(),
                       "expected": f"{w.expected:.2f}", "low": f"{w.low:.2f}",
                       "high": f"{w.high:.2f}", "baseline": f"{w.baseline:.2f}"}
                      for w in result.weeks],
        }, indent=2, ensure_ascii=False)
    elif fmt == "csv":
        from mahnwerk.engine.reports import csv_text

        text = csv_text(head, [[r[0].isoformat(), *r[1:]] for r in rows], lang)
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"{t['title']} – {t['from']} {result.as_of:%d.%m.%Y}")
        for i, name in enumerate(head):
            table.add_column(name, justify="left" if i == 0 else "right")
        for r in rows:
            table.add_row(f"{r[0]:%d.%m.%Y}", *(money(v, lang) for v in r[1:]))
        Console().print(table)
        for line in result.assumptions:
            typer.echo(f"· {line}")
        return
    if output:
        output.write_bytes(text.encode("utf-8-sig" if fmt == "csv" and lang == "de" else "utf-8"))
        typer.echo(f"wrote {output}")
    else:
        typer.echo(text)


def _backtest(path: Path, weeks: int) -> None:
    from mahnwerk.engine.forecast import backtest
    from mahnwerk.engine.history import read_ar_csv

    history = read_ar_csv(path)
    first = min(i.issue_date for i in history) + timedelta(days=182)
    last = max(i.issue_date for i in history) - timedelta(days=7 * weeks)
    result = backtest(history, first, last, weeks=weeks)
    typer.echo(
        f"{result.origins} forecasts from {first:%d.%m.%Y} every 4 weeks, {result.weeks} weeks "
        f"with payments: MAPE {result.mape:.1%} (baseline due date + average delay "
        f"{result.baseline_mape:.1%}), 10–90 % interval held the actual in "
        f"{result.coverage:.1%} of the weeks"
    )
    for k, model, base in result.by_week:
        typer.echo(f"  week {k:>2}: MAPE {model:.1%}  baseline {base:.1%}")


def register(app: typer.Typer) -> None:
    app.command("forecast")(forecast_cmd)
