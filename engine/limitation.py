"""Limitation (Verjährung) of a claim — spec C4, §§ 195, 199, 203–205, 209, 212 BGB.

The regular period is three years (§ 195) and begins at the end of the year in which the
claim arose (§ 199 Abs. 1; the creditor knows its own invoice, so the knowledge condition
is taken as met).  The claim's due date stands for "arose".

The history is a list of dated events:

* `Restart` — a part payment, an interest payment or an acknowledgement (§ 212 Abs. 1
  Nr. 1): a full new period runs from the next day and ends on the day with the same number
  three years later (§§ 187 Abs. 1, 188 Abs. 2).  Events after the claim is barred do not
  revive it (what is paid on a barred claim is simply kept, § 214 Abs. 2).  A restart before
  the period has begun changes nothing: the year-end period is not shortened.  A restart
  while the period is suspended takes effect when the suspension ends.
* `Suspension` — service of a court payment order (§ 204 Abs. 1 Nr. 3, until six months
  after the procedure ends, § 204 Abs. 2), negotiations (§ 203, and the period ends no
  earlier than three months after they end), an agreed deferral (§ 205).  The suspended
  days do not count (§ 209): the end moves by the days of suspension that fall inside the
  running period, the first and the last suspended day included.  Overlapping suspensions
  count each day once.

Not modelled: the 30-year period of titled claims (§ 197), the maximum periods of § 199
Abs. 3–4, and § 167 ZPO (service relating back to filing — pass the filing date if service
followed "demnächst").
"""

from __future__ import annotations

import calendar as _stdlib_calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

REGULAR_YEARS = 3
COURT_RUN_OUT_MONTHS = 6
NEGOTIATION_RUN_OUT_MONTHS = 3
_ONE_DAY = timedelta(days=1)


def add_months(day: date, months: int) -> date:
    """The day with the same number `months` later, or the month's last day (§ 188 Abs. 3)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = _stdlib_calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


@dataclass(frozen=True, slots=True)
class Restart:
    """§ 212 Abs. 1 BGB: the debtor acknowledged the claim (part payment, interest, ...)."""

    on: date
    cause: str = "acknowledgement"


@dataclass(frozen=True, slots=True)
class Suspension:
    """§§ 203–209 BGB: days `start`..`end` (inclusive) do not count; `end` None = ongoing.

    `run_out_months`: the period ends no earlier than this many months after `end` (§ 203
    S. 2)."""

    start: date
    end: date | None
    cause: str
    run_out_months: int = 0


def court_procedure(served_on: date, ended_on: date | None = None) -> Suspension:
    """§ 204 Abs. 1 Nr. 3, Abs. 2 BGB: a court payment order served on `served_on` suspends
    until six months after the procedure ended (decision, withdrawal, lapse under § 701 ZPO,
    or the last step if the parties let it rest)."""
    end = add_months(ended_on, COURT_RUN_OUT_MONTHS) if ended_on is not None else None
    return Suspension(served_on, end, "court payment order served (§ 204 Abs. 1 Nr. 3 BGB)")


def negotiations(started_on: date, ended_on: date | None = None) -> Suspension:
    """§ 203 BGB: negotiations suspend; the period ends at least 3 months after they end."""
    return Suspension(started_on, ended_on, "negotiations (§ 203 BGB)", NEGOTIATION_RUN_OUT_MONTHS)


def deferral(started_on: date, ended_on: date | None = None) -> Suspension:
    """§ 205 BGB: an agreed deferral (Stundung) suspends while the debtor may refuse payment."""
    return Suspension(started_on, ended_on, "agreed deferral (§ 205 BGB)")


LimitationEvent = Restart | Suspension


@dataclass(frozen=True, slots=True)
class Limitation:
    """`barred_from`: first day the claim is time-barred; None while a suspension is open."""

    barred_from: date | None
    reasons: tuple[str, ...]

    def is_time_barred(self, on_day: date) -> bool:
        return self.barred_from is not None and on_day >= self.barred_from


def _event_day(event: LimitationEvent) -> date:
    return event.on if isinstance(event, Restart) else event.start


def limitation(
    due_date: date, events: Iterable[LimitationEvent] = (), years: int = REGULAR_YEARS
) -> Limitation:
    """When a claim due on `due_date` becomes time-barred, given its history."""
    start = date(due_date.year + 1, 1, 1)
    end = date(due_date.year + years, 12, 31)
    counted_until = start - _ONE_DAY  # last day already counted as suspended
    reasons = [
        f"due {due_date.isoformat()}: {years} years from the end of {due_date.year}, "
        f"ends {end.isoformat()} (§§ 195, 199 BGB)"
    ]
    ordered = sorted(events, key=lambda e: (_event_day(e), isinstance(e, Restart)))
    for event in ordered:
        day = _event_day(event)
        if day > end:
            reasons.append(
                f"{day.isoformat()} {event.cause}: ignored, the claim was already time-barred"
            )
            continue
        if isinstance(event, Restart):
            if day < start:
                reasons.append(
                    f"{day.isoformat()} {event.cause}: before the period began, no effect"
                )
                continue
            anchor = max(day, counted_until)  # inside a suspension: restart when it ends
            start, end = anchor + _ONE_DAY, add_months(anchor, 12 * years)
            counted_until = anchor
            reasons.append(
                f"{day.isoformat()} {event.cause}: period restarts, ends {end.isoformat()} "
                "(§ 212 Abs. 1 BGB)"
            )
            continue
        if event.end is None:
            reasons.append(f"{day.isoformat()} {event.cause}: suspended, end not known")
            return Limitation(None, tuple(reasons))
        first = max(day, start, counted_until + _ONE_DAY)
        if first <= event.end:
            end += timedelta(days=(event.end - first).days + 1)
            counted_until = event.end
        if event.run_out_months:
            end = max(end, add_months(event.end, event.run_out_months))
        reasons.append(
            f"{day.isoformat()}–{event.end.isoformat()} {event.cause}: suspended, "
            f"now ends {end.isoformat()} (§ 209 BGB)"
        )
    return Limitation(end + _ONE_DAY, tuple(reasons))


def time_barred_from(
    due_date: date, events: Iterable[LimitationEvent] = (), years: int = REGULAR_YEARS
) -> date | None:
    """The first day the claim is time-barred (None while a suspension has no end yet)."""
    return limitation(due_date, events, years).barred_from


def is_time_barred(
    on_day: date,
    due_date: date,
    events: Iterable[LimitationEvent] = (),
    years: int = REGULAR_YEARS,
) -> bool:
    """Whether the claim is time-barred on `on_day` (C4: never to court, no court threats)."""
    return limitation(due_date, events, years).is_time_barred(on_day)
