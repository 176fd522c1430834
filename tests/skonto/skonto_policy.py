"""A B2B and B2C policy for the Skonto tests, and helpers to run the step day by day."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from mahnwerk.dsl.compile import compile_source
from mahnwerk.dsl.ir import EventKind
from mahnwerk.engine.state import Customer, Event, Invoice
from mahnwerk.engine.step import step
from mahnwerk.engine.terms import Tier

POLICY = """
policy "skonto" version 1 {{
  currency EUR  timezone "Europe/Berlin"  calendar DE  language de
  limits {{ {limits} }}
  segment default use standard
  ladder standard {{
    state erinnerung at 7d after due {{ email "zahlungserinnerung" }}
    state mahnung_1 after 14d in erinnerung {{ letter "mahnung_1"; fee 1.00 EUR }}
    state inkasso after 14d in mahnung_1 {{ approval by 1; handover to "Inkasso GmbH" }}
  }}
  on dispute_opened pause
}}
"""

ISSUE = date(2026, 3, 2)
DUE = date(2026, 4, 1)  # netto 30 Tage
BUSINESS = Customer(id="K1", name="Muster GmbH", type="B2B")
CONSUMER = Customer(id="K2", name="Erika Mustermann", type="B2C")
TIERS = (Tier(10, Decimal("2.00")), Tier(20, Decimal("1.00")))


def compiled(limits: str = "minimum balance 1.00 EUR"):
    return compile_source(POLICY.format(limits=limits), "skonto.mahn")


def invoice(amount: str = "1200.00", tiers=TIERS) -> Invoice:
    return Invoice("R1", "K1", ISSUE, DUE, Decimal(amount), skonto=tiers)


def pay(amount: str, on: date, ref: str = "Z1") -> Event:
    return Event(EventKind.PAYMENT_PARTIAL, on, Decimal(amount), ref=ref)


def run_days(inv, cust, events, until: date, policy=None, start: date = ISSUE):
    """The step on every day from `start` to `until`, each event on its own day."""
    policy = policy or compiled()
    record, actions = None, []
    day = start
    while day <= until:
        out = step(record, inv, cust, [e for e in events if e.on == day], day, policy)
        record = out.record
        actions.extend(out.actions)
        day += timedelta(days=1)
    return record, actions
