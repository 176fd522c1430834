"""What the contact guards D1–D3 read: a batch's customers' recent and queued contacts.

Part of the store layer (`engine/store/`).  `engine/contacts.py` keeps the rules (quiet
hours, rest days, the weekly written reminder, the policy's own limit, no call after a
conversation); `ContactBook` asks here, once per batch of customers, for what those
rules count: the outbox rows not cancelled since the look-back's start (on the outbox's
(customer_id, not_before) index) and the conversations recorded in the inbox.  The run
passes its own connection, so the reads see what the run has queued so far.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from mahnwerk.engine.models import INBOX, INV, OUTBOX
from mahnwerk.engine.store import bulk

#: Customer ids per query: well below SQLite's limit of bound parameters.
_CHUNK = 900


def contacts_since(
    conn: Connection,
    customer_ids: Iterable[int],
    since: datetime,
    marker: str,
    conversation: str,
) -> tuple[list[Any], list[Any]]:
    """The customers' contacts from `since` (aware, UTC) on, two lists of rows:

    * (customer_id, channel, not_before, before_due) of every outbox row not cancelled,
      sent or still queued; `before_due` is true when its payload carries the key
      `marker` (a note before the due date, which D3 does not count as a reminder);
    * (customer_id, occurred_on) of the inbox events of kind `conversation` of the
      customers' invoices since `since`'s day (no call for days after one, D3).
    """
    ids = sorted(set(customer_ids))
    sent: list[Any] = []
    talks: list[Any] = []
    for chunk in bulk.id_chunks(conn, ids, _CHUNK):  # PostgreSQL: all at once, an array
        sent.extend(
            conn.execute(
                select(
                    OUTBOX.c.customer_id,
                    OUTBOX.c.channel,
                    OUTBOX.c.not_before,
                    OUTBOX.c.payload.like(f'%"{marker}": "%').label("before_due"),
                ).where(
                    bulk.among(conn, OUTBOX.c.customer_id, chunk),
                    OUTBOX.c.not_before >= since,
                    OUTBOX.c.status != "cancelled",
                )
            )
        )
        talks.extend(
            conn.execute(
                select(INV.c.customer_id, INBOX.c.occurred_on)
                .join(INV, INV.c.id == INBOX.c.invoice_id)
                .where(
                    bulk.among(conn, INV.c.customer_id, chunk),
                    INBOX.c.kind == conversation,
                    INBOX.c.occurred_on >= since.date(),
                )
            )
        )
    return sent, talks
