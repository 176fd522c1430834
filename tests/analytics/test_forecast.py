"""The 13-week cash forecast: a survival model that knows who pays late, promises, a backtest.

Synthetic histories make the model's behaviour checkable by hand; the real
accounts-receivable history (../shared/data, skipped when absent) backtests it against
the baseline "due date + the customer's average delay".
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mahnwerk.cli import app
from mahnwerk.engine import forecast as fc
from mahnwerk.engine.history import PastInvoice, read_ar_csv

AS_OF = date(2025, 6, 30)
SHELF = Path(__file__).resolve().parents[3] / "shared" / "data"
HISTORY = SHELF / "WA_Fn-UseC_-Accounts-Receivable.csv"
NO_HISTORY = (
    "the accounts-receivable history (../shared/data) is not on this machine; "
    "it has no licence to ship, so tests that read it skip"
)


def history(seed: int = 3) -> list[PastInvoice]:
    """80 prompt customers (pay ~2 days after due) and 40 slow ones (~35 days after due)."""
    rng = random.Random(seed)
    out = []
    for c in range(120):
        slow = c >= 80
        day = date(2024, 7, 1) + timedelta(days=rng.randrange(20))
        n = 0
        while day <= AS_OF:
            due = day + timedelta(days=14)
            delay = rng.randint(30, 40) if slow else rng.randint(0, 4)
            paid = due + timedelta(days=delay)
            out.append(PastInvoice(f"K{c}", f"R{c}-{n}", day, due, Decimal("1000.00"),
                                   paid_on=paid if paid <= AS_OF + timedelta(days=200) else None))
            day += timedelta(days=30)
            n += 1
    return out


def known(items: list[PastInvoice]) -> list[PastInvoice]:
    """The history as it stood on AS_OF: later payments are not known yet."""
    return [PastInvoice(i.customer, i.invoice, i.issue_date, i.due_date, i.amount,
                        paid_on=i.paid_on if i.paid_on and i.paid_on <= AS_OF else None)
            for i in items]


def test_the_money_of_slow_payers_is_expected_later_than_that_of_prompt_ones():
    past = known(history())
    model = fc.Model(past, AS_OF)
    items = fc.open_items(past, AS_OF)
    prompt = [i for i in items if int(i.customer[1:]) < 80]
    slow = [i for i in items if int(i.customer[1:]) >= 80]

    def peak(result: fc.Forecast) -> int:
        return max(range(len(result.weeks)), key=lambda k: result.weeks[k].expected)

    fast_fc, slow_fc = fc.forecast(model, prompt), fc.forecast(model, slow)
    assert peak(fast_fc) < peak(slow_fc)
    for result in (fast_fc, slow_fc):
        total = sum(w.expected for w in result.weeks)
        assert abs(total - result.open_total) / result.open_total < Decimal("0.08")
        assert all(w.low <= w.expected <= w.high for w in result.weeks if w.expected > 50)


def test_a_promise_moves_the_expectation_into_its_week():
    past = known(history())
    model = fc.Model(past, AS_OF)
    item = next(i for i in fc.open_items(past, AS_OF) if int(i.customer[1:]) >= 80)
    promised = fc.OpenItem(item.invoice, item.customer, item.issue_date, item.due_date,
                           item.balance, promised_on=AS_OF + timedelta(days=16))
    without, with_ = fc.forecast(model, [item]), fc.forecast(model, [promised])
    week = 2  # day 16 lies in the third week (days 15-21)
    gained = with_.weeks[week].expected - without.weeks[week].expected
    assert gained >= Decimal(fc.PROMISE_KEPT) * item.balance * Decimal("0.6")
    assert any("promise" in a for a in with_.assumptions)


def test_too_little_history_is_a_clear_error():
    with pytest.raises(fc.ForecastError, match="too little history"):
        fc.Model(known(history())[:20], AS_OF)


@pytest.mark.skipif(not HISTORY.is_file(), reason=NO_HISTORY)
def test_on_the_real_history_the_model_beats_the_baseline():
    past = read_ar_csv(HISTORY)
    result = fc.backtest(past, date(2012, 7, 2), date(2013, 9, 2), every=56)
    assert result.origins >= 7
    assert result.mape < result.baseline_mape
    assert 0.6 <= result.coverage <= 0.95  # the 10-90 % interval should hold about 80 %


@pytest.mark.skipif(not HISTORY.is_file(), reason=NO_HISTORY)
def test_the_command_backtests_a_history_file():
    out = CliRunner().invoke(app, ["forecast", "--backtest", str(HISTORY), "--weeks", "8"])
    assert out.exit_code == 0, out.output
    assert "MAPE" in out.stdout and "baseline due date + average delay" in out.stdout


def test_the_command_says_when_the_history_is_too_short(dunned, db_url: str):
    out = CliRunner().invoke(app, ["forecast", "--db", db_url, "--as-of", "2026-03-31"])
    assert out.exit_code == 1
    assert "too little history" in out.stderr and "Traceback" not in out.output
