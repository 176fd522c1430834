"""`offer discount 2 % until 7d after due`: a time-limited term the payment matching honours."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from skonto_policy import BUSINESS, DUE, ISSUE, pay, run_days

from mahnwerk.dsl.compile import compile_source
from mahnwerk.engine.skonto import terms_applying
from mahnwerk.engine.state import Charge, Invoice, Message

POLICY = compile_source(
    """
policy "anreiz" version 1 {
  currency EUR  timezone "Europe/Berlin"  calendar DE  language de
  segment gute when customer.risk_score < 50 use gute
  segment default use standard
  ladder gute {
    state erinnerung at 3d after due {
      email "zahlungserinnerung"
      offer discount 2 % until 14d after due
    }
    state mahnung_1 after 14d in erinnerung { letter "mahnung_1"; wait }
  }
  ladder standard {
    state erinnerung at 3d after due { email "zahlungserinnerung" }
    state mahnung_1 after 14d in erinnerung { letter "mahnung_1"; wait }
  }
}
""",
    "anreiz.mahn",
)
PLAIN = Invoice("R1", "K1", ISSUE, DUE, Decimal("1000.00"))


def test_an_offered_discount_paid_in_time_settles_and_is_booked_with_the_policy_line():
    paid_on = DUE + timedelta(days=10)
    record, actions = run_days(
        PLAIN, BUSINESS, [pay("980.00", paid_on)], DUE + timedelta(days=40), POLICY
    )
    assert record.state == "paid" and record.balance == 0
    (discount,) = [a for a in actions if isinstance(a, Charge) and a.kind == "discount"]
    assert discount.amount == Decimal("-20.00") and discount.rule == "anreiz.mahn:9"
    assert [m.template for m in actions if isinstance(m, Message)] == ["zahlungserinnerung"]


def test_the_offer_is_a_term_on_the_invoice_until_its_last_day():
    record, _ = run_days(PLAIN, BUSINESS, [], DUE + timedelta(days=10), POLICY)
    (offered,) = record.discount_offers
    assert offered.until == date(2026, 4, 15) and offered.rule == "anreiz.mahn:9"
    (term,) = terms_applying(PLAIN, record, date(2026, 4, 15))
    assert (term.kind, term.pay) == ("discount", Decimal("980.00"))
    assert terms_applying(PLAIN, record, date(2026, 4, 16)) == ()


def test_paid_after_the_offer_ended_the_deduction_stays_open():
    late = DUE + timedelta(days=15)
    record, actions = run_days(PLAIN, BUSINESS, [pay("980.00", late)], late, POLICY)
    assert record.balance == Decimal("20.00") and record.deduction_on == late
    assert [m.template for m in actions if isinstance(m, Message)][-1] == "skonto_nachforderung"


def test_a_segment_without_the_offer_gets_none():
    risky = BUSINESS.__class__(id="K9", name="Risiko KG", type="B2B", risk_score=Decimal(80))
    record, actions = run_days(
        PLAIN, risky, [pay("980.00", DUE + timedelta(days=10))], DUE + timedelta(days=10), POLICY
    )
    assert record.discount_offers == () and record.balance == Decimal("20.00")
    assert record.deduction_on is None  # no term was ever offered: an ordinary part payment
