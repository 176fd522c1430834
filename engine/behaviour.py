"""How each customer pays: the figures segmentation and the risk score are built on.

A finance manager segments customers by how they *pay*, not by who they are:
the average and median days late, the share of invoices paid late, whether the
last invoices were paid later than the earlier ones (a trend is the earliest
warning), disputes, part payments, what is still open and overdue, and a
customer who used to buy often and has gone quiet.

Every figure is computed *as of* a day and uses only what was known at the end
of that day: an invoice paid later does not count as paid, so the same code
serves the daily `mahnwerk analyse` and the honest evaluation of the risk
model (`risk.py`), whose features must not peek past an invoice's due date.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from mahnwerk.engine.history import PastInvoice

#: The trend compares the last RECENT paid invoices with the ones before them.
RECENT = 5
#: ... and needs at least this many earlier ones to compare with.
EARLIER_MIN = 3
#: "Gone quiet": at least this many invoices before, and no new one for QUIET_GAPS
#: times the customer's usual gap between invoices (and at least QUIET_MIN_DAYS days).
QUIET_HISTORY = 4
QUIET_GAPS = 3
QUIET_MIN_DAYS = 60


def _dec(value: float, places: str = "0.01") -> Decimal:
    return Decimal(str(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Behaviour:
    """One customer's payment behaviour at the end of `as_of`.

    Figures over paid invoices are None while nothing was paid yet: "no
    history" is not the same as "always on time".
    """

    customer: str
    as_of: date
    invoices: int = 0  # issued up to as_of
    paid: int = 0  # paid in full up to as_of
    avg_days_late: Decimal | None = None
    median_days_late: Decimal | None = None
    late_share: Decimal | None = None  # of paid invoices, the share paid after the due date
    trend_days: Decimal | None = None  # avg days late of the last RECENT minus the earlier
    disputes: int = 0
    partial_payments: int = 0  # invoices paid in more than one part
    open_invoices: int = 0
    open_amount: Decimal = Decimal("0.00")
    overdue_invoices: int = 0  # open and past their due date
    max_days_overdue: int = 0  # of the open ones
    last_invoice_on: date | None = None
    gone_quiet: bool = False


def behaviour_of(
    customer: str,
    invoices: list[PastInvoice],
    as_of: date,
    exclude: str | None = None,
) -> Behaviour:
    """The behaviour of `customer` from its `invoices`, knowing only what `as_of` knew.

    `exclude` leaves one invoice out (the one a model is asked to predict).
    """
    seen = [i for i in invoices if i.issue_date <= as_of and i.invoice != exclude]
    if not seen:
        return Behaviour(customer, as_of)
    paid = sorted(
        (i for i in seen if i.paid_on is not None and i.paid_on <= as_of),
        key=lambda i: (i.due_date, i.invoice),
    )
    open_ = [i for i in seen if i.paid_on is None or i.paid_on > as_of]
    late = [i.days_late or 0 for i in paid]
    avg = median = share = trend = None
    if late:
        avg = _dec(statistics.fmean(late))
        median = _dec(statistics.median(late))
        share = _dec(sum(1 for d in late if d > 0) / len(late), "0.0001")
        if len(late) >= RECENT + EARLIER_MIN:
            trend = _dec(statistics.fmean(late[-RECENT:]) - statistics.fmean(late[:-RECENT]))
    overdue = [i for i in open_ if i.due_date < as_of]
    issue_days = sorted(i.issue_date for i in seen)
    return Behaviour(
        customer=customer,
        as_of=as_of,
        invoices=len(seen),
        paid=len(paid),
        avg_days_late=avg,
        median_days_late=median,
        late_share=share,
        trend_days=trend,
        disputes=_disputes(seen, as_of),
        partial_payments=sum(1 for i in seen if i.payments > 1),
        open_invoices=len(open_),
        open_amount=sum((i.amount for i in open_), Decimal("0.00")),
        overdue_invoices=len(overdue),
        max_days_overdue=max(((as_of - i.due_date).days for i in overdue), default=0),
        last_invoice_on=issue_days[-1],
        gone_quiet=_gone_quiet(issue_days, as_of),
    )


def _disputes(seen: list[PastInvoice], as_of: date) -> int:
    """Invoices disputed as far as `as_of` knew."""
    return sum(
        1
        for i in seen
        if i.disputed
        and (
            (i.disputed_on is not None and i.disputed_on <= as_of)
            # the source does not say when: known once the invoice was settled
            or (i.disputed_on is None and i.paid_on is not None and i.paid_on <= as_of)
        )
    )


def _gone_quiet(issue_days: list[date], as_of: date) -> bool:
    """No new invoice for QUIET_GAPS times the usual gap (and QUIET_MIN_DAYS at least)."""
    if len(issue_days) < QUIET_HISTORY:
        return False
    gaps = [(b - a).days for a, b in zip(issue_days, issue_days[1:], strict=False)]
    usual = statistics.median(gaps)
    return (as_of - issue_days[-1]).days > max(QUIET_GAPS * usual, QUIET_MIN_DAYS)


def behaviours(history: dict[str, list[PastInvoice]], as_of: date) -> dict[str, Behaviour]:
    """Every customer's behaviour as of one day (`history` as from `history.by_customer`)."""
    return {c: behaviour_of(c, invs, as_of) for c, invs in history.items()}
