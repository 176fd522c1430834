"""`simulate --behaviour model`: a payment curve from the history, lifts from messages.

The lift is recovered from synthetic customers who answer one kind of message with a known
effect; in the replay a step changes the figures only through a learned lift, and both
policies meet the same random draws.
"""

from __future__ import annotations

import json
import math
import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from experiment_book import CHAMPION, challenger_file

from mahnwerk.dsl.compile import load_policy
from mahnwerk.engine import response_model as rm
from mahnwerk.engine import simulate as sim
from mahnwerk.engine.state import Customer, Invoice

HISTORY = Path(__file__).resolve().parents[3] / "shared" / "data" / (
    "WA_Fn-UseC_-Accounts-Receivable.csv")  # fmt: skip
NO_HISTORY = (
    "the accounts-receivable history (../shared/data) is not on this machine; "
    "it has no licence to ship, so tests that read it skip"
)


@pytest.mark.skipif(not HISTORY.is_file(), reason=NO_HISTORY)
def test_the_shipped_payment_curve_is_the_historys():
    stored = json.loads(
        (Path(rm.__file__).parent / "data" / "payment_hazard.json").read_text("utf-8"))  # fmt: skip
    assert rm.derive(HISTORY) == stored
    hazard, _ = rm.stored_baseline()
    # the sample: about 64 % paid by the due date, everyone within 45 days after it
    paid_by_due = 1 - math.prod(1 - h for h in hazard[: -rm.DAYS_FROM + 1])
    assert 0.60 < paid_by_due < 0.68


def test_a_known_lift_of_one_kind_of_message_is_recovered():
    """Letters double the chance to pay for 14 days; e-mails do nothing."""
    base = 0.02
    hazard = [base] * 120
    rng = random.Random(7)
    due = date(2026, 1, 1)
    messages, invoices = [], {}
    for i in range(3000):
        kind = "letter" if i % 2 else "email"
        sent = due + timedelta(days=7)
        paid = None
        for d in range(-30, 90):
            day = due + timedelta(days=d)
            lifted = kind == "letter" and 0 < (day - sent).days <= rm.WINDOW
            if rng.random() < base * (2.0 if lifted else 1.0):
                paid = day
                break
        invoices[i] = (due, paid)
        messages.append((i, sent, kind))
    lifts = rm.learn_lifts(messages, invoices, due + timedelta(days=120), hazard)
    letter, email = lifts["letter"], lifts["email"]
    low, high = letter.interval()
    assert low < 2.0 < high and abs(letter.ratio - 2.0) < 0.25
    low, high = email.interval()
    assert low < 1.0 < high
    # a message that came after the payment, or too late to observe, is not counted
    assert letter.messages < 1500 and email.messages < 1500


def _history(n: int = 300) -> sim.History:
    cases = []
    for i in range(n):
        issued = date(2026, 3, 1) + timedelta(days=i % 10)
        cases.append(sim.Case(
            Invoice(f"R{i}", f"K{i}", issued, issued + timedelta(days=14), Decimal(150),
                    due_date_agreed=True),
            Customer(f"K{i}", f"Kunde {i}", "B2C", region="BE", avg_days_late=Decimal(1)),
        ))  # fmt: skip
    return sim.History("synthetic", tuple(cases))


def _model(lifts: dict[str, float]) -> rm.ResponseModel:
    hazard = [0.0] * 30 + [0.03] * 90  # nobody before due, then 3 % a day
    return rm.ResponseModel(
        tuple(hazard), "a test curve",
        {k: rm.Lift(k, 1000, round(1000 * v), 1000.0) for k, v in lifts.items()}, "a test",
        seed=3,
    )  # fmt: skip


def test_in_the_model_a_step_matters_only_through_its_lift(tmp_path):
    champion = load_policy(CHAMPION)
    challenger = load_policy(challenger_file(tmp_path))  # an extra e-mail reminder
    history, first, last = _history(), date(2026, 3, 1), date(2026, 6, 30)

    def run(policy, model):  # type: ignore[no-untyped-def]
        return sim.replay(history, policy, first, last, behaviour=model)

    neutral = _model({})
    a, b = run(champion, neutral), run(challenger, neutral)
    assert sorted(a.days_to_cash) == sorted(b.days_to_cash)  # the same draws, no lift
    assert b.messages["email"] > a.messages["email"]
    lifted = _model({"email": 3.0})
    a, b = run(champion, lifted), run(challenger, lifted)
    assert len(b.days_to_cash) >= len(a.days_to_cash)
    assert sum(b.days_to_cash) / len(b.days_to_cash) < sum(a.days_to_cash) / len(a.days_to_cash)
    # another seed, other figures; the same seed, the same figures
    again = run(champion, lifted)
    assert again.days_to_cash == a.days_to_cash
    reseeded = rm.ResponseModel(lifted.hazard, "", lifted.lifts, "", seed=4)
    other = sim.replay(history, champion, first, last, behaviour=reseeded)
    assert other.days_to_cash != a.days_to_cash
    assert any("ESTIMATE" in line for line in lifted.assumptions())
    assert any("x3.00" in line for line in lifted.assumptions())
