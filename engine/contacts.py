"""When a queued message may reach the customer: the contact guards D1–D3.

The step decides *that* a letter, e-mail, SMS or call is due; this module decides *when*
it may go out, because that depends on things the step does not see: the customer's
clock and calendar, and every other message the customer has had or is about to get.

* D1 quiet hours: per channel in the customer's time zone (the policy's `no sms between
  20:00 and 08:00`, else the defaults of `engine.calendar`: calls and SMS only 08:00–20:00;
  letters and e-mail have none);
* D2 rest days: nothing on the customer's Sundays and public holidays (country and region);
* D3 frequency: at most one *written* reminder (letter or e-mail) per seven days per
  customer, and the policy's own `at most N contacts per W days` over all channels.  A note
  before the due date ("payment due soon") is no reminder: it neither waits for nor uses up
  the weekly allowance (D3 is about dunning).
  Several messages of one customer on the same channel and day are one contact: the
  dispatcher puts them into one letter or e-mail, and one call covers all invoices — so
  the engine never plans more than one call attempt per customer and day, which keeps
  D3's "at most 7 call attempts in 7 days" by construction.  No call for 7 days after a
  conversation with the customer (a `conversation` event, e.g. `mahnwerk event
  conversation`).

What breaks a limit moves to the earliest day that keeps every limit; the invoice's state
and fees are not moved — the ledger says what was decided when, the outbox when it may be
said.  `plan` is a pure function of the contacts it is given; `ContactBook` loads those
for one batch of customers with one query on the outbox's (customer_id, not_before) index
(`engine/store/contacts.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from mahnwerk.dsl.ir import Channel, Limits
from mahnwerk.engine.calendar import next_allowed_contact
from mahnwerk.engine.comms import channels as registry
from mahnwerk.engine.store.contacts import contacts_since

#: D3: at most this many written reminders (letter or e-mail) per window and customer.
WRITTEN_PER_WINDOW = 1
#: D3: the rolling window of the limit above.
CONTACT_WINDOW_DAYS = 7
#: D3: no call attempt for this many days after a conversation with the customer.
CALL_REST_AFTER_CONVERSATION_DAYS = 7
#: The pseudo-channel under which conversations are kept among a customer's contacts.
CONVERSATION = "conversation"
#: The workday starts here: a run's messages are not meant to go out before 08:00 local time.
DAY_STARTS = time(8, 0)
#: The outbox payload key that marks a note before the due date (its value: the due date).
BEFORE_DUE = "before_due"
#: How far the planner looks for a free day before it gives up (a policy error, not data).
_MAX_DAYS = 120
_WRITTEN = frozenset(registry.written())


@dataclass(frozen=True, slots=True)
class Contact:
    """One contact already planned: the channel and the customer's local day."""

    channel: str
    day: date
    dunning: bool = True  # False: a note before the due date, not a reminder (D3)


@dataclass(frozen=True, slots=True)
class Slot:
    """Where a message was planned and why it is later than asked, if it is."""

    at: datetime  # aware, UTC
    reason: str | None = None


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _limits_for(
    channel: str, limits: Limits, dunning: bool = True
) -> list[tuple[int, int, frozenset[str] | None]]:
    """(count, window days, channels counted or None for all) that apply to `channel`."""
    found: list[tuple[int, int, frozenset[str] | None]] = []
    if channel in _WRITTEN and dunning:
        found.append((WRITTEN_PER_WINDOW, CONTACT_WINDOW_DAYS, _WRITTEN))
    window = _policy_window(limits)
    if limits.max_contacts is not None and window is not None:
        found.append((limits.max_contacts, window, None))
    return found


