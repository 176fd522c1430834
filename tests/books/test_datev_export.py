"""`mahnwerk export datev`: a DATEV booking batch of what the ledger holds, each booking once.

The file is read back with a reader written here from DATEV's documented layout (not with
the writer's code): header fields by position, 125 columns on every line, amounts with a
decimal comma and the S/H flag, accounts of the configured chart, Belegfeld 1 the invoice
number, the document date as DDMM — and the sums per kind equal the ledger's.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from typer.testing import CliRunner

from mahnwerk.cli import app
from mahnwerk.engine import models as m
from mahnwerk.engine.accounting.accounts import CHARTS, parse_datev
from mahnwerk.engine.accounting.export import ExportRefused, export_datev
from mahnwerk.engine.policies import PolicySet, deploy
from mahnwerk.engine.runner import run
from mahnwerk.engine.store.invoices import record_event

POLICY = """policy "datev-test" version 1 {
  currency EUR  timezone "Europe/Berlin"  calendar DE region from customer  language de
  limits { minimum balance 5.00 EUR  letters at least 14 days apart  fees at most 2.50 EUR }
  segment business when customer.type == B2B use b2b
  segment default use standard
  ladder standard {
    state erinnerung at 7d after due { email "zahlungserinnerung" }
    state mahnung_1 after 14d in erinnerung { letter "mahnung_1"; fee 1.00 EUR; interest statutory }
    state mahnung_2 after 14d in mahnung_1 { letter "mahnung_2"; fee 1.00 EUR; wait }
  }
  ladder b2b {
    state erinnerung at 7d after due { email "zahlungserinnerung" }
    state mahnung_1 after 14d in erinnerung { letter "mahnung_1"; lump sum; interest statutory }
    state mahnung_2 after 14d in mahnung_1 { letter "mahnung_2"; fee 2.50 EUR; wait }
  }
  on write_off stop -> written_off
}
"""
ISSUE, DUE = date(2026, 1, 5), date(2026, 1, 19)


def at(day: date) -> datetime:
    return datetime.combine(day, time(6, 0), UTC)


@pytest.fixture
def book(engine, tmp_path: Path):
    """Two consumers and two businesses dunned through February; one invoice written off."""
    with engine.begin() as conn:
        conn.execute(insert(m.Customer.__table__), [
            {"external_id": "10001", "name": "Anna Berger", "type": "B2C", "region": "BE"},
            {"external_id": "K-77", "name": "Bernd Čech", "type": "B2C", "region": "BE"},
            {"external_id": "20002", "name": "Carl GmbH", "type": "B2B", "region": "BY"},
            {"external_id": "20003", "name": "Dora AG", "type": "B2B", "region": "BY"},
        ])
        ids = dict(conn.execute(select(m.Customer.__table__.c.external_id,
                                       m.Customer.__table__.c.id)).all())
        conn.execute(insert(m.Invoice.__table__), [
            {"external_id": f"R-{n}", "customer_id": ids[c], "issue_date": ISSUE,
             "due_date": DUE, "amount": Decimal(a), "currency": "EUR"}
            for n, c, a in (("1", "10001", "1190.00"), ("2", "K-77", "250.00"),
                            ("3", "20002", "8000.00"), ("4", "20003", "120.50"))
        ])
    policy = tmp_path / "datev.mahn"
    policy.write_text(POLICY, encoding="utf-8")
    deploy(engine, policy, at(ISSUE))
    # the days a weekly operator runs it: each ladder level, a write-off, interest to March
    for day in (date(2026, 1, 26), date(2026, 2, 9), date(2026, 2, 20), date(2026, 2, 23),
                date(2026, 3, 10)):
        if day == date(2026, 2, 20):
            record_event(engine, "R-4", "write_off", day, "anna.schulz", at(day))
        run(engine, day, PolicySet.load(engine), at(day))
    return engine


def settings(chart: str = "SKR03"):
    return parse_datev({"datev": {"consultant": 29098, "client": 55003, "chart": chart}},
                       "mahnwerk.toml", {})


def read_batch(path: Path) -> tuple[list[str], list[str], list[dict[str, str]]]:
    """DATEV's layout, read independently: header, column names, one dict per booking."""
    raw = path.read_bytes()
    assert b"\r\n" in raw and not raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("cp1252"), newline=""), delimiter=";"))
    header, names, lines = rows[0], rows[1], rows[2:]
    assert len(names) == 125 and all(len(line) == 125 for line in lines)
    return header, names, [dict(zip(names, line, strict=True)) for line in lines]


def amount(row: dict[str, str]) -> Decimal:
    value = Decimal(row["Umsatz (ohne Soll/Haben-Kz)"].replace(",", "."))
    assert value > 0
    return value if row["Soll/Haben-Kennzeichen"] == "S" else -value


def ledger_sums(engine, start: date, end: date) -> dict[str, Decimal]:
    led = m.Ledger.__table__
    with engine.connect() as conn:
        rows = conn.execute(
            select(led.c.kind, func.sum(led.c.amount))
            .where(led.c.booked_on.between(start, end),
                   led.c.kind.in_(["fee", "lump_sum", "interest", "write_off"]))
            .group_by(led.c.kind)
        ).all()
    return {kind: Decimal(total) for kind, total in rows}


