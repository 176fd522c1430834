"""A small, hand-checkable dunning history in a real database, and the real AR history.

The scenario (one B2B customer, March 2026, policy `de_b2b_standard.yaml`):

* A  100.00 EUR, issued 03-01, due 03-15, paid in full 03-10 (before due);
* B  200.00 EUR, issued 03-05, due 03-20, still open on 03-31 (11 days overdue);
* C   50.00 EUR, issued 03-01, due 03-05, reminded 03-12 (7 days after due), paid 03-15.

Daily runs from 03-01 to 03-31.  The figures a finance manager would check by
hand follow from these lines (see the tests).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from mahnwerk.engine import models as m
from mahnwerk.engine.policies import PolicySet, deploy
from mahnwerk.engine.runner import run

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
B2B = POLICIES / "de_b2b_standard.yaml"
B2C = POLICIES / "de_b2c_standard.mahn"
HISTORY = ROOT.parent / "shared" / "data" / "WA_Fn-UseC_-Accounts-Receivable.csv"
NO_HISTORY = (
    "the accounts-receivable history (../shared/data) is not on this machine; "
    "it has no licence to ship, so tests that read it skip"
)
FIRST, LAST = date(2026, 3, 1), date(2026, 3, 31)
INVOICES = [
    ("A", date(2026, 3, 1), date(2026, 3, 15), "100.00", date(2026, 3, 10)),
    ("B", date(2026, 3, 5), date(2026, 3, 20), "200.00", None),
    ("C", date(2026, 3, 1), date(2026, 3, 5), "50.00", date(2026, 3, 15)),
]


def at(day: date) -> datetime:
    return datetime.combine(day, time(6, 0), UTC)


def dun(engine: Engine, policy: Path = B2B, customer_type: str = "B2B") -> None:
    """Seed the scenario and run every day of March; payments are booked on their day."""
    with engine.begin() as conn:
        conn.execute(
            insert(m.CUST),
            [{"external_id": "K1", "name": "Muster GmbH", "type": customer_type, "region": "BE"}],
        )
        cid = conn.execute(select(m.CUST.c.id)).scalar_one()
    deploy(engine, policy, at(FIRST))
    policies = PolicySet.load(engine)
    day = FIRST
    while day <= LAST:
        with engine.begin() as conn:
            for ext, issued, due, amount, paid in INVOICES:
                if issued == day:
                    conn.execute(
                        insert(m.INV).values(
                            external_id=ext,
                            customer_id=cid,
                            issue_date=issued,
                            due_date=due,
                            amount=Decimal(amount),
                            due_date_agreed=True,
                        )
                    )
                if paid == day:
                    iid = conn.execute(
                        select(m.INV.c.id).where(m.INV.c.external_id == ext)
                    ).scalar_one()
                    conn.execute(
                        insert(m.PAY).values(
                            external_id=f"Z-{ext}",
                            invoice_id=iid,
                            booked_on=day,
                            amount=Decimal(amount),
                        )
                    )
        run(engine, day, policies, at(day))
        day += timedelta(days=1)


@pytest.fixture
def dunned(engine: Engine) -> Engine:
    dun(engine)
    return engine


@pytest.fixture
def history_file() -> Path:
    if not HISTORY.exists():
        pytest.skip(NO_HISTORY)
    return HISTORY
