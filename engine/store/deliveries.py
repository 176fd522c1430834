"""What dispatch writes: deliveries, the outbox rows' status, and what a delivery tells.

Part of the store layer (`engine/store/`).  The statements of dispatch's short
transactions around a transport (`engine/comms/ledger.py` holds the protocol and opens
each transaction: claim → commit → transmit → record; `engine/comms/bounces.py` the
bounce's): taking queued rows (`queued → sending`, only if still queued), opening a
`delivery` with its items, recording it sent, released, failed or queued again with
backoff, cancelling rows the plan will not send, queueing again what a crashed
dispatcher left `transmitting`; the audit event per row, the `delivery_failed` inbox
entry per invoice, and the bounce reports already handled (`bounce_seen`).

Every function takes the caller's connection, so each runs inside the caller's
transaction and commits nothing itself: the exactly-once protocol's commit points stay
where ledger and bounces put them.  Each outbox update is guarded by the status the row
must still have (`queued`, `sending`, `sent`), so two dispatchers never take or record
the same row; the row counts those updates return are how the caller knows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from mahnwerk.engine.models import BOUNCE_SEEN, DELIVERY, DELIVERY_ITEM, EVENT, INBOX, OUTBOX

# ---------------------------------------------------------------------------
# Deliveries
# ---------------------------------------------------------------------------


def stale_deliveries(conn: Connection, cutoff: datetime) -> list[int]:
    """Deliveries a dispatcher opened before `cutoff` and never recorded (it crashed, or an
    older version left them `committed`), oldest first: `reconcile` queues their rows again."""
    return [
        d.id
        for d in conn.execute(
            select(DELIVERY.c.id)
            .where(
                DELIVERY.c.status.in_(("transmitting", "committed")),
                DELIVERY.c.started_at <= cutoff,
            )
            .order_by(DELIVERY.c.id)
        ).all()
    ]


def delivery_outbox_ids(conn: Connection, delivery_id: int) -> list[int]:
    """The outbox rows a delivery carried: what its outcome (or a bounce) applies to."""
    return [
        r.outbox_id
        for r in conn.execute(
            select(DELIVERY_ITEM.c.outbox_id).where(DELIVERY_ITEM.c.delivery_id == delivery_id)
        )
    ]


def open_delivery(conn: Connection, values: dict[str, Any]) -> int:
    """A new `delivery` row (status `transmitting` while the transport works); its id.
    Written in the claim's transaction, so a crash before the commit leaves no trace."""
    return conn.execute(insert(DELIVERY).values(**values)).inserted_primary_key[0]


def add_delivery_items(conn: Connection, delivery_id: int, outbox_ids: Sequence[int]) -> None:
    """Which outbox rows a delivery carries (one message may carry several, D3)."""
    conn.execute(
        insert(DELIVERY_ITEM),
        [{"delivery_id": delivery_id, "outbox_id": i} for i in outbox_ids],
    )


def delivery_sent(conn: Connection, delivery_id: int | None, artefact: str, now: datetime) -> None:
    """The other side took the message: the delivery is `sent`, with what it answered."""
    conn.execute(
        update(DELIVERY)
        .where(DELIVERY.c.id == delivery_id)
        .values(status="sent", finished_at=now, error=None, artefact=artefact)
    )


def abandon_delivery(conn: Connection, delivery_id: int | None, error: str, now: datetime) -> None:
    """Nothing (known to have) gone out: the delivery is `abandoned` with the reason; its
    rows go back to the queue and the next attempt opens a new delivery."""
    conn.execute(
        update(DELIVERY)
        .where(DELIVERY.c.id == delivery_id)
        .values(status="abandoned", finished_at=now, error=error)
    )


def delivery_failed(conn: Connection, delivery_id: int | None, error: str, now: datetime) -> None:
    """The attempt failed (for good or for now): the delivery is `failed` with the reason."""
    conn.execute(
        update(DELIVERY)
        .where(DELIVERY.c.id == delivery_id)
        .values(status="failed", finished_at=now, error=error)
    )


# ---------------------------------------------------------------------------
# Outbox rows
# ---------------------------------------------------------------------------


