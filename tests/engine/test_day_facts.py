"""A condition reads the same facts whether the step builds them all or only those it reads.

The step evaluates its guards over `DayFacts`, which computes a fact when a condition asks
for it (issue 21: building every fact, interest included, for every guard cost more than
evaluating it).  What a condition can read, and each value, must be exactly what
`Facts.facts` says — the dict `policy explain`, the segment choice and deployments use.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from mahnwerk.dsl.compile import load_policy
from mahnwerk.dsl.errors import Collector
from mahnwerk.dsl.expr import EvalError, evaluate, parse_expr
from mahnwerk.dsl.ir import EventKind
from mahnwerk.engine.state import Customer, Event, Invoice
from mahnwerk.engine.step import step
from mahnwerk.engine.step.facts import DayFacts
from mahnwerk.engine.step.run import _Run

POLICY = load_policy(Path(__file__).with_name("data") / "runner_policy.mahn")
CUSTOMER = Customer(
    "K1", region="BY", risk_score=Decimal(55), avg_days_late=Decimal(4), open_balance=Decimal(80)
)
INVOICE = Invoice("R1", "K1", date(2025, 1, 2), date(2025, 1, 16), Decimal("480.00"))


def _overdue_run(day: date) -> _Run:
    """The scratchpad of a step for an invoice stepped daily into default (interest owed)."""
    record, on = None, INVOICE.issue_date
    while on < day:
        record = step(record, INVOICE, CUSTOMER, [], on, POLICY).record
        on += timedelta(days=1)
    assert record is not None and record.default_since is not None
    return _Run(record, INVOICE, CUSTOMER, POLICY, day)


@pytest.mark.parametrize(
    "event",
    [
        None,
        Event(EventKind.PROMISE_MADE, date(2025, 3, 3), promised_date=date(2025, 3, 20)),
        Event(EventKind.PAYMENT_PARTIAL, date(2025, 3, 3), amount=Decimal("12.50")),
    ],
    ids=["no event", "a promise", "a part payment"],
)
def test_every_fact_a_condition_reads_is_the_one_the_step_would_build(event: Event | None) -> None:
    day = date(2025, 3, 4)
    run = _overdue_run(day)
    whole = run.facts(day, event)
    lazy = DayFacts(run, day, event)
    assert whole["invoice.interest"].amount > 0  # interest is part of what is compared
    assert dict(lazy) == whole
    for name, value in whole.items():
        assert name in lazy and lazy[name] == value
    for absent in ("event.amount", "event.promised_date", "invoice.nonsense", "customer.age"):
        assert (absent in lazy) == (absent in whole)


def test_a_fact_the_invoice_lacks_is_refused_alike() -> None:
    day = date(2025, 3, 4)
    run = _overdue_run(day)
    condition = parse_expr("event.amount > 5 EUR", Collector("test"))
    assert condition is not None
    with pytest.raises(EvalError) as whole:
        evaluate(condition, run.facts(day))
    with pytest.raises(EvalError) as lazy:
        evaluate(condition, DayFacts(run, day))
    assert str(lazy.value) == str(whole.value)
