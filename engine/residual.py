"""Residual cents (issue 11): a few cents left after the customer paid never escalate.

A customer pays the amount the letter asked for a week later; the interest of that week,
or a rounding difference, stays open.  Left alone, those cents would walk on through the
ladder to a collection agency.  The policy's `residual up to 1.00 EUR write off` (or
`… ask in next letter`; without the line `statute.DEFAULT_RESIDUAL_TOLERANCE`, written off)
decides instead, at the moment the ladder would take its next step:

* **write off** — the residual is booked out (ledger `write_off`, the policy line as its
  rule) and the invoice is paid;
* **ask in next letter** — the invoice stays open but parked (`PARKED`): no step, no fee,
  no handover, no court; dispatch lists it in the customer's next letter or e-mail.

What counts as a residual of *interest and fees*: § 367 BGB makes a payment settle costs
and interest before the principal, so a payment a few cents short always leaves those
cents on the principal.  In money, though, the customer has paid the invoice's amount as
soon as the open principal is no more than what the payments put on costs and interest
(`Record.add_ons_paid`): what is missing is then interest and fees the claim added.  Only
such a residual is tolerated; a customer who paid less than the invoice's amount is always
asked for it (the invoice's price, with its VAT, is never waived by a tolerance).

`residual(...)` is the one question the engine asks; it is a pure function so the step,
`announce` (D9) and tests read the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from mahnwerk.dsl import ir, statute
from mahnwerk.dsl.expr import Money
from mahnwerk.engine.state import ZERO, Record, cents

#: `pause_reason` of an invoice parked with its residual until the customer pays it.
PARKED = "residual asked in the next letter (issue 11)"


@dataclass(frozen=True, slots=True)
class Residual:
    """A balance within the tolerance, and what the policy does with it."""

    amount: Decimal
    tolerance: Money
    action: ir.ResidualAction
    #: the policy line that set the tolerance (`path:line`), or "engine" for the default
    at: str

    @property
    def written_off(self) -> bool:
        return self.action is ir.ResidualAction.WRITE_OFF

    def reason(self) -> str:
        """The audit line: what, why, and what was done."""
        done = "written off" if self.written_off else "asked for in the next letter, parked"
        return (
            f"residual {self.amount} {self.tolerance.currency} of interest and fees after the "
            f"invoice's amount was paid: within the tolerance {self.tolerance} "
            f"({'policy line ' + self.at if self.at != 'engine' else 'the default'}), "
            f"{done}; never escalated (issue 11)"
        )


def setting(limits: ir.Limits, currency: str) -> ir.Residual:
    """The policy's residual line, else the default (1.00, written off)."""
    if limits.residual is not None:
        return limits.residual
    return ir.Residual(Money(statute.DEFAULT_RESIDUAL_TOLERANCE, currency))


def residual(
    record: Record, unbooked_interest: Decimal, limits: ir.Limits, currency: str
) -> Residual | None:
    """The residual the policy tolerates on this claim today, or None.

    None when nothing is open, when more than the tolerance is open, or when the customer
    has not yet paid the invoice's amount (then the rest is the price, always claimed).
    """
    balance = cents(record.balance + unbooked_interest)
    if balance <= ZERO or record.principal_open > record.add_ons_paid:
        return None
    policy = setting(limits, currency)
    if balance > policy.tolerance.amount:
        return None
    line = policy.span.line
    at = f"{policy.span.path}:{line}" if line else "engine"
    return Residual(balance, policy.tolerance, policy.action, at)
