"""The management meeting's report pack: every report's chart and table for one month, as PDF.

After the reports come the 13-week cash forecast (always: when the history is too short
to fit its model, a page says so instead of a chart) and each experiment running or
ended by the month's report day (its chart, its table and the recommendation).

German by default (`lang="en"` for English): titles, units, column heads and bucket names
come from the tables in `reports.py` (`CHART_TEXT`, `SUBTITLES`), `forecast_chart.py`,
`experiment_report.py` and below, so a chart on a slide and the same report in the pack
say the same.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from mahnwerk.engine.reports import CHART_TEXT, REPORTS, ReportError, _word, last_run_day


def pack(engine: Engine, month: date, lang: str = "de") -> bytes:
    """The management meeting's PDF: each report's chart, then its table, for one month.

    The reports are made as of the month's last day, or the last run if that is earlier
    (a month still running is then marked partial in the charts).
    """
    import io as _io

    from matplotlib.backends.backend_pdf import PdfPages

    from mahnwerk.engine.charts import figure

    first = month.replace(day=1)
    end = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    day = min(end, last_run_day(engine))
    if day < first:
        raise ReportError(f"no run in {first:%m/%Y} or later: nothing to report for that month")
    buffer = _io.BytesIO()
    with PdfPages(buffer) as pdf:
        for name, make in REPORTS.items():
            report = make(engine, day)
            pdf.savefig(figure(report.to_chart(lang)))
            _tables(pdf, CHART_TEXT[name][0][lang][0], report.columns, report.rows, lang)
        _forecast(pdf, engine, day, lang)
        _experiments(pdf, engine, day, lang)
    return buffer.getvalue()


def _tables(pdf: Any, title: str, columns: list[str], rows: list[list[Any]], lang: str,
            notes: tuple[str, ...] = ()) -> None:  # fmt: skip
    """A table over as many pages as it needs, its title on each, `notes` under the last."""
    from matplotlib.figure import Figure

    from mahnwerk.engine.charts import SIZE_INCHES

    heads = [_COLUMNS_DE.get(c, c) if lang == "de" else c for c in columns]
    for start in range(0, max(len(rows), 1), TABLE_ROWS):
        page = Figure(figsize=SIZE_INCHES)
        ax = page.add_axes((0.05, 0.05, 0.9, 0.82))
        ax.axis("off")
        page.text(0.05, 0.92, title, fontsize=22, weight="bold")
        cells = [["–" if v is None else _cell(v, lang) for v in r]
                 for r in rows[start:start + TABLE_ROWS]] or [["–"] * len(heads)]  # fmt: skip
        table = ax.table(cellText=cells, colLabels=heads, loc="upper left")
        table.auto_set_font_size(False)
        table.set_fontsize(11 if len(heads) <= WIDE else 9)
        if len(heads) > WIDE:  # each column as wide as its head: no head runs into the next
            table.auto_set_column_width(list(range(len(heads))))
        table.scale(1, 1.6)
        if start + TABLE_ROWS >= len(rows):
            for i, line in enumerate(notes):
                page.text(0.05, 0.04 + 0.03 * (len(notes) - 1 - i), line, fontsize=11)
        pdf.savefig(page)


def _text_page(pdf: Any, title: str, lines: list[str]) -> None:
    """A page that says why there is no chart (rather than leaving the topic out)."""
    from matplotlib.figure import Figure

    from mahnwerk.engine.charts import SIZE_INCHES

    page = Figure(figsize=SIZE_INCHES)
    page.text(0.05, 0.92, title, fontsize=22, weight="bold")
    for i, line in enumerate(lines):
        page.text(0.05, 0.8 - 0.05 * i, line, fontsize=14)
    pdf.savefig(page)


def _forecast(pdf: Any, engine: Engine, day: date, lang: str) -> None:
    """The 13-week cash forecast from the open items on the report day, chart and table."""
    from mahnwerk.engine import forecast as fc
    from mahnwerk.engine.charts import figure
    from mahnwerk.engine.forecast_chart import TEXT, forecast_chart
    from mahnwerk.engine.history import read_database

    t = TEXT[lang]
    try:
        model = fc.Model(read_database(engine, day), day)
        result = fc.forecast(model, fc.items_from_database(engine, day))
    except fc.ForecastError as exc:
        _text_page(pdf, t["title"], [NO_FORECAST[lang].format(day=day), str(exc)])
        return
    pdf.savefig(figure(forecast_chart(result, lang)))
    rows = [[w.start, w.expected, w.low, w.high, w.baseline] for w in result.weeks]
    heads = [t["week"], t["expected"] + " EUR", t["low"] + " EUR", t["high"] + " EUR",
             t["baseline"] + " EUR"]  # fmt: skip
    _tables(pdf, t["title"], heads, rows, lang)  # the heads are in `lang` already


def _experiments(pdf: Any, engine: Engine, day: date, lang: str) -> None:
    """Each experiment started by the report day: its chart, table and recommendation."""
    from mahnwerk.engine.charts import figure
    from mahnwerk.engine.experiment_report import CHART_WORDS, chart, report
    from mahnwerk.engine.store.experiments import started_by

    for name in started_by(engine, day):
        rep = report(engine, name, day)
        title = CHART_WORDS[lang]["title"].format(name=name)
        if not rep.outcomes:
            _text_page(pdf, title, [NOT_MEASURED[lang].format(day=day)])
            continue
        pdf.savefig(figure(chart(rep, lang)))
        table = rep.table()
        words = CHART_WORDS[lang]
        rows = [[words.get(r[0], r[0]), *r[1:]] for r in table.rows]  # the arm, in `lang`
        notes = tuple(rep.verdict_lines()) if lang == "en" else ()
        _tables(pdf, title, table.columns, rows, lang, notes)


NO_FORECAST = {
    "de": "Keine Prognose am {day:%d.%m.%Y}: das Modell braucht mehr bezahlte Rechnungen.",
    "en": "No forecast on {day:%Y-%m-%d}: the model needs more paid invoices.",
}
NOT_MEASURED = {
    "de": "Bis {day:%d.%m.%Y} hat noch keine Rechnung eines Teilnehmers ihre erste Erinnerung.",
    "en": "By {day:%Y-%m-%d} no invoice of an enrolled customer has had its first reminder.",
}
TABLE_ROWS = 22
WIDE = 8
"""Tables of more columns get a smaller font and columns sized to their heads."""
_COLUMNS_DE = {
    "days past due": "Tage überfällig", "invoices": "Rechnungen", "amount EUR": "Betrag EUR",
    "share %": "Anteil %", "month": "Monat", "from": "von", "to": "bis",
    "receivables EUR": "Forderungen EUR", "credit sales EUR": "Umsatz EUR", "days": "Tage",
    "period": "Zeitraum", "beginning receivables EUR": "Forderungen Beginn EUR",
    "ending receivables EUR": "Forderungen Ende EUR",
    "ending current EUR": "davon nicht fällig EUR",
    "state": "Stufe", "invoices entered": "Rechnungen eingetreten",
    "paid while in it EUR": "Eingang in der Stufe EUR", "paid in full from it": "voll bezahlt",
    "paid in full %": "voll bezahlt %", "median days to payment": "Median Tage bis Zahlung",
    "channel": "Kanal", "template": "Vorlage", "messages": "Nachrichten",
    "observable": "beobachtbar",
    "what": "was", "discount EUR": "Abzug EUR", "median days to cash": "Median Tage bis Zahlung",
    "days gained": "Tage gewonnen", "annual cost %": "Kosten % p. a.",
    "arm": "Gruppe", "segment": "Segment", "cured 30d %": "bezahlt 30 T. %",
    "cured 60d %": "bezahlt 60 T. %", "days due to cash": "Tage bis Zahlung",
    "collected EUR": "Eingang EUR", "cost EUR": "Kosten EUR",
    "fees+interest EUR": "Geb.+Zinsen EUR", "disputes": "Einwände",
    "handovers": "an Inkasso", "reason": "Grund", "answers": "Antworten",
}  # fmt: skip


def _cell(v: Any, lang: str) -> str:
    if isinstance(v, Decimal):
        from mahnwerk.engine.charts import number

        return number(float(v), lang, 2 if v.as_tuple().exponent == -2 else 1)
    if isinstance(v, date):
        return f"{v:%d.%m.%Y}" if lang == "de" else v.isoformat()
    return _word(str(v), lang)
