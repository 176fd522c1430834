"""Working days, legal period ends and allowed contact times.

Three calendars meet here:

* the customer's public holidays (via the `holidays` package, by country and subdivision)
  for business days, the § 193 BGB shift of a period end, and the contact guards;
* the TARGET2 calendar of euro payments, for the grace given to payments in transit (A9);
* the clock of the customer's time zone, for quiet hours (D1) and rest days (D2).

These functions run per invoice in loops over up to a million invoices, so holiday sets are
computed once per (country, region, year) and kept (`lru_cache`); a look-up is then one set
membership test.

Regions are given either as the `holidays` subdivision code (`BY`) or in ISO 3166-2 form
(`DE-BY`).  For Germany the calendar includes the `catholic` category of the `holidays`
package, which adds 15 August in Bavaria (as the spec wants) and Corpus Christi in parts of
Saxony and Thuringia: these are holidays in most, not all, municipalities of the state, and
treating them as holidays errs on the side of a later deadline and no contact.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from mahnwerk.dsl.ir import Channel, QuietHours
from mahnwerk.engine.comms import channels

HOLIDAY_CATEGORIES: dict[str, tuple[str, ...]] = {"DE": ("public", "catholic")}
"""Holiday categories per country; countries not listed use only `public`."""

DEFAULT_QUIET_HOURS: tuple[QuietHours, ...] = tuple(
    QuietHours(Channel(c.name), start, end)
    for c in channels.REGISTRY.values()
    for start, end in c.quiet_hours
)
"""D1: each channel's own quiet hours from the channel registry — calls and SMS only
08:00–20:00 local time, letters and e-mail any time (Sundays are closed by D2)."""

DEFAULT_REST_DAY_CHANNELS: frozenset[Channel] = frozenset(Channel)
"""D2: nothing goes out on Sundays and public holidays — calls, SMS and letters by the spec,
and e-mail too (our choice: an e-mail about a debt on a holiday is as unwelcome as a letter;
a policy may take `Channel.EMAIL` out of this set)."""

_SUNDAY = 6
_MAX_DAYS_SEARCHED = 400


# ---------------------------------------------------------------------------
# Public holidays and business days
# ---------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def holidays_in(country: str, region: str | None, year: int) -> frozenset[date]:
    """The public holidays of `country`/`region` in `year`, computed once and kept."""
    code = country.upper()
    subdiv = region or None
    categories = HOLIDAY_CATEGORIES.get(code, ("public",))
    try:
        if subdiv:
            if subdiv.upper().startswith(f"{code}-"):
                subdiv = subdiv[len(code) + 1 :]
            known = {s.upper(): s for s in holidays.list_supported_countries()[code]}
            subdiv = known.get(subdiv.upper(), subdiv)
        days = holidays.country_holidays(code, subdiv=subdiv, years=year, categories=categories)
    except (KeyError, NotImplementedError) as exc:
        raise ValueError(f"unknown holiday calendar {country!r} region {region!r}") from exc
    return frozenset(days.keys())


def is_holiday(day: date, country: str, region: str | None = None) -> bool:
    return day in holidays_in(country, region, day.year)


def is_business_day(day: date, country: str, region: str | None = None) -> bool:
    """Monday to Friday and no public holiday (§ 193 BGB treats Saturday like Sunday)."""
    return day.weekday() < 5 and day not in holidays_in(country, region, day.year)


def next_business_day(day: date, country: str, region: str | None = None) -> date:
    """The first business day strictly after `day`."""
    day += timedelta(days=1)
    while not is_business_day(day, country, region):
        day += timedelta(days=1)
    return day


def shift_period_end(day: date, country: str, region: str | None = None) -> date:
    """§ 193 BGB: a period ending on a Saturday, Sunday or holiday ends on the next working day."""
    return day if is_business_day(day, country, region) else next_business_day(day, country, region)


@lru_cache(maxsize=16384)
def add_business_days(day: date, n: int, country: str, region: str | None = None) -> date:
    """`day` moved by `n` business days (`day` itself not counted; negative `n` goes back).
    Kept per arguments: conditions like `3 business days after due` ask it per invoice."""
    step = timedelta(days=1 if n >= 0 else -1)
    remaining = abs(n)
    while remaining:
        day += step
        if is_business_day(day, country, region):
            remaining -= 1
    return day


# ---------------------------------------------------------------------------
# TARGET2 (payments in transit, A9)
# ---------------------------------------------------------------------------


@lru_cache(maxsize=256)
def target2_closing_days(year: int) -> frozenset[date]:
    """TARGET2 is closed on 1 Jan, Good Friday, Easter Monday, 1 May, 25 and 26 Dec."""
    return frozenset(holidays.financial_holidays("XECB", years=year).keys())


def is_target2_day(day: date) -> bool:
    return day.weekday() < 5 and day not in target2_closing_days(day.year)


@lru_cache(maxsize=8192)
def add_target2_days(day: date, n: int) -> date:
    """`day` moved forward by `n` TARGET2 business days (`day` itself not counted).

    Kept per (day, n): the A9 grace asks it for every due invoice, and a day's due
    invoices share a few due dates."""
    if n < 0:
        raise ValueError("add_target2_days counts forward only")
    while n:
        day += timedelta(days=1)
        if is_target2_day(day):
            n -= 1
    return day


def payment_grace_end(due_date: date, grace_days: int = 3) -> date:
    """The last day of the A9 grace for payments in transit; escalation from the day after.

    Between businesses money must be credited in time (CJEU C-306/06), for consumers a
    timely transfer order suffices (BGH VIII ZR 222/15): either way a transfer can still be
    on its way, so escalation waits `grace_days` TARGET2 business days after the due date.
    """
    return add_target2_days(due_date, grace_days)


# ---------------------------------------------------------------------------
# Contact guards (D1 quiet hours, D2 Sundays and holidays)
# ---------------------------------------------------------------------------


def is_rest_day(day: date, country: str, region: str | None = None) -> bool:
    """D2: a Sunday or a public holiday of the customer's country and region."""
    return day.weekday() == _SUNDAY or day in holidays_in(country, region, day.year)


