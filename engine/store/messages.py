"""What dispatch reads to plan and word its messages (`engine/comms/`).

Part of the store layer (`engine/store/`): the due outbox rows, the inbox events that
stop a queued message before the next run applies them, the invoices parked as a
residual to ride along in the customer's next letter, the window of the latest run's
messages a preview dates them by, and the facts a template may say — the customers
and their invoices with the dunning state and the ledger lines behind the amounts.

The rules stay with dispatch: which rows are cancelled, fall back or travel together
(`comms/planning.py`), and what of a row a letter shows (`comms/context.py`).  These
functions take the caller's connection (planning reads on one) and return rows.  Id
lists are read in slices of `_CHUNK`, small enough for one `IN (...)` on every backend.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from mahnwerk.engine.models import CUST, DS, INBOX, INV, LEDGER, OUTBOX

_CHUNK = 500


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


# ---------------------------------------------------------------------------
# The plan (comms/planning.py)
# ---------------------------------------------------------------------------


def due_rows(
    conn: Connection,
    now: datetime,
    limit: int | None,
    only: Iterable[str] | None,
    queued_since: datetime | None,
) -> list[Any]:
    """The outbox rows `queued` and due (`not_before <= now`: D2 put quiet hours, Sundays
    and holidays there), by customer, so a customer's rows can be bundled; narrowed to
    some channels, to rows queued since an instant, or to the first `limit`."""
    query = (
        select(OUTBOX)
        .where(OUTBOX.c.status == "queued", OUTBOX.c.not_before <= now)
        .order_by(OUTBOX.c.customer_id, OUTBOX.c.id)
    )
    if queued_since is not None:
        query = query.where(OUTBOX.c.created_at >= queued_since)
    if only:
        query = query.where(OUTBOX.c.channel.in_(list(only)))
    if limit:
        query = query.limit(limit)
    return conn.execute(query).all()


def waiting_events(
    conn: Connection, ids: set[int], kinds: Iterable[str], today: date
) -> dict[int, str]:
    """Per invoice, an inbox event of `kinds` that happened by `today` and no run has
    applied yet (one, if several): it makes a queued message wrong before the next run."""
    out: dict[int, str] = {}
    for chunk in _chunks(sorted(ids)):
        for r in conn.execute(
            select(INBOX.c.invoice_id, INBOX.c.kind).where(
                INBOX.c.invoice_id.in_(chunk),
                INBOX.c.applied_run_id.is_(None),
                INBOX.c.kind.in_(sorted(kinds)),
                INBOX.c.occurred_on <= today,
            )
        ):
            out[r.invoice_id] = r.kind
    return out


def paused_invoices(conn: Connection, customer_ids: set[int], reason: str) -> list[Any]:
    """(customer id, invoice id) of the customers' invoices paused for `reason`, by
    invoice id per slice of customers: the residuals parked to ride along (issue 11)."""
    found: list[Any] = []
    for chunk in _chunks(sorted(customer_ids)):
        query = (
            select(INV.c.customer_id, INV.c.id)
            .join(DS, DS.c.invoice_id == INV.c.id)
            .where(INV.c.customer_id.in_(chunk), DS.c.pause_reason == reason)
            .order_by(INV.c.id)
        )
        found.extend(conn.execute(query))
    return found


def latest_run_window(engine: Engine) -> tuple[datetime, datetime] | None:
    """When the latest run queued the messages still queued (its `created_at`) and the
    latest moment one of them may go out (`not_before`), both aware; None: none queued.
    A preview of that run's post is dispatched as of the latter, so each one is due."""
    with engine.connect() as conn:
        latest = conn.execute(
            select(func.max(OUTBOX.c.created_at)).where(OUTBOX.c.status == "queued")
        ).scalar()
        if latest is None:
            return None
        latest = latest if latest.tzinfo else latest.replace(tzinfo=UTC)
        until = conn.execute(
            select(func.max(OUTBOX.c.not_before)).where(
                OUTBOX.c.status == "queued", OUTBOX.c.created_at >= latest
            )
        ).scalar()
    until = until if until.tzinfo else until.replace(tzinfo=UTC)
    return latest, until


# ---------------------------------------------------------------------------
# What a message says (comms/context.py)
# ---------------------------------------------------------------------------


def customer_rows(conn: Connection, ids: set[int]) -> list[Any]:
    """The customers' rows (name, address, language, opt-outs, death): whom a message
    addresses and on which channels it may."""
    found: list[Any] = []
    for chunk in _chunks(sorted(ids)):
        found.extend(conn.execute(select(CUST).where(CUST.c.id.in_(chunk))))
    return found


def invoice_books(conn: Connection, ids: set[int]) -> tuple[dict[int, Any], dict[int, list[Any]]]:
    """Per invoice id, its row with the dunning state's amounts and blocks (none yet: the
    state's columns are None), and its ledger lines in booking order — what the amounts
    a letter itemises (§ 13a RDG) are replayed from."""
    ledgers: dict[int, list[Any]] = {}
    heads: dict[int, Any] = {}
    for chunk in _chunks(sorted(ids)):
        query = (
            select(
                INV,
                DS.c.state,
                DS.c.principal_open,
                DS.c.fees_open,
                DS.c.interest_open,
                DS.c.disputed,
                DS.c.held,
                DS.c.pause_reason,
                DS.c.paused_until,
                DS.c.entered_on,
                DS.c.next_check_on,
                DS.c.pending_approval,
                DS.c.discount_offers,
                DS.c.deduction_on,
                DS.c.deduction_note,
            )
            .outerjoin(DS, DS.c.invoice_id == INV.c.id)
            .where(INV.c.id.in_(chunk))
        )
        for r in conn.execute(query):
            heads[r.id] = r
        for line in conn.execute(
            select(LEDGER)
            .where(LEDGER.c.invoice_id.in_(chunk))
            .order_by(LEDGER.c.booked_on, LEDGER.c.id)
        ):
            ledgers.setdefault(line.invoice_id, []).append(line)
    return heads, ledgers
