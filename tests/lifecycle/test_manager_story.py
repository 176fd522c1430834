"""Issue 13, the finance manager's story, end to end on a real database.

She adds a segment for customers with a risk score above 80: a shorter ladder with a
phone call.  First she puts it below `risk_score >= 70`, where it can never match —
the checker says so.  Then its call template does not exist — `policy check`,
`letters check` and `policy deploy` refuse it at the policy line.  With the template in
her own folder (`[delivery] templates` in mahnwerk.toml) she simulates, reviews the
deploy (`--dry-run`: who moves where), deploys, and runs two weeks: the risky
customers' invoices are in the new segment and get the call, and the run queues
exactly the messages the simulation counted, per segment and template.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from typer.testing import CliRunner

import mahnwerk.cli as cli
from mahnwerk.cli import app
from mahnwerk.engine import models as m
from mahnwerk.engine.comms.config import EXAMPLE
from mahnwerk.engine.policies import PolicySet, deploy
from mahnwerk.engine.runner import run
from mahnwerk.engine.store import invoices as queries

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "policies" / "de_b2c_standard.mahn"
DATA = Path(__file__).with_name("data")
CHANGED = DATA / "b2c_risky_call.mahn"
SHADOWED = DATA / "b2c_risky_call_shadowed.mahn"
CALL_SCRIPT = ROOT / "engine" / "comms" / "templates" / "anruf_key_account.de.call.j2"
START, DEPLOY_DAY = date(2026, 2, 1), date(2026, 3, 2)
LAST = DEPLOY_DAY + timedelta(days=13)
CUSTOMERS = 40


def at(day: date) -> datetime:
    return datetime.combine(day, time(6, 0), UTC)


def risk(i: int) -> Decimal:
    return Decimal({0: 85, 1: 75}.get(i % 4, 20))


def seed(engine) -> None:
    with engine.begin() as conn:
        for i in range(CUSTOMERS):
            cid = conn.execute(
                insert(m.CUST).values(
                    external_id=f"K{i:03d}",
                    name=f"Kundin {i}",
                    type="B2C",
                    region="BE",
                    language="de",
                    risk_score=risk(i),
                )
            ).inserted_primary_key[0]
            due = START + timedelta(days=i % 20)
            conn.execute(
                insert(m.INV).values(
                    external_id=f"R{i:03d}",
                    customer_id=cid,
                    issue_date=due - timedelta(days=14),
                    due_date=due,
                    amount=Decimal("120.00") + i,
                    currency="EUR",
                )
            )


def daily(engine, first: date, last: date) -> None:
    policies = PolicySet.load(engine)
    day = first
    while day <= last:
        run(engine, day, policies, at(day))
        day += timedelta(days=1)


def mw(*args, code: int = 0):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == code, (args, result.stdout, result.stderr)
    return result


def open_invoices(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(
            select(m.INV.c.external_id, m.CUST.c.risk_score, m.DS.c.segment, m.DS.c.state)
            .join(m.DS, m.DS.c.invoice_id == m.INV.c.id)
            .join(m.CUST, m.CUST.c.id == m.INV.c.customer_id)
            .where(m.DS.c.state.not_in(["paid", "written_off", "handed_over", "insolvent"]))
        ).all()


def test_the_finance_managers_policy_change(engine, db_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_now", lambda: at(DEPLOY_DAY))
    seed(engine)
    deploy(engine, SHIPPED, at(START))
    daily(engine, START, DEPLOY_DAY - timedelta(days=1))
    before = open_invoices(engine)
    risky_before = [r for r in before if r.risk_score > 80]
    assert risky_before and {r.segment for r in risky_before} == {"high_risk"}

    # 1. below `risk_score >= 70` the new segment can never match: the checker says which line
    shadowed = mw("policy", "check", SHADOWED, code=1)
    assert (
        f"{SHADOWED}:36:3: error: segment 'risky' can never match: every customer with "
        "`customer.risk_score > 80` already matches segment 'high_risk' (line 35"
    ) in shadowed.stderr

    # 2. its call template does not exist: check, letters check and deploy refuse it
    missing = f"{CHANGED}:122:7: error: no template 'anruf_risiko' for call in language 'de'"
    assert missing in mw("policy", "check", CHANGED, code=1).stderr
    assert missing in mw("letters", "check", "--policy", CHANGED, code=1).stderr
    with engine.connect() as conn:
        versions = conn.execute(select(func.count()).select_from(m.PV)).scalar_one()
    refused = mw("policy", "deploy", CHANGED, "--yes", "--db", db_url, code=1)
    assert missing in refused.stdout and "2 template" not in refused.stderr
    assert "deploy refused: 1 template(s) missing" in refused.stderr
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(m.PV)).scalar_one() == versions

    # 3. the call script in her own template folder, named in mahnwerk.toml
    own = tmp_path / "vorlagen"
    own.mkdir()
    (own / "anruf_risiko.de.call.j2").write_text(CALL_SCRIPT.read_text(encoding="utf-8"))
    (tmp_path / "mahnwerk.toml").write_text(
        EXAMPLE.split("[smtp]")[0] + '\n[delivery]\ntemplates = "vorlagen"\n', encoding="utf-8"
    )
    assert f"{CHANGED}: ok" in mw("policy", "check", CHANGED).stdout
    mw("letters", "check", "--policy", CHANGED)

    # 4. the simulation of the two weeks after the deploy, against the current policy
    sim = mw(
        "simulate", "--policy", CHANGED, "--compare", SHIPPED, "--from", DEPLOY_DAY,
        "--to", LAST, "--db", db_url, "--json",
    )  # fmt: skip
    report = json.loads(sim.stdout)
    assert report["policies"] == [
        "de-b2c-standard version 2 (b2c_risky_call.mahn)",
        "de-b2c-standard version 1 (de_b2c_standard.mahn)",
    ]
    assert "a new step changes no one's behaviour" in report["assumptions"]
    predicted = {
        k.removeprefix("segment "): v[0]
        for k, v in report["figures"].items()
        if k.startswith("segment ") and not k.endswith(": invoices") and v[0]
    }
    calls = predicted.get("risky: call anruf_risiko", 0)
    assert calls > 0 and report["figures"]["segment risky: call anruf_risiko"][1] == 0

    # 5. the deploy preview: who moves where; without --yes a script is refused
    preview = mw("policy", "deploy", CHANGED, "--dry-run", "--db", db_url).stdout
    assert "policy 'de-b2c-standard' version 1 -> version 2" in preview
    moves = Counter((r.state) for r in risky_before)
    for state, count in moves.items():
        line = next(x for x in preview.splitlines() if x.strip().startswith(f"high_risk/{state} "))
        assert line.split() == [f"high_risk/{state}", "->", f"risky/{state}", str(count)]
    assert "+  segment risky       when customer.risk_score > 80" in preview
    assert "dry run: nothing deployed" in preview
    script = mw("policy", "deploy", CHANGED, "--db", db_url, code=1)
    assert "not on a terminal" in script.stderr
    deployed = mw("policy", "deploy", CHANGED, "--yes", "--db", db_url).stdout
    assert "replaced version 1" in deployed

    # 6. two weeks of runs
    with engine.connect() as conn:
        first_new = conn.execute(select(func.coalesce(func.max(m.OUTBOX.c.id), 0))).scalar_one()
    daily(engine, DEPLOY_DAY, LAST)
    after = open_invoices(engine)
    risky_after = [r for r in after if r.risk_score > 80]
    assert risky_after and {r.segment for r in risky_after} == {"risky"}
    with engine.connect() as conn:
        queued = conn.execute(
            select(m.OUTBOX.c.channel, m.OUTBOX.c.template, m.OUTBOX.c.payload, m.INV.c.external_id)
            .join(m.INV, m.INV.c.id == m.OUTBOX.c.invoice_id)
            .where(m.OUTBOX.c.id > first_new)
        ).all()
    called = {q.external_id for q in queued if q.channel == "call"}
    was_early = {r.external_id for r in risky_before if r.state in ("open", "vorab", "erinnerung")}
    assert called == was_early  # every risky invoice that had not passed the call gets it
    actual = Counter(
        f"{json.loads(q.payload)['segment']}: {q.channel} {q.template}" for q in queued
    )
    assert dict(actual) == predicted  # the simulation's counts, per segment and template

    # the move in the audit trail, citing both segment lines
    invoice = sorted(was_early)[0]
    moved = [
        e for e in queries.timeline(engine, invoice)["events"]
        if e["kind"] == "transition" and "segment change" in (e.get("message") or "")
    ]  # fmt: skip
    assert len(moved) == 1
    # both lines of the version that moves it: where it was (high_risk) and where it goes
    assert f"'high_risk' ({CHANGED}:36) -> 'risky' ({CHANGED}:35)" in moved[0]["message"]
    assert moved[0]["rule"] == f"{CHANGED}:35"


@pytest.fixture(autouse=True)
def _no_settings_from_the_environment(monkeypatch):
    monkeypatch.delenv("MAHNWERK_CONFIG", raising=False)
