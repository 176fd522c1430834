"""Skonto terms on the invoice: read from XRechnung's BT-20 and from the CSV columns.

A term that cannot be read is a located error (file, line, what to write); the three tiers
of the XRechnung suite's case 01.10a import as three tiers; the net due date stays the
invoice's due date.
"""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from mahnwerk.engine import models as m
from mahnwerk.engine.einvoice.load import due_date_of, import_einvoices, read_document
from mahnwerk.engine.importer import ImportFailed, import_file
from mahnwerk.engine.terms import TermError, Tier, parse_bt20, tiers_from_json

sys.path.insert(0, str(Path(__file__).parent.parent / "books"))
from books_data import XRECHNUNG, variant  # noqa: E402

INV = m.Invoice.__table__


def test_bt20_lines_become_tiers_in_the_order_written():
    text = "#SKONTO#TAGE=7#PROZENT=2.00#\n#SKONTO#TAGE=14#PROZENT=1.00#BASISBETRAG=500.00#\n"
    assert parse_bt20(text) == (
        Tier(7, Decimal("2.00")),
        Tier(14, Decimal("1.00"), Decimal("500.00")),
    )


def test_free_text_and_other_structured_lines_are_not_skonto():
    assert parse_bt20("Zahlbar innerhalb 30 Tagen netto.\n#VERZUG#TAGE=14#PROZENT=5.00#") == ()


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("#SKONTO#TAGE=7#PROZENT=zwei#", "PROZENT 'zwei' is not a number"),
        ("#SKONTO#TAGE=sieben#PROZENT=2.00#", "not a whole number of days"),
        ("#SKONTO#PROZENT=2.00#", "does not say TAGE"),
        ("#SKONTO#TAGE=7#PROZENT=2.00", "does not end with '#'"),
        ("#SKONTO#TAGE=7#PROZENT=2.00#RABATT=1#", "unknown field RABATT"),
        ("#SKONTO#TAGE=7#PROZENT=120#", "not a percentage below 100"),
    ],
)
def test_an_unreadable_skonto_line_is_named_with_its_line(line: str, says: str):
    with pytest.raises(TermError) as exc:
        parse_bt20(f"Vielen Dank.\n{line}\n")
    assert exc.value.line == 2
    assert says in exc.value.message
    assert exc.value.hint


@pytest.fixture
def fresh(tmp_path: Path) -> Engine:
    from mahnwerk.engine.store.db import init_db, make_engine

    url = f"sqlite:///{tmp_path / 'book.db'}"
    init_db(url)
    return make_engine(url)


@pytest.mark.parametrize("syntax", ["ubl", "uncefact"])
def test_the_xrechnung_case_with_three_tiers_imports_all_three(fresh: Engine, syntax: str):
    import_einvoices(fresh, [XRECHNUNG / f"01.10a-INVOICE_{syntax}.xml"])
    with fresh.connect() as conn:
        row = conn.execute(select(INV)).one()
    assert tiers_from_json(row.skonto_terms) == (
        Tier(7, Decimal("2.00")),
        Tier(14, Decimal("1.00")),
        Tier(30, Decimal("0.00")),
    )
    assert row.due_date == row.issue_date  # the Skonto days do not move the net due date


def test_a_broken_skonto_line_stops_the_einvoice_import_with_file_and_line(
    fresh: Engine, tmp_path: Path
):
    source = XRECHNUNG / "01.10a-INVOICE_ubl.xml"
    path = variant(
        source,
        tmp_path,
        "broken.xml",
        **{r"#SKONTO#TAGE=14#PROZENT=1.00#": "#SKONTO#TAGE=14#PROZENT=1,00#"},
    )
    with pytest.raises(ImportFailed) as exc:
        import_einvoices(fresh, [path])
    text = str(exc.value)
    assert f"{path}:107:" in text  # the line of the XML file the tier stands on
    assert "payment terms (BT-20) line 2" in text and "PROZENT '1,00' is not a number" in text
    with fresh.connect() as conn:
        assert conn.execute(select(INV)).all() == []  # nothing imported


def test_a_skonto_period_in_free_text_is_not_the_net_due_date(tmp_path: Path):
    source = XRECHNUNG / "01.01a-INVOICE_ubl.xml"
    note = r"<cbc:Note>Zahlbar sofort ohne Abzug.</cbc:Note>"
    terms = "2 % Skonto bei Zahlung innerhalb von 7 Tagen, netto 30 Tage"
    path = variant(source, tmp_path, "terms.xml", **{note: f"<cbc:Note>{terms}</cbc:Note>"})
    doc = read_document(path)
    assert (due_date_of(doc) - doc.issue_date).days == 30


def _customers(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "kunden.csv"
    path.write_text("Kundennummer;Name;Typ\nK1;Muster GmbH;B2B\n", encoding="utf-8")
    import_file(engine, "customers", path)


def test_csv_skonto_columns_with_german_headers(fresh: Engine, tmp_path: Path):
    _customers(fresh, tmp_path)
    path = tmp_path / "rechnungen.csv"
    path.write_text(
        "Rechnungsnummer;Kundennummer;Rechnungsdatum;Fälligkeit;Betrag;"
        "Skonto 1 Tage;Skonto 1 Prozent;Skonto 2 Tage;Skonto 2 Prozent;Skonto 2 Basis\n"
        "R1;K1;01.03.2026;31.03.2026;1.200,00;10;2,00;14;1 %;1.000,00\n"
        "R2;K1;01.03.2026;31.03.2026;500,00;;;;;\n",
        encoding="utf-8",
    )
    import_file(fresh, "invoices", path)
    with fresh.connect() as conn:
        rows = {r.external_id: r for r in conn.execute(select(INV))}
    assert tiers_from_json(rows["R1"].skonto_terms) == (
        Tier(10, Decimal("2.00")),
        Tier(14, Decimal("1"), Decimal("1000.00")),
    )
    assert rows["R1"].due_date == date(2026, 3, 31)
    assert rows["R2"].skonto_terms is None


def test_a_half_tier_or_a_bad_percent_is_a_located_error(fresh: Engine, tmp_path: Path):
    _customers(fresh, tmp_path)
    path = tmp_path / "rechnungen.csv"
    path.write_text(
        "Rechnungsnummer;Kundennummer;Rechnungsdatum;Fälligkeit;Betrag;Skontotage;Skontosatz\n"
        "R1;K1;01.03.2026;31.03.2026;100,00;10;\n"
        "R2;K1;01.03.2026;31.03.2026;100,00;10;zwei\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportFailed) as exc:
        import_file(fresh, "invoices", path)
    text = str(exc.value)
    assert f"{path}:2:Skontosatz: Skonto tier 1 has no percent" in text
    assert f"{path}:3:Skontosatz: Skonto percent 'zwei' is not a percentage" in text
    with fresh.connect() as conn:
        assert conn.execute(select(INV)).all() == []
