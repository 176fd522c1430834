"""What the reports read (`engine/reports.py` and its companions shape the figures).

Part of the store layer (`engine/store/`): the Skonto report's and the cash forecast's
reads, the portal's "tell us why" answers (`engine/feedback`), and the receivables
reports' reads of the ledger, the event log and the outbox (`engine/reports.py`: aging,
DSO, CEI, stages, channels).  The other reports' queries (`experiment_report.py`,
`report_pack.py`) are to join it.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from mahnwerk.engine.models import CUST, DS, EVENT, INBOX, INV, LEDGER, OUTBOX, PAY, RUN


def skonto_facts(engine: Engine, as_of: date) -> tuple[list[Any], dict[int, Any]]:
    """The ledger's Skonto, discount, payment and write-off lines booked by `as_of`, in
    booking order, and every invoice with a dunning state (its amounts, state, the
    discounts offered and any deduction the customer made), by invoice id."""
    with engine.connect() as conn:
        lines = conn.execute(
            select(LEDGER.c.invoice_id, LEDGER.c.kind, LEDGER.c.amount, LEDGER.c.booked_on)
            .where(
                LEDGER.c.booked_on <= as_of,
                LEDGER.c.kind.in_(("skonto", "discount", "payment", "write_off")),
            )
            .order_by(LEDGER.c.booked_on, LEDGER.c.id)
        ).all()
        invoices = {
            r.id: r
            for r in conn.execute(
                select(
                    INV.c.id,
                    INV.c.issue_date,
                    INV.c.amount,
                    DS.c.state,
                    DS.c.principal_open,
                    DS.c.discount_offers,
                    DS.c.deduction_on,
                    DS.c.deduction_note,
                ).join(DS, DS.c.invoice_id == INV.c.id)
            )
        }
    return lines, invoices


def forecast_facts(engine: Engine, as_of: date) -> tuple[list[Any], dict[int, date]]:
    """The cash forecast's open items at the end of `as_of`: every invoice issued by then
    and not closed, with its customer's number and its dunning record's balance and state
    (None before the engine took it up); and per invoice the date of the latest
    `promise_made` recorded by then."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(INV.c.id, INV.c.external_id, INV.c.issue_date, INV.c.due_date, INV.c.amount,
                   CUST.c.external_id.label("customer"), DS.c.state, DS.c.principal_open,
                   DS.c.fees_open, DS.c.interest_open, DS.c.disputed)
            .join(CUST, CUST.c.id == INV.c.customer_id)
            .outerjoin(DS, DS.c.invoice_id == INV.c.id)
            .where(INV.c.issue_date <= as_of, INV.c.closed_on.is_(None))
        ).all()  # fmt: skip
        promises: dict[int, date] = {}
        for invoice_id, payload in conn.execute(
            select(INBOX.c.invoice_id, INBOX.c.payload)
            .where(INBOX.c.kind == "promise_made", INBOX.c.occurred_on <= as_of)
            .order_by(INBOX.c.occurred_on, INBOX.c.id)
        ):
            promised = json.loads(payload or "{}").get("promised_date")
            if promised:
                promises[invoice_id] = date.fromisoformat(promised)
    return rows, promises


FEEDBACK = "customer_feedback"
"""The event kind of the portal's "tell us why" answers (`engine/feedback`)."""


def feedback_by_customer(engine: Engine, as_of: date) -> list[Any]:
    """Every "tell us why" up to the end of `as_of` in the order given: (customer_id,
    owner — the named invoice's customer —, occurred_on, payload)."""
    with engine.connect() as conn:
        return conn.execute(
            select(EVENT.c.customer_id, INV.c.customer_id.label("owner"), EVENT.c.occurred_on,
                   EVENT.c.payload)
            .outerjoin(INV, INV.c.id == EVENT.c.invoice_id)
            .where(EVENT.c.kind == FEEDBACK, EVENT.c.occurred_on <= as_of)
            .order_by(EVENT.c.occurred_on, EVENT.c.id)
        ).all()  # fmt: skip


def feedback_answers(engine: Engine, as_of: date) -> tuple[list[Any], dict, dict]:
    """The "tell us why" answers up to `as_of` (occurred_on, invoice_id, customer_id,
    payload), with `segments_and_latest` read in the same transaction."""
    with engine.connect() as conn:
        answers = conn.execute(
            select(EVENT.c.occurred_on, EVENT.c.invoice_id, EVENT.c.customer_id, EVENT.c.payload)
            .where(EVENT.c.kind == FEEDBACK, EVENT.c.occurred_on <= as_of)
            .order_by(EVENT.c.id)
        ).all()
        return answers, *_segments_and_latest(conn)


def segments_and_latest(engine: Engine) -> tuple[dict[int, str], dict[int, int]]:
    """Each invoice's segment by invoice id, and each customer's latest invoice id."""
    with engine.connect() as conn:
        return _segments_and_latest(conn)


def _segments_and_latest(conn: Connection) -> tuple[dict[int, str], dict[int, int]]:
    segments = dict(conn.execute(select(DS.c.invoice_id, DS.c.segment)).all())
    latest = dict(
        conn.execute(select(INV.c.customer_id, INV.c.id).order_by(INV.c.issue_date, INV.c.id)).all()
    )  # the last row per customer wins: their latest invoice
    return segments, latest


