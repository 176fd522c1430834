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

The tables are grouped by what they hold: `model_types` has the column types and
vocabularies, `models_comms` the outbox, inbox and deliveries, `models_books` the
payment analytics, bank statements and bookkeeping exchange, `models_work` the
operators' day and the experiments.  Every class and table handle stays
importable from here, and importing this module registers all of them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from mahnwerk.engine.model_types import (
    APPROVAL_STATUSES,
    CUSTOMER_TYPES,
    DECISIONS,
    LEDGER_KINDS,
    MONEY,
    OUTBOX_STATUSES,
    PAYMENT_SOURCES,
    RATE,
    AwareDateTime,
    _default,
    one_of,
)
from mahnwerk.engine.models_books import (
    BANK_ENTRY_KINDS,
    BANK_ENTRY_STATUSES,
    EDOCUMENT_KINDS,
    BankAccount,
    BankEntry,
    CustomerBehaviour,
    DatevBooking,
    DatevExport,
    EInvoiceDocument,
)
from mahnwerk.engine.models_comms import (
    DELIVERY_STATUSES,
    BounceSeen,
    Delivery,
    DeliveryItem,
    Inbox,
    Outbox,
)
from mahnwerk.engine.models_work import (
    ARMS,
    EXPERIMENT_STATUSES,
    Experiment,
    ExperimentAssignment,
    SavedFilter,
    WorkDone,
)

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
    __table_args__ = (
        Index("ix_dunning_state_next_check", "next_check_on", "invoice_id"),
        # the queue filtered by one state, in due-date order (migration 0024)
        Index("ix_dunning_state_state_due", "state", "invoice_due_date", "invoice_id"),
    )

    invoice_id: int = Field(
        primary_key=True, foreign_key="invoice.id", sa_column_kwargs={"autoincrement": False}
    )
    policy_version_id: int | None = Field(default=None, foreign_key="policy_version.id")
    segment: str = Field(sa_type=String)
    ladder: str = Field(sa_type=String)
    state: str = Field(index=True, sa_type=String)
    #: the invoice's due date, copied and kept by the database's triggers (migration 0024):
    #: for the index above; read the invoice's own everywhere else
    invoice_due_date: date | None = None
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


class Ledger(SQLModel, table=True):
    """One booking on an invoice: charges positive, payments and write-offs negative."""

    __tablename__ = "ledger"
    __table_args__ = (
        CheckConstraint(one_of("kind", LEDGER_KINDS), name="kind"),
        Index("ix_ledger_kind_booked_on", "kind", "booked_on"),  # the dashboard's week
    )

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
    """Who writes the book now: at most one run or import at a time (engine/store/lease.py).

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
    "ARMS",
    "BANK_ENTRY_KINDS",
    "BANK_ENTRY_STATUSES",
    "DELIVERY_STATUSES",
    "EDOCUMENT_KINDS",
    "EXPERIMENT_STATUSES",
    "DatevBooking",
    "DatevExport",
    "EInvoiceDocument",
]


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


WORK_DONE = WorkDone.__table__
SAVED_FILTER = SavedFilter.__table__

EXPERIMENT = Experiment.__table__
ASSIGNMENT = ExperimentAssignment.__table__

# The service's tables (people, tokens, webhooks, schedule) share this metadata.
# The customer portal's tables (links, form tokens, uploads, visits) too, and the book summary.
from mahnwerk.engine import summary_tables as _summary_tables  # noqa: E402, F401
from mahnwerk.portal import tables as _portal_tables  # noqa: E402, F401
from mahnwerk.service import tables as _service_tables  # noqa: E402, F401
