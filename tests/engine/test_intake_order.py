"""Intake takes up every new invoice, whatever order the invoices were committed in.

On PostgreSQL an id is handed out when a row is inserted, not when it commits: a long
import that inserted R-early (id 1) commits after a quick one that inserted R-late (id 2)
and a run that took R-late up in between.  Intake used to take `id > max(seen)`, so
R-early was never dunned.  Two real connections play the two imports.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from mahnwerk.engine import models as m
from mahnwerk.engine.policies import PolicySet, deploy
from mahnwerk.engine.runner import run

POLICY = Path(__file__).with_name("data") / "runner_policy.mahn"
DAY = date(2025, 4, 20)


def _invoice(conn, number: str, customer_id: int) -> None:
    conn.execute(
        insert(m.INV).values(
            external_id=number,
            customer_id=customer_id,
            issue_date=date(2025, 4, 1),
            due_date=date(2025, 4, 15),
            amount=Decimal("100.00"),
            currency="EUR",
        )
    )


def test_invoice_committed_after_a_later_numbered_one_is_taken_up(engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: its commits cannot interleave")
    deploy(engine, POLICY, datetime.combine(DAY, time(6), UTC))
    policies = PolicySet.load(engine)
    with engine.begin() as conn:
        cid = conn.execute(
            insert(m.CUST).values(external_id="K1", name="Kunde", type="B2C", region="BE")
        ).inserted_primary_key[0]
    slow = engine.connect()
    slow_tx = slow.begin()
    _invoice(slow, "R-EARLY", cid)  # gets the lower id, commits last
    with engine.begin() as quick:
        _invoice(quick, "R-LATE", cid)
    first = run(engine, DAY, policies, datetime.combine(DAY, time(6), UTC))
    slow_tx.commit()
    slow.close()
    second = run(engine, DAY, policies, datetime.combine(DAY, time(7), UTC))
    with engine.connect() as conn:
        ids = dict(conn.execute(select(m.INV.c.external_id, m.INV.c.id)).all())
        taken = set(conn.execute(select(m.DS.c.invoice_id)).scalars())
    assert ids["R-EARLY"] < ids["R-LATE"]
    assert (first.new_invoices, second.new_invoices) == (1, 1)
    assert taken == {ids["R-EARLY"], ids["R-LATE"]}
