"""When default (Verzug) starts — § 286 BGB, spec A1–A3.

The answer is the *first day of default*: the first day that bears default interest
(A6) and after which dunning fees may be charged (B1).  For an agreed calendar date that is
the day after it (A1); for a reminder the day after its receipt (default arises on receipt,
interest runs from the next day, § 187 Abs. 1 BGB applied by analogy); for the 30-day rule
the day after the period ends (A3).  Where several rules apply, the earliest day wins:
each rule is a sufficient ground on its own.

The date may lie in the future (the 30-day rule tells today when default *will* start if
nothing is paid); the caller compares it with its own "today".

Not modelled: § 286 Abs. 2 Nr. 3–4 (serious and final refusal, special reasons), and
§ 286 Abs. 3 S. 2 (business debtor, receipt date uncertain: 30 days after receipt of the
goods).  A court payment order served counts as a reminder: pass its service date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from mahnwerk.engine.calendar import shift_period_end

THIRTY_DAYS = 30


@dataclass(frozen=True, slots=True)
class DefaultStart:
    start: date  # first day of default
    reason: str  # cites the §, for the letter and the audit trail
    rule: str  # the spec's rule id: "A1", "A2" or "A3"


def thirty_day_period_end(
    due_date: date, received_on: date, country: str = "DE", region: str | None = None
) -> date:
    """The last day of the § 286 Abs. 3 period: 30 days after due date *and* receipt.

    Counted from the later of the two events; that day is not counted (§ 187 Abs. 1), the
    period ends at the end of day 30 (§ 188 Abs. 1) and moves to the next working day if
    that is a Saturday, Sunday or public holiday (§ 193).
    """
    start = max(due_date, received_on)
    return shift_period_end(start + timedelta(days=THIRTY_DAYS), country, region)


def default_start(
    *,
    due_date: date,
    due_date_agreed: bool,
    consumer: bool,
    received_on: date | None,
    notice_30_days: bool,
    first_reminder_received: date | None,
    payment_for_goods_or_services: bool = True,
    country: str = "DE",
    region: str | None = None,
) -> DefaultStart | None:
    """The first day of default, or None if no rule puts the debtor in default.

    `consumer`: the debtor is a consumer (§ 13 BGB).  `received_on`: receipt of the invoice
    (None if unknown: then the 30-day rule cannot run).  `notice_30_days`: the invoice
    pointed out the 30-day rule (needed against consumers, § 286 Abs. 3 S. 1 Hs. 2).
    `due_date_agreed`: the due date was agreed (contract, accepted terms) — a date merely
    printed on the invoice is not (BGH III ZR 91/07).  `first_reminder_received`: receipt
    of the first reminder; one received before the due date has no effect (§ 286 Abs. 1),
    one received on the due date counts (the claim is due that day).
    """
    candidates: list[DefaultStart] = []
    if due_date_agreed:
        candidates.append(
            DefaultStart(
                due_date + timedelta(days=1),
                f"payment date {due_date.isoformat()} agreed by calendar: default from the "
                "next day without reminder (§ 286 Abs. 2 Nr. 1–2 BGB)",
                "A1",
            )
        )
    if first_reminder_received is not None and first_reminder_received >= due_date:
        candidates.append(
            DefaultStart(
                first_reminder_received + timedelta(days=1),
                f"reminder received {first_reminder_received.isoformat()} after the claim "
                "was due (§ 286 Abs. 1 BGB); interest from the next day (§ 187 Abs. 1 BGB)",
                "A2",
            )
        )
    if (
        payment_for_goods_or_services
        and received_on is not None
        and (notice_30_days or not consumer)
    ):
        end = thirty_day_period_end(due_date, received_on, country, region)
        candidates.append(
            DefaultStart(
                end + timedelta(days=1),
                f"30 days after due date and receipt of the invoice "
                f"({received_on.isoformat()}) ended {end.isoformat()} "
                "(§ 286 Abs. 3 BGB; §§ 187, 188, 193 BGB)"
                + (", the invoice pointed this out to the consumer" if consumer else ""),
                "A3",
            )
        )
    return min(candidates, key=lambda c: c.start, default=None)