def _policy_window(limits: Limits) -> int | None:
    """The calendar days of the policy's `at most N contacts per W days` (business days:
    seven for every five, rounded up), or None when the policy sets no such limit."""
    if limits.contact_window is None:
        return None
    window = limits.contact_window.days
    if limits.contact_window.business:
        window = -(-window * 7 // 5)
    return max(1, window)


def look_back_days(limits: Iterable[Limits]) -> int:
    """How far before a run's day the contacts that can still count go back.

    The longest window of D3 among the weekly written reminder, the rest after a
    conversation and every given policy's own contact limit, and one day more: contacts are
    stored in UTC, and a customer's local day can begin on the UTC day before.  A shorter
    look-back would let `at most 4 contacts per 90 days` forget the contacts of 60 days ago.
    """
    windows = [_policy_window(lim) for lim in limits]
    fixed = (CONTACT_WINDOW_DAYS, CALL_REST_AFTER_CONVERSATION_DAYS)
    return 1 + max(*fixed, *(w for w in windows if w is not None))


def _fits(day: date, channel: str, taken: list[Contact], caps: list[tuple]) -> str | None:
    """None if one more contact on `day` keeps every cap, else the cap it would break.

    Written reminders count by day (a letter and an e-mail of the same reminder on one day
    are one reminder); other limits count each channel and day once.
    """
    rest = CALL_REST_AFTER_CONVERSATION_DAYS
    if channel == Channel.CALL.value and any(
        c.channel == CONVERSATION and 0 <= (day - c.day).days < rest for c in taken
    ):
        return f"no call within {rest} days after a conversation (D3)"
    for count, window, channels in caps:
        by_day = channels == _WRITTEN
        counted = {
            c.day if by_day else (c.channel, c.day)
            for c in taken
            if c.channel != CONVERSATION
            and (channels is None or c.channel in channels)
            and (c.dunning or channels != _WRITTEN)
            and abs((c.day - day).days) < window
        }
        new = day if by_day else (channel, day)
        if new in counted:
            continue
        if len(counted) < count:
            continue  # fewer contacts in reach than the cap allows: no window can be full
        days = [k if by_day else k[1] for k in counted]
        for start in range(window):
            first = day - timedelta(days=window - 1 - start)
            last = first + timedelta(days=window - 1)
            if sum(1 for d in days if first <= d <= last) + 1 > count:
                what = {None: "contacts", _WRITTEN: "written reminders"}.get(
                    channels, f"{channel} contacts"
                )
                return f"at most {count} {what} per {window} days (D3)"
    return None


def plan(
    as_of: date,
    channel: str,
    zone: str,
    country: str,
    region: str | None,
    limits: Limits,
    taken: list[Contact],
    dunning: bool = True,
) -> Slot:
    """The earliest moment on or after `as_of` 08:00 local that keeps D1, D2 and D3.

    `taken` is the customer's contacts so far (sent and queued); the new one is appended,
    so the next message of the same customer in the same run sees it.  `dunning` is False
    for a note before the due date: the written-reminder allowance does not apply to it.
    """
    tz = _zone(zone)
    day = as_of
    reason = None
    for _ in range(_MAX_DAYS):
        start = datetime.combine(day, DAY_STARTS, tz)
        at = next_allowed_contact(start, channel, tz, country, region, limits.quiet_hours)
        if at.date() != day:  # a rest day: the next day's working morning, not its midnight
            day = at.date()
            continue
        local_day = at.date()
        broken = _fits(local_day, channel, taken, _limits_for(channel, limits, dunning))
        if broken is None:
            if Contact(channel, local_day, dunning) not in taken:  # else bundled with it
                taken.append(Contact(channel, local_day, dunning))
            break
        reason = broken
        day = local_day + timedelta(days=1)
    else:
        raise ValueError(f"no day within {_MAX_DAYS} days keeps the contact limits for {channel}")
    if at.date() != as_of and reason is None:
        reason = "quiet hours, Sunday or public holiday (D1, D2)"
    return Slot(at.astimezone(UTC), reason)


class ContactBook:
    """The recent and queued contacts of one batch's customers, loaded with one query.

    `limits` are those of every policy the batch may plan under: they say how far back
    contacts still count (`look_back_days`); `plan` refuses limits that need more.
    """

    def __init__(
        self, conn: Connection, customer_ids: Iterable[int], as_of: date, limits: Iterable[Limits]
    ):
        self._look_back = look_back_days(limits)
        self._checked: Limits | None = None  # the last limits found within the look-back
        self._raw: dict[int, list[tuple[str, datetime, bool]]] = {}
        self._taken: dict[int, list[Contact]] = {}
        self._talks: dict[int, list[date]] = {}  # conversations, by the customer's local day
        since = datetime.combine(as_of - timedelta(days=self._look_back), time(0), UTC)
        sent, talks = contacts_since(conn, customer_ids, since, BEFORE_DUE, CONVERSATION)
        for customer_id, channel, not_before, before_due in sent:
            self._raw.setdefault(customer_id, []).append((channel, not_before, not before_due))
        for customer_id, day in talks:
            self._talks.setdefault(customer_id, []).append(day)

    def plan(
        self,
        customer_id: int,
        as_of: date,
        channel: str,
        zone: str,
        country: str,
        region: str | None,
        limits: Limits,
        dunning: bool = True,
    ) -> Slot:
        if limits is not self._checked:  # a batch plans under one or two policies' limits
            if look_back_days([limits]) > self._look_back:
                raise ValueError(
                    f"the contacts were loaded for {self._look_back} days back, but the limits "
                    f"count {look_back_days([limits])}: pass every policy's limits to ContactBook"
                )
            self._checked = limits
        taken = self._taken.get(customer_id)
        if taken is None:  # contacts are stored in UTC; the customer's day is the local one
            tz = _zone(zone)
            taken = self._taken[customer_id] = [
                Contact(channel_, at.astimezone(tz).date(), dunning_)
                for channel_, at, dunning_ in self._raw.get(customer_id, [])
            ] + [Contact(CONVERSATION, day) for day in self._talks.get(customer_id, [])]
        return plan(as_of, channel, zone, country, region, limits, taken, dunning)

    def withdraw(self, customer_id: int, channel: str, day: date) -> None:
        """Forget a note planned for `day` that will not be sent after all."""
        taken = self._taken.get(customer_id, [])
        if Contact(channel, day, False) in taken:
            taken.remove(Contact(channel, day, False))
