"""The tables mahnwerk persists, as SQLModel classes.

What lives here is *data*, never behaviour: master data from the accounting
export (customer, invoice, payment), the engine's small per-invoice record
(`dunning_state`), the append-only `event` log that explains every decision,
the `outbox` of communications, `approval`s with their decisions, the `ledger`
of fees and interest, deployed `policy_version`s and daily `run`s.

Conventions, because the law counts cents and days:

* money is `Numeric(14, 2)` read back as `Decimal` (never float);
* calendar facts (due dates, booking days) are `date`;
* instants are timezone-aware (`AwareDateTime`, stored and returned in UTC even
  on SQLite, which has no time zone type);
* nothing here reads the clock: callers pass `now`, so runs are reproducible.

The schema itself is created by the Alembic migrations in `migrations/`;
`tests/engine/test_models_db.py` proves that the migrations and these classes
agree.  An invoice without a `dunning_state` row is "new": the engine, not the
import, creates that row.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import (
    CheckConstraint,
    Dialect,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import DateTime, TypeDecorator
from sqlmodel import Field, SQLModel

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


# ---------------------------------------------------------------------------
# Master data (from the accounting export)
# ---------------------------------------------------------------------------


class Customer(SQLModel, table=True):
    """A debtor; `external_id` is the customer number of the accounting system."""

    __tablename__ = "customer"
    __table_args__ = (
        UniqueConstraint("external_id"),
        CheckConstraint(one_of("type", CUSTOMER_TYPES), name="type"),
    )

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(sa_type=String)
    name: str = Field(sa_type=String)
    type: str = Field(sa_type=String)
    email: str | None = Field(default=None, sa_type=String)
    phone: str | None = Field(default=None, sa_type=String)
    street: str | None = Field(default=None, sa_type=String)
    postal_code: str | None = Field(default=None, sa_type=String)
    city: str | None = Field(default=None, sa_type=String)
    country: str = Field(default="DE", sa_type=String, sa_column_kwargs=_default("'DE'"))
    region: str | None = Field(default=None, sa_type=String)
    language: str = Field(default="de", sa_type=String, sa_column_kwargs=_default("'de'"))
    tags: str = Field(default="", sa_type=Text, sa_column_kwargs=_default("''"))
    vulnerable: bool = Field(default=False, sa_column_kwargs=_default("false"))
    opted_out: str = Field(default="", sa_type=Text, sa_column_kwargs=_default("''"))
    timezone: str = Field(
        default="Europe/Berlin", sa_type=String, sa_column_kwargs=_default("'Europe/Berlin'")
    )
    risk_score: Decimal | None = Field(default=None, sa_type=Numeric(7, 4))
    avg_days_late: Decimal | None = Field(default=None, sa_type=Numeric(8, 2))
    insolvent_since: date | None = None
    deceased_since: date | None = None
    # VAT id (BT-48 of an e-invoice), normalised: how an e-invoice finds its customer
    vat_id: str | None = Field(default=None, sa_type=String, index=True)


class Invoice(SQLModel, table=True):
    """An open item.  `due_date_agreed` (A1) and `notice_30_days` (A3) decide default."""

    __tablename__ = "invoice"
    __table_args__ = (
        UniqueConstraint("external_id"),
        # the operators' queue pages through a million invoices sorted by these (keyset)
        Index("ix_invoice_due_date_id", "due_date", "id"),
        Index("ix_invoice_amount_id", "amount", "id"),
        # intake finds invoices not yet taken up by this flag, not by "id above the last one
        # seen": ids are handed out before commit, so they commit out of order (issue 12)
        Index(
            "ix_invoice_intake_pending",
            "id",
            sqlite_where=text("intake_pending = 1"),
            postgresql_where=text("intake_pending"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(sa_type=String)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    issue_date: date
    due_date: date
    amount: Decimal = Field(sa_type=MONEY)
    currency: str = Field(default="EUR", sa_type=String(3), sa_column_kwargs=_default("'EUR'"))
    due_date_agreed: bool = Field(default=False, sa_column_kwargs=_default("false"))
    notice_30_days: bool = Field(default=False, sa_column_kwargs=_default("false"))
    received_on: date | None = None
    closed_on: date | None = None
    #: A4/A7: `goods_services` (§ 288 Abs. 2, 5 BGB) or `other` money debt; NULL: goods_services
    claim_kind: str | None = Field(default=None, sa_type=String)
    # The payment terms as the invoice states them (an e-invoice's BT-20), kept verbatim
    payment_terms: str | None = Field(default=None, sa_type=Text)
    #: issue 19: the Skonto tiers as read (JSON, `engine/terms.py`); NULL: none
    skonto_terms: str | None = Field(default=None, sa_type=Text)
    intake_pending: bool = Field(default=True, sa_column_kwargs=_default("true"))


class Payment(SQLModel, table=True):
    """Money received.  Without `invoice_id` it is unmatched; the engine matches it."""

    __tablename__ = "payment"
    __table_args__ = (
        UniqueConstraint("external_id"),
        CheckConstraint(one_of("source", PAYMENT_SOURCES), name="source"),
    )

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(sa_type=String)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    invoice_id: int | None = Field(default=None, foreign_key="invoice.id", index=True)
    booked_on: date
    amount: Decimal = Field(sa_type=MONEY)
    currency: str = Field(default="EUR", sa_type=String(3), sa_column_kwargs=_default("'EUR'"))
    reference: str | None = Field(default=None, sa_type=Text)
    applied: bool = Field(default=False, index=True, sa_column_kwargs=_default("false"))
    source: str = Field(default="import", sa_type=String, sa_column_kwargs=_default("'import'"))


# ---------------------------------------------------------------------------
# The engine's record per invoice, its log and its outputs
# ---------------------------------------------------------------------------


class PolicyVersion(SQLModel, table=True):
    """A deployed policy file.  At most one active version per policy name."""

    __tablename__ = "policy_version"
    __table_args__ = (
        UniqueConstraint("name", "version"),
        Index(
            "uq_policy_version_active_name",
            "name",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String)
    version: int
    path: str = Field(sa_type=String)
    source: str = Field(sa_type=Text)
    sha256: str = Field(sa_type=String(64))
    deployed_at: datetime = Field(sa_type=AwareDateTime)
    active: bool = Field(default=False, sa_column_kwargs=_default("false"))
    applies_to: str | None = Field(default=None, sa_type=Text)
    priority: int = Field(default=100, sa_column_kwargs=_default("100"))


class Approval(SQLModel, table=True):
    """A step that needs `required` distinct people to agree before the engine takes it."""

    __tablename__ = "approval"
    __table_args__ = (
        CheckConstraint(one_of("status", APPROVAL_STATUSES), name="status"),
        # Today lists the waiting ones oldest first (migration 0017)
        Index("ix_approval_status_requested_on", "status", "requested_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    target_state: str = Field(sa_type=String)
    summary: str = Field(sa_type=Text)
    rule: str = Field(sa_type=String)
    required: int = Field(default=1, sa_column_kwargs=_default("1"))
    status: str = Field(
        default="pending", index=True, sa_type=String, sa_column_kwargs=_default("'pending'")
    )
    requested_on: date
    decided_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    amount: Decimal = Field(sa_type=MONEY)


class ApprovalDecision(SQLModel, table=True):
    """One person's vote; the unique key stops the same person approving twice."""

    __tablename__ = "approval_decision"
    __table_args__ = (
        UniqueConstraint("approval_id", "approver"),
        CheckConstraint(one_of("decision", DECISIONS), name="decision"),
    )

    id: int | None = Field(default=None, primary_key=True)
    approval_id: int = Field(foreign_key="approval.id")
    approver: str = Field(sa_type=String)
    decision: str = Field(sa_type=String)
    comment: str = Field(default="", sa_type=Text, sa_column_kwargs=_default("''"))
    decided_at: datetime = Field(sa_type=AwareDateTime)


