"""The service's tables: people, API tokens, idempotency records, webhooks, scheduled jobs.

Data only, like `mahnwerk.engine.models` (which imports this module at its end, so
the schema has one metadata and `tests/engine/test_models_db.py` checks these too).
Migration `0011_service` creates them.

* `person` — who may act: a name (the label written into the audit log), the login
  that proves it (the OS user on SQLite, the database role on PostgreSQL; migration
  0018 added `db_role`), and one role.
* `api_token` — tokens are stored only as SHA-256 hashes of 256 random bits; the
  token itself is shown once, when an admin creates it.
* `idempotency_record` — the first answer to a POST with an `Idempotency-Key`.
* `webhook_outbox` — filled by a database trigger on the `event` log, so the
  webhook is written in the same transaction as the change it reports, whoever
  wrote it (run, dispatch, CLI, TUI or API).
* `webhook_delivery` / `webhook_attempt` — one signed message per subscription
  and outbox row, and the log of every attempt to deliver it.
* `schedule_job` — per scheduled job the last day done and who holds it now.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final

from sqlalchemy import CheckConstraint, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from mahnwerk.engine.models import AwareDateTime, _default, one_of
from mahnwerk.engine.roles import ROLES

DELIVERY_STATUSES: Final = ("pending", "delivered", "failed")


class Person(SQLModel, table=True):
    """Someone who acts on mahnwerk; `os_user` proves it on the command line and the TUI."""

    __tablename__ = "person"
    __table_args__ = (
        UniqueConstraint("name"),
        UniqueConstraint("os_user"),
        UniqueConstraint("db_role"),
        CheckConstraint(one_of("role", ROLES), name="role"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String)
    os_user: str | None = Field(default=None, sa_type=String)
    db_role: str | None = Field(default=None, sa_type=String)
    """PostgreSQL: the login role that proves this person (`session_user`)."""
    role: str = Field(sa_type=String)
    created_at: datetime = Field(sa_type=AwareDateTime)
    created_by: str = Field(sa_type=String)
    disabled_at: datetime | None = Field(default=None, sa_type=AwareDateTime)


class ApiToken(SQLModel, table=True):
    """A token an API client proves itself with; only its hash is kept."""

    __tablename__ = "api_token"
    __table_args__ = (
        UniqueConstraint("token_hash"),
        CheckConstraint(one_of("role", ROLES), name="role"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String)
    acts_as: str = Field(sa_type=String)
    role: str = Field(sa_type=String)
    token_hash: str = Field(sa_type=String(64))
    prefix: str = Field(sa_type=String(16))
    created_at: datetime = Field(sa_type=AwareDateTime)
    created_by: str = Field(sa_type=String)
    revoked_at: datetime | None = Field(default=None, sa_type=AwareDateTime)


class IdempotencyRecord(SQLModel, table=True):
    """The first answer to a POST with an `Idempotency-Key`, per token and key."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("token_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    token_id: int = Field(foreign_key="api_token.id")
    key: str = Field(sa_type=String(255))
    method: str = Field(sa_type=String(8))
    path: str = Field(sa_type=Text)
    request_hash: str = Field(sa_type=String(64))
    status_code: int | None = None
    response: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(sa_type=AwareDateTime)


class WebhookSubscription(SQLModel, table=True):
    """Where to send which events; `secret` signs them (Standard Webhooks, `whsec_…`)."""

    __tablename__ = "webhook_subscription"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_type=Text)
    secret: str = Field(sa_type=String)
    event_types: str = Field(sa_type=Text)  # comma-separated; "*" for every type
    active: bool = Field(default=True, sa_column_kwargs=_default("true"))
    created_at: datetime = Field(sa_type=AwareDateTime)
    created_by: str = Field(sa_type=String)


class WebhookOutbox(SQLModel, table=True):
    """One event-log row that webhooks report; written by a trigger in the same transaction."""

    __tablename__ = "webhook_outbox"
    __table_args__ = (
        UniqueConstraint("event_id"),
        Index("ix_webhook_outbox_fanned_out", "fanned_out", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int
    created_at: datetime = Field(sa_type=AwareDateTime)
    fanned_out: bool = Field(default=False, sa_column_kwargs=_default("false"))


class WebhookDelivery(SQLModel, table=True):
    """One signed message to one subscription; `message_id` is the `webhook-id` header."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "outbox_id"),
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        CheckConstraint(one_of("status", DELIVERY_STATUSES), name="status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(sa_type=String)
    subscription_id: int = Field(foreign_key="webhook_subscription.id")
    outbox_id: int = Field(foreign_key="webhook_outbox.id")
    type: str = Field(sa_type=String)
    payload: str = Field(sa_type=Text)
    status: str = Field(default="pending", sa_type=String, sa_column_kwargs=_default("'pending'"))
    attempts: int = Field(default=0, sa_column_kwargs=_default("0"))
    next_attempt_at: datetime = Field(sa_type=AwareDateTime)
    created_at: datetime = Field(sa_type=AwareDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    last_error: str | None = Field(default=None, sa_type=Text)


class WebhookAttempt(SQLModel, table=True):
    """The delivery log: every attempt, its HTTP status or error."""

    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="webhook_delivery.id", index=True)
    attempt: int
    at: datetime = Field(sa_type=AwareDateTime)
    status_code: int | None = None
    error: str | None = Field(default=None, sa_type=Text)
    milliseconds: int = Field(default=0, sa_column_kwargs=_default("0"))


class ScheduleJob(SQLModel, table=True):
    """A scheduled job: the last day it was done, and who ran it."""

    __tablename__ = "schedule_job"

    name: str = Field(primary_key=True, sa_type=String)
    last_day: date | None = None
    last_started_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    last_finished_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    last_result: str = Field(default="", sa_type=Text, sa_column_kwargs=_default("''"))
    runner: str | None = Field(default=None, sa_type=String)
    lease_until: datetime | None = Field(default=None, sa_type=AwareDateTime)
    runs: int = Field(default=0, sa_column_kwargs=_default("0"))


PERSON = Person.__table__
TOKEN = ApiToken.__table__
IDEMPOTENCY = IdempotencyRecord.__table__
SUBSCRIPTION = WebhookSubscription.__table__
WEBHOOK_OUTBOX = WebhookOutbox.__table__
WEBHOOK_DELIVERY = WebhookDelivery.__table__
WEBHOOK_ATTEMPT = WebhookAttempt.__table__
JOB = ScheduleJob.__table__
