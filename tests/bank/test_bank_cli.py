"""`mahnwerk import bank` and `mahnwerk bank …` as a user types them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from mahnwerk.cli import app

BANK = Path(__file__).parents[1] / "data" / "bank"


def mahnwerk(db: str, *args: object, code: int = 0):
    result = CliRunner().invoke(app, [str(a) for a in args] + ["--db", db])
    assert result.exit_code == code, result.output
    return result


def test_import_list_assign_dismiss(db_url: str) -> None:
    mahnwerk(db_url, "init")
    mahnwerk(db_url, "import", "customers", BANK / "book" / "kunden.csv")
    mahnwerk(db_url, "import", "invoices", BANK / "book" / "rechnungen.csv")
    out = mahnwerk(db_url, "import", "bank", BANK / "own" / "camt053_de_cases.xml").output
    assert "7 credits: 5 matched (6 payments, 619.90 booked), 2 to the queue" in out
    assert "1 returns/reversals for review; 1 debits" in out
    again = mahnwerk(db_url, "import", "bank", BANK / "own" / "camt053_de_cases.xml").output
    assert "9 already imported), nothing new" in again

    queue = json.loads(mahnwerk(db_url, "bank", "unmatched", "--json").output)
    assert [(q["amount"], q["status"]) for q in queue] == [
        ("45.00", "unmatched"),
        ("12.34", "unmatched"),
        ("75.00", "review"),
    ]
    table = mahnwerk(db_url, "bank", "unmatched").output
    assert "Dieter Braun → K2004 Dieter Braun" in table
    assert "2 open invoices of exactly 45,00" in table

    braun, stranger, returned = (q["id"] for q in queue)
    done = mahnwerk(db_url, "bank", "assign", braun, "R2026000105").output
    assert f"bank entry {braun}: 45.00 to R2026000105" in done
    refused = mahnwerk(db_url, "bank", "assign", returned, "R2026000107", code=1)
    assert "not a payment" in refused.output
    mahnwerk(db_url, "bank", "dismiss", returned, "--reason", "neu eingezogen")
    mahnwerk(db_url, "bank", "assign", stranger, "R9999", code=1)
    left = json.loads(mahnwerk(db_url, "bank", "unmatched", "--json").output)
    assert [q["id"] for q in left] == [stranger]


def test_broken_file_fails_with_its_line_and_other_files_still_import(db_url: str) -> None:
    mahnwerk(db_url, "init")
    result = mahnwerk(
        db_url,
        "import",
        "bank",
        BANK / "mt940" / "february_30.sta",
        BANK / "camt" / "camt053.v2.minimal.xml",
        code=1,
    )
    assert "february_30.sta:6: :61: value date '160230' is no such day" in result.output
    assert "camt053.v2.minimal.xml: 1 entries; 1 credits: 0 matched" in result.output
