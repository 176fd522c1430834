"""Issue 11: which balance is a residual the policy tolerates (engine/residual.py).

A residual is what is left once the customer has paid the invoice's amount: by § 367 BGB
the last cents sit on the principal, but in money they are the interest and fees the claim
added.  Boundaries on both sides: the tolerance itself, and the invoice's amount.
"""

from __future__ import annotations

from decimal import Decimal

from mahnwerk.dsl import ir
from mahnwerk.dsl.errors import Span
from mahnwerk.dsl.expr import Money
from mahnwerk.engine.residual import residual
from mahnwerk.engine.state import Record

D = Decimal
NO_LINE = ir.Limits()
ASK = ir.Limits(
    residual=ir.Residual(
        Money(D("0.50"), "EUR"), ir.ResidualAction.ASK, Span("p.mahn", 12, 5, 12, 40)
    )
)


def paid_but(principal: str, fees: str = "0.00", interest: str = "0.00", on_add_ons="1.00"):
    """A record after payments that put `on_add_ons` on costs and interest (§ 367)."""
    return Record(
        "R1",
        principal_open=D(principal),
        fees_open=D(fees),
        interest_open=D(interest),
        add_ons_paid=D(on_add_ons),
    )


def test_the_fee_left_after_paying_the_invoice_amount_is_a_residual_up_to_one_euro():
    found = residual(paid_but("1.00"), D("0.00"), NO_LINE, "EUR")
    assert found is not None and found.amount == D("1.00") and found.written_off
    assert found.at == "engine"
    assert "within the tolerance 1.00 EUR (the default)" in found.reason()


def test_a_cent_above_the_tolerance_is_claimed():
    assert residual(paid_but("1.00", fees="0.01"), D("0.00"), NO_LINE, "EUR") is None


def test_interest_not_yet_booked_counts_towards_the_tolerance():
    record = paid_but("0.60", interest="0.30", on_add_ons="2.00")
    assert residual(record, D("0.10"), NO_LINE, "EUR") is not None
    assert residual(record, D("0.11"), NO_LINE, "EUR") is None


def test_a_customer_who_paid_less_than_the_invoice_amount_is_always_asked_for_it():
    # 0.60 open, 0.50 paid on fees: 0.10 of the invoice's price is missing
    assert residual(paid_but("0.60", on_add_ons="0.50"), D("0.00"), NO_LINE, "EUR") is None
    assert residual(paid_but("0.50", on_add_ons="0.50"), D("0.00"), NO_LINE, "EUR") is not None


def test_nothing_open_is_no_residual():
    assert residual(paid_but("0.00"), D("0.00"), NO_LINE, "EUR") is None


def test_the_policy_line_decides_and_is_named():
    found = residual(paid_but("0.50"), D("0.00"), ASK, "EUR")
    assert found is not None and not found.written_off and found.at == "p.mahn:12"
    assert "policy line p.mahn:12" in found.reason()
    assert "asked for in the next letter" in found.reason()
    assert residual(paid_but("0.51"), D("0.00"), ASK, "EUR") is None