class DunningState(SQLModel, table=True):
    """Where one invoice stands in its policy's graph: small, and the only mutable part.

    The daily run loads rows with `next_check_on <= as_of` (composite index);
    `row_version` lets writers detect concurrent changes; `claimed_by` and
    `claimed_at` let parallel workers share a run.
    """

    __tablename__ = "dunning_state"
    __table_args__ = (Index("ix_dunning_state_next_check", "next_check_on", "invoice_id"),)

    invoice_id: int = Field(
        primary_key=True, foreign_key="invoice.id", sa_column_kwargs={"autoincrement": False}
    )
    policy_version_id: int | None = Field(default=None, foreign_key="policy_version.id")
    segment: str = Field(sa_type=String)
    ladder: str = Field(sa_type=String)
    state: str = Field(index=True, sa_type=String)
    entered_on: date
    next_check_on: date | None = None
    paused_until: date | None = None
    pause_reason: str | None = Field(default=None, sa_type=Text)
    held: bool = Field(default=False, sa_column_kwargs=_default("false"))
    principal_open: Decimal = Field(
        default=Decimal("0.00"), sa_type=MONEY, sa_column_kwargs=_default("0")
    )
    fees_open: Decimal = Field(
        default=Decimal("0.00"), sa_type=MONEY, sa_column_kwargs=_default("0")
    )
    #: D10: the policy's own fees charged so far, paid or not (no interest, no lump sum)
    fees_charged_sum: Decimal = Field(
        default=Decimal("0.00"), sa_type=MONEY, sa_column_kwargs=_default("0")
    )
    interest_open: Decimal = Field(
        default=Decimal("0.00"), sa_type=MONEY, sa_column_kwargs=_default("0")
    )
    #: issue 11: payments' share on costs and interest (§ 367 BGB), for residual cents
    add_ons_paid: Decimal = Field(
        default=Decimal("0.00"), sa_type=MONEY, sa_column_kwargs=_default("0")
    )
    interest_to: date | None = None
    #: A6: first day of the current run of one principal at one surcharge (NULL: next booking)
    interest_run_from: date | None = None
    default_since: date | None = None
    lump_sum_charged: bool = Field(default=False, sa_column_kwargs=_default("false"))
    last_letter_on: date | None = None
    last_contact_on: date | None = None
    promises: int = Field(default=0, sa_column_kwargs=_default("0"))
    interest_active: bool = Field(default=False, sa_column_kwargs=_default("false"))
    interest_points: Decimal | None = Field(default=None, sa_type=Numeric(6, 3))
    interest_deferred: str | None = Field(default=None, sa_type=Text)  # JSON periods
    first_reminder_on: date | None = None
    written_reminders: int = Field(default=0, sa_column_kwargs=_default("0"))
    disputed: bool = Field(default=False, sa_column_kwargs=_default("false"))
    plan_active: bool = Field(default=False, sa_column_kwargs=_default("false"))
    plan: str | None = Field(default=None, sa_type=Text)  # JSON [[due day, amount], ...]
    plan_paid: Decimal = Field(
        default=Decimal("0.00"), sa_type=MONEY, sa_column_kwargs=_default("0")
    )
    pending_approval: str | None = Field(default=None, sa_type=String)
    approved_target: str | None = Field(default=None, sa_type=String)
    approved_on: date | None = None
    time_barred_from: date | None = None
    credit_stopped: bool = Field(default=False, sa_column_kwargs=_default("false"))
    report_notice_on: date | None = None  # C2: told of a possible credit-bureau report
    limitation_restart_on: date | None = None  # C4: last part payment (§ 212 BGB)
    court_stage: str | None = Field(default=None, sa_type=String)  # C3: payment order
    court_served_on: date | None = None
    interest_rule: str | None = Field(default=None, sa_type=String)  # E3: the claiming line
    # issue 13: what a segment move must not repeat (engine/segment_moves.py)
    sent_templates: str | None = Field(default=None, sa_type=Text)  # comma-separated
    fees_charged: int = Field(default=0, sa_column_kwargs=_default("0"))
    fee_floor: int = Field(default=0, sa_column_kwargs=_default("0"))
    segment_moved_on: date | None = None
    # issue 19: discounts the policy offered (JSON), and a Skonto deducted too late
    discount_offers: str | None = Field(default=None, sa_type=Text)
    deduction_on: date | None = None
    deduction_note: str | None = Field(default=None, sa_type=Text)
    pending_approval_id: int | None = Field(default=None, foreign_key="approval.id")
    row_version: int = Field(default=0, sa_column_kwargs=_default("0"))
    claimed_by: str | None = Field(default=None, sa_type=String)
    claimed_at: datetime | None = Field(default=None, sa_type=AwareDateTime)


