"""`mahnwerk import opos`: a DATEV open-items list as customers and open invoices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from mahnwerk.cli import app
from mahnwerk.engine import models as m
from mahnwerk.engine.accounting.opos import import_opos
from mahnwerk.engine.importer import ImportFailed

# As DATEV writes it: Windows-1252, ";", decimal comma, dd.mm.yyyy, S/H flag.
OPOS = (
    "Konto;Kontobezeichnung;Belegdatum;Belegfeld 1;Fälligkeit;Betrag;Soll/Haben;WKZ\r\n"
    "10001;Bäckerei Müller GmbH;03.02.2026;RE-2026-101;05.03.2026;1.190,00;S;EUR\r\n"
    "10001;Bäckerei Müller GmbH;10.02.2026;RE-2026-117;12.03.2026;238,50;S;EUR\r\n"
    "10002;Zimmerei Groß;15.02.2026;RE-2026-130;17.03.2026;4.760,00;S;EUR\r\n"
    "10002;Zimmerei Groß;20.02.2026;ZA-778;20.02.2026;500,00;H;EUR\r\n"
)


def opos_file(tmp_path: Path, text: str = OPOS) -> Path:
    path = tmp_path / "OPOS_Debitoren.csv"
    path.write_bytes(text.encode("cp1252"))
    return path


def test_open_items_become_customers_and_invoices(engine, tmp_path: Path):
    result = import_opos(engine, opos_file(tmp_path), "B2B")
    assert (result.customers, result.invoices) == (2, 3)
    assert "OPOS_Debitoren.csv:5: ZA-778 500,00 — a credit item, not imported" in str(result)
    with engine.connect() as conn:
        inv = {r.external_id: r for r in conn.execute(select(m.Invoice.__table__)).all()}
        names = dict(conn.execute(select(m.Customer.external_id, m.Customer.name)).all())
    assert names == {"10001": "Bäckerei Müller GmbH", "10002": "Zimmerei Groß"}
    assert inv["RE-2026-101"].amount == Decimal("1190.00")
    assert inv["RE-2026-101"].issue_date == date(2026, 2, 3)
    assert inv["RE-2026-101"].due_date == date(2026, 3, 5)
    assert sorted(inv) == ["RE-2026-101", "RE-2026-117", "RE-2026-130"]
    again = import_opos(engine, opos_file(tmp_path), "B2B")
    assert (again.customers, again.invoices, again.unchanged) == (0, 0, 3)


def test_new_customers_need_a_type_and_nothing_is_half_imported(engine, tmp_path: Path):
    with pytest.raises(ImportFailed) as refused:
        import_opos(engine, opos_file(tmp_path))
    text = str(refused.value)
    assert "OPOS_Debitoren.csv:2" in text and "--type B2B or --type B2C" in text
    broken = OPOS.replace("238,50", "238,5x")
    with pytest.raises(ImportFailed, match=r"OPOS_Debitoren.csv:3:Betrag"):
        import_opos(engine, opos_file(tmp_path, broken), "B2B")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(m.Customer.__table__)).scalar() == 0


def test_the_command_reads_a_datev_list(db_url: str, tmp_path: Path):
    runner = CliRunner()
    assert runner.invoke(app, ["init", "--db", db_url]).exit_code == 0
    done = runner.invoke(app, ["import", "opos", str(opos_file(tmp_path)), "--type", "B2B",
                               "--db", db_url])
    assert done.exit_code == 0, done.output
    assert "2 customer(s) and 3 invoice(s) new or updated" in done.stdout
