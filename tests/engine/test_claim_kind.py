"""A4/A7: the kind of claim comes in with the invoice file and decides points and lump sum."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from mahnwerk.engine.importer import ImportFailed, import_file, parse_claim_kind
from mahnwerk.engine.models import INV
from mahnwerk.engine.store import invoice_value

CUSTOMERS = "Kundennummer;Name;Typ\nK1;Bau Nord GmbH;B2B\n"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Entgelt", "goods_services"),
        ("Lieferung", "goods_services"),
        ("services", "goods_services"),
        ("", "goods_services"),
        ("sonstige Geldforderung", "other"),
        ("Darlehen", "other"),
        ("Schadensersatz", "other"),
        ("other money debt", "other"),
    ],
)
def test_german_and_english_words_for_the_kind_of_claim(text: str, kind: str) -> None:
    assert parse_claim_kind(text) == kind


@pytest.mark.parametrize("header", ["Forderungsart", "Art der Forderung", "kind of claim"])
def test_the_column_reaches_the_engine_under_each_header(
    engine: Engine, tmp_path: Path, header: str
) -> None:
    (tmp_path / "k.csv").write_text(CUSTOMERS, encoding="utf-8")
    (tmp_path / "r.csv").write_text(
        f"Rechnungsnummer;Kundennummer;Rechnungsdatum;Fälligkeit;Betrag;{header}\n"
        "R1;K1;01.04.2025;15.04.2025;100,00;Darlehen\n"
        "R2;K1;01.04.2025;15.04.2025;100,00;Entgelt\n",
        encoding="utf-8",
    )
    import_file(engine, "customers", tmp_path / "k.csv")
    import_file(engine, "invoices", tmp_path / "r.csv")
    with engine.connect() as conn:
        rows = {r.external_id: r for r in conn.execute(select(INV))}
    assert not invoice_value(rows["R1"], "K1").goods_or_services
    assert invoice_value(rows["R2"], "K1").goods_or_services


def test_an_unknown_kind_is_named_with_line_and_column_and_nothing_is_imported(
    engine: Engine, tmp_path: Path
) -> None:
    (tmp_path / "k.csv").write_text(CUSTOMERS, encoding="utf-8")
    path = tmp_path / "r.csv"
    path.write_text(
        "Rechnungsnummer;Kundennummer;Rechnungsdatum;Fälligkeit;Betrag;Forderungsart\n"
        "R1;K1;01.04.2025;15.04.2025;100,00;Entgelt\n"
        "R2;K1;01.04.2025;15.04.2025;100,00;Provision\n",
        encoding="utf-8",
    )
    import_file(engine, "customers", tmp_path / "k.csv")
    with pytest.raises(ImportFailed) as failed:
        import_file(engine, "invoices", path)
    text = str(failed.value)
    assert "r.csv:3" in text and "not a kind of claim: 'Provision'" in text
    assert "sonstige" in text  # what to write instead
    with engine.connect() as conn:
        assert conn.execute(select(INV)).first() is None
