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
from mahnwerk.engine.store.run import customers as _customers

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


def _tell_why(engine: Engine, reason: str, day: date, invoice: str | None = None) -> None:
    """An answer to the portal's "tell us why", given the way a customer gives it: through
    a link of theirs, a form token spent, `portal.actions.feedback`."""
    from mahnwerk.engine.comms.config import Portal
    from mahnwerk.portal import actions, links
    from mahnwerk.portal.guard import issue_form
    from mahnwerk.portal.view import load_page

    now = datetime.combine(day, datetime.min.time(), UTC).replace(hour=12)
    with engine.begin() as conn:
        cid = conn.execute(select(m.CUST.c.id)).scalar_one()
        link = links.create(conn, cid, "K1", Portal(), now, "test")
        nonce = issue_form(conn, link.id, now)
    page = load_page(engine, cid, day)
    actions.feedback(engine, page, link, nonce, reason, "", invoice, "127.0.0.1", day, now,
                     Portal())  # fmt: skip


def test_analyse_stores_the_reason_the_customer_last_gave_and_runs_read_it(dunned: Engine):
    """The portal's "tell us why" becomes a behaviour fact: the last reason (by `as_of`),
    when, how many answers; the summary counts last reasons per segment; a policy reads
    it as `customer.feedback`."""
    _tell_why(dunned, "forgot", date(2026, 3, 21), invoice="B")
    _tell_why(dunned, "cash_flow", date(2026, 3, 25))
    result = analyse(dunned, LAST, NOW)
    out = explain_customer(dunned, "K1")
    assert (out["feedback_reason"], out["feedback_on"], out["feedback_answers"]) == (
        "cash_flow", "2026-03-25", 2,
    )  # fmt: skip
    with dunned.connect() as conn:
        segment = conn.execute(
            select(m.DS.c.segment).join(m.INV, m.INV.c.id == m.DS.c.invoice_id)
            .where(m.INV.c.external_id == "B")
        ).scalar_one()  # fmt: skip
        cid = conn.execute(select(m.CUST.c.id)).scalar_one()
        assert _customers(conn, [cid])[cid].facts()["customer.feedback"] == "cash_flow"
    assert result.feedback == {segment: {"cash_flow": 1}}
    assert result.as_dict()["feedback"] == {segment: {"cash_flow": 1}}
    # an analysis of an earlier day knows only the answers given by then
    earlier = analyse(dunned, date(2026, 3, 22), NOW)
    again = explain_customer(dunned, "K1")
    assert (again["feedback_reason"], again["feedback_answers"]) == ("forgot", 1)
    assert earlier.feedback == {segment: {"forgot": 1}}
    analyse(dunned, date(2026, 3, 20), NOW)
    assert explain_customer(dunned, "K1")["feedback_reason"] is None


def test_a_policy_can_segment_on_what_the_customer_told_us():
    source = """policy "why" version 1 {
  currency EUR
  timezone "Europe/Berlin"
  calendar DE
  language de
  segment short_of_cash when customer.feedback == "cash_flow" use ladder1
  segment default use ladder1
  ladder ladder1 {
    state erinnerung "Zahlungserinnerung" at 7d after due { email "zahlungserinnerung" }
    state klaerung "Klärung" after 14d in erinnerung { notify "forderungsmanagement" wait }
  }
}
"""
    compiled = compile_source(source, "why.mahn")
    invoice = {"amount": 100, "issue_date": "2026-03-01", "due_date": "2026-03-31"}
    day = date(2026, 4, 10)
    said = explain(compiled, {"type": "B2B", "feedback": "cash_flow"}, invoice, day)
    assert "segment 'short_of_cash' walks ladder 'ladder1'" in said
    other = explain(compiled, {"type": "B2B", "feedback": "forgot"}, invoice, day)
    assert "segment 'default' walks ladder 'ladder1'" in other
