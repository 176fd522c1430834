"""`analyse` writes behaviour facts the next run reads, and policies can segment on them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Engine, func, select

from mahnwerk.dsl.compile import compile_source
from mahnwerk.engine import models as m
from mahnwerk.engine.analyse import analyse, explain_customer
from mahnwerk.engine.explain import explain
from mahnwerk.engine.runner import _customers

LAST = date(2026, 3, 31)
NOW = datetime(2026, 3, 31, 18, 0, tzinfo=UTC)


def test_analyse_stores_the_behaviour_and_the_run_reads_it_as_facts(dunned: Engine):
    result = analyse(dunned, LAST, NOW)
    assert result.customers == 1 and result.with_history == 1
    with dunned.connect() as conn:
        cid = conn.execute(select(m.CUST.c.id)).scalar_one()
        stored = conn.execute(select(m.CUST.c.risk_score, m.CUST.c.avg_days_late)).one()
        customer = _customers(conn, [cid])[cid]
    # A paid 5 days early (0 late), C paid 10 days late: 2 paid, half of them late
    assert stored.avg_days_late == Decimal("5.00")
    assert customer.late_share == Decimal("0.5000")
    assert customer.median_days_late == Decimal("5.00")
    assert customer.overdue_invoices == 1  # B
    facts = customer.facts()
    assert facts["customer.late_share"] == Decimal("0.5000")
    assert facts["customer.gone_quiet"] is False
    assert facts["customer.risk_score"] == stored.risk_score


def test_analyse_twice_writes_the_same_and_explains_the_score(dunned: Engine):
    analyse(dunned, LAST, NOW)
    first = explain_customer(dunned, "K1")
    analyse(dunned, LAST, NOW)
    with dunned.connect() as conn:
        assert conn.execute(select(func.count()).select_from(m.BEHAVIOUR)).scalar_one() == 1
    again = explain_customer(dunned, "K1")
    assert first == again
    points = sum(Decimal(p) for _, p in again["reasons"])
    assert Decimal(again["risk_score"]) == points
    assert any("paid late" in why for why, _ in again["reasons"])
    json.dumps(again)  # printable as JSON


def test_an_analysis_of_an_earlier_day_knows_only_that_day(dunned: Engine):
    analyse(dunned, date(2026, 3, 12), NOW)
    out = explain_customer(dunned, "K1")
    assert out["paid"] == 1 and out["late_share"] == "0.0000"  # C not yet paid on 03-12


def test_policies_can_segment_on_the_new_facts():
    source = """policy "behaviour" version 1 {
  currency EUR
  timezone "Europe/Berlin"
  calendar DE
  language de
  segment drifting when customer.trend_days > 3 or customer.late_share >= 0.5 use ladder1
  segment quiet when customer.gone_quiet and customer.disputes == 0 use ladder1
  segment default use ladder1
  ladder ladder1 {
    state erinnerung "Zahlungserinnerung" at 7d after due { email "zahlungserinnerung" }
    state klaerung "Klärung" after 14d in erinnerung { notify "forderungsmanagement" wait }
  }
}
"""
    compiled = compile_source(source, "behaviour.mahn")
    assert list(compiled.graphs) == ["drifting", "quiet", "default"]
    invoice = {"amount": 100, "issue_date": "2026-03-01", "due_date": "2026-03-31"}
    day = date(2026, 4, 10)
    drifting = explain(compiled, {"type": "B2B", "late_share": 0.6}, invoice, day)
    assert "segment 'drifting' walks ladder 'ladder1'" in drifting
    quiet = explain(compiled, {"type": "B2B", "gone_quiet": True}, invoice, day)
    assert "segment 'quiet' walks ladder 'ladder1'" in quiet


def test_the_model_option_fits_on_the_history_and_stores_a_probability(dunned: Engine):
    result = analyse(dunned, LAST, NOW, model=True)
    assert result.scored_by == "logistic regression"
    assert set(result.coefficients) >= {"late_share", "avg_days_late", "intercept"}
    out = explain_customer(dunned, "K1")
    assert 0 <= Decimal(out["risk_score"]) <= 100
    assert out["reasons"][-1][0].startswith("fitted model")
