"""`mahnwerk letters …` and `mahnwerk dispatch` as a user types them."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from mahnwerk.cli import app

from .helpers import ENV, NOW, write_config

runner = CliRunner()


def test_letters_check_passes_for_the_shipped_templates():
    result = runner.invoke(app, ["letters", "check"])
    assert result.exit_code == 0, result.output
    assert "templates: ok" in result.output


def test_letters_check_refuses_a_subject_with_debt_words(tmp_path):
    (tmp_path / "zahlungserinnerung.de.email.j2").write_text(
        '{% extends "_email.de.j2" %}{% block subject %}Letzte Mahnung{% endblock %}'
        "{% block body %}x{% endblock %}"
    )
    result = runner.invoke(app, ["letters", "check", "--templates", str(tmp_path)])
    assert result.exit_code == 1
    assert "zahlungserinnerung.de.email.j2: E1:" in result.output


def test_preview_shows_the_letter_for_an_invoice(engine, db_url, seed, tmp_path):
    c = seed.customer("K1")
    seed.invoice(c, "R2026-0042", amount="1234.56")
    config = write_config(tmp_path / "mahnwerk.toml")
    pdf = tmp_path / "preview.pdf"
    result = runner.invoke(
        app,
        [
            "letters",
            "preview",
            "--invoice",
            "R2026-0042",
            "--template",
            "mahnung_1",
            "--db",
            db_url,
            "--config",
            str(config),
            "--on",
            "2026-05-04",
            "--pdf",
            str(pdf),
        ],
    )
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "1. Mahnung" in out and "Guten Tag Erika Mustermann," in out
    assert "1.240,34 €" in out and "bis zum 14.05.2026" in out
    assert pdf.read_bytes().startswith(b"%PDF")


def test_preview_names_template_and_line_of_a_missing_variable(engine, db_url, seed, tmp_path):
    c = seed.customer("K1")
    seed.invoice(c, "R1")
    folder = tmp_path / "vorlagen"
    folder.mkdir()
    (folder / "mahnung_1.de.letter.j2").write_text(
        '{% extends "_letter.de.j2" %}\n{% block subject %}1. Mahnung{% endblock %}\n'
        "{% block body %}\nVertrag Nr. {{ vertrag.nummer }}\n{% endblock %}\n"
    )
    config = write_config(tmp_path / "mahnwerk.toml")
    result = runner.invoke(
        app,
        [
            "letters",
            "preview",
            "--invoice",
            "R1",
            "--template",
            "mahnung_1",
            "--db",
            db_url,
            "--config",
            str(config),
            "--templates",
            str(folder),
        ],
    )
    assert result.exit_code == 1
    assert "mahnung_1.de.letter.j2:4: missing variable: 'vertrag' is undefined" in result.output


def test_a_wrong_iban_stops_dispatch_with_file_and_key(engine, db_url, tmp_path):
    config = write_config(tmp_path / "mahnwerk.toml")
    config.write_text(config.read_text().replace("DE89 3704", "DE88 3704"))
    result = runner.invoke(app, ["dispatch", "--db", db_url, "--config", str(config)])
    assert result.exit_code == 2
    assert f"{config}: [creditor] iban: invalid IBAN" in result.output


def test_dispatch_dry_run_from_the_command_line(engine, db_url, seed, tmp_path, smtp_server):
    c = seed.customer("K1")
    i = seed.invoice(c, "R1")
    seed.queue(i, c, "mahnung_1", "letter")
    config = write_config(tmp_path / "mahnwerk.toml", smtp_server)
    out = tmp_path / "vorschau"
    result = runner.invoke(
        app,
        [
            "dispatch",
            "--dry-run",
            "--out",
            str(out),
            "--now",
            NOW.isoformat(),
            "--db",
            db_url,
            "--config",
            str(config),
        ],
        env=ENV,
    )
    assert result.exit_code == 0, result.output
    assert "1 due: 1 written in 1 message(s)" in result.output
    assert len(list(Path(out).glob("K1_mahnung_1_*.pdf"))) == 1
    result = runner.invoke(
        app,
        ["dispatch", "--now", NOW.isoformat(), "--db", db_url, "--config", str(config), "--json"],
        env=ENV,
    )
    assert result.exit_code == 0, result.output
    assert '"rows_sent": 1' in result.output
