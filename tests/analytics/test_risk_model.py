"""The risk model and the scorecard on the real receivables history, tested honestly."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from mahnwerk.engine.calibration import load as load_calibration
from mahnwerk.engine.history import HistoryError, read_ar_csv
from mahnwerk.engine.risk import evaluate, examples, time_split


def test_the_history_reads_as_its_description_says(history_file: Path):
    invoices = read_ar_csv(history_file)
    cal = load_calibration()
    assert len(invoices) == cal["invoices"] == 2466
    assert len({i.customer for i in invoices}) == cal["customers"]
    late = sum(1 for i in invoices if (i.days_late or 0) > 0)
    assert round(late / len(invoices), 4) == cal["late_share"]
    assert all(i.due_date == i.issue_date + timedelta(days=30) for i in invoices)
    assert any(i.invoice.startswith("0") for i in invoices)  # leading zeros kept


def test_a_broken_history_names_file_line_and_column(tmp_path: Path):
    bad = tmp_path / "ar.csv"
    bad.write_text(
        "countryCode,customerID,PaperlessDate,invoiceNumber,InvoiceDate,DueDate,InvoiceAmount,"
        "Disputed,SettledDate,PaperlessBill,DaysToSettle,DaysLate\n"
        "391,0379-NEVHP,4/6/2013,0000611365,1/2/2013,2/1/2013,55.94,No,1/15/2013,Paper,13,0\n"
        "391,0379-NEVHP,4/6/2013,0000611366,2013-01-02,2/1/2013,55.94,No,,Paper,13,0\n",
        encoding="utf-8",
    )
    with pytest.raises(HistoryError, match=r"ar\.csv:3: column InvoiceDate: '2013-01-02'"):
        read_ar_csv(bad)
    missing = tmp_path / "short.csv"
    missing.write_text("customerID,invoiceNumber\n", encoding="utf-8")
    with pytest.raises(HistoryError, match=r"short\.csv:1: missing column\(s\) InvoiceDate"):
        read_ar_csv(missing)


def test_features_do_not_see_the_invoices_own_outcome(history_file: Path):
    invoices = read_ar_csv(history_file)
    target = next(i for i in invoices if (i.days_late or 0) > 10)
    moved = dataclasses.replace(target, paid_on=target.due_date - timedelta(days=20))
    swapped = [moved if i is target else i for i in invoices]
    before = {e.invoice.invoice: e.features for e in examples(invoices)}
    after = {e.invoice.invoice: e.features for e in examples(swapped)}
    assert before[target.invoice] == after[target.invoice]


def test_the_time_split_trains_only_on_outcomes_known_at_the_cut_off(history_file: Path):
    rows = examples(read_ar_csv(history_file))
    cutoff, train, test = time_split(rows)
    assert all(e.invoice.paid_on < cutoff for e in train)
    assert all(e.invoice.due_date >= cutoff for e in test)
    assert not {id(e) for e in train} & {id(e) for e in test}


def test_model_and_scorecard_rank_late_payers_well_on_held_out_invoices(history_file: Path):
    by_time, by_customer = evaluate(read_ar_csv(history_file))
    for result in (by_time, by_customer):
        assert result.test > 500
        assert result.auc_model > 0.8
        assert result.auc_scorecard > 0.8
        assert result.brier_model < result.brier_base  # better than guessing the base rate
        assert sum(r["invoices"] for r in result.reliability) == result.test
        # calibrated: the top decile is late far more often than the bottom one
        assert result.reliability[-1]["observed"] > 0.6 > 0.1 > result.reliability[0]["observed"]
    assert by_customer.split.startswith("by customer")