class Event(SQLModel, table=True):
    """The append-only log: what happened, when, by whom, and which rule said so.

    The migration adds triggers that refuse UPDATE and DELETE on this table.
    No foreign keys on purpose: the log must be able to record anything.
    """

    __tablename__ = "event"
    # the operators' worklist finds open tasks by kind (migration 0010)
    __table_args__ = (Index("ix_event_kind_occurred_on", "kind", "occurred_on"),)

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int | None = Field(default=None, index=True)
    customer_id: int | None = Field(default=None, index=True)
    kind: str = Field(sa_type=String)
    occurred_on: date
    recorded_at: datetime = Field(sa_type=AwareDateTime)
    actor: str = Field(sa_type=String)
    rule: str | None = Field(default=None, sa_type=String)
    state_from: str | None = Field(default=None, sa_type=String)
    state_to: str | None = Field(default=None, sa_type=String)
    message: str = Field(default="", sa_type=Text, sa_column_kwargs=_default("''"))
    payload: str = Field(default="{}", sa_type=Text, sa_column_kwargs=_default("'{}'"))
    run_id: int | None = Field(default=None, index=True)


class EventSeal(SQLModel, table=True):
    """The audit log's hash chain (`engine/audit.py`): one row per sealed event.

    `hash` is sha256 over `prev_hash` and the event's fields; `seq` orders the chain.
    Append-only like the log itself (migration 0008 adds the triggers).
    """

    __tablename__ = "event_seal"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    event_id: int = Field(unique=True)
    prev_hash: str = Field(sa_type=String)
    hash: str = Field(sa_type=String)


