"""The three commands as a user runs them: analyse, report, simulate."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine
from typer.testing import CliRunner

from mahnwerk.cli import app

ROOT = Path(__file__).resolve().parents[2]
B2B = str(ROOT / "policies" / "de_b2b_standard.yaml")
B2C = str(ROOT / "policies" / "de_b2c_standard.mahn")
runner = CliRunner()


def test_analyse_then_explain_a_customer(dunned: Engine, db_url: str):
    out = runner.invoke(app, ["analyse", "--db", db_url])
    assert out.exit_code == 0, out.output
    assert "2026-03-31: 1 customers analysed (1 with paid invoices)" in out.output
    shown = runner.invoke(app, ["analyse", "--db", db_url, "--customer", "K1", "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["late_share"] == "0.5000"
    missing = runner.invoke(app, ["analyse", "--db", db_url, "--customer", "K9"])
    assert missing.exit_code == 1 and "run `mahnwerk analyse` first" in missing.output


def test_reports_in_every_format(dunned: Engine, db_url: str, tmp_path: Path):
    table = runner.invoke(app, ["report", "aging", "--db", db_url])
    assert table.exit_code == 0, table.output
    assert "200.00" in table.output and "1-30" in table.output
    csv_out = runner.invoke(app, ["report", "effectiveness", "--db", db_url, "--format", "csv"])
    assert "2026-03;0,00;350,00;200,00;0,00;42,9" in csv_out.output  # German Excel by default
    csv_en = runner.invoke(app, ["report", "effectiveness", "--db", db_url, "--format", "csv",
                                 "--lang", "en"])
    assert "2026-03,0.00,350.00,200.00,0.00,42.9" in csv_en.output
    saved = tmp_path / "cei.csv"
    runner.invoke(app, ["report", "effectiveness", "--db", db_url, "--format", "csv",
                        "-o", str(saved)])
    assert saved.read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads UTF-8
    book = tmp_path / "aging.xlsx"
    assert runner.invoke(app, ["report", "aging", "--db", db_url, "--format", "xlsx",
                               "-o", str(book)]).exit_code == 0
    from openpyxl import load_workbook

    sheet = load_workbook(book).active
    assert [c.value for c in sheet[1]][:3] == ["days past due", "invoices", "amount EUR"]
    assert any(r[2] == 200.0 for r in sheet.iter_rows(min_row=2, values_only=True))
    js = runner.invoke(app, ["report", "stages", "--db", db_url, "--format", "json"])
    assert json.loads(js.output)["report"] == "stages"
    png = tmp_path / "channels.png"
    made = runner.invoke(
        app, ["report", "channels", "--db", db_url, "--format", "png", "-o", str(png)]
    )
    assert made.exit_code == 0, made.output
    assert png.read_bytes()[:4] == b"\x89PNG" and png.with_suffix(".svg").is_file()
    pdf = tmp_path / "pack.pdf"
    packed = runner.invoke(app, ["report", "pack", "--month", "2026-03", "--db", db_url,
                                 "-o", str(pdf)])
    assert packed.exit_code == 0, packed.output
    from pypdf import PdfReader

    text = " ".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert "Offene Forderungen nach Tagen überfällig" in text and "Einzugsquote" in text
    # the forecast has its page even when this short book cannot fit its model
    assert "Erwarteter Zahlungseingang je Woche" in text
    assert "Keine Prognose am 31.03.2026: das Modell braucht mehr bezahlte Rechnungen" in text


def test_report_mistakes_are_named(dunned: Engine, db_url: str):
    out = runner.invoke(app, ["report", "ageing", "--db", db_url])
    assert out.exit_code == 2 and "unknown report 'ageing'" in out.output
    out = runner.invoke(app, ["report", "dso", "--db", db_url, "--as-of", "31.03.2026"])
    assert out.exit_code == 2 and "write YYYY-MM-DD" in out.output


def test_simulate_compares_two_policies_without_writing(dunned: Engine, db_url: str):
    args = ["simulate", "--policy", B2B, "--compare", B2C, "--from", "2026-03-01"]
    out = runner.invoke(app, [*args, "--to", "2026-03-31", "--db", db_url, "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["policies"] == [
        "de-b2b-standard version 1 (de_b2b_standard.yaml)",
        "de-b2c-standard version 1 (de_b2c_standard.mahn)",
    ]
    assert data["figures"]["invoices replayed"] == [3, 3]
    assert data["difference"]["invoices replayed"] == 0
    assert "customers pay on the days the history recorded" in data["assumptions"]
    bad = runner.invoke(app, [*args, "--to", "2026-02-01", "--db", db_url])
    assert bad.exit_code == 2 and "is before --from" in bad.output


def test_evaluate_and_simulate_on_the_real_history(history_file: Path):
    out = runner.invoke(app, ["analyse", "--evaluate", "--history", str(history_file), "--json"])
    assert out.exit_code == 0, out.output
    by_time = json.loads(out.output)[0]
    assert by_time["split"].startswith("by time") and by_time["auc_model"] > 0.8
    sim = runner.invoke(
        app,
        ["simulate", "--policy", B2B, "--compare", B2C, "--history", str(history_file)]
        + ["--from", "2013-01-01", "--to", "2013-12-31"],
    )
    assert sim.exit_code == 0, sim.output
    assert "lump sum charged EUR" in sim.output
