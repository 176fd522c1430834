"""The daily run against a real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from mahnwerk.engine import approvals
from mahnwerk.engine import models as m
from mahnwerk.engine.policies import DeployRefused, PolicySet, deploy
from mahnwerk.engine.runner import run
from mahnwerk.engine.store import invoices as queries

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


def test_a_run_after_thirty_days_off_moves_one_letter_level_and_times_the_next_from_it(
    deployed,
):
    """A letter that is not sent never happened: after an outage the run sends the level due
    now (no fee for the 1st Mahnung nobody received), and the next level counts from it."""
    engine, policies = deployed
    seed(engine, [("R1", "K1", "100.00"), ("R2", "K2", "999.99"), ("R3", "K3", "3.00")])
    run(engine, DUE, policies, at(DUE))
    end = DUE + timedelta(days=30)  # daily runs would have sent the 1st Mahnung on 7 May
    stats = run(engine, end, policies, at(end))
    assert stats.superseded == 0
    rows = queries.list_invoices(engine)
    assert {(r["invoice"], r["state"], r["entered_on"]) for r in rows} == {
        (i, "erinnerung", end.isoformat()) for i in ("R1", "R2", "R3")
    }
    def sent(invoice: str) -> list[tuple[str, str]]:
        return [(o["template"], o["not_before"][:10])
                for o in queries.timeline(engine, invoice)["messages"]]

    assert sent("R2") == [("vorab_hinweis", "2025-04-15"), ("zahlungserinnerung", "2025-05-15")]
    assert [x["kind"] for x in queries.timeline(engine, "R2")["ledger"]] == ["principal"]
    for day in days(end + timedelta(days=1), end + timedelta(days=14)):
        run(engine, day, policies, at(day))
    # the 1st Mahnung 14 days after the reminder that really went out (Thu 29 May is
    # Ascension Day: the letter goes out on Friday), with its fee
    assert sent("R2")[-1] == ("mahnung_1", "2025-05-30")
    fees = [(x["date"], x["amount"]) for x in queries.timeline(engine, "R2")["ledger"]
            if x["kind"] == "fee"]
    assert fees == [("2025-05-29", "1.00")]
    # D4: the policy's 14 days between letters count from Friday, when it went out: the
    # 2nd Mahnung (`after 14d in mahnung_1`, due on 12 June) goes on 13 June
    for day in days(end + timedelta(days=15), date(2025, 6, 13)):
        run(engine, day, policies, at(day))
    assert sent("R2")[-1] == ("mahnung_2", "2025-06-13")
    assert sent("R3")[-1][0] == "zahlungserinnerung"  # C7: below 5 EUR, one reminder only


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
    kinds = [e["kind"] for e in queries.timeline(engine, "R1")["events"]]
    # 41 daily runs after the dispute was recorded: it is received and noted once, not daily
    assert kinds[kinds.index("received_dispute_opened"):] == ["received_dispute_opened", "note"]
    with engine.connect() as conn:
        applied = conn.execute(select(m.INBOX.c.applied_run_id)).scalars().all()
    assert len(applied) == 1 and applied[0] is not None


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


def test_a_ninety_day_contact_limit_counts_contacts_older_than_sixty_days(engine, tmp_path):
    """`at most 2 contacts per 90 days` (issue 20): K1 had letters on 1 and 11 February;
    the reminder of Wednesday 23 April would be a third contact within 90 days, so it
    waits until 1 February has left the window — Friday 2 May, 08:00 in Berlin — and the
    note before the due date, which could not go out before it, is never queued.  The run
    loaded 60 days of contacts only and sent both at once."""
    source = POLICY.read_text(encoding="utf-8").replace(
        "fees at most 2.50 EUR }", "fees at most 2.50 EUR  at most 2 contacts per 90 days }"
    )
    path = tmp_path / "ninety.mahn"
    path.write_text(source, encoding="utf-8")
    deploy(engine, path, at(ISSUE))
    seed(engine, [("R1", "K1", "100.00")])
    out = m.Outbox.__table__
    with engine.begin() as conn:
        customer = conn.execute(select(m.Customer.__table__.c.id)).scalar_one()
        conn.execute(insert(out), [
            {"idempotency_key": f"old{n}", "customer_id": customer, "channel": "letter",
             "template": "mahnung_1", "language": "de", "status": "sent",
             "not_before": at(day), "created_at": at(day), "payload": "{}"}
            for n, day in enumerate((date(2025, 2, 1), date(2025, 2, 11)))
        ])  # fmt: skip
    policies = PolicySet.load(engine)
    for day in days(ISSUE, DUE + timedelta(days=8)):
        run(engine, day, policies, at(day))
    with engine.connect() as conn:
        queued = conn.execute(
            select(out.c.template, out.c.status, out.c.not_before).where(out.c.status != "sent")
        ).all()
    assert [(t, s, nb.replace(tzinfo=None)) for t, s, nb in queued] == [
        ("zahlungserinnerung", "queued", datetime(2025, 5, 2, 6, 0)),
    ]
