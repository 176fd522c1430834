"""What GDPR erasure may touch, by law: the customer fields a booking record
needs and those it does not, the retention period (§ 147 AO, § 257 HGB), the
tables dropped on erasure, and the privacy errors.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Final, Literal

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from mahnwerk.engine import models as m
from mahnwerk.errors import MahnwerkError

EXPORT_FORMAT: Final = "mahnwerk-customer-export/1"
RETENTION_YEARS: Final = 10
"""§ 147 Abs. 3 AO, § 257 Abs. 4 HGB: books, invoices and booking vouchers."""
RULE: Final = "E2 GDPR Art. 17"
ERASED: Final = "[erased]"
_ONE_DAY: Final = timedelta(days=1)
"""What replaces an erased value inside free text."""

#: Customer fields no booking record needs: erased as soon as erasure is asked for.
NOT_BOOKING_FIELDS: Final = (
    "email",
    "phone",
    "tags",
    "vulnerable",
    "opted_out",
    "risk_score",
    "avg_days_late",
)
#: Customer fields that are part of the booking record (invoice addressee, § 14 UStG),
#: or explain bookings (insolvency, death): kept until retention ends, then cleared.
BOOKING_FIELDS: Final = (
    "name",
    "street",
    "postal_code",
    "city",
    "region",
    "insolvent_since",
    "deceased_since",
)
#: Preferences reset to the defaults on anonymisation (not identifying on their own).
RESET_FIELDS: Final = {"language": "de", "timezone": "Europe/Berlin"}
#: Kept for good: keys and coarse facts that identify no one once the name is gone.
KEPT_FIELDS: Final = ("id", "external_id", "type", "country")

_CLEARED: Final[dict[str, Any]] = {
    "tags": "",
    "opted_out": "",
    "vulnerable": False,
}
_SETTLED_STATES: Final = frozenset({"paid", "written_off"})
_EVENT_KINDS: Final = {"restricted": "customer_restricted", "anonymised": "customer_anonymised"}
_KNOWN_TABLES: Final = frozenset(
    t.name
    for t in (m.CUST, m.INV, m.PAY, m.DS, m.EVENT, m.OUTBOX, m.LEDGER, m.APPROVAL, m.DECISION)
    + (m.INBOX, m.PV, m.RUN)
)
#: Tables of other features whose rows about the customer are no booking record and go on
#: any erasure: IBANs learnt for matching payments, computed payment behaviour (profiling).
DROP_ON_ERASURE: Final = ("bank_account", "customer_behaviour", "portal_upload")
_LEGAL_FORMS: Final = frozenset(
    w.casefold() for w in ("GmbH", "mbH", "AG", "KG", "OHG", "GbR", "UG", "SE", "Co", "Ltd", "Inc")
)

Mode = Literal["restricted", "anonymised"]
Bind = Engine | Connection | Session


class PrivacyError(MahnwerkError):
    """Base of this module's refusals; the message says what to do."""


class CustomerNotFound(PrivacyError, LookupError):
    """No customer with that number."""


class ErasureRefused(PrivacyError):
    """Erasure is not allowed now (open claims, a message in flight, a bad date)."""


def retention_end(last_booking: date) -> date:
    """The last day booking records of `last_booking` must be kept.

    The period starts at the end of the calendar year of the booking (§ 147
    Abs. 4 AO, § 257 Abs. 5 HGB) and runs ten years: 2016-05-03 -> 2026-12-31,
    so erasure is allowed from 2027-01-01.
    """
    return date(last_booking.year + RETENTION_YEARS, 12, 31)
