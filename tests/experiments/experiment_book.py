"""A book of synthetic consumers for experiments, and customers who answer a message.

The challenger (`policies/experiments/de_b2c_nachfass.mahn`) is the shipped B2C policy
as version 2 with one extra step: a second, free e-mail reminder (`nachfass`) a week
after the first, the 1. Mahnung a week after that — so both arms send the Mahnung on the
same day.  The synthetic customers pay
with a known probability after the first reminder, and, if not, with another known
probability after the extra step — a known effect for the report to find.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, insert, select

from mahnwerk.engine import models as m
from mahnwerk.engine.policies import PolicySet
from mahnwerk.engine.runner import run

ROOT = Path(__file__).resolve().parents[2]
CHAMPION = ROOT / "policies" / "de_b2c_standard.mahn"
CHALLENGER = ROOT / "policies" / "experiments" / "de_b2c_nachfass.mahn"


def challenger_file(folder: Path) -> Path:
    """The shipped challenger (version 2 of the champion with the extra reminder)."""
    return CHALLENGER


def at(day: date) -> datetime:
    return datetime.combine(day, time(6, 0), UTC)


def add_customers(engine: Engine, first: int, count: int, issued: date) -> None:
    """`count` consumers K<first>.., one invoice each, due 14 days after issue."""
    with engine.begin() as conn:
        for i in range(first, first + count):
            cid = conn.execute(
                insert(m.CUST).values(external_id=f"K{i:04d}", name=f"Kunde {i}", type="B2C",
                                      region="BE", email=f"k{i}@example.org",
                                      vulnerable=i % 10 == 0)
            ).inserted_primary_key[0]  # fmt: skip
            day = issued + timedelta(days=i % 4)
            conn.execute(
                insert(m.INV).values(external_id=f"R{i:05d}", customer_id=cid, issue_date=day,
                                     due_date=day + timedelta(days=14),
                                     amount=Decimal(100 + 7 * (i % 30)), due_date_agreed=True)
            )  # fmt: skip


@dataclass
class Payers:
    """Customers who pay after a message with known probabilities (seeded per invoice)."""

    after_first: float
    after_extra: float
    lag_first: int = 4
    lag_extra: int = 3
    seed: int = 0
    due: dict[date, list[int]] = field(default_factory=dict)
    answered: set[tuple[int, str]] = field(default_factory=set)

    def read_post(self, engine: Engine, day: date) -> None:
        """After a run: who entered a reminder state today decides whether to pay."""
        with engine.connect() as conn:
            rows = conn.execute(
                select(m.DS.c.invoice_id, m.DS.c.state)
                .where(m.DS.c.state.in_(("erinnerung", "nachfass")), m.DS.c.entered_on == day)
            ).all()
        for invoice_id, state in rows:
            if (invoice_id, state) in self.answered:
                continue
            self.answered.add((invoice_id, state))
            rng = random.Random(f"{self.seed}:{invoice_id}:{state}")
            p, lag = ((self.after_first, self.lag_first) if state == "erinnerung"
                      else (self.after_extra, self.lag_extra))  # fmt: skip
            if rng.random() < p:
                self.due.setdefault(day + timedelta(days=lag), []).append(invoice_id)

    def pay(self, engine: Engine, day: date) -> None:
        """Before a run: the payments of the day, the invoice's whole balance."""
        with engine.begin() as conn:
            for invoice_id in self.due.pop(day, []):
                ds = conn.execute(select(m.DS).where(m.DS.c.invoice_id == invoice_id)).one()
                if ds.state == "paid":
                    continue
                balance = ds.principal_open + ds.fees_open + ds.interest_open
                conn.execute(insert(m.PAY).values(
                    external_id=f"Z{invoice_id}", booked_on=day, invoice_id=invoice_id,
                    amount=balance))  # fmt: skip


def dun(engine: Engine, payers: Payers, first: date, last: date,
        joining: tuple[date, int, int] | None = None) -> None:  # fmt: skip
    """Daily runs from `first` to `last`; `joining` = (day, first number, count) of customers
    who arrive during the experiment."""
    day = first
    while day <= last:
        if joining is not None and joining[0] == day:
            add_customers(engine, joining[1], joining[2], day)
        payers.pay(engine, day)
        run(engine, day, PolicySet.load(engine), at(day))
        payers.read_post(engine, day)
        day += timedelta(days=1)