def take_queued(conn: Connection, ids: Sequence[int]) -> int:
    """The claim: `queued → sending` (one attempt more) for those rows still queued; how
    many were.  Fewer than asked means another dispatcher has some: roll back."""
    return conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(ids), OUTBOX.c.status == "queued")
        .values(status="sending", attempts=OUTBOX.c.attempts + 1)
    ).rowcount


def rows_sent(conn: Connection, ids: Sequence[int], note: str | None, now: datetime) -> None:
    """The rows this dispatcher is sending are `sent` (with the D7/C6 note, if any)."""
    conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(ids), OUTBOX.c.status == "sending")
        .values(status="sent", sent_at=now, last_error=note)
    )


def release_rows(conn: Connection, ids: Sequence[int], error: str) -> None:
    """The channel was down: the rows go back to `queued`, the attempt not counted."""
    conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(ids), OUTBOX.c.status == "sending")
        .values(status="queued", attempts=OUTBOX.c.attempts - 1, last_error=error)
    )


def requeue_sending(conn: Connection, ids: Sequence[int]) -> int:
    """Rows a crashed dispatcher left `sending` are `queued` again; how many."""
    res = conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(ids), OUTBOX.c.status == "sending")
        .values(status="queued")
    )
    return res.rowcount or 0


def retry_rows(conn: Connection, ids: Sequence[int], not_before: datetime, error: str) -> None:
    """A temporary failure: the rows are `queued` again, not before the backoff's end."""
    conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(ids), OUTBOX.c.status == "sending")
        .values(status="queued", not_before=not_before, last_error=error)
    )


def rows_failed(conn: Connection, ids: Sequence[int], status: str, error: str) -> None:
    """The rows still in `status` (`sending`; `sent` for a bounce) have `failed` for good."""
    conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(ids), OUTBOX.c.status == status)
        .values(status="failed", last_error=error)
    )


def cancel_queued(conn: Connection, outbox_id: int, reason: str) -> int:
    """A row the plan will not send is `cancelled` with the reason, if still queued; 1 if
    it was (then it gets its audit event), else 0."""
    return conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == outbox_id, OUTBOX.c.status == "queued")
        .values(status="cancelled", last_error=reason)
    ).rowcount


def outbox_rows(conn: Connection, ids: Sequence[int]) -> list[Any]:
    """The outbox rows of these ids (a bounced delivery's, to fail and tell)."""
    return conn.execute(select(OUTBOX).where(OUTBOX.c.id.in_(ids))).all()


# ---------------------------------------------------------------------------
# What a delivery tells: the audit log and the inbox
# ---------------------------------------------------------------------------


def log_dispatch_events(
    conn: Connection,
    rows: list[Any],
    kind: str,
    today: date,
    now: datetime,
    message: str,
    payload: dict[str, Any] | None = None,
) -> None:
    """An audit event per outbox row (`message_sent`, `message_failed`, …) by `dispatch`:
    every change to a row is in the hash-chained log, with the row's id in its payload."""
    if not rows:
        return
    conn.execute(
        insert(EVENT),
        [
            {
                "invoice_id": r.invoice_id,
                "customer_id": r.customer_id,
                "kind": kind,
                "occurred_on": today,
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


# ---------------------------------------------------------------------------
# Bounce reports (RFC 3464), each handled once
# ---------------------------------------------------------------------------


def bounce_seen(conn: Connection, key: str) -> bool:
    """Whether the report with this key was handled before (a mailbox read twice)."""
    seen = conn.execute(select(BOUNCE_SEEN.c.key).where(BOUNCE_SEEN.c.key == key)).first()
    return seen is not None


def sent_delivery(conn: Connection, message_id: str) -> Any | None:
    """The latest `sent` delivery with this Message-ID (the one a bounce reports on)."""
    return conn.execute(
        select(DELIVERY)
        .where(DELIVERY.c.message_id == message_id, DELIVERY.c.status == "sent")
        .order_by(DELIVERY.c.id.desc())
        .limit(1)
    ).first()


def note_bounce(
    conn: Connection,
    key: str,
    message_id: str,
    delivery_id: int | None,
    status: str,
    now: datetime,
) -> None:
    """The report is handled: stored in the transaction of what it caused, so a report
    read again is skipped, and one whose effects were rolled back is read again."""
    conn.execute(
        insert(BOUNCE_SEEN).values(
            key=key,
            message_id=message_id,
            delivery_id=delivery_id,
            status=status,
            seen_at=now,
        )
    )
