"""The tables of money from outside: how each customer pays (analytics), bank
statements and payers' accounts, e-invoices read and DATEV bookings exported.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Final

from sqlalchemy import (
    CheckConstraint,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from mahnwerk.engine.model_types import MONEY, AwareDateTime, _default, one_of

# ---------------------------------------------------------------------------
# Analytics: how each customer pays (written by `mahnwerk analyse`)
# ---------------------------------------------------------------------------


class CustomerBehaviour(SQLModel, table=True):
    """A customer's payment behaviour as of `as_of`, and the risk score built from it.

    One row per customer, replaced by every `mahnwerk analyse`; the run reads it
    for the `customer.*` behaviour facts.  `risk_reasons` keeps the scorecard's
    points with their reasons (JSON), so a score can always be explained.
    """

    __tablename__ = "customer_behaviour"

    customer_id: int = Field(
        primary_key=True, foreign_key="customer.id", sa_column_kwargs={"autoincrement": False}
    )
    as_of: date
    invoices: int = Field(default=0, sa_column_kwargs=_default("0"))
    paid: int = Field(default=0, sa_column_kwargs=_default("0"))
    median_days_late: Decimal | None = Field(default=None, sa_type=Numeric(8, 2))
    late_share: Decimal | None = Field(default=None, sa_type=Numeric(5, 4))
    trend_days: Decimal | None = Field(default=None, sa_type=Numeric(8, 2))
    disputes: int = Field(default=0, sa_column_kwargs=_default("0"))
    partial_payments: int = Field(default=0, sa_column_kwargs=_default("0"))
    open_invoices: int = Field(default=0, sa_column_kwargs=_default("0"))
    open_amount: Decimal = Field(
        default=Decimal("0.00"), sa_type=MONEY, sa_column_kwargs=_default("0")
    )
    overdue_invoices: int = Field(default=0, sa_column_kwargs=_default("0"))
    max_days_overdue: int = Field(default=0, sa_column_kwargs=_default("0"))
    last_invoice_on: date | None = None
    gone_quiet: bool = Field(default=False, sa_column_kwargs=_default("false"))
    #: the portal's "tell us why" (engine/feedback.py): the reason last given, when, and
    #: how many answers the customer gave up to `as_of`
    feedback_reason: str | None = Field(default=None, sa_type=String)
    feedback_on: date | None = None
    feedback_answers: int = Field(default=0, sa_column_kwargs=_default("0"))
    risk_reasons: str = Field(default="[]", sa_type=Text, sa_column_kwargs=_default("'[]'"))
    computed_at: datetime = Field(sa_type=AwareDateTime)


# ---------------------------------------------------------------------------
# Bank statements (engine/bank): imported entries and payers' accounts
# ---------------------------------------------------------------------------

BANK_ENTRY_KINDS: Final = ("credit", "debit", "return", "reversal")
BANK_ENTRY_STATUSES: Final = ("matched", "assigned", "unmatched", "review", "dismissed", "other")


class BankEntry(SQLModel, table=True):
    """One booked line of an imported bank statement; `entry_key` stops booking it twice.

    A matched credit has become `payment` rows (`bank:<id>:<n>`); `unmatched` credits and
    `review` entries (returns, reversals) wait for a person.
    """

    __tablename__ = "bank_entry"
    __table_args__ = (
        UniqueConstraint("entry_key"),
        CheckConstraint(one_of("kind", BANK_ENTRY_KINDS), name="kind"),
        CheckConstraint(one_of("status", BANK_ENTRY_STATUSES), name="status"),
        CheckConstraint(one_of("direction", ("C", "D")), name="direction"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entry_key: str = Field(sa_type=String(64))
    account: str = Field(sa_type=String)
    statement: str = Field(sa_type=String)
    entry_ref: str | None = Field(default=None, sa_type=String)
    booked_on: date
    value_date: date | None = None
    amount: Decimal = Field(sa_type=MONEY)
    currency: str = Field(sa_type=String(3))
    direction: str = Field(sa_type=String(1))
    kind: str = Field(sa_type=String)
    counterparty_name: str | None = Field(default=None, sa_type=String)
    counterparty_iban: str | None = Field(default=None, sa_type=String)
    end_to_end_id: str | None = Field(default=None, sa_type=String)
    remittance: str = Field(default="", sa_type=Text, sa_column_kwargs=_default("''"))
    bank_code: str | None = Field(default=None, sa_type=String)
    file: str = Field(sa_type=Text)
    line: int | None = None
    status: str = Field(index=True, sa_type=String)
    matched_by: str | None = Field(default=None, sa_type=String)
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    note: str = Field(default="", sa_type=Text, sa_column_kwargs=_default("''"))
    imported_at: datetime = Field(sa_type=AwareDateTime)
    decided_by: str | None = Field(default=None, sa_type=String)
    decided_at: datetime | None = Field(default=None, sa_type=AwareDateTime)


class BankAccount(SQLModel, table=True):
    """A payer's IBAN known to belong to a customer (learnt from matches or entered)."""

    __tablename__ = "bank_account"
    __table_args__ = (UniqueConstraint("iban"),)

    id: int | None = Field(default=None, primary_key=True)
    iban: str = Field(sa_type=String)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    learned_from: str = Field(sa_type=String)
    created_at: datetime = Field(sa_type=AwareDateTime)


EDOCUMENT_KINDS: Final = ("invoice", "credit_note")


class EInvoiceDocument(SQLModel, table=True):
    """An e-invoice or credit note that was imported: what it said and what it became.

    One row per (kind, number): importing the same document again, in either syntax, is
    recognised here and changes nothing.  `invoice_id` is the open item it created (or,
    for a credit note, the one it reduced); a document with nothing to collect (amount
    due 0, or negative) is kept without one, so the import can say why.
    """

    __tablename__ = "einvoice_document"
    __table_args__ = (
        UniqueConstraint("kind", "number"),
        CheckConstraint(one_of("kind", EDOCUMENT_KINDS), name="kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_type=String)
    number: str = Field(sa_type=String)
    type_code: str = Field(sa_type=String)
    syntax: str = Field(sa_type=String)
    file_name: str = Field(sa_type=String)
    issue_date: date
    due_date: date | None = None
    currency: str = Field(sa_type=String(3))
    amount_due: Decimal = Field(sa_type=MONEY)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    invoice_id: int | None = Field(default=None, foreign_key="invoice.id", index=True)
    preceding: str = Field(default="", sa_type=Text, sa_column_kwargs=_default("''"))
    imported_at: datetime = Field(sa_type=AwareDateTime)


class DatevExport(SQLModel, table=True):
    """One DATEV booking batch (`mahnwerk export datev`): when, which period, which file."""

    __tablename__ = "datev_export"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_type=AwareDateTime)
    period_from: date
    period_to: date
    file_name: str = Field(sa_type=String)
    bookings: int
    total: Decimal = Field(sa_type=MONEY)  # the sum of the amounts, debits minus credits
    actor: str = Field(sa_type=String)


class DatevBooking(SQLModel, table=True):
    """A ledger line in the batch that exported it: a booking goes to DATEV once."""

    __tablename__ = "datev_booking"

    ledger_id: int = Field(
        primary_key=True, foreign_key="ledger.id", sa_column_kwargs={"autoincrement": False}
    )
    export_id: int = Field(foreign_key="datev_export.id", index=True)
