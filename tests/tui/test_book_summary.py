"""The dashboard's sums come from the summary the database keeps, and it stays right.

The oracle is the direct aggregate over `dunning_state` and `invoice` — the query the
dashboard ran before the summary existed (2.3 s on a million invoices).  The two must
agree after a run, after a payment is applied, after an approval is decided between runs,
after an import of new invoices and a correction of one (due date, closing), and the run
must fold the deltas it and the others appended.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine, case, func, insert, select, text, update
from tui_book import AS_OF, NOW

from mahnwerk.engine.approvals import decide, pending
from mahnwerk.engine.models import CUST, DS, INV
from mahnwerk.engine.policies import PolicySet
from mahnwerk.engine.runner import run
from mahnwerk.engine.store.invoices import record_event
from mahnwerk.engine.store.screens import AGING, TERMINAL_STATES, dashboard


def direct(engine: Engine, today: date) -> tuple[dict, dict]:
    """By (segment, state) and by aging bucket, straight from every row."""
    balance = DS.c.principal_open + DS.c.fees_open + DS.c.interest_open
    days = [today - timedelta(days=n) for n in (0, 30, 60, 90)]
    bucket = case(*((INV.c.due_date >= d, i) for i, d in enumerate(days)), else_=4)
    with engine.connect() as conn:
        states = {
            (seg, st): (n, Decimal(total or 0).quantize(Decimal("0.01")))
            for seg, st, n, total in conn.execute(
                select(DS.c.segment, DS.c.state, func.count(), func.sum(balance)).group_by(
                    DS.c.segment, DS.c.state
                )
            )
        }
        n, total = conn.execute(
            select(func.count(), func.sum(INV.c.amount))
            .select_from(INV.outerjoin(DS, DS.c.invoice_id == INV.c.id))
            .where(DS.c.invoice_id.is_(None), INV.c.closed_on.is_(None))
        ).one()
        if n:
            states[("-", "new")] = (n, Decimal(total).quantize(Decimal("0.01")))
        aging = {name: (0, Decimal("0.00")) for name in AGING}
        for b, n, total in conn.execute(
            select(bucket, func.count(), func.sum(balance))
            .select_from(INV.join(DS, DS.c.invoice_id == INV.c.id))
            .where(DS.c.state.not_in(TERMINAL_STATES))
            .group_by(bucket)
        ):
            aging[AGING[b]] = (n, Decimal(total).quantize(Decimal("0.01")))
    return states, aging


def agrees(engine: Engine, today: date) -> None:
    d = dashboard(engine, today)
    states, aging = direct(engine, today)
    assert {(s, st): (n, b) for s, st, n, b in d.by_state} == states
    assert d.aging == aging
    assert [row[:2] for row in d.by_state[1:]] == sorted(row[:2] for row in d.by_state[1:])


def deltas(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM book_summary_delta")).scalar_one()


def test_the_summary_is_the_direct_aggregate_after_every_kind_of_write(book: Engine):
    policies = PolicySet.load(book)
    agrees(book, AS_OF)
    assert deltas(book) == 0  # the run folded what it wrote
    # a payment, applied by the next run
    record_event(book, "RE-2013", "payment_partial", AS_OF, "anna", NOW, {"amount": "100.00"})
    day = AS_OF + timedelta(days=1)
    run(book, day, policies, datetime.combine(day, datetime.min.time(), tzinfo=UTC))
    agrees(book, day)
    # approvals decided between runs
    for item in pending(book)[:2]:
        decide(book, item.id, "anna", item.required == 1, NOW, day)
    agrees(book, day)
    # an import of new invoices, and corrections of an old and a new one
    with book.begin() as conn:
        cid = conn.execute(select(CUST.c.id).where(CUST.c.external_id == "K-200")).scalar_one()
        for i, amount in enumerate(("19.99", "1234.56", "0.10")):
            conn.execute(
                insert(INV).values(external_id=f"RE-9{i}", customer_id=cid, amount=amount,
                                   issue_date=day, due_date=day + timedelta(days=14 * i))
            )  # fmt: skip
        conn.execute(
            update(INV).where(INV.c.external_id == "RE-90").values(due_date=date(2024, 1, 2))
        )
        conn.execute(update(INV).where(INV.c.external_id == "RE-92").values(closed_on=day))
        conn.execute(
            update(INV).where(INV.c.external_id == "RE-2013").values(due_date=date(2023, 12, 1))
        )
    assert deltas(book) > 0  # not folded until the next run
    agrees(book, day)
    later = day + timedelta(days=40)  # the aging buckets move with the day alone
    agrees(book, later)
    run(book, later, policies, datetime.combine(later, datetime.min.time(), tzinfo=UTC))
    assert deltas(book) == 0
    agrees(book, later)
