"""What dispatch writes to the database: the short transactions around a transport.

A delivery moves through two transactions (see `dispatch.py`): `claim` takes the
rows (`queued → sending`, only if still queued) and writes a `delivery` row
`transmitting`; after the transport, `record_sent`, `release` (the channel was
down) or `record_failure` (a retry with backoff, or a permanent failure with a
`delivery_failed` inbox entry per invoice) closes it.  `reconcile` queues again
what a crashed dispatcher left `transmitting` past its lease.  Every change to a
row is an audit event (`log_rows`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection

from mahnwerk.engine.comms.config import Delivery
from mahnwerk.engine.comms.planning import Bundle, local_day
from mahnwerk.engine.models import DELIVERY, DELIVERY_ITEM, EVENT, INBOX, OUTBOX


@dataclass
class Reconciled:
    requeued: int = 0  # outbox rows queued again


def reconcile(engine: Engine, now: datetime, lease_seconds: int) -> Reconciled:
    """Queue again what a crashed dispatcher left unrecorded (see `dispatch.py`)."""
    cutoff = now - timedelta(seconds=lease_seconds)
    out = Reconciled()
    with engine.begin() as conn:
        stale = conn.execute(
            select(DELIVERY.c.id)
            .where(
                DELIVERY.c.status.in_(("transmitting", "committed")),
                DELIVERY.c.started_at <= cutoff,
            )
            .order_by(DELIVERY.c.id)
        ).all()
        for d in stale:
            ids = [
                r.outbox_id
                for r in conn.execute(
                    select(DELIVERY_ITEM.c.outbox_id).where(DELIVERY_ITEM.c.delivery_id == d.id)
                )
            ]
            conn.execute(
                update(DELIVERY)
                .where(DELIVERY.c.id == d.id)
                .values(
                    status="abandoned",
                    finished_at=now,
                    error="the dispatcher stopped before it recorded the outcome: queued again, "
                    "to go out again with the same Message-ID",
                )
            )
            res = conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_(ids), OUTBOX.c.status == "sending")
                .values(status="queued")
            )
            out.requeued += res.rowcount or 0
    return out


def log_rows(
    conn: Connection,
    rows: list[Any],
    kind: str,
    now: datetime,
    message: str,
    payload: dict[str, Any] | None = None,
) -> None:
    if not rows:
        return
    conn.execute(
        insert(EVENT),
        [
            {
                "invoice_id": r.invoice_id,
                "customer_id": r.customer_id,
                "kind": kind,
                "occurred_on": local_day(now),
                "recorded_at": now,
                "actor": "dispatch",
                "rule": r.rule,
                "state_from": None,
                "state_to": None,
                "message": message,
                "payload": json.dumps(payload or {"outbox_id": r.id}),
                "run_id": None,
            }
            for r in rows
        ],
    )


def delivery_failed_inbox(
    conn: Connection,
    rows: list[Any],
    channel: str,
    template: str,
    error: str,
    today: date,
    now: datetime,
) -> None:
    """A `delivery_failed` inbox event per invoice: the next run lets the policy react."""
    inbox = [
        {
            "invoice_id": r.invoice_id,
            "kind": "delivery_failed",
            "occurred_on": today,
            "payload": json.dumps(
                {
                    "channel": channel,
                    "template": template,
                    "outbox_id": r.id,
                    "reason": error,
                    "note": f"{channel} {template}: {error}",
                }
            ),
            "recorded_at": now,
            "actor": "dispatch",
        }
        for r in rows
        if r.invoice_id is not None
    ]
    if inbox:
        conn.execute(insert(INBOX), inbox)


def cancel(engine: Engine, items: list[tuple[Any, str]], now: datetime) -> None:
    """Rows the plan will not send: `cancelled`, with the reason (if still queued)."""
    with engine.begin() as conn:
        for row, reason in items:
            res = conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id == row.id, OUTBOX.c.status == "queued")
                .values(status="cancelled", last_error=reason)
            )
            if res.rowcount:
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
        res = conn.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id.in_(bundle.ids), OUTBOX.c.status == "queued")
            .values(status="sending", attempts=OUTBOX.c.attempts + 1)
        )
        if res.rowcount != len(bundle.ids):
            conn.rollback()  # another dispatcher took some of these rows
            return False
        attempt = max(r.attempts for r in bundle.rows) + 1
        bundle.delivery_id = conn.execute(
            insert(DELIVERY).values(
                message_id=bundle.message_id,
                channel=bundle.channel,
                customer_id=bundle.customer.id,
                template=bundle.template,
                language=bundle.language,
                recipient=recipient,
                status="transmitting",
                attempt=attempt,
                started_at=now,
                subject=rendered.subject,
                body=rendered.text,
            )
        ).inserted_primary_key[0]
        conn.execute(
            insert(DELIVERY_ITEM),
            [{"delivery_id": bundle.delivery_id, "outbox_id": i} for i in bundle.ids],
        )
    return True


def record_sent(engine: Engine, bundle: Bundle, result: str, now: datetime) -> None:
    """The other side has the message: the delivery and its rows are `sent`."""
    with engine.begin() as conn:
        conn.execute(
            update(DELIVERY)
            .where(DELIVERY.c.id == bundle.delivery_id)
            .values(status="sent", finished_at=now, error=None, artefact=result)
        )
        conn.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id.in_(bundle.ids), OUTBOX.c.status == "sending")
            .values(status="sent", sent_at=now, last_error=bundle.note)
        )
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
        conn.execute(
            update(DELIVERY)
            .where(DELIVERY.c.id == bundle.delivery_id)
            .values(status="abandoned", finished_at=now, error=error)
        )
        conn.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id.in_(bundle.ids), OUTBOX.c.status == "sending")
            .values(status="queued", attempts=OUTBOX.c.attempts - 1, last_error=error)
        )


def record_failure(
    engine: Engine, bundle: Bundle, error: str, permanent: bool, rules: Delivery, now: datetime
) -> bool:
    """A failed attempt: queued again with backoff (returns False), or after the last
    attempt or a permanent failure `failed` with a `delivery_failed` inbox entry (True)."""
    attempts = max(r.attempts for r in bundle.rows) + 1
    if not permanent and attempts >= rules.max_attempts:
        permanent, error = True, f"{error} (gave up after {attempts} attempts)"
    with engine.begin() as conn:
        rows = OUTBOX.c.id.in_(bundle.ids), OUTBOX.c.status == "sending"
        if permanent:
            what = f"{bundle.channel} {bundle.template}"
            write_failure(conn, bundle.delivery_id, rows, bundle.rows, bundle.channel,
                          bundle.template, error, "message_failed", f"{what} failed: {error}",
                          now)  # fmt: skip
            return True
        _delivery_failed(conn, bundle.delivery_id, error, now)
        delay = timedelta(seconds=rules.backoff_seconds * 2 ** (attempts - 1))
        conn.execute(
            update(OUTBOX)
            .where(*rows)
            .values(status="queued", not_before=now + delay, last_error=error)
        )
    return False


def write_failure(
    conn: Connection,
    delivery_id: int,
    where: tuple[Any, ...],
    rows: list[Any],
    channel: str,
    template: str,
    error: str,
    kind: str,
    message: str,
    now: datetime,
) -> None:
    """The one writer of a delivery that failed for good (a last attempt, a bounce).

    The delivery and its outbox rows (those `where` selects) become `failed`; each of
    `rows` gets an audit event of `kind` and, for its invoice, a `delivery_failed` inbox
    entry, so the next run lets the policy react (a fallback channel).
    """
    _delivery_failed(conn, delivery_id, error, now)
    conn.execute(update(OUTBOX).where(*where).values(status="failed", last_error=error))
    log_rows(conn, rows, kind, now, message)
    delivery_failed_inbox(conn, rows, channel, template, error, local_day(now), now)


def _delivery_failed(conn: Connection, delivery_id: int, error: str, now: datetime) -> None:
    conn.execute(
        update(DELIVERY)
        .where(DELIVERY.c.id == delivery_id)
        .values(status="failed", finished_at=now, error=error)
    )
