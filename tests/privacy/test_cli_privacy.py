"""`mahnwerk customer export|erase` as a user types it (SQLite, and PostgreSQL when configured).

Exit codes are interface: 0 done, 1 an unknown customer or a refused erasure,
2 a malformed value.  The wall clock is set through `cli._now`, as in
tests/test_cli_engine.py.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import mahnwerk.cli as cli
from mahnwerk.cli import app

POLICY = Path(__file__).parents[1] / "engine" / "data" / "runner_policy.mahn"
DATA = Path(__file__).with_name("data")


class Mahnwerk:
    def __init__(self, db_url: str, monkeypatch: pytest.MonkeyPatch):
        self.db = db_url
        self.monkeypatch = monkeypatch

    def today(self, day: date) -> None:
        moment = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
        self.monkeypatch.setattr(cli, "_now", lambda: moment)

    def __call__(self, *args: Any, code: int = 0):
        argv = [str(a) for a in args] + ["--db", self.db]
        result = CliRunner().invoke(app, argv)
        assert result.exit_code == code, (argv, result.stdout, result.stderr)
        return result


@pytest.fixture
def mw(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Mahnwerk:
    """K1 paid R1 and owes R2; K3 never had an invoice."""
    mw = Mahnwerk(db_url, monkeypatch)
    mw.today(date(2016, 4, 1))
    mw("init")
    for kind in ("customers", "invoices", "payments"):
        mw("import", kind, DATA / f"{kind}.csv")
    mw("policy", "deploy", POLICY, "--yes")
    mw("run", "--as-of", "2016-06-01")
    return mw


def test_export_to_a_file_and_to_stdout(mw: Mahnwerk, tmp_path: Path):
    out = tmp_path / "auskunft-K1.json"
    said = mw("customer", "export", "K1", "--out", out).stdout
    assert said.startswith(f"exported customer K1 to {out} (2 invoices")
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["customer"]["name"] == "Schmidt, Anna"
    assert [i["external_id"] for i in data["invoices"]] == ["R1", "R2"]
    assert json.loads(mw("customer", "export", "K1").stdout) == data


def test_an_unknown_customer_exits_1_with_a_hint(mw: Mahnwerk):
    for argv in (("export", "K404"), ("erase", "K404")):
        err = mw("customer", *argv, code=1).stderr
        assert "no customer 'K404'" in err and "(customer_id) of the import" in err


def test_erase_is_refused_while_an_invoice_is_open_then_limited_then_anonymised(mw: Mahnwerk):
    mw.today(date(2016, 6, 1))
    err = mw("customer", "erase", "K1", code=1).stderr
    assert "R2 (" in err and "Art. 17(3)(e)" in err and "nothing changed" in err
    mw("event", "write-off", "R2", "--on", "2016-06-01")
    mw("run", "--as-of", "2016-06-02")

    mw.today(date(2026, 11, 23))
    out = mw("customer", "erase", "K1").stdout
    assert "email, phone" in out and "until 2026-12-31" in out and "from 2027-01-01" in out
    customer = json.loads(mw("customer", "export", "K1").stdout)["customer"]
    assert customer["email"] is None and customer["name"] == "Schmidt, Anna"
    err = mw("customer", "erase", "K1", "--as-of", "2027-01-01", code=1).stderr
    assert "in the future" in err

    mw.today(date(2027, 1, 1))
    out = mw("customer", "erase", "K1").stdout
    assert out.startswith("customer K1 anonymised:")
    text = mw("customer", "export", "K1").stdout
    assert "Schmidt" not in text and "Lindenstra" not in text and "anna.schmidt" not in text


def test_a_customer_without_bookings_is_anonymised_at_once(mw: Mahnwerk):
    mw.today(date(2016, 6, 1))
    out = mw("customer", "erase", "K3").stdout
    assert "customer K3 anonymised" in out
    assert "already anonymised" in mw("customer", "erase", "K3").stdout


def test_malformed_values_exit_2(mw: Mahnwerk):
    err = mw("customer", "erase", "K1", "--as-of", "1.1.2027", code=2).stderr
    assert "YYYY-MM-DD" in err
