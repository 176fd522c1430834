"""Skonto through the whole book: CSV import, the daily run, the ledger, the outbox, DATEV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from mahnwerk.engine import models as m
from mahnwerk.engine.accounting.accounts import parse_datev
from mahnwerk.engine.accounting.export import export_datev
from mahnwerk.engine.importer import import_file
from mahnwerk.engine.policies import PolicySet, deploy
from mahnwerk.engine.runner import run

POLICY = """policy "skonto-books" version 1 {
  currency EUR  timezone "Europe/Berlin"  calendar DE  language de
  segment default use standard
  ladder standard {
    state erinnerung at 7d after due { email "zahlungserinnerung" }
    state mahnung_1 after 14d in erinnerung { letter "mahnung_1"; fee 1.00 EUR; wait }
  }
}
"""


def at(day: date) -> datetime:
    return datetime.combine(day, time(6, 0), UTC)


@pytest.fixture
def book(engine, tmp_path: Path):
    (tmp_path / "k.csv").write_text(
        "Kundennummer;Name;Typ;E-Mail\n10001;Muster GmbH;B2B;ap@muster.example\n"
        "10002;Beispiel AG;B2B;ap@beispiel.example\n",
        encoding="utf-8",
    )
    (tmp_path / "r.csv").write_text(
        "Rechnungsnummer;Kundennummer;Rechnungsdatum;Fälligkeit;Betrag;Skonto 1 Tage;"
        "Skonto 1 Prozent\n"
        "R-1;10001;02.03.2026;01.04.2026;1.200,00;10;2,00\n"
        "R-2;10002;02.03.2026;01.04.2026;500,00;10;2,00\n",
        encoding="utf-8",
    )
    import_file(engine, "customers", tmp_path / "k.csv")
    import_file(engine, "invoices", tmp_path / "r.csv")
    policy = tmp_path / "p.mahn"
    policy.write_text(POLICY, encoding="utf-8")
    deploy(engine, policy, at(date(2026, 3, 2)))
    return engine


def _run(engine, start: date, end: date) -> None:
    day = start
    while day <= end:
        run(engine, day, PolicySet.load(engine), at(day))
        day += timedelta(days=1)


def test_skonto_in_time_settles_one_day_late_gets_the_skonto_letter(book, tmp_path: Path):
    (tmp_path / "z.csv").write_text(
        "Zahlungs-ID;Datum;Betrag;Rechnungsnummer\n"
        "Z-1;12.03.2026;1.176,00;R-1\n"  # the last day of the 2 % Skonto
        "Z-2;13.03.2026;490,00;R-2\n",  # one day late
        encoding="utf-8",
    )
    _run(book, date(2026, 3, 2), date(2026, 3, 11))
    import_file(book, "payments", tmp_path / "z.csv", now=at(date(2026, 3, 13)))
    _run(book, date(2026, 3, 12), date(2026, 5, 15))
    led, ds, inv, out = (
        m.Ledger.__table__,
        m.DunningState.__table__,
        m.Invoice.__table__,
        m.Outbox.__table__,
    )
    with book.connect() as conn:
        states = dict(
            conn.execute(
                select(inv.c.external_id, ds.c.state).join(ds, ds.c.invoice_id == inv.c.id)
            ).all()
        )
        skonto = conn.execute(
            select(led.c.amount, led.c.booked_on).where(led.c.kind == "skonto")
        ).all()
        fees = conn.execute(select(led.c.amount).where(led.c.kind == "fee")).all()
        letters = conn.execute(select(out.c.template, out.c.invoice_id)).all()
        r2 = conn.execute(
            select(ds).join(inv, inv.c.id == ds.c.invoice_id).where(inv.c.external_id == "R-2")
        ).one()
    assert states == {"R-1": "paid", "R-2": "open"}
    assert skonto == [(Decimal("-24.00"), date(2026, 3, 12))]
    assert fees == []
    assert [t for t, _ in letters] == ["skonto_nachforderung"]
    assert r2.principal_open == Decimal("10.00") and r2.deduction_on == date(2026, 3, 13)
    # the Skonto goes to DATEV on the Skonto account (SKR03 8730), as a credit on the debtor
    settings = parse_datev({"datev": {"consultant": 29098, "client": 55003}}, "m.toml", {})
    path = tmp_path / "EXTF.csv"
    export_datev(book, settings, date(2026, 3, 1), date(2026, 3, 31), path)
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("cp1252")), delimiter=";"))[2:]
    (booking,) = rows
    assert booking[:2] == ["24,00", "H"] and booking[6:8] == ["10001", "8730"]
    assert booking[13].startswith("Skonto R-1")


def test_the_skonto_report_weighs_the_discount_against_the_days_gained(book, tmp_path: Path):
    from mahnwerk.engine.reports import REPORTS

    (tmp_path / "r3.csv").write_text(
        "Rechnungsnummer;Kundennummer;Rechnungsdatum;Fälligkeit;Betrag\n"
        "R-3;10002;02.03.2026;01.04.2026;800,00\n",
        encoding="utf-8",
    )
    import_file(book, "invoices", tmp_path / "r3.csv")
    (tmp_path / "z.csv").write_text(
        "Zahlungs-ID;Datum;Betrag;Rechnungsnummer\n"
        "Z-1;12.03.2026;1.176,00;R-1\n"  # Skonto, 10 days after issue
        "Z-2;13.03.2026;490,00;R-2\n"  # deducted one day late
        "Z-3;01.04.2026;800,00;R-3\n",  # in full on the net due date, 30 days after issue
        encoding="utf-8",
    )
    import_file(book, "payments", tmp_path / "z.csv", now=at(date(2026, 4, 1)))
    _run(book, date(2026, 3, 2), date(2026, 4, 10))
    report = REPORTS["skonto"](book, date(2026, 4, 10))
    rows = {r[0]: r[1:] for r in report.rows}
    # 24 / 1176 × 365 / 20 days = 37.2 % a year: dearer than any overdraft
    assert rows["Skonto taken"] == [
        1,
        Decimal("24.00"),
        Decimal("10"),
        Decimal("20"),
        Decimal("37.2"),
    ]
    assert rows["paid without discount"][0] == 1 and rows["paid without discount"][2] == Decimal(
        "30"
    )
    assert rows["unjustified deductions"][:2] == [1, Decimal("10.00")]
    assert rows["… still open"][:2] == [1, Decimal("10.00")]
    assert rows["discounts honoured"][:2] == [0, Decimal("0.00")]


def test_terms_on_says_what_still_applies_to_a_stored_invoice(book):
    from mahnwerk.engine.skonto import terms_on

    with book.connect() as conn:
        (term,) = terms_on(conn, "R-1", date(2026, 3, 12))
        assert (term.kind, term.last_day, term.pay) == (
            "skonto",
            date(2026, 3, 12),
            Decimal("1176.00"),
        )
        assert terms_on(conn, "R-1", date(2026, 3, 13)) == ()
        assert terms_on(conn, "R-404", date(2026, 3, 1)) == ()
    _run(book, date(2026, 3, 2), date(2026, 3, 3))  # taken up by the engine: the same answer
    with book.connect() as conn:
        assert [t.pay for t in terms_on(conn, "R-1", date(2026, 3, 3))] == [Decimal("1176.00")]
