"""Properties of payments against Skonto terms, for random tiers, amounts and payment days.

* the balance after a payment is principal − payment − discount earned;
* money is never created or lost: the ledger lines sum to the balance (a credit for an
  overpayment is the customer's money, held apart), the payment is booked whole;
* a discount is earned only by a payment credited by a tier's last day, and is never
  more than that tier's discount plus the tolerance.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from skonto_policy import BUSINESS, ISSUE, compiled, invoice

from mahnwerk.dsl.ir import EventKind
from mahnwerk.engine.state import Charge, Event
from mahnwerk.engine.step import step
from mahnwerk.engine.terms import DEFAULT_TOLERANCE, Tier

POLICY = compiled()
CENT = Decimal("0.01")

tiers = st.lists(
    st.builds(
        Tier,
        st.integers(0, 30),
        st.decimals(Decimal("0.25"), Decimal("5.00"), places=2),
        st.one_of(st.none(), st.decimals(Decimal("1.00"), Decimal("500.00"), places=2)),
    ),
    min_size=1,
    max_size=3,
)


@st.composite
def cases(draw):
    chosen = tuple(draw(tiers))
    amount = draw(st.decimals(Decimal("10.00"), Decimal("50000.00"), places=2))
    inv = invoice(str(amount), chosen)
    day = ISSUE + timedelta(days=draw(st.integers(0, 35)))
    how = draw(st.sampled_from(["tier", "full", "any"]))
    if how == "tier":
        tier = draw(st.sampled_from(chosen))
        base = tier.base if tier.base is not None else amount
        discount = (base * tier.percent / 100).quantize(CENT)
        wobble = draw(st.decimals(Decimal("-0.08"), Decimal("0.08"), places=2))
        paid = amount - discount + wobble
    elif how == "full":
        paid = amount
    else:
        paid = draw(st.decimals(Decimal("0.01"), amount * 2, places=2))
    return inv, day, max(paid, CENT)


@settings(max_examples=150, deadline=None)
@given(cases())
def test_balance_is_principal_less_payment_less_discount_earned(case):
    inv, day, paid = case
    first = step(None, inv, BUSINESS, [], ISSUE, POLICY)
    out = step(
        first.record, inv, BUSINESS, [Event(EventKind.PAYMENT_PARTIAL, day, paid)], day, POLICY
    )
    charges = [a for a in (*first.actions, *out.actions) if isinstance(a, Charge)]
    by_kind: dict[str, Decimal] = {}
    for c in charges:
        by_kind[c.kind] = by_kind.get(c.kind, Decimal(0)) + c.amount
    earned = -(by_kind.get("skonto", Decimal(0)))
    credit = by_kind.get("credit", Decimal(0))
    assert -by_kind["payment"] == paid  # the payment is booked whole
    assert out.record.balance == inv.amount - paid - earned + credit
    assert out.record.balance >= 0
    # the ledger is the balance: nothing created, nothing lost (a credit is held apart)
    assert sum((c.amount for c in charges if c.kind != "credit"), Decimal(0)) + credit == (
        out.record.balance
    )
    if earned:
        fitting = [
            t
            for t in inv.skonto
            if day <= ISSUE + timedelta(days=t.days)
            and abs(
                earned
                - ((t.base if t.base is not None else inv.amount) * t.percent / 100).quantize(CENT)
            )
            <= DEFAULT_TOLERANCE
        ]
        assert fitting, (earned, inv.skonto, day)
        assert out.record.state == "paid"
