"""The column types and closed vocabularies every table module shares.

Money is `Numeric(14, 2)`, instants `AwareDateTime` (UTC on every database),
and the constraint names are deterministic so migrations can refer to them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import (
    Dialect,
    Numeric,
    text,
)
from sqlalchemy.types import DateTime, TypeDecorator
from sqlmodel import SQLModel

# Deterministic constraint names, so migrations can refer to them on every database.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MONEY: Final = Numeric(14, 2)
"""Amounts up to 999 999 999 999.99 in the invoice's currency."""
RATE: Final = Numeric(9, 6)
"""Interest rates, e.g. 11.27 (percent per year) or 0.112700 (fraction)."""

CUSTOMER_TYPES: Final = ("B2B", "B2C")
PAYMENT_SOURCES: Final = ("import", "cli", "bank")
OUTBOX_STATUSES: Final = ("queued", "sending", "sent", "failed", "cancelled")
APPROVAL_STATUSES: Final = ("pending", "approved", "rejected")
DECISIONS: Final = ("approve", "reject")
LEDGER_KINDS: Final = (
    "principal",
    "fee",
    "lump_sum",
    "interest",
    "payment",
    "write_off",
    "collection_cost",
    "credit",
    "skonto",  # issue 19: a Skonto tier of the invoice earned by a payment in time
    "discount",  # issue 19: a discount the policy offered, earned by a payment in time
)


def one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL for a CHECK that `column` holds one of `values` (closed vocabularies)."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class AwareDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware and in UTC when read back.

    PostgreSQL's `timestamptz` keeps the instant; SQLite stores text and drops
    the offset.  Converting to UTC on the way in and attaching UTC on the way
    out makes both behave alike.  A naive datetime is refused: the engine must
    know which instant it means (a letter "not before 08:00" in Berlin).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime (e.g. UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _default(value: str) -> dict[str, Any]:
    """Server default too, so rows written by plain SQL or bulk inserts get it."""
    return {"server_default": text(value)}