def _windows_for(channel: Channel, quiet_hours: Sequence[QuietHours] | None) -> list[QuietHours]:
    """The policy's windows for `channel`, or the D1 defaults if it names none for it."""
    own = [w for w in quiet_hours or () if Channel(w.channel) is channel]
    return own or [w for w in DEFAULT_QUIET_HOURS if w.channel is channel]


def _wall(day: date, at: time, zone: ZoneInfo) -> datetime:
    """`day` at wall-clock `at` in `zone`; a time skipped by a DST change maps just after it."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC).astimezone(zone)


def _window_exit(local: datetime, window: QuietHours, zone: ZoneInfo) -> datetime | None:
    """If `local` lies in the quiet `window` [start, end), the moment it ends; else None."""
    now, start, end = local.time(), window.start, window.end
    if start == end:
        return None  # an empty window
    if start < end:
        return _wall(local.date(), end, zone) if start <= now < end else None
    if now >= start:  # wraps midnight: quiet from start to the next day's end
        return _wall(local.date() + timedelta(days=1), end, zone)
    if now < end:
        return _wall(local.date(), end, zone)
    return None


def next_allowed_contact(
    at: datetime,
    channel: Channel | str,
    tz: str | ZoneInfo,
    country: str,
    region: str | None = None,
    quiet_hours: Sequence[QuietHours] | None = None,
    rest_day_channels: Collection[Channel] = DEFAULT_REST_DAY_CHANNELS,
) -> datetime:
    """The earliest moment at or after `at` when `channel` may reach the customer.

    D2: nothing in `rest_day_channels` on Sundays and the customer's public holidays.  D1:
    within a day, a channel's quiet windows (`quiet_hours` for that channel, else the
    defaults: calls and SMS 20:00–08:00; letters and e-mail none).  What is queued in a
    closed time goes at the next allowed moment.  Returned in the customer's time zone.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("next_allowed_contact needs a timezone-aware datetime")
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    chan = Channel(channel)
    windows = _windows_for(chan, quiet_hours)
    rests = chan in rest_day_channels
    local = at.astimezone(zone)
    for _ in range(_MAX_DAYS_SEARCHED * (len(windows) + 1)):
        if rests and is_rest_day(local.date(), country, region):
            local = _wall(local.date() + timedelta(days=1), time(0, 0), zone)
            continue
        for window in windows:
            exit_at = _window_exit(local, window, zone)
            if exit_at is not None:
                local = exit_at
                break
        else:
            return local
    raise ValueError(f"no allowed {chan.value} contact time within {_MAX_DAYS_SEARCHED} days")
