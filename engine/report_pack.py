"""The management meeting's report pack: every report's chart and table for one month, as PDF.

German by default (`lang="en"` for English): titles, units, column heads and bucket names
come from the tables in `reports.py` (`CHART_TEXT`, `SUBTITLES`) and below, so a chart on
a slide and the same report in the pack say the same.
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
    from matplotlib.figure import Figure

    from mahnwerk.engine.charts import SIZE_INCHES, figure

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
            for start in range(0, len(report.rows), TABLE_ROWS):
                page = Figure(figsize=SIZE_INCHES)
                ax = page.add_axes((0.05, 0.05, 0.9, 0.82))
                ax.axis("off")
                page.text(0.05, 0.92, CHART_TEXT[name][0][lang][0], fontsize=22, weight="bold")
                cells = [["–" if v is None else _cell(v, lang) for v in r]
                         for r in report.rows[start:start + TABLE_ROWS]]
                heads = [_COLUMNS_DE.get(c, c) if lang == "de" else c for c in report.columns]
                table = ax.table(cellText=cells, colLabels=heads, loc="upper left")
                table.auto_set_font_size(False)
                table.set_fontsize(11)
                table.scale(1, 1.6)
                pdf.savefig(page)
    return buffer.getvalue()


TABLE_ROWS = 22
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
}  # fmt: skip


def _cell(v: Any, lang: str) -> str:
    if isinstance(v, Decimal):
        from mahnwerk.engine.charts import number

        return number(float(v), lang, 2 if v.as_tuple().exponent == -2 else 1)
    if isinstance(v, date):
        return f"{v:%d.%m.%Y}" if lang == "de" else v.isoformat()
    return _word(str(v), lang)