class BounceSeen(SQLModel, table=True):
    """A delivery status notification already read from the bounce mailbox (once only)."""

    __tablename__ = "bounce_seen"

    key: str = Field(primary_key=True, sa_type=String)
    message_id: str = Field(sa_type=String)
    delivery_id: int | None = Field(default=None)
    status: str = Field(sa_type=String)
    seen_at: datetime = Field(sa_type=AwareDateTime)


class Outbox(SQLModel, table=True):
    """A communication to send; `idempotency_key` makes re-runs send nothing twice."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        # D3: a run counts each customer's recent contacts before it queues another
        Index("ix_outbox_customer_not_before", "customer_id", "not_before"),
        # Today's calls to make, without reading every e-mail and letter (migration 0017)
        Index("ix_outbox_channel_not_before", "channel", "not_before"),
        CheckConstraint(one_of("status", OUTBOX_STATUSES), name="status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(sa_type=String)
    invoice_id: int | None = Field(default=None, foreign_key="invoice.id", index=True)
    customer_id: int = Field(foreign_key="customer.id")
    channel: str = Field(sa_type=String)
    template: str = Field(sa_type=String)
    language: str = Field(sa_type=String)
    tone: str | None = Field(default=None, sa_type=String)
    status: str = Field(
        default="queued", index=True, sa_type=String, sa_column_kwargs=_default("'queued'")
    )
    not_before: datetime = Field(sa_type=AwareDateTime)
    created_at: datetime = Field(sa_type=AwareDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    attempts: int = Field(default=0, sa_column_kwargs=_default("0"))
    last_error: str | None = Field(default=None, sa_type=Text)
    payload: str = Field(default="{}", sa_type=Text, sa_column_kwargs=_default("'{}'"))
    rule: str | None = Field(default=None, sa_type=String)


class Ledger(SQLModel, table=True):
    """One booking on an invoice: charges positive, payments and write-offs negative."""

    __tablename__ = "ledger"
    __table_args__ = (CheckConstraint(one_of("kind", LEDGER_KINDS), name="kind"),)

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    kind: str = Field(sa_type=String)
    amount: Decimal = Field(sa_type=MONEY)
    booked_on: date
    period_from: date | None = None
    period_to: date | None = None
    rate: Decimal | None = Field(default=None, sa_type=RATE)
    provisional: bool = Field(default=False, sa_column_kwargs=_default("false"))
    rule: str | None = Field(default=None, sa_type=String)
    event_id: int | None = Field(default=None, index=True)


class BookLease(SQLModel, table=True):
    """Who writes the book now: at most one run or import at a time (engine/lease.py).

    One row per lease name while it is held; `pid` and `host` let a later process see
    that the holder died (kill -9, power cut) and take the lease over, `heartbeat_at`
    does the same for a holder on another machine.
    """

    __tablename__ = "book_lease"

    name: str = Field(primary_key=True, sa_type=String)
    token: str = Field(sa_type=String)
    purpose: str = Field(sa_type=Text)
    pid: int
    host: str = Field(sa_type=String)
    acquired_at: datetime = Field(sa_type=AwareDateTime)
    heartbeat_at: datetime = Field(sa_type=AwareDateTime)


class Run(SQLModel, table=True):
    """One daily run of the engine, for the audit trail and the status screen."""

    __tablename__ = "run"

    id: int | None = Field(default=None, primary_key=True)
    as_of: date
    started_at: datetime = Field(sa_type=AwareDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    stats: str = Field(default="{}", sa_type=Text, sa_column_kwargs=_default("'{}'"))
    workers: int = Field(default=1, sa_column_kwargs=_default("1"))


__all__ = [
    "APPROVAL_STATUSES",
    "CUSTOMER_TYPES",
    "DECISIONS",
    "LEDGER_KINDS",
    "MONEY",
    "OUTBOX_STATUSES",
    "PAYMENT_SOURCES",
    "RATE",
    "Approval",
    "ApprovalDecision",
    "BookLease",
    "AwareDateTime",
    "Customer",
    "DunningState",
    "Event",
    "Invoice",
    "Ledger",
    "Outbox",
    "Payment",
    "PolicyVersion",
    "Run",
]


class Inbox(SQLModel, table=True):
    """Events entered by people or imports, waiting for the next run to apply them.

    The `event` log is append-only; this queue is its mutable doorway: a run
    marks an entry applied (`applied_run_id`) in the same transaction that
    writes what the event caused.
    """

    __tablename__ = "inbox"
    __table_args__ = (
        Index("ix_inbox_pending", "applied_run_id", "invoice_id"),
        # promises that fall due, and the latest promise per invoice (migration 0017)
        Index("ix_inbox_kind_invoice_id", "kind", "invoice_id"),
        # the promises by their date (migration 0021: an expression per database)
        Index(
            "ix_inbox_promised_date",
            "kind",
            text("(payload::jsonb ->> 'promised_date')"),
            "id",
            postgresql_where=text("kind = 'promise_made'"),
        ).ddl_if(dialect="postgresql"),
    )

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id")
    kind: str = Field(sa_type=String)
    occurred_on: date
    payload: str = Field(default="{}", sa_type=Text, sa_column_kwargs=_default("'{}'"))
    recorded_at: datetime = Field(sa_type=AwareDateTime)
    actor: str = Field(sa_type=String)
    applied_run_id: int | None = None


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


# ---------------------------------------------------------------------------
# Communications: delivery attempts of outbox messages (engine/comms/dispatch.py)
# ---------------------------------------------------------------------------

DELIVERY_STATUSES: Final = ("transmitting", "committed", "sent", "failed", "abandoned")


class Delivery(SQLModel, table=True):
    """One attempt to deliver a message: one outbox row, or several bundled (D3).

    `message_id` is derived from the outbox rows' idempotency keys, so every
    attempt of the same message carries the same Message-ID.  An attempt is
    `sent` only once the other side took the message (SMTP 250, HTTP 2xx, the
    letter in a print batch); one a crash left `transmitting` (or `committed`,
    from older versions, with `committed_at`) is sent again by the next
    dispatch — at least once, never lost.  `subject` and `body` keep the text
    as sent, for the audit trail.
    """

    __tablename__ = "delivery"
    __table_args__ = (CheckConstraint(one_of("status", DELIVERY_STATUSES), name="status"),)

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(index=True, sa_type=String)
    channel: str = Field(sa_type=String)
    customer_id: int = Field(foreign_key="customer.id")
    template: str = Field(sa_type=String)
    language: str = Field(sa_type=String)
    recipient: str | None = Field(default=None, sa_type=String)
    status: str = Field(index=True, sa_type=String)
    attempt: int = Field(default=1, sa_column_kwargs=_default("1"))
    started_at: datetime = Field(sa_type=AwareDateTime)
    committed_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    error: str | None = Field(default=None, sa_type=Text)
    subject: str | None = Field(default=None, sa_type=Text)
    body: str | None = Field(default=None, sa_type=Text)
    artefact: str | None = Field(default=None, sa_type=Text)


class DeliveryItem(SQLModel, table=True):
    """Which outbox rows a delivery attempt carries."""

    __tablename__ = "delivery_item"

    delivery_id: int = Field(
        primary_key=True, foreign_key="delivery.id", sa_column_kwargs={"autoincrement": False}
    )
    outbox_id: int = Field(
        primary_key=True,
        foreign_key="outbox.id",
        index=True,
        sa_column_kwargs={"autoincrement": False},
    )


# ---------------------------------------------------------------------------
# Core table handles: the engine's bulk reads and writes use these, not the ORM
# ---------------------------------------------------------------------------

CUST = Customer.__table__
INV = Invoice.__table__
PAY = Payment.__table__
PV = PolicyVersion.__table__
APPROVAL = Approval.__table__
DECISION = ApprovalDecision.__table__
DS = DunningState.__table__
EVENT = Event.__table__
EVENT_SEAL = EventSeal.__table__
BOUNCE_SEEN = BounceSeen.__table__
OUTBOX = Outbox.__table__
LEDGER = Ledger.__table__
RUN = Run.__table__
LEASE = BookLease.__table__
INBOX = Inbox.__table__
DELIVERY = Delivery.__table__
DELIVERY_ITEM = DeliveryItem.__table__
BEHAVIOUR = CustomerBehaviour.__table__
BANK_ENTRY = BankEntry.__table__
BANK_ACCOUNT = BankAccount.__table__


# ---------------------------------------------------------------------------
# The operators' day (issue 14): what people finished, and the filters they keep
# ---------------------------------------------------------------------------


class WorkDone(SQLModel, table=True):
    """One item of the operators' worklist that a person finished: a call made, a task done,
    a write-off request confirmed or turned down.

    The unique key makes the first person's word final: a second operator who
    acts on the same item is told who decided it and when.
    """

    __tablename__ = "work_done"
    __table_args__ = (UniqueConstraint("item_kind", "item_id"),)

    id: int | None = Field(default=None, primary_key=True)
    item_kind: str = Field(sa_type=String)  # call | task | write_off
    item_id: int
    outcome: str = Field(sa_type=String)
    note: str = Field(default="", sa_type=Text, sa_column_kwargs=_default("''"))
    actor: str = Field(sa_type=String)
    done_at: datetime = Field(sa_type=AwareDateTime)


class SavedFilter(SQLModel, table=True):
    """A queue filter an operator named and keeps (`state=mahnung_2 amount>=100`)."""

    __tablename__ = "saved_filter"
    __table_args__ = (UniqueConstraint("operator", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    operator: str = Field(sa_type=String)
    name: str = Field(sa_type=String)
    line: str = Field(default="", sa_type=Text, sa_column_kwargs=_default("''"))
    sort: str = Field(default="entry", sa_type=String, sa_column_kwargs=_default("'entry'"))
    descending: bool = Field(default=False, sa_column_kwargs=_default("false"))


WORK_DONE = WorkDone.__table__
SAVED_FILTER = SavedFilter.__table__

# Integration: e-invoices read, bookings exported
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# Champion/challenger experiments (issue 18)
# ---------------------------------------------------------------------------

EXPERIMENT_STATUSES: Final = ("running", "promoted", "stopped")
ARMS: Final = ("champion", "challenger")


class Experiment(SQLModel, table=True):
    """A challenger policy dunning a random share of the champion's customers.

    `key` is the secret of the keyed hash that assigns customers, so the assignment is
    random, reproducible, and cannot be steered by choosing customer numbers.  The
    challenger is a stored, inactive `policy_version` until it is promoted.
    """

    __tablename__ = "experiment"
    __table_args__ = (
        UniqueConstraint("name"),
        CheckConstraint(one_of("status", EXPERIMENT_STATUSES), name="status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String)
    champion_name: str = Field(sa_type=String)  # the deployed policy the arm follows
    champion_version_id: int = Field(foreign_key="policy_version.id")  # at the start
    challenger_version_id: int = Field(foreign_key="policy_version.id")
    share: Decimal = Field(sa_type=Numeric(6, 4))  # of the eligible customers, 0 < share < 1
    applies_to: str | None = Field(default=None, sa_type=Text)  # --for
    until_on: date | None = None  # last day customers are enrolled
    until_customers: int | None = None  # enrolment stops at this many customers
    key: str = Field(sa_type=String(64))
    started_on: date
    started_at: datetime = Field(sa_type=AwareDateTime)
    actor: str = Field(sa_type=String)
    status: str = Field(
        default="running", sa_type=String, sa_column_kwargs=_default("'running'")
    )
    ended_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    ended_by: str | None = Field(default=None, sa_type=String)


class ExperimentAssignment(SQLModel, table=True):
    """Which arm a customer is in: written once, never changed (the primary key)."""

    __tablename__ = "experiment_assignment"
    __table_args__ = (CheckConstraint(one_of("arm", ARMS), name="arm"),)

    experiment_id: int = Field(
        primary_key=True, foreign_key="experiment.id", sa_column_kwargs={"autoincrement": False}
    )
    customer_id: int = Field(
        primary_key=True,
        foreign_key="customer.id",
        index=True,
        sa_column_kwargs={"autoincrement": False},
    )
    arm: str = Field(sa_type=String)
    segment: str = Field(sa_type=String)  # the stratum: the champion's segment at assignment
    assigned_on: date


EXPERIMENT = Experiment.__table__
ASSIGNMENT = ExperimentAssignment.__table__

# The service's tables (people, tokens, webhooks, schedule) share this metadata.
# The customer portal's tables (links, form tokens, uploads, visits) too.
from mahnwerk.portal import tables as _portal_tables  # noqa: E402, F401
from mahnwerk.service import tables as _service_tables  # noqa: E402, F401
