"""Snapshots of every chart's structure: titles, axes, labels, bars, legend and notes.

A chart that loses its unit, falls back to English, grows a "total" bar or turns its
labels is a regression a finance manager sees on the slide.  Each chart a user can make
(the five reports, the forecast, an experiment; German and English) is drawn from the
hand-checked book of `conftest.py`, and what a reader sees of it — not its pixels, which
change with matplotlib and fonts — is compared with `snapshots/charts.json`.

After an intended change: `MAHNWERK_UPDATE_SNAPSHOTS=1 pytest tests/analytics/
test_chart_snapshots.py`, then review the diff of the JSON file like code.
"""

from __future__ import annotations

import json
import os
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine

from mahnwerk.engine import reports

LAST = date(2026, 3, 31)
SNAPSHOTS = Path(__file__).with_name("snapshots") / "charts.json"
UPDATE = os.environ.get("MAHNWERK_UPDATE_SNAPSHOTS") == "1"
UNITS = ("T€", "k€", "Tage", "days", "%", "Rechnungen", "invoices", "Antworten", "answers")


def structure(chart) -> dict:  # type: ignore[no-untyped-def]
    """What a reader sees of a chart, as plain data."""
    from mahnwerk.engine.charts import figure

    fig = figure(chart)
    ax = fig.axes[0]
    horizontal = bool(ax.get_yticklabels()) and ax.yaxis_inverted()
    categories = ax.get_yticklabels() if horizontal else ax.get_xticklabels()
    legend = ax.get_legend()
    width, height = fig.get_size_inches() * fig.dpi
    return {
        "texts": [t.get_text() for t in fig.texts],  # title, period, notes
        "orientation": "horizontal" if horizontal else "vertical",
        "value_axis": ax.get_xlabel() if horizontal else ax.get_ylabel(),
        "category_axis": ax.get_ylabel() if horizontal else ax.get_xlabel(),
        "categories": [t.get_text() for t in categories],
        "bars": len(ax.patches),
        "hatched": [i for i, p in enumerate(ax.patches) if p.get_hatch()],
        "legend": [t.get_text() for t in legend.get_texts()] if legend else [],
        "size_px": [int(width), int(height)],
    }


def _experiment_chart(lang: str):  # type: ignore[no-untyped-def]
    """An experiment's chart from outcomes (the figures are the report's, not the engine's)."""
    from mahnwerk.engine.experiment_report import ExperimentReport, Outcome, chart
    from mahnwerk.engine.experiment_stats import compare

    rng = np.random.default_rng(1)
    start, day = date(2026, 3, 1), date(2026, 6, 30)
    outcomes = []
    for i in range(120):
        arm = "challenger" if i % 2 else "champion"
        paid = rng.random() < (0.6 if arm == "challenger" else 0.4)
        outcomes.append(Outcome(f"K{i}", arm, "default" if i % 3 else "high_risk",
                                date(2026, 3, 10), date(2026, 3, 20),
                                date(2026, 4, 1) if paid else None))  # fmt: skip
    from mahnwerk.engine.experiment_report import _tallies

    diffs = [compare(_tallies(outcomes, w, day)) for w in (30, 60)]
    rep = ExperimentReport("nachfass", "running", start, day, "de-b2c-standard version 1",
                           "de-b2c-standard version 2", Decimal("0.5"),
                           {"champion": 60, "challenger": 60}, outcomes, *diffs)  # fmt: skip
    return chart(rep, lang)


def _history() -> list:  # type: ignore[type-arg]
    """A year of 60 customers, one invoice a month, paid 0-30 days late (the book of
    conftest.py is too short to fit the forecast's model)."""
    from mahnwerk.engine.history import PastInvoice

    out = []
    for c in range(60):
        for month in range(12):
            issued = date(2025, 4, 1 + c % 20) + timedelta(days=30 * month)
            paid = issued + timedelta(days=14 + (c * 7 + month) % 31)
            out.append(PastInvoice(f"K{c}", f"R{c}-{month}", issued,
                                   issued + timedelta(days=14), Decimal("800.00"),
                                   paid_on=paid if paid <= LAST else None))  # fmt: skip
    return out


def _charts(engine: Engine) -> dict[str, object]:
    from mahnwerk.engine import forecast as fc
    from mahnwerk.engine.forecast_chart import forecast_chart

    model = fc.Model(_history(), LAST)
    result = fc.forecast(model, fc.open_items(_history(), LAST), 13)
    charts: dict[str, object] = {}
    for lang in ("de", "en"):
        for name, make in reports.REPORTS.items():
            report = make(engine, LAST)
            if report.chart is not None:  # a table-only report has nothing to draw
                charts[f"report {name} {lang}"] = report.to_chart(lang)
        charts[f"forecast {lang}"] = forecast_chart(result, lang)
        charts[f"experiment {lang}"] = _experiment_chart(lang)
    return charts


def test_every_chart_keeps_its_structure(dunned: Engine):
    seen = {name: structure(chart) for name, chart in _charts(dunned).items()}
    if UPDATE:
        SNAPSHOTS.parent.mkdir(exist_ok=True)
        SNAPSHOTS.write_text(json.dumps(seen, indent=1, ensure_ascii=False) + "\n", "utf-8")
        pytest.skip(f"snapshots written to {SNAPSHOTS}; review the diff")
    kept = json.loads(SNAPSHOTS.read_text("utf-8"))
    assert sorted(seen) == sorted(kept), "a chart was added or removed: update the snapshots"
    for name in kept:
        assert seen[name] == kept[name], name


def test_no_text_runs_off_the_slide(dunned: Engine):
    """Titles, periods and notes fit in the 1600 px (a long German title was cut off)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from mahnwerk.engine.charts import figure

    for name, chart in _charts(dunned).items():
        fig = figure(chart)
        renderer = FigureCanvasAgg(fig).get_renderer()
        for text in fig.texts:
            box = text.get_window_extent(renderer)
            assert box.x1 <= fig.bbox.width, (name, text.get_text())


def test_the_snapshots_say_what_a_slide_needs():
    """The stored snapshots themselves: a title and a period, a unit, German in German."""
    kept = json.loads(SNAPSHOTS.read_text("utf-8"))
    for name, chart in kept.items():
        assert len(chart["texts"]) >= 2 and all(chart["texts"][:2]), name
        assert chart["value_axis"] in UNITS, name
        assert "total" not in chart["categories"] and "Summe" not in chart["categories"], name
        assert chart["size_px"] == [1600, 900], name
        if name.endswith(" de"):
            assert chart["value_axis"] not in ("k€", "days", "invoices"), name
            english = ("recommendation", "model", "percentile", "as of", "paid within")
            assert not any(w in t for t in chart["texts"] for w in english), name


def test_an_expected_value_outside_its_interval_is_still_drawn():
    """A mean can lie above its 90 % percentile (a few large payments); the forecast's
    PNG then failed with "yerr must not contain negative values"."""
    from mahnwerk.engine.charts import Chart, figure

    chart = Chart("t", "s", "T€", ["01.04.", "08.04."], [5.0, 2.0], low=[1.0, 1.0],
                  high=[3.0, 3.0])  # fmt: skip
    ax = figure(chart).axes[0]
    (segments,) = [c for c in ax.collections if len(c.get_segments()) == 2]
    spans = sorted((float(s[0][1]), float(s[1][1])) for s in segments.get_segments())
    assert spans == [(1.0, 3.0), (1.0, 3.0)]
