"""Money at the ledger boundary: the cent, zero, and the one rounding rule (half up).

A bottom module (it imports nothing of mahnwerk) so that the state, fees, interest and
terms, which import each other in that order, all round the same way from one place.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(value: Decimal) -> Decimal:
    """Quantise to the cent, half up: the one rounding rule at the ledger boundary."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
