"""B1, A7, D10 at their boundaries, through the real step (the helpers in `engine/fees.py`
are what the step calls, so these also pin the code that runs).

Each rule on both sides: the cent below and at the consumer cap, the day before default and the
day of default for the lump sum, the 30 % share of a 5 EUR invoice with and without fees
already paid.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from mahnwerk.dsl.compile import compile_source
from mahnwerk.dsl.ir import EventKind
from mahnwerk.engine.state import Charge, Customer, Event, Invoice, Record
from mahnwerk.engine.step import step

D = Decimal
ISSUE, DUE = date(2025, 4, 1), date(2025, 4, 15)  # agreed: default from 2025-04-16
BUSINESS = Customer("K2", type="B2B", region="BE")
CONSUMER = Customer("K2", type="B2C", region="BE")


def policy(first: str, fee: str = "1.00", extra: str = "") -> object:
    """A business ladder (so the checker allows any fee); `first` is the first trigger.

    Others land in `pruefung`, whose states share no name with `b2b`: a customer corrected
    to a consumer stays on the business ladder (`segment_moves`, same state), which is how
    a consumer meets a fee above the cap at run time."""
    return compile_source(
        f"""
policy "grenzen" version 1 {{
  currency EUR  timezone "Europe/Berlin"  calendar DE region from customer  language de
  limits {{ payment grace 0 days {extra} }}
  segment firmen when customer.type == B2B use b2b
  segment default use pruefung
  ladder pruefung {{ state pruefen at 7d after due {{ notify "team"; wait }} }}
  ladder b2b {{
    state mahnung_1 {first} {{ letter "mahnung_1"; fee {fee} EUR; lump sum }}
    state mahnung_2 after 14d in mahnung_1 {{ letter "mahnung_2"; fee {fee} EUR; wait }}
  }}
}}
""",
        "grenzen.mahn",
    )


def run(compiled, amount: str, days: int, customer: Customer = BUSINESS, events=()):
    invoice = Invoice("R1", "K2", ISSUE, DUE, D(amount), due_date_agreed=True)
    record: Record | None = None
    charges: list[Charge] = []
    notes: list[str] = []
    waiting = list(events)
    for day in (DUE - timedelta(days=3) + timedelta(days=i) for i in range(days)):
        due = [e for e in waiting if e.on <= day]
        waiting = [e for e in waiting if e.on > day]
        # a business until mahnung_1 (04-16); `customer` from the day after, as if corrected
        who = BUSINESS if day <= DUE + timedelta(days=1) else customer
        out = step(record, invoice, who, due, day, compiled)
        record = out.record
        charges += out.charges
        notes += [n.text for n in out.notes]
    return record, charges, notes


def total(charges: list[Charge], kind: str) -> Decimal:
    return sum((c.amount for c in charges if c.kind == kind), D("0.00"))


# A7 ---------------------------------------------------------------------------


def test_no_lump_sum_on_the_day_before_default():
    _, charges, notes = run(policy("at 0d after due"), "500.00", 4)  # the step on 04-15
    assert total(charges, "lump_sum") == 0
    assert any("no lump sum before default" in n for n in notes)


def test_the_lump_sum_on_the_first_day_of_default():
    _, charges, _ = run(policy("at 1d after due"), "500.00", 5)  # the step on 04-16
    assert [(c.on, c.amount) for c in charges if c.kind == "lump_sum"] == [
        (date(2025, 4, 16), D("40.00"))
    ]


# B1 ---------------------------------------------------------------------------


def fees(charges: list[Charge]) -> list[Decimal]:
    return [c.amount for c in charges if c.kind == "fee"]


def test_a_consumer_pays_the_cap_when_the_letter_asks_a_cent_more():
    """Corrected to a consumer after mahnung_1: the 2. Mahnung's 2.51 is cut to 2.50."""
    _, charges, notes = run(policy("at 1d after due", fee="2.51"), "500.00", 20, CONSUMER)
    assert fees(charges) == [D("2.51"), D("2.50")]
    assert any("capped at 2.50 EUR for consumers" in n for n in notes)


def test_a_consumer_pays_a_fee_at_the_cap_in_full():
    _, charges, notes = run(policy("at 1d after due", fee="2.50"), "500.00", 20, CONSUMER)
    assert fees(charges) == [D("2.50"), D("2.50")]
    assert not any("capped" in n for n in notes)


def test_a_business_pays_a_fee_above_the_consumer_cap():
    _, charges, _ = run(policy("at 1d after due", fee="2.51"), "500.00", 20)
    assert fees(charges) == [D("2.51"), D("2.51")]


# D10 --------------------------------------------------------------------------


def test_a_5_eur_invoice_pays_1_00_then_0_50():
    _, charges, _ = run(policy("at 1d after due"), "5.00", 20)
    assert [c.amount for c in charges if c.kind == "fee"] == [D("1.00"), D("0.50")]
    assert total(charges, "lump_sum") == D("40.00")  # statutory: outside the share


def test_the_share_counts_a_fee_the_customer_has_paid():
    paid = Event(EventKind.PAYMENT_PARTIAL, DUE + timedelta(days=3), D("1.00"))
    _, charges, _ = run(policy("at 1d after due"), "5.00", 20, events=[paid])
    assert [c.amount for c in charges if c.kind == "fee"] == [D("1.00"), D("0.50")]


def test_the_share_boundary_to_the_cent():
    """6.70 EUR: 30 % is 2.01; 1.00 + 1.00 fits with a cent to spare, 6.63 EUR (1.98) not."""
    _, fits, _ = run(policy("at 1d after due"), "6.70", 20)
    assert [c.amount for c in fits if c.kind == "fee"] == [D("1.00"), D("1.00")]
    _, cut, _ = run(policy("at 1d after due"), "6.63", 20)
    assert [c.amount for c in cut if c.kind == "fee"] == [D("1.00"), D("0.98")]


def test_a_policy_share_of_10_percent_applies_instead_of_30():
    _, charges, _ = run(
        policy("at 1d after due", extra="fees at most 10% of principal"), "20.00", 20
    )
    assert [c.amount for c in charges if c.kind == "fee"] == [D("1.00"), D("1.00")]
    _, less, _ = run(policy("at 1d after due", extra="fees at most 10% of principal"), "15.00", 20)
    assert [c.amount for c in less if c.kind == "fee"] == [D("1.00"), D("0.50")]
