"""What is put in for the next run to apply (`engine/event_import`, `engine/demo`): events
into the `inbox`, payments into `payment` (not applied yet), and what an event import
reads to know a row it has stored before and the invoices a file names.

Part of the store layer (`engine/store/`).  The writes are bulk inserts on the caller's
connection, inside its transaction: a file is imported whole or not at all.  A row that
was imported before is known by its import id (`import_id` in an inbox event's payload,
a payment's `external_id` starting `evt-`), which `stored_import_ids` reads so the
importer writes nothing twice; that rule and the ids are `event_import`'s.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, insert, select

from mahnwerk.engine.models import INBOX, INV, PAY

_CHUNK = 500


def add_payments(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Payments for the next run to allocate (each row the same keys)."""
    conn.execute(insert(PAY), rows)


def add_inbox_events(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Events for the next run for their day or later (each row the same keys)."""
    conn.execute(insert(INBOX), rows)


def stored_import_ids(conn: Connection, invoice_ids: set[int]) -> set[str]:
    """The import ids already stored on these invoices: in inbox payloads and as the
    `evt-…` numbers of imported payments; asked 500 invoices at a time."""
    found: set[str] = set()
    ids = sorted(invoice_ids)
    for i in range(0, len(ids), _CHUNK):
        for (payload,) in conn.execute(
            select(INBOX.c.payload).where(
                INBOX.c.invoice_id.in_(ids[i : i + _CHUNK]), INBOX.c.payload.like('%"import_id"%')
            )
        ):
            found.add(json.loads(payload)["import_id"])
        found.update(
            conn.execute(
                select(PAY.c.external_id).where(
                    PAY.c.invoice_id.in_(ids[i : i + _CHUNK]), PAY.c.external_id.like("evt-%")
                )
            ).scalars()
        )
    return found


def invoices_by_number(conn: Connection, numbers: Iterable[str]) -> dict[str, Any]:
    """These invoices by number (`external_id`, `id`, `customer_id`, `currency`,
    `issue_date`); numbers the book does not hold are left out.  500 at a time."""
    numbers = sorted(numbers)
    invoices: dict[str, Any] = {}
    for i in range(0, len(numbers), _CHUNK):
        for row in conn.execute(
            select(
                INV.c.external_id,
                INV.c.id,
                INV.c.customer_id,
                INV.c.currency,
                INV.c.issue_date,
            ).where(INV.c.external_id.in_(numbers[i : i + _CHUNK]))
        ):
            invoices[row.external_id] = row
    return invoices
