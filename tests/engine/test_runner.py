"""The daily run against a real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from mahnwerk.engine import approvals, queries
from mahnwerk.engine import models as m
from mahnwerk.engine.policies import DeployRefused, PolicySet, deploy
from mahnwerk.engine.runner import run

POLICY = Path(__file__).with_name("data") / "runner_policy.mahn"
ISSUE = date(2025, 4, 1)
DUE = date(2025, 4, 15)


def at(day: date) -> datetime:
    return datetime.combine(day, time(6, 0), UTC)


def seed(engine, invoices: list[tuple[str, str, str]], customer_type: str = "B2C") -> None:
    """Customers and invoices: (invoice id, customer id, amount)."""
    with engine.begin() as conn:
        custs = sorted({c for _, c, _ in invoices})
        conn.execute(insert(m.Customer.__table__), [
            {"external_id": c, "name": f"Kunde {c}", "type": customer_type, "region": "BE"}
            for c in custs
        ])
        ids = dict(conn.execute(select(m.Customer.__table__.c.external_id,
                                       m.Customer.__table__.c.id)).all())
        conn.execute(insert(m.Invoice.__table__), [
            {"external_id": i, "customer_id": ids[c], "issue_date": ISSUE, "due_date": DUE,
             "amount": Decimal(a), "currency": "EUR"}
            for i, c, a in invoices
        ])


@pytest.fixture
def deployed(engine):
    deploy(engine, POLICY, at(ISSUE))
    return engine, PolicySet.load(engine)


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def snapshot(engine) -> dict:
    ds, led, out = m.DunningState.__table__, m.Ledger.__table__, m.Outbox.__table__
    with engine.connect() as conn:
        states = sorted(tuple(r) for r in conn.execute(
            select(ds.c.invoice_id, ds.c.state, ds.c.entered_on, ds.c.principal_open,
                   ds.c.fees_open, ds.c.interest_open)))
        ledger = sorted((r.invoice_id, r.kind, r.amount, r.booked_on)
                        for r in conn.execute(select(led)))
        outbox = conn.execute(select(func.count()).select_from(out)).scalar_one()
    return {"states": states, "ledger": ledger, "outbox": outbox}


def test_rerun_for_the_same_day_changes_nothing(deployed):
    engine, policies = deployed
    seed(engine, [("R1", "K1", "100.00"), ("R2", "K2", "250.00")])
    for day in days(ISSUE, DUE + timedelta(days=21)):
        run(engine, day, policies, at(day))
    before = snapshot(engine)
    stats = run(engine, DUE + timedelta(days=21), policies, at(DUE + timedelta(days=21)))
    assert stats.checked == 0 and stats.transitions == 0
    assert snapshot(engine) == before


def test_thirty_days_at_once_ends_like_thirty_daily_runs(engine, tmp_path):
    from mahnwerk.engine import db

    other_url = f"sqlite:///{tmp_path / 'daily.db'}"
    db.init_db(other_url)
    daily = db.make_engine(other_url)
    for e in (engine, daily):
        deploy(e, POLICY, at(ISSUE))
        seed(e, [("R1", "K1", "100.00"), ("R2", "K2", "999.99"), ("R3", "K3", "3.00")])
    pol_jump, pol_daily = PolicySet.load(engine), PolicySet.load(daily)
    run(engine, DUE, pol_jump, at(DUE))
    run(daily, DUE, pol_daily, at(DUE))
    end = DUE + timedelta(days=30)
    for day in days(DUE + timedelta(days=1), end):
        run(daily, day, pol_daily, at(day))
    run(engine, end, pol_jump, at(end))
    a, b = snapshot(engine), snapshot(daily)
    assert a["states"] == b["states"]
    assert a["ledger"] == b["ledger"]
    # catch-up queues one letter per invoice, daily runs one per level reached
    assert a["outbox"] <= b["outbox"]


def test_a_payment_named_only_in_the_reference_is_matched_and_applied(deployed):
    engine, policies = deployed
    seed(engine, [("R-2025-001", "K1", "100.00")])
    run(engine, ISSUE, policies, at(ISSUE))
    with engine.begin() as conn:
        conn.execute(insert(m.Payment.__table__).values(
            external_id="Z1", booked_on=DUE, amount=Decimal("100.00"), currency="EUR",
            reference="Rechnung R-2025-001 vielen Dank", source="import"))
    stats = run(engine, DUE, policies, at(DUE))
    assert stats.payments_applied == 1
    assert queries.list_invoices(engine)[0]["state"] == "paid"


def test_escalation_waits_for_two_different_approvers(deployed):
    engine, policies = deployed
    seed(engine, [("R1", "K1", "1500.00")])
    for day in days(ISSUE, DUE + timedelta(days=50)):
        run(engine, day, policies, at(day))
    waiting = approvals.pending(engine)
    assert [(w.invoice, w.target, w.required) for w in waiting] == [("R1", "inkasso", 2)]
    today = DUE + timedelta(days=50)
    approvals.decide(engine, waiting[0].id, "anna", True, at(today), today)
    with pytest.raises(approvals.ApprovalError, match="different person"):
        approvals.decide(engine, waiting[0].id, "anna", True, at(today), today)
    run(engine, today + timedelta(days=1), policies, at(today))
    assert queries.list_invoices(engine)[0]["state"] == "mahnung_2"  # still waiting
    approvals.decide(engine, waiting[0].id, "ben", True, at(today), today)
    run(engine, today + timedelta(days=1), policies, at(today))
    row = queries.list_invoices(engine)[0]
    assert row["state"] == "handed_over"
    kinds = [e["kind"] for e in queries.timeline(engine, "R1")["events"]]
    assert "task_handover" in kinds and kinds.count("approval_given") == 2


def test_a_rejected_escalation_puts_the_invoice_on_hold(deployed):
    engine, policies = deployed
    seed(engine, [("R1", "K1", "300.00")])
    for day in days(ISSUE, DUE + timedelta(days=50)):
        run(engine, day, policies, at(day))
    (item,) = approvals.pending(engine)
    today = DUE + timedelta(days=50)
    approvals.decide(engine, item.id, "anna", False, at(today), today, "Ratenzahlung vereinbart")
    for day in days(today + timedelta(days=1), today + timedelta(days=30)):
        run(engine, day, policies, at(day))
    row = queries.list_invoices(engine)[0]
    assert row["state"] == "mahnung_2" and row["held"]
    assert approvals.pending(engine) == []


def test_events_from_the_inbox_are_applied_once(deployed):
    engine, policies = deployed
    seed(engine, [("R1", "K1", "300.00")])
    run(engine, ISSUE, policies, at(ISSUE))
    queries.record_event(engine, "R1", "dispute_opened", DUE, "operator", at(DUE))
    for day in days(DUE, DUE + timedelta(days=40)):
        run(engine, day, policies, at(day))
    row = queries.list_invoices(engine)[0]
    assert row["disputed"] and row["state"] in ("open", "vorab")
    assert any(e["kind"] == "note" for e in queries.timeline(engine, "R1")["events"])


def test_every_transition_names_its_rule(deployed):
    engine, policies = deployed
    seed(engine, [("R1", "K1", "300.00")])
    for day in days(ISSUE, DUE + timedelta(days=22)):
        run(engine, day, policies, at(day))
    moves = [e for e in queries.timeline(engine, "R1")["events"] if e["kind"] == "transition"]
    assert [(e["to"], e["rule"]) for e in moves] == [
        ("vorab", f"{POLICY}:8"), ("erinnerung", f"{POLICY}:9"), ("mahnung_1", f"{POLICY}:10"),
    ]
    data = json.loads(json.dumps(queries.timeline(engine, "R1")))
    assert data["invoice"]["state"] == "mahnung_1"


def test_a_deploy_that_would_strand_invoices_is_refused(deployed, tmp_path):
    engine, policies = deployed
    seed(engine, [("R1", "K1", "300.00")])
    for day in days(ISSUE, DUE + timedelta(days=22)):
        run(engine, day, policies, at(day))
    text = POLICY.read_text().replace('version 1', 'version 2')
    text = text.replace("mahnung_1", "erste_mahnung")
    newer = tmp_path / "newer.mahn"
    newer.write_text(text)
    with pytest.raises(DeployRefused, match="R1"):
        deploy(engine, newer, at(DUE))
    same = tmp_path / "same.mahn"
    same.write_text(POLICY.read_text().replace('version 1', 'version 2'))
    _id, message = deploy(engine, same, at(DUE))
    assert "it takes over 1 invoice(s)" in message


def test_nothing_due_costs_nothing(deployed):
    engine, policies = deployed
    seed(engine, [(f"R{i}", f"K{i % 7}", "80.00") for i in range(200)])
    run(engine, ISSUE, policies, at(ISSUE))
    stats = run(engine, ISSUE + timedelta(days=1), policies, at(ISSUE))
    assert stats.checked == 0 and stats.new_invoices == 0