@pytest.mark.parametrize("chart", ["SKR03", "SKR04"])
def test_the_batch_reads_back_with_every_booking_and_sum(book, tmp_path: Path, chart: str):
    start, end = date(2026, 1, 1), date(2026, 3, 31)
    out = tmp_path / "EXTF_Buchungsstapel.csv"
    result = export_datev(book, settings(chart), start, end, out,
                          now=datetime(2026, 4, 2, 8, 30, 15, 123000, UTC))
    header, names, rows = read_batch(out)
    assert header[:5] == ["EXTF", "700", "21", "Buchungsstapel", "13"]
    assert header[5] == "20260402083015123"
    assert header[10:16] == ["29098", "55003", "20260101", "4", "20260101", "20260331"]
    assert header[26] == chart[-2:]
    assert names[:14] == [
        "Umsatz (ohne Soll/Haben-Kz)", "Soll/Haben-Kennzeichen", "WKZ Umsatz", "Kurs",
        "Basis-Umsatz", "WKZ Basis-Umsatz", "Konto", "Gegenkonto (ohne BU-Schlüssel)",
        "BU-Schlüssel", "Belegdatum", "Belegfeld 1", "Belegfeld 2", "Skonto", "Buchungstext",
    ]
    expected = ledger_sums(book, start, end)
    assert set(expected) == {"fee", "lump_sum", "interest", "write_off"}
    accounts = CHARTS[chart]
    by_account: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        by_account[row["Gegenkonto (ohne BU-Schlüssel)"]] += amount(row)
        assert row["Belegfeld 1"] in {"R-1", "R-2", "R-3", "R-4"}
        assert row["WKZ Umsatz"] == "EUR" and len(row["Belegdatum"]) == 4
        assert len(row["Buchungstext"]) <= 60 and row["Buchungs GUID"]
    assert by_account[str(accounts["interest"])] == expected["interest"]
    assert by_account[str(accounts["write_off"])] == expected["write_off"] < 0
    assert by_account[str(accounts["fees"])] == expected["fee"] + expected["lump_sum"]
    assert result.bookings == len(rows) and result.total == sum(expected.values())
    # debtors: the customer's account where the number is one, else the collective 10000
    debtors = Counter((row["Konto"], row["Belegfeld 1"]) for row in rows)
    assert {k for k, _ in debtors} <= {"10001", "10000", "20002", "20003"}
    assert all(k == "10000" for k, inv in debtors if inv == "R-2")
    assert any("Kd K-77" in row["Buchungstext"] for row in rows)
    lump = [r for r in rows if r["Buchungstext"].startswith("Verzugspauschale")]
    assert [amount(r) for r in lump] == [Decimal("40.00")] * 2


def test_a_second_export_of_the_period_is_empty_unless_again(book, tmp_path: Path):
    start, end = date(2026, 1, 1), date(2026, 3, 31)
    first = export_datev(book, settings(), start, end, tmp_path / "a.csv")
    second = export_datev(book, settings(), start, end, tmp_path / "b.csv")
    assert second.path is None and second.bookings == 0 and second.already == first.bookings
    assert not (tmp_path / "b.csv").exists()
    assert "nothing to export" in str(second)
    again = export_datev(book, settings(), start, end, tmp_path / "c.csv", again=True)
    assert again.bookings == first.bookings
    _, _, rows_a = read_batch(tmp_path / "a.csv")
    _, _, rows_c = read_batch(tmp_path / "c.csv")
    assert rows_a == rows_c  # the same GUIDs: DATEV recognises the repeat
    # a later run's bookings go out in the next batch, the old ones not again
    run(book, date(2026, 3, 11), PolicySet.load(book), at(date(2026, 3, 11)))
    with book.begin() as conn:
        conn.execute(insert(m.Ledger.__table__).values(
            invoice_id=1, kind="fee", amount=Decimal("1.00"), booked_on=date(2026, 3, 20)))
    later = export_datev(book, settings(), start, end, tmp_path / "d.csv")
    assert later.bookings == 1


def test_a_period_across_fiscal_years_is_refused(book, tmp_path: Path):
    with pytest.raises(ExportRefused, match="within one fiscal year"):
        export_datev(book, settings(), date(2025, 12, 1), date(2026, 1, 31), tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_the_command_exports_once_and_lists_batches(book, db_url: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    missing = runner.invoke(app, ["export", "datev", "--from", "01.01.2026", "--to",
                                  "31.03.2026", "--db", db_url])
    assert missing.exit_code == 1 and "[datev]" in missing.stderr
    (tmp_path / "mahnwerk.toml").write_text(
        '[datev]\nconsultant = 29098\nclient = 55003\nchart = "SKR04"\n', encoding="utf-8")
    first = runner.invoke(app, ["export", "datev", "--from", "01.01.2026", "--to",
                                "31.03.2026", "--db", db_url])
    assert first.exit_code == 0, first.output
    assert (tmp_path / "EXTF_Buchungsstapel_20260101_20260331.csv").is_file()
    second = runner.invoke(app, ["export", "datev", "--from", "2026-01-01", "--to",
                                 "2026-03-31", "--db", db_url, "--out", "zwei.csv"])
    assert second.exit_code == 0 and "nothing to export" in second.stdout
    listed = runner.invoke(app, ["export", "datev", "--list", "--db", db_url])
    assert "1 batch(es)" in listed.stdout and "01.01.2026–31.03.2026" in listed.stdout
