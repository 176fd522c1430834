"""What dispatch writes to the database: the short transactions around a transport.

A delivery moves through two transactions (see `dispatch.py`): `claim` takes the
rows (`queued → sending`, only if still queued) and writes a `delivery` row
`transmitting`; after the transport, `record_sent`, `release` (the channel was
down) or `record_failure` (a retry with backoff, or a permanent failure with a
`delivery_failed` inbox entry per invoice) closes it.  `reconcile` queues again
what a crashed dispatcher left `transmitting` past its lease.  Every change to a
row is an audit event (`log_rows`).

This module holds the protocol — where each transaction begins and commits, what
it decides (the attempt, the backoff, when to give up) and what the log says; the
statements themselves are the store layer's (`engine/store/deliveries.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from mahnwerk.engine.comms.config import Delivery
from mahnwerk.engine.comms.planning import Bundle, local_day
from mahnwerk.engine.store import deliveries

#: Why `reconcile` gave up a delivery a crashed dispatcher left unrecorded.
ABANDONED = (
    "the dispatcher stopped before it recorded the outcome: queued again, "
    "to go out again with the same Message-ID"
)


@dataclass
class Reconciled:
    requeued: int = 0  # outbox rows queued again


def reconcile(engine: Engine, now: datetime, lease_seconds: int) -> Reconciled:
    """Queue again what a crashed dispatcher left unrecorded (see `dispatch.py`)."""
    cutoff = now - timedelta(seconds=lease_seconds)
    out = Reconciled()
    with engine.begin() as conn:
        for delivery_id in deliveries.stale_deliveries(conn, cutoff):
            ids = deliveries.delivery_outbox_ids(conn, delivery_id)
            deliveries.abandon_delivery(conn, delivery_id, ABANDONED, now)
            out.requeued += deliveries.requeue_sending(conn, ids)
    return out


def log_rows(
    conn: Connection,
    rows: list[Any],
    kind: str,
    now: datetime,
    message: str,
    payload: dict[str, Any] | None = None,
) -> None:
    """An audit event per row, dated on dispatch's local day."""
    deliveries.log_dispatch_events(conn, rows, kind, local_day(now), now, message, payload)


#: A `delivery_failed` inbox event per invoice: the next run lets the policy react.
delivery_failed_inbox = deliveries.delivery_failed_inbox


def cancel(engine: Engine, items: list[tuple[Any, str]], now: datetime) -> None:
    """Rows the plan will not send: `cancelled`, with the reason (if still queued)."""
    with engine.begin() as conn:
        for row, reason in items:
            if deliveries.cancel_queued(conn, row.id, reason):
                log_rows(
                    conn,
                    [row],
                    "message_cancelled",
                    now,
                    f"{row.channel} {row.template} not sent: {reason}",
                )


def claim(engine: Engine, bundle: Bundle, recipient: str | None, now: datetime) -> bool:
    """Take the bundle's rows and open its delivery; False if another dispatcher has some."""
    rendered = bundle.rendered
    assert rendered is not None
    with engine.begin() as conn:
        if deliveries.take_queued(conn, bundle.ids) != len(bundle.ids):
            conn.rollback()  # another dispatcher took some of these rows
            return False
        attempt = max(r.attempts for r in bundle.rows) + 1
        bundle.delivery_id = deliveries.open_delivery(
            conn,
            {
                "message_id": bundle.message_id,
                "channel": bundle.channel,
                "customer_id": bundle.customer.id,
                "template": bundle.template,
                "language": bundle.language,
                "recipient": recipient,
                "status": "transmitting",
                "attempt": attempt,
                "started_at": now,
                "subject": rendered.subject,
                "body": rendered.text,
            },
        )
        deliveries.add_delivery_items(conn, bundle.delivery_id, bundle.ids)
    return True


def record_sent(engine: Engine, bundle: Bundle, result: str, now: datetime) -> None:
    """The other side has the message: the delivery and its rows are `sent`."""
    with engine.begin() as conn:
        deliveries.delivery_sent(conn, bundle.delivery_id, result, now)
        deliveries.rows_sent(conn, bundle.ids, bundle.note, now)
        together = f", together with {len(bundle.rows) - 1} more" if len(bundle.rows) > 1 else ""
        how = f" ({bundle.note})" if bundle.note else ""
        log_rows(
            conn,
            bundle.rows,
            "message_sent",
            now,
            f"{bundle.channel} {bundle.template} {bundle.message_id}{together}{how}",
        )


def release(engine: Engine, bundle: Bundle, error: str, now: datetime) -> None:
    """The channel was down: nothing went out, the rows wait for the next dispatch."""
    with engine.begin() as conn:
        deliveries.abandon_delivery(conn, bundle.delivery_id, error, now)
        deliveries.release_rows(conn, bundle.ids, error)


def record_failure(
    engine: Engine, bundle: Bundle, error: str, permanent: bool, rules: Delivery, now: datetime
) -> bool:
    """A failed attempt: queued again with backoff (returns False), or after the last
    attempt or a permanent failure `failed` with a `delivery_failed` inbox entry (True)."""
    attempts = max(r.attempts for r in bundle.rows) + 1
    if not permanent and attempts >= rules.max_attempts:
        permanent, error = True, f"{error} (gave up after {attempts} attempts)"
    with engine.begin() as conn:
        if permanent:
            what = f"{bundle.channel} {bundle.template}"
            write_failure(conn, bundle.delivery_id, bundle.ids, "sending", bundle.rows,
                          bundle.channel, bundle.template, error, "message_failed",
                          f"{what} failed: {error}", now)  # fmt: skip
            return True
        deliveries.delivery_failed(conn, bundle.delivery_id, error, now)
        delay = timedelta(seconds=rules.backoff_seconds * 2 ** (attempts - 1))
        deliveries.retry_rows(conn, bundle.ids, now + delay, error)
    return False


def write_failure(
    conn: Connection,
    delivery_id: int | None,
    ids: list[int],
    status: str,
    rows: list[Any],
    channel: str,
    template: str,
    error: str,
    kind: str,
    message: str,
    now: datetime,
) -> None:
    """The one writer of a delivery that failed for good (a last attempt, a bounce).

    The delivery and its outbox rows (those of `ids` still in `status`) become `failed`;
    each of `rows` gets an audit event of `kind` and, for its invoice, a `delivery_failed`
    inbox entry, so the next run lets the policy react (a fallback channel).
    """
    deliveries.delivery_failed(conn, delivery_id, error, now)
    deliveries.rows_failed(conn, ids, status, error)
    log_rows(conn, rows, kind, now, message)
    delivery_failed_inbox(conn, rows, channel, template, error, local_day(now), now)
