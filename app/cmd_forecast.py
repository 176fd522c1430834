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

from mahnwerk.options import DbOption, day_option, open_engine

TEXT = {
    "de": {"title": "Erwarteter Zahlungseingang je Woche", "week": "Woche ab",
           "expected": "erwartet", "low": "10 %", "high": "90 %",
           "baseline": "Fälligkeit + Verzug", "from": "offene Posten am", "unit": "T€",
           "items": "offene Posten", "total": "zusammen"},
    "en": {"title": "Expected cash in per week", "week": "week from",
           "expected": "expected", "low": "10 %", "high": "90 %",
           "baseline": "due + delay", "from": "open items on", "unit": "k€",
           "items": "open items", "total": "in all"},
}  # fmt: skip


def _money(value, lang: str) -> str:  # type: ignore[no-untyped-def]
    from mahnwerk.engine.charts import number

    return number(float(value), lang, 2)


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


def forecast_chart(result, lang: str):  # type: ignore[no-untyped-def]
    """The forecast as a slide chart: expected cash per week, 10–90 % interval, baseline."""
    from mahnwerk.engine.charts import Chart
    from mahnwerk.engine.forecast import DRAWS, HIGH, LOW

    t = TEXT[lang]
    return Chart(
        title=t["title"],
        subtitle=f"{t['from']} {result.as_of:%d.%m.%Y}: {result.items} {t['items']}, "
                 f"{_money(result.open_total, lang)} €",
        unit=t["unit"], lang=lang,
        categories=[f"{w.start:%d.%m.}" for w in result.weeks],
        values=[float(w.expected) / 1000 for w in result.weeks],
        low=[float(w.low) / 1000 for w in result.weeks],
        high=[float(w.high) / 1000 for w in result.weeks],
        line=[float(w.baseline) / 1000 for w in result.weeks],
        bar_label=t["expected"], line_label=t["baseline"],
        notes=result.assumptions[:2] if lang == "en" else [
            f"Cox-Modell der Tage bis zur Zahlung, geschätzt aus {result.trained_on} am "
            f"{result.as_of:%d.%m.%Y} bekannten Rechnungen; offene gelten als noch nicht bezahlt",
            f"Intervall: {LOW}. bis {HIGH}. Perzentil aus {DRAWS} Ziehungen",
        ],
    )


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
            table.add_row(f"{r[0]:%d.%m.%Y}", *(_money(v, lang) for v in r[1:]))
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
