"""Reports on a dunned database, checked against figures worked out by hand (see conftest)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from mahnwerk.engine import reports

LAST = date(2026, 3, 31)  # the scenario's last day (conftest.py)


def row(report: reports.Report, first: str) -> dict:
    return next(r for r in report.records() if r[report.columns[0]] == first)


def test_aging_puts_the_open_invoice_in_its_bucket(dunned: Engine):
    aging = reports.aging(dunned, LAST)
    assert row(aging, "1-30") == {
        "days past due": "1-30",
        "invoices": 1,
        "amount EUR": "200.00",
        "share %": "100.0",
    }
    assert row(aging, "total")["amount EUR"] == "200.00"
    assert row(aging, "not yet due")["invoices"] == 0
    # on 03-12 A was paid (03-10), B not yet due, C seven days overdue
    early = reports.aging(dunned, date(2026, 3, 12))
    assert row(early, "not yet due")["amount EUR"] == "200.00"
    assert row(early, "1-30")["amount EUR"] == "50.00"


def test_dso_and_cei_follow_the_textbook_formulas(dunned: Engine):
    march = row(reports.dso(dunned, LAST), "2026-03")
    # receivables 200 at the end of March, credit sales 350 in 31 days
    assert march["receivables EUR"] == "200.00" and march["credit sales EUR"] == "350.00"
    assert Decimal(march["DSO"]) == (Decimal(200) / Decimal(350) * 31).quantize(Decimal("0.1"))
    cei = row(reports.effectiveness(dunned, LAST), "2026-03")
    # (0 + 350 - 200) / (0 + 350 - 0) x 100: nothing still current at the end of March
    assert cei["ending current EUR"] == "0.00"
    assert cei["CEI %"] == "42.9"


def test_stages_show_where_the_money_came_in(dunned: Engine):
    stages = reports.stages(dunned, LAST)
    erinnerung = row(stages, "erinnerung")
    # C was reminded on 03-12 and paid 50.00 three days later, from that state
    assert erinnerung["paid while in it EUR"] == "50.00"
    assert erinnerung["paid in full from it"] == 1
    assert erinnerung["median days to payment"] == "3.0"
    # A paid 100.00 on 03-10, before its note three days ahead of the due date
    assert row(stages, "open")["paid while in it EUR"] == "100.00"
    assert row(stages, "vorab")["paid while in it EUR"] == "0.00"
    assert row(stages, "vorab")["invoices entered"] == 2  # B and C
    total = sum(Decimal(r["paid while in it EUR"]) for r in stages.records())
    assert total == Decimal("150.00")


def test_channels_count_payments_within_n_days_of_a_message(dunned: Engine):
    channels = reports.channels(dunned, LAST, within=14)
    reminder = next(r for r in channels.records() if r["template"] == "zahlungserinnerung")
    # C's reminder (03-12) was paid 03-15; B's (03-27) is not yet 14 days old
    assert reminder["messages"] == 2
    assert reminder["observable"] == 1
    assert reminder["paid within 14d"] == 1
    assert reminder["paid within 14d %"] == "100.0"


def test_every_report_renders_as_csv_json_and_png(dunned: Engine, tmp_path: Path):
    for name, make in reports.REPORTS.items():
        report = make(dunned, LAST)
        lines = report.to_csv().splitlines()
        assert lines[0].split(";")[0] == report.columns[0]
        assert len(lines) == len(report.rows) + 1
        assert json.loads(report.to_json())["report"] == name
        png = report.to_png(tmp_path / f"{name}.png")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.texts]


def test_charts_are_fit_for_a_slide_in_german_and_english(dunned: Engine, tmp_path: Path):
    """Titles, units, the period and the language; no "total" bar; 1600 x 900 PNG and SVG."""
    from matplotlib.image import imread

    from mahnwerk.engine.charts import figure

    aging = reports.aging(dunned, LAST)
    german = figure(aging.to_chart("de"))
    assert _texts(german)[:2] == [
        "Offene Forderungen nach Tagen überfällig",
        "Stand 31.03.2026; Saldo aller Rechnungen laut Hauptbuch, auch übergebene",
    ]
    ax = german.axes[0]
    assert ax.get_ylabel() == "T€"
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert "total" not in labels and labels[0] == "nicht fällig" and labels[-1] == "über 180"
    assert len(ax.patches) == len(labels) == 6
    assert max(p.get_height() for p in ax.patches) == 0.2  # 200.00 EUR in T€
    english = figure(aging.to_chart("en"))
    assert _texts(english)[0] == "Open receivables by days past due"
    assert english.axes[0].get_ylabel() == "k€"
    png = aging.to_png(tmp_path / "aging.png", "de")
    assert imread(png).shape[:2] == (900, 1600)
    assert png.with_suffix(".svg").read_text().startswith("<?xml")


def test_a_month_cut_short_is_marked_partial(dunned: Engine):
    from mahnwerk.engine.charts import figure

    mid = date(2026, 3, 20)
    dso = reports.dso(dunned, mid)
    chart = dso.to_chart("de")
    assert chart.partial == frozenset({0})
    ax = figure(chart).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2026-03 (Teil)"]
    assert ax.patches[0].get_hatch() == "//"
    assert "schraffiert: angebrochener Monat" in _texts(figure(chart))
    assert reports.dso(dunned, LAST).to_chart("de").partial == frozenset()


def test_labels_that_would_overlap_turn_the_chart_horizontal(dunned: Engine):
    from mahnwerk.engine.charts import LABEL_ROOM, Chart, figure

    states = ["erinnerung", "mahnung_1", "letzte_mahnung", "inkasso_ankuendigung"] * 4
    crowded = Chart("t", "s", "T€", states, [1.0] * len(states))
    assert len(states) * len("inkasso_ankuendigung") > LABEL_ROOM
    ax = figure(crowded).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == states
    assert ax.get_xlabel() == "T€"
    few = reports.channels(dunned, LAST).to_chart("de")
    ax = figure(few).axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels and all(label.startswith(("E-Mail", "Brief", "SMS", "Anruf")) for label in labels)
    assert ax.get_ylabel() == "%"


def test_a_report_day_years_after_the_last_booking_is_refused_at_once(dunned: Engine) -> None:
    """A far year asked the monthly reports for every month up to it, a pass over the ledger
    each: a generated `GET /reports/dso?as_of=…` kept a server at full CPU for minutes in CI,
    and 9999-12-31 ended in an OverflowError (a 500).  Now refused at once, naming the last
    day that can be asked for."""
    import time

    import pytest

    started = time.monotonic()
    for day in (date(2400, 1, 1), date(9999, 12, 31)):
        with pytest.raises(reports.ReportError, match="a year past the last booking"):
            reports.dso(dunned, day)
    assert time.monotonic() - started < 5
    assert reports.dso(dunned, date(2027, 3, 15)).rows  # within a year of 15 March: answered
