"""Dates as operators type them on the phone: `20.04.2026`, `20.4.`, `+14`, `2026-04-20`.

German operators write day.month; a year left out means the next such day from
today on (a promise made in December for `15.1.` means next January); `+14` counts
days from the business date; ISO dates work too.  A date that cannot be read names
every form that can.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

FORMS = "20.04.2026, 20.4., +14 or 2026-04-20"

_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})?")
_PLUS = re.compile(r"\+\s*(\d{1,4})\s*[dt]?")


class DateError(ValueError):
    """A date the operator typed that cannot be read (the message says how to write it)."""


def parse_day(text: str, today: date, what: str = "date") -> date:
    """The day `text` means, seen from `today`; raises `DateError`."""
    value = text.strip().lower()
    if value in ("heute", "today"):
        return today
    if m := _PLUS.fullmatch(value):
        return today + timedelta(days=int(m.group(1)))
    try:
        if m := _DOTTED.fullmatch(value):
            day, month, year = int(m.group(1)), int(m.group(2)), m.group(3)
            if year is None:
                found = date(today.year, month, day)
                return found if found >= today else date(today.year + 1, month, day)
            full = int(year) + (2000 if len(year) == 2 else 0)
            return date(full, month, day)
        return date.fromisoformat(value)
    except ValueError:
        raise DateError(f"{what} {text.strip()!r} is not a date; write {FORMS}") from None
