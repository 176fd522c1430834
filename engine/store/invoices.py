"""Invoices as people see them (an invoice's timeline, lists of invoices), and the events
people record for the next run (`record_event`, `record_customer_event`): part of the store
layer (`engine/store/`), formerly `engine/queries.py`.

The JSON shapes here are part of mahnwerk's interface (documented in
`docs/json.md`): `show --json` returns `timeline_json`, `invoices --json`
returns a list of `invoice_row` objects.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select

from mahnwerk.engine.identity import person
from mahnwerk.engine.models import CUST, DS, INBOX, INV, PAY, RUN
from mahnwerk.engine.timeline import invoice_row, read_timeline
from mahnwerk.errors import MahnwerkError


class NotFound(MahnwerkError, LookupError):
    """No record with the number the person gave (the message names it)."""


LOG_ONLY_KINDS = frozenset({"note"})
"""Inbox kinds a run only writes into the audit log (`received_note`): an operator's
free-text note goes through the inbox like any event, so it can be withdrawn until a run
has taken it, but it changes nothing the step decides."""


def books_date(conn: Any) -> date | None:
    """The as-of date of the latest run: the day the books (interest, states) stand at."""
    return conn.execute(select(func.max(RUN.c.as_of))).scalar()


def _base():
    return (
        select(
            INV.c.external_id,
            INV.c.amount,
            INV.c.due_date,
            CUST.c.external_id.label("customer_ext"),
            CUST.c.name.label("customer_name"),
            DS.c.segment,
            DS.c.state,
            DS.c.entered_on,
            DS.c.next_check_on,
            DS.c.principal_open,
            DS.c.fees_open,
            DS.c.interest_open,
            DS.c.pause_reason,
            DS.c.held,
            DS.c.disputed,
            DS.c.time_barred_from,
        )
        .join(CUST, CUST.c.id == INV.c.customer_id)
        .outerjoin(DS, DS.c.invoice_id == INV.c.id)
    )


def list_invoices(
    engine: Engine,
    state: str | None = None,
    segment: str | None = None,
    limit: int = 100,
    offset: int = 0,
    as_of: date | None = None,
) -> list[dict[str, Any]]:
    """Invoice rows; `as_of` (default: the latest run's date) judges limitation (C4)."""
    query = _base().order_by(INV.c.id).limit(limit).offset(offset)
    if state:
        query = query.where(DS.c.state == state)
    if segment:
        query = query.where(DS.c.segment == segment)
    with engine.connect() as conn:
        day = as_of or books_date(conn)
        return [invoice_row(r, day) for r in conn.execute(query)]


def invoice_page(
    engine: Engine,
    after_id: int = 0,
    limit: int = 100,
    state: str | None = None,
    segment: str | None = None,
) -> list[tuple[int, dict[str, Any]]]:
    """Invoices after the internal id `after_id` (keyset paging for the HTTP API), with ids."""
    query = _base().add_columns(INV.c.id).where(INV.c.id > after_id).order_by(INV.c.id)
    if state:
        query = query.where(DS.c.state == state)
    if segment:
        query = query.where(DS.c.segment == segment)
    with engine.connect() as conn:
        day = books_date(conn)
        return [(r.id, invoice_row(r, day)) for r in conn.execute(query.limit(limit))]


def invoice(engine: Engine, external_id: str) -> dict[str, Any]:
    """One invoice's row (`invoice_row`), or `NotFound`."""
    with engine.connect() as conn:
        row = conn.execute(_base().where(INV.c.external_id == external_id)).first()
        day = books_date(conn) if row is not None else None
    if row is None:
        raise NotFound(f"no invoice {external_id!r}")
    return invoice_row(row, day)


def timeline(engine: Engine, invoice: str, as_of: date | None = None) -> dict[str, Any]:
    """Everything that happened to one invoice, with the rule behind each entry;
    `as_of` (default: the latest run's date) judges limitation (C4).  Read by
    `engine.timeline`, the command line's fast path's reader too."""
    mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    raw = engine.raw_connection()
    try:
        data = read_timeline(raw, invoice, as_of, mark)
    finally:
        raw.close()
    if data is None:
        raise NotFound(f"no invoice {invoice!r}")
    return data


def record_event(
    engine: Engine,
    invoice: str,
    kind: str,
    on: date,
    actor: str,
    now: Any,
    payload: dict[str, Any] | None = None,
) -> int:
    """Put an event for the engine into the inbox; the next run for `on` or later applies it."""
    from mahnwerk.dsl.ir import EventKind

    if kind not in LOG_ONLY_KINDS:
        EventKind(kind)  # refuse unknown kinds early
    actor = person(actor)  # IdentityError (a ValueError): nobody, or a machine's name
    with engine.begin() as conn:
        iid = conn.execute(select(INV.c.id).where(INV.c.external_id == invoice)).scalar()
        if iid is None:
            raise NotFound(f"no invoice {invoice!r}: import it first or check the number")
        return conn.execute(
            INBOX.insert().values(
                invoice_id=iid,
                kind=kind,
                occurred_on=on,
                payload=json.dumps(payload or {}),
                recorded_at=now,
                actor=actor,
            )
        ).inserted_primary_key[0]


#: Events that concern a person, not one invoice: they reach every open invoice of the customer.
CUSTOMER_EVENTS = {"insolvency": "insolvent_since", "death_notice": "deceased_since"}


def concerns(kind: str, issue_date: date, since: date) -> bool:
    """Whether a customer's insolvency or death (from `since`) reaches a claim issued then.

    C5 (§§ 87, 89 InsO): the opening stops every claim that arose up to and including its
    day; a claim issued later is a debt of the estate and is dunned on its own.  C6: a
    death reaches every claim.  The one place of this cut-off, for the claims open when the
    event is recorded and for those imported afterwards.
    """
    return kind != "insolvency" or issue_date <= since


def tell_new_invoices(conn: Any, invoices: list[tuple[int, date, Any]], now: Any) -> list[int]:
    """Invoices imported after their customer's insolvency or death learn of it.

    `invoices` are (invoice id, issue date, Customer) of invoices the engine takes up now.  The
    customer's event is a fact with its date, whenever the claim arrives: each concerned
    invoice gets the event in its inbox (once), so the run stops or pauses it before any
    reminder.  Returns the ids told.
    """
    wanted = []
    for iid, issued, customer in invoices:
        for kind, column in CUSTOMER_EVENTS.items():
            since = getattr(customer, column)
            if since is not None and concerns(kind, issued, since):
                wanted.append((iid, kind, since))
    if not wanted:
        return []
    have = set(
        conn.execute(
            select(INBOX.c.invoice_id, INBOX.c.kind).where(
                INBOX.c.invoice_id.in_(sorted({iid for iid, _, _ in wanted})),
                INBOX.c.kind.in_(sorted(CUSTOMER_EVENTS)),
            )
        ).all()
    )
    rows = [
        {
            "invoice_id": iid,
            "kind": kind,
            "occurred_on": since,
            "payload": json.dumps(
                {
                    "note": f"the customer's {kind} of {since}, recorded before "
                    "this invoice was imported"
                }
            ),
            "recorded_at": now,
            "actor": "engine",
        }
        for iid, kind, since in wanted
        if (iid, kind) not in have
    ]
    if rows:
        conn.execute(INBOX.insert(), rows)
    return [r["invoice_id"] for r in rows]


def record_customer_event(
    engine: Engine,
    customer: str,
    kind: str,
    on: date,
    actor: str,
    now: Any,
    payload: dict[str, Any] | None = None,
) -> list[str]:
    """Insolvency or death of a customer: mark the customer and tell each affected invoice.

    C5 (§§ 87, 89 InsO): the opening of insolvency proceedings stops every claim that arose
    before it — invoices issued on or before `on`; claims arising after the opening are
    kept apart and dunned normally (they are debts of the estate, not insolvency claims).
    C6: a death notice pauses every open invoice of the customer.  Returns the invoices
    told.  One transaction: all of them or none.
    """
    column = CUSTOMER_EVENTS.get(kind)
    if column is None:
        raise ValueError(f"{kind!r} is not a customer event; use one of {sorted(CUSTOMER_EVENTS)}")
    actor = person(actor)
    with engine.begin() as conn:
        cid = conn.execute(select(CUST.c.id).where(CUST.c.external_id == customer)).scalar()
        if cid is None:
            raise NotFound(f"no customer {customer!r}: import it first or check the number")
        conn.execute(CUST.update().where(CUST.c.id == cid).values({column: on}))
        query = select(INV.c.id, INV.c.external_id, INV.c.issue_date).where(
            INV.c.customer_id == cid, INV.c.closed_on.is_(None)
        )
        invoices = [
            (iid, ext)
            for iid, ext, issued in conn.execute(query.order_by(INV.c.id))
            if concerns(kind, issued, on)
        ]
        if invoices:
            conn.execute(
                INBOX.insert(),
                [
                    {
                        "invoice_id": iid,
                        "kind": kind,
                        "occurred_on": on,
                        "payload": json.dumps(payload or {}),
                        "recorded_at": now,
                        "actor": actor,
                    }
                    for iid, _ in invoices
                ],
            )
    return [ext for _, ext in invoices]


def invoice_keys(conn: Any, external_id: str) -> Any | None:
    """An invoice's internal id and customer id (`.id`, `.customer_id`), or None."""
    return conn.execute(
        select(INV.c.id, INV.c.customer_id).where(INV.c.external_id == external_id)
    ).first()


def known_invoices(engine: Engine, numbers: list[str]) -> set[str]:
    """Which of these invoice numbers the book holds (the rest are typos or not imported)."""
    with engine.connect() as conn:
        return set(
            conn.execute(select(INV.c.external_id).where(INV.c.external_id.in_(numbers))).scalars()
        )


def record_payment(
    engine: Engine, invoice: str, day: date, amount: Decimal, by: str, now: datetime
) -> bool:
    """A payment entered by hand on one invoice, for the next run to allocate (§ 367 BGB);
    False when there is no such invoice (nothing written)."""
    with engine.begin() as conn:
        row = conn.execute(
            select(INV.c.id, INV.c.customer_id, INV.c.currency).where(INV.c.external_id == invoice)
        ).first()
        if row is None:
            return False
        conn.execute(
            insert(PAY).values(
                external_id=f"cli-{invoice}-{now.strftime('%Y%m%d%H%M%S%f')}",
                invoice_id=row.id,
                customer_id=row.customer_id,
                booked_on=day,
                amount=amount,
                currency=row.currency,
                reference=f"entered by {by}",
                source="cli",
            )
        )
    return True


def a_customer_in_dunning(engine: Engine, not_states: list[str]) -> str | None:
    """The number of the first customer with an open invoice in a dunning state (not one of
    `not_states`): whose portal page the demo offers to open."""
    with engine.connect() as conn:
        return conn.execute(
            select(CUST.c.external_id)
            .join(INV, INV.c.customer_id == CUST.c.id)
            .join(DS, DS.c.invoice_id == INV.c.id)
            .where(DS.c.state.not_in(not_states), INV.c.closed_on.is_(None))
            .order_by(INV.c.id)
            .limit(1)
        ).scalar()


def invoice_and_state(conn: Connection, invoice: int | str) -> tuple[Any, Any]:
    """An invoice's row with its customer's number (`customer_ext`) and its dunning
    state's row, by row id or invoice number; (None, None) for an unknown invoice, the
    state None before a run took the invoice up (`engine/skonto.terms_on`)."""
    key = INV.c.id == invoice if isinstance(invoice, int) else INV.c.external_id == invoice
    row = conn.execute(
        select(INV, CUST.c.external_id.label("customer_ext"))
        .join(CUST, CUST.c.id == INV.c.customer_id)
        .where(key)
    ).first()
    if row is None:
        return None, None
    return row, conn.execute(select(DS).where(DS.c.invoice_id == row.id)).first()
