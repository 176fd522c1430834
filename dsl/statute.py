"""The statutory numbers, written once: the policy checker and the engine both read them.

This module sits at the bottom (it imports nothing of mahnwerk), so `dsl/compile.py`, which
refuses a policy that asks more than the law allows, and `engine/fees.py` / `engine/rates.py`,
which compute what a run charges, cannot drift apart.  Numbers that change over time (the base
rate, the RVG fee table) are data files with effective dates, not constants here.
"""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

CONSUMER_POINTS = Decimal(5)
"""§ 288 Abs. 1 BGB: base rate + 5 points for every money debt (and always if a consumer is a
party)."""

BUSINESS_POINTS = Decimal(9)
"""§ 288 Abs. 2 BGB: base rate + 9 points for payment for goods or services when no consumer is
a party.  (Obligations that arose before 2014-07-29 had + 8, Art. 229 § 34 EGBGB; not modelled.)"""

CONSUMER_FEE_CAP = Decimal("2.50")
"""B1: the most one letter may charge a consumer, across all its fee lines (§ 309 Nr. 5 BGB;
BGH VIII ZR 95/18 found about 0.76 EUR of real material costs)."""

DEFAULT_FEE_SHARE = Decimal(30)
"""D10: the policy's own fees in total at most this percentage of the principal.  Statutory
amounts (interest, the § 288 Abs. 5 lump sum) are outside the share."""

LUMP_SUM = Decimal("40.00")
"""§ 288 Abs. 5 BGB: once per claim in default, from a debtor who is not a consumer, for payment
for goods or services."""

DEFAULT_RESIDUAL_TOLERANCE = Decimal("1.00")
"""Issue 11: a balance of interest and fees only (no principal) below this is never escalated."""


def exceeds_consumer_cap(amount: Decimal, cap: Decimal = CONSUMER_FEE_CAP) -> bool:
    """B1: more than a consumer may be charged for one letter (the cent above the cap)."""
    return amount > cap


# Periods the engine keeps whatever a policy says ------------------------------------------

LETTER_GAP_MIN_DAYS = 7
"""D4: at least this many days between two letters about one invoice.  The engine never
sends sooner, and the checker warns (L004) about a policy that asks for less."""

PROMISES_THAT_PAUSE = 2
"""D6: how many promises to pay pause dunning; later ones are noted but do not pause."""

PLAN_GRACE_BUSINESS_DAYS = 5
"""D6: an instalment of an agreed plan counts as missed this many business days after its
due day."""

DEATH_PAUSE_WEEKS = 6
"""C6: a death notice pauses everything for at least six weeks (§§ 1944, 1958, 2014 BGB:
the heirs' period to disclaim, during which no claim may be pursued against them)."""

PAYMENT_GRACE_TARGET2_DAYS = 3
"""A9: escalation after the due date waits this many TARGET2 business days for payments in
transit (a transfer ordered on the due date may be credited days later)."""

LETTER_DELIVERY_DAYS = 3
"""When a posted letter counts as received (the reminder that starts default, A2; the notice
before a credit-bureau report, C2): the three-day delivery fiction long used by § 122 Abs. 2
AO and § 41 Abs. 2 VwVfG, our convention for private letters."""

OBJECTION_PERIOD_DAYS = 14
"""C3: the debtor may object to a court payment order within two weeks of service (§ 692
ZPO); the enforcement order may be applied for after that (§ 699 ZPO)."""

COURT_ORDER_LAPSE_MONTHS = 6
"""C3: a payment order lapses if no enforcement order is applied for within six months of
service (§ 701 ZPO)."""

DEFAULT_TIMEZONE = "Europe/Berlin"
"""The time zone of a customer or policy that names none (D1 quiet hours are local time)."""

BERLIN = ZoneInfo(DEFAULT_TIMEZONE)
"""The same zone as an object: the book's own calendar.  The day of a book-level event (an
import), of a letter's date, of a portal visit and of a scheduled run is its day here."""
