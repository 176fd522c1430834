"""The forecast as a slide chart, for `mahnwerk forecast --format png` and the report pack.

One place for its words (German and English) and its drawing, so the PNG a finance
manager puts on a slide and the page of the management meeting's pack say the same.
"""

from __future__ import annotations

from typing import Any

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


def money(value: Any, lang: str) -> str:
    from mahnwerk.engine.charts import number

    return number(float(value), lang, 2)


def forecast_chart(result, lang: str):  # type: ignore[no-untyped-def]
    """The forecast as a slide chart: expected cash per week, 10–90 % interval, baseline."""
    from mahnwerk.engine.charts import Chart
    from mahnwerk.engine.forecast import DRAWS, HIGH, LOW

    t = TEXT[lang]
    return Chart(
        title=t["title"],
        subtitle=f"{t['from']} {result.as_of:%d.%m.%Y}: {result.items} {t['items']}, "
        f"{money(result.open_total, lang)} €",
        unit=t["unit"],
        lang=lang,
        categories=[f"{w.start:%d.%m.}" for w in result.weeks],
        values=[float(w.expected) / 1000 for w in result.weeks],
        low=[float(w.low) / 1000 for w in result.weeks],
        high=[float(w.high) / 1000 for w in result.weeks],
        line=[float(w.baseline) / 1000 for w in result.weeks],
        bar_label=t["expected"],
        line_label=t["baseline"],
        notes=result.assumptions[:2]
        if lang == "en"
        else [
            f"Cox-Modell der Tage bis zur Zahlung, geschätzt aus {result.trained_on} am "
            f"{result.as_of:%d.%m.%Y} bekannten Rechnungen; offene gelten als noch nicht bezahlt",
            f"Intervall: {LOW}. bis {HIGH}. Perzentil aus {DRAWS} Ziehungen",
        ],
    )
