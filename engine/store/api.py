"""What the HTTP API (`service/`) reads: pages of customers, payments, messages and runs,
the policy versions, the webhook subscriptions, and the figures of `/health` and `/metrics`.

Part of the store layer (`engine/store/`): the endpoints shape these rows into their
JSON and build no SQL themselves.  Pages are keyed by the internal id (`after`: the last id
seen, `before` for the newest-first runs), so a page costs the same however deep it is.
The service's own tables (people, tokens, webhooks, the schedule) are defined in
`service/tables.py` on the engine's metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, func, select, text

from mahnwerk.engine.models import APPROVAL, CUST, DS, EVENT, INV, OUTBOX, PAY, PV, RUN
from mahnwerk.service.tables import JOB, SUBSCRIPTION, WEBHOOK_DELIVERY


def customers_page(engine: Engine, after: int, limit: int) -> list[Any]:
    with engine.connect() as conn:
        return conn.execute(
            select(CUST).where(CUST.c.id > after).order_by(CUST.c.id).limit(limit)
        ).all()


def customer(engine: Engine, number: str) -> Any | None:
    """One customer's row by its number, or None."""
    with engine.connect() as conn:
        return conn.execute(select(CUST).where(CUST.c.external_id == number)).first()


def payments_page(engine: Engine, after: int, limit: int) -> list[Any]:
    """Payments with their invoice's number (`invoice_ext`, None when unassigned)."""
    with engine.connect() as conn:
        return conn.execute(
            select(PAY, INV.c.external_id.label("invoice_ext"))
            .outerjoin(INV, INV.c.id == PAY.c.invoice_id)
            .where(PAY.c.id > after)
            .order_by(PAY.c.id)
            .limit(limit)
        ).all()


def messages(
    engine: Engine,
    after: int = 0,
    limit: int = 100,
    status: str | None = None,
    message_id: int | None = None,
) -> list[Any]:
    """Outbox messages with their invoice's number (`invoice_ext`), by status or one by id."""
    where = [OUTBOX.c.id > after]
    if status:
        where.append(OUTBOX.c.status == status)
    if message_id is not None:
        where.append(OUTBOX.c.id == message_id)
    with engine.connect() as conn:
        return conn.execute(
            select(OUTBOX, INV.c.external_id.label("invoice_ext"))
            .outerjoin(INV, INV.c.id == OUTBOX.c.invoice_id)
            .where(*where)
            .order_by(OUTBOX.c.id)
            .limit(limit)
        ).all()


def policy_versions(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return conn.execute(select(PV).order_by(PV.c.name, PV.c.version)).all()


def runs_page(engine: Engine, before: int, limit: int) -> list[Any]:
    """Runs older than the id `before`, newest first."""
    with engine.connect() as conn:
        return conn.execute(
            select(RUN).where(RUN.c.id < before).order_by(RUN.c.id.desc()).limit(limit)
        ).all()


def run(engine: Engine, run_id: int) -> Any | None:
    with engine.connect() as conn:
        return conn.execute(select(RUN).where(RUN.c.id == run_id)).first()


def subscriptions(engine: Engine) -> list[Any]:
    """Every webhook subscription, ended ones too, in the order they were made."""
    with engine.connect() as conn:
        return conn.execute(select(SUBSCRIPTION).order_by(SUBSCRIPTION.c.id)).all()


@dataclass(frozen=True)
class Health:
    last_run: Any | None  # the latest run's row
    backlog: int  # invoices due for a check by `day`
    outbox_oldest: datetime | None  # the oldest queued message's not-before
    webhook_deliveries_failed: int


def health(engine: Engine, day: date) -> Health:
    """What `/health` reports; raises when the database cannot be reached (`SELECT 1`)."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        last = conn.execute(select(RUN).order_by(RUN.c.id.desc()).limit(1)).first()
        backlog = conn.execute(
            select(func.count()).select_from(DS).where(DS.c.next_check_on <= day)
        ).scalar_one()
        oldest = conn.execute(
            select(func.min(OUTBOX.c.not_before)).where(OUTBOX.c.status == "queued")
        ).scalar()
        failed = conn.execute(
            select(func.count())
            .select_from(WEBHOOK_DELIVERY)
            .where(WEBHOOK_DELIVERY.c.status == "failed")
        ).scalar_one()
    return Health(last, backlog, oldest, failed)


@dataclass(frozen=True)
class Figures:
    runs: int
    transitions: int
    messages: list[tuple[str, str, int]]  # channel, status, count
    approvals_waiting: int
    webhook_deliveries: list[tuple[str, int]]  # status, count
    last_run_stats: str | None  # the latest run's stats (JSON)
    jobs: list[tuple[str, int]]  # scheduled job, executions


def metric_figures(engine: Engine) -> Figures:
    """What `/metrics` reports, read at each scrape (every process reports the same)."""
    with engine.connect() as conn:
        runs = conn.execute(select(func.count()).select_from(RUN)).scalar_one()
        transitions = conn.execute(
            select(func.count()).select_from(EVENT).where(EVENT.c.kind == "transition")
        ).scalar_one()
        messages = conn.execute(
            select(OUTBOX.c.channel, OUTBOX.c.status, func.count()).group_by(
                OUTBOX.c.channel, OUTBOX.c.status
            )
        ).all()
        waiting = conn.execute(
            select(func.count()).select_from(APPROVAL).where(APPROVAL.c.status == "pending")
        ).scalar_one()
        hooks = conn.execute(
            select(WEBHOOK_DELIVERY.c.status, func.count()).group_by(WEBHOOK_DELIVERY.c.status)
        ).all()
        last = conn.execute(select(RUN.c.stats).order_by(RUN.c.id.desc()).limit(1)).scalar()
        jobs = conn.execute(select(JOB.c.name, JOB.c.runs)).all()
    return Figures(
        runs,
        transitions,
        [tuple(m) for m in messages],
        waiting,
        [tuple(h) for h in hooks],
        last,
        [tuple(j) for j in jobs],
    )
