"""Webhooks out: subscriptions, the trigger-filled outbox, deliveries and their attempts.

Part of the store layer (`engine/store/`), for `service/webhooks`.  The rules stay
there: which event kinds make which webhook type, the frozen payload and its
signature, which subscription wants what, the backoff, the lease's length.  Here are
the rows: the outbox batch (on PostgreSQL locked with `SKIP LOCKED`, so two processes
fan out different rows), the deliveries written and the outbox marked in the caller's
transaction, the due deliveries and the conditional update that leases one, an
attempt and its delivery's new state, and the replays.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from mahnwerk.engine.models import CUST, EVENT, INV
from mahnwerk.service.tables import (
    SUBSCRIPTION,
    WEBHOOK_ATTEMPT,
    WEBHOOK_DELIVERY,
    WEBHOOK_OUTBOX,
)


def add_subscription(conn: Connection, **values: Any) -> int:
    return conn.execute(insert(SUBSCRIPTION).values(**values)).inserted_primary_key[0]


def deactivate_subscription(conn: Connection, subscription_id: int) -> int:
    """Rows changed: 1 if the subscription was active."""
    return conn.execute(
        update(SUBSCRIPTION)
        .where(SUBSCRIPTION.c.id == subscription_id, SUBSCRIPTION.c.active.is_(True))
        .values(active=False)
    ).rowcount


def outbox_batch(conn: Connection, limit: int) -> list[Any]:
    """Outbox rows not fanned out yet, oldest first, each with its event's row and the
    invoice's and customer's numbers (`invoice_ext`, `customer_ext`)."""
    query = (
        select(
            WEBHOOK_OUTBOX.c.id.label("outbox_id"),
            EVENT,
            INV.c.external_id.label("invoice_ext"),
            CUST.c.external_id.label("customer_ext"),
        )
        .join(EVENT, EVENT.c.id == WEBHOOK_OUTBOX.c.event_id)
        .outerjoin(INV, INV.c.id == EVENT.c.invoice_id)
        .outerjoin(CUST, CUST.c.id == func.coalesce(EVENT.c.customer_id, INV.c.customer_id))
        .where(WEBHOOK_OUTBOX.c.fanned_out.is_(False))
        .order_by(WEBHOOK_OUTBOX.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(of=WEBHOOK_OUTBOX, skip_locked=True)
    return conn.execute(query).all()


def active_subscriptions(conn: Connection) -> list[Any]:
    return conn.execute(select(SUBSCRIPTION).where(SUBSCRIPTION.c.active.is_(True))).all()


def add_deliveries(conn: Connection, deliveries: list[dict[str, Any]]) -> None:
    conn.execute(insert(WEBHOOK_DELIVERY), deliveries)


def fanned_out(conn: Connection, outbox_ids: list[int]) -> None:
    conn.execute(
        update(WEBHOOK_OUTBOX).where(WEBHOOK_OUTBOX.c.id.in_(outbox_ids)).values(fanned_out=True)
    )


def due_deliveries(engine: Engine, now: datetime, limit: int) -> list[Any]:
    """Pending deliveries due at `now` (id, next_attempt_at), the most overdue first."""
    with engine.connect() as conn:
        return conn.execute(
            select(WEBHOOK_DELIVERY.c.id, WEBHOOK_DELIVERY.c.next_attempt_at)
            .where(
                WEBHOOK_DELIVERY.c.status == "pending", WEBHOOK_DELIVERY.c.next_attempt_at <= now
            )
            .order_by(WEBHOOK_DELIVERY.c.next_attempt_at, WEBHOOK_DELIVERY.c.id)
            .limit(limit)
        ).all()


def lease_delivery(conn: Connection, row: Any, until: datetime) -> int:
    """Move a due delivery's next attempt to `until` if nobody else did; rows won (0 or 1)."""
    return conn.execute(
        update(WEBHOOK_DELIVERY)
        .where(
            WEBHOOK_DELIVERY.c.id == row.id,
            WEBHOOK_DELIVERY.c.status == "pending",
            WEBHOOK_DELIVERY.c.next_attempt_at == row.next_attempt_at,
        )
        .values(next_attempt_at=until)
    ).rowcount


def deliveries_to_send(engine: Engine, ids: list[int]) -> list[Any]:
    """The deliveries' rows with their subscription's `url` and `secret`, by id."""
    with engine.connect() as conn:
        return conn.execute(
            select(WEBHOOK_DELIVERY, SUBSCRIPTION.c.url, SUBSCRIPTION.c.secret)
            .join(SUBSCRIPTION, SUBSCRIPTION.c.id == WEBHOOK_DELIVERY.c.subscription_id)
            .where(WEBHOOK_DELIVERY.c.id.in_(ids))
            .order_by(WEBHOOK_DELIVERY.c.id)
        ).all()


def attempted(conn: Connection, delivery_id: int, attempt: dict[str, Any], **state: Any) -> None:
    """Log one attempt (`attempt`'s columns) and set the delivery's new `state`."""
    conn.execute(insert(WEBHOOK_ATTEMPT).values(delivery_id=delivery_id, **attempt))
    conn.execute(
        update(WEBHOOK_DELIVERY).where(WEBHOOK_DELIVERY.c.id == delivery_id).values(**state)
    )


def send_again(
    conn: Connection,
    now: datetime,
    delivery_id: int | None = None,
    failed: bool = False,
    since: datetime | None = None,
) -> int:
    """Make deliveries pending from attempt 0 (one by id, every failed one, or all created
    since an instant); how many."""
    query = update(WEBHOOK_DELIVERY)
    if delivery_id is not None:
        query = query.where(WEBHOOK_DELIVERY.c.id == delivery_id)
    elif failed:
        query = query.where(WEBHOOK_DELIVERY.c.status == "failed")
    elif since is not None:
        query = query.where(WEBHOOK_DELIVERY.c.created_at >= since)
    else:  # never all of them: the caller says which
        raise ValueError("send_again needs a delivery id, failed=True or since")
    return conn.execute(query.values(status="pending", next_attempt_at=now, attempts=0)).rowcount


def deliveries_page(
    conn: Connection, after: int, limit: int, status: str | None = None
) -> list[Any]:
    query = select(WEBHOOK_DELIVERY).where(WEBHOOK_DELIVERY.c.id > after)
    if status:
        query = query.where(WEBHOOK_DELIVERY.c.status == status)
    return conn.execute(query.order_by(WEBHOOK_DELIVERY.c.id).limit(limit)).all()


def attempts_of(conn: Connection, delivery_ids: Iterable[int]) -> list[Any]:
    """The attempts of these deliveries, in the order they were made."""
    return conn.execute(
        select(WEBHOOK_ATTEMPT)
        .where(WEBHOOK_ATTEMPT.c.delivery_id.in_(list(delivery_ids)))
        .order_by(WEBHOOK_ATTEMPT.c.id)
    ).all()