def history_rows(
    engine: Engine, as_of: date
) -> tuple[list[Any], dict[int, tuple[int, date]], dict[int, date]]:
    """The invoices issued by `as_of` with customer number and dunning state (by id),
    each invoice's count of payments and last payment day booked by `as_of`, and the
    day of its first dispute by `as_of` (`engine/history.read_database`)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                INV.c.id,
                INV.c.external_id,
                INV.c.issue_date,
                INV.c.due_date,
                INV.c.amount,
                CUST.c.external_id.label("customer"),
                DS.c.state,
            )
            .join(CUST, CUST.c.id == INV.c.customer_id)
            .outerjoin(DS, DS.c.invoice_id == INV.c.id)
            .where(INV.c.issue_date <= as_of)
            .order_by(INV.c.id)
        ).all()
        payments: dict[int, tuple[int, date]] = {
            invoice_id: (n, last)
            for invoice_id, n, last in conn.execute(
                select(PAY.c.invoice_id, func.count(), func.max(PAY.c.booked_on))
                .where(PAY.c.invoice_id.is_not(None), PAY.c.booked_on <= as_of)
                .group_by(PAY.c.invoice_id)
            )
        }
        disputes: dict[int, date] = {}
        for invoice_id, day in conn.execute(
            select(INBOX.c.invoice_id, func.min(INBOX.c.occurred_on))
            .where(INBOX.c.kind == "dispute_opened", INBOX.c.occurred_on <= as_of)
            .group_by(INBOX.c.invoice_id)
        ):
            disputes[invoice_id] = day
    return rows, payments, disputes


def last_run_day(engine: Engine) -> date | None:
    """The as-of day of the latest run; None before the first."""
    with engine.connect() as conn:
        return conn.execute(select(func.max(RUN.c.as_of))).scalar()


def messages_and_payments(engine: Engine) -> tuple[date, dict, list] | None:
    """What `response_model` learns message lifts from: the latest run's day, every
    invoice's (due date, day paid in full or None) by id, and every message of an invoice
    not cancelled as (invoice id, day, channel); None before the first run."""
    with engine.connect() as conn:
        last = conn.execute(select(func.max(RUN.c.as_of))).scalar()
        if last is None:
            return None
        paid = dict(conn.execute(
            select(PAY.c.invoice_id, func.max(PAY.c.booked_on))
            .join(DS, DS.c.invoice_id == PAY.c.invoice_id)
            .where(PAY.c.applied.is_(True), DS.c.state == "paid")
            .group_by(PAY.c.invoice_id)).all())  # fmt: skip
        invoices = {r.id: (r.due_date, paid.get(r.id))
                    for r in conn.execute(select(INV.c.id, INV.c.due_date))}  # fmt: skip
        messages = [(r.invoice_id, r.not_before.date(), r.channel) for r in conn.execute(
            select(OUTBOX.c.invoice_id, OUTBOX.c.not_before, OUTBOX.c.channel)
            .where(OUTBOX.c.invoice_id.is_not(None), OUTBOX.c.status != "cancelled"))]  # fmt: skip
    return last, invoices, messages


# ---------------------------------------------------------------------------
# The receivables reports (`engine/reports.py`: aging, DSO, CEI, stages, channels)
# ---------------------------------------------------------------------------


def ledger_sums(conn: Connection, day: date) -> list[Any]:
    """Each invoice's ledger lines summed up to the end of `day`: (invoice id, sum)."""
    return conn.execute(
        select(LEDGER.c.invoice_id, func.sum(LEDGER.c.amount))
        .where(LEDGER.c.booked_on <= day)
        .group_by(LEDGER.c.invoice_id)
    ).all()


def ledger_total(conn: Connection, kinds: tuple[str, ...], first: date, last: date) -> Any:
    """The sum of the ledger's lines of `kinds` booked from `first` to `last` (None: no
    line)."""
    return conn.execute(
        select(func.sum(LEDGER.c.amount)).where(
            LEDGER.c.kind.in_(kinds), LEDGER.c.booked_on >= first, LEDGER.c.booked_on <= last
        )
    ).scalar()


def due_dates(conn: Connection) -> dict[int, date]:
    """Every invoice's due date, by id."""
    return dict(conn.execute(select(INV.c.id, INV.c.due_date)).all())


def ledger_span(conn: Connection) -> tuple[date | None, date | None]:
    """The first and the last booking day of the ledger (None, None: it is empty)."""
    day = LEDGER.c.booked_on
    first, last = conn.execute(select(func.min(day), func.max(day))).one()
    return first, last


def path_events(conn: Connection, as_of: date) -> Any:
    """The invoices' log entries that make their paths up to `as_of` — taken up
    (`principal`), transitions, payments — as (`invoice_id`, `kind`, `occurred_on`,
    `state_to`, `payload`), by invoice in the order written; read as they come."""
    return conn.execute(
        select(
            EVENT.c.invoice_id,
            EVENT.c.kind,
            EVENT.c.occurred_on,
            EVENT.c.state_to,
            EVENT.c.payload,
        )
        .where(
            EVENT.c.kind.in_(("principal", "transition", "payment")),
            EVENT.c.occurred_on <= as_of,
            EVENT.c.invoice_id.is_not(None),
        )
        .order_by(EVENT.c.invoice_id, EVENT.c.occurred_on, EVENT.c.id)
    )


def invoice_messages(engine: Engine) -> list[Any]:
    """Every message of an invoice not cancelled, in the order queued: (channel,
    template, invoice id, not before)."""
    with engine.connect() as conn:
        return conn.execute(
            select(OUTBOX.c.channel, OUTBOX.c.template, OUTBOX.c.invoice_id, OUTBOX.c.not_before)
            .where(OUTBOX.c.status != "cancelled", OUTBOX.c.invoice_id.is_not(None))
            .order_by(OUTBOX.c.id)
        ).all()
