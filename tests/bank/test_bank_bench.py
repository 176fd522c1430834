"""`bench/bench_bank.py` keeps working, and its generated statement is matched safely."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from mahnwerk.engine.bank import read_statement

SCRIPT = Path(__file__).parents[2] / "bench" / "bench_bank.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_bank", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_statement_is_matched_mostly_and_rarely_wrong(tmp_path: Path) -> None:
    bench = _bench()
    out = tmp_path / "generated.xml"
    report = bench.generated(seed=3, credits=300, out=out)
    table = report["table"]
    credits = sum(row["credits"] for row in table.values())
    auto = sum(row["auto"] for row in table.values())
    wrong = sum(row["wrong"] for row in table.values())
    assert credits == len(read_statement(out))
    assert table["stranger"]["auto"] == 0  # strangers' money is never booked
    assert table["clean"]["auto"] == table["clean"]["credits"]
    assert auto / credits > 0.6
    assert wrong <= credits * 0.01


def test_sample_table_covers_every_sample_file() -> None:
    rows = _bench().samples()
    by_file = {r["file"]: r for r in rows}
    assert by_file["mt940/sepa_mt9401.sta"]["reference"] == 21
    assert by_file["own/camt053_de_cases.xml"]["queue"] == 2
    assert all(r["credits"] == r["reference"] + r["near"] + r["amount"] + r["queue"] for r in rows)
