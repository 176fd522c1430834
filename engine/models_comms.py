"""The tables of communications: the outbox, the inbox of events waiting for a
run, the bounces seen, and the delivery attempts of outbox messages.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final

from sqlalchemy import (
    CheckConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from mahnwerk.engine.model_types import OUTBOX_STATUSES, AwareDateTime, _default, one_of


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
        # the promises by their date (migration 0023: an expression per database)
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
