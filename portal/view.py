"""What the customer's page shows, read from the engine's own books.

The same facts the letters print (`engine/comms/context.py`: principal, each fee with its
reason, each interest line with rate and period) — so the page and the letter cannot
disagree — plus the payments booked, the letters and e-mails sent, what the engine will do
next (`engine/customer_view.upcoming`, the TUI's own answer) and what the customer has told
us that no run has applied yet.  Only this customer's rows are read: every query is
filtered by the customer id the verified link names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Connection, Engine, select

from mahnwerk.dsl.ir import TERMINAL_NAMES
from mahnwerk.engine.comms import channels
from mahnwerk.engine.comms.context import (
    CustomerFacts,
    InvoiceFacts,
    Offers,
    load_customers,
    load_invoices,
    parse_offers,
)
from mahnwerk.engine.customer_view import Upcoming, upcoming
from mahnwerk.engine.models import DELIVERY, DS, INBOX, INV, LEDGER, OUTBOX

MAX_PROMISES = 2  # D6: at most two promises per case (engine/step.py pauses for two)


@dataclass(frozen=True, slots=True)
class PaymentLine:
    booked_on: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Told:
    """An event the customer (or anyone) recorded that the next run has yet to apply."""

    kind: str
    occurred_on: date
    actor: str


@dataclass
class OpenInvoice:
    facts: InvoiceFacts
    payments: list[PaymentLine]
    next: Upcoming
    offers: Offers
    promises: int
    plan_active: bool
    told: list[Told] = field(default_factory=list)
    terms: tuple = ()  # Skonto and discounts still applying (`engine/skonto.terms_on`)

    @property
    def number(self) -> str:
        return self.facts.number

    @property
    def may_promise(self) -> bool:
        return (
            self.promises + sum(t.kind == "promise_made" for t in self.told) < MAX_PROMISES
            and not self.facts.disputed
        )

    @property
    def disputed(self) -> bool:
        return self.facts.disputed or any(t.kind == "dispute_opened" for t in self.told)


@dataclass(frozen=True, slots=True)
class Sent:
    id: int
    channel: str
    template: str
    sent_at: datetime
    subject: str | None
    has_pdf: bool


@dataclass
class Page:
    customer: CustomerFacts
    invoices: list[OpenInvoice]
    sent: list[Sent]

    @property
    def language(self) -> str:
        return self.customer.language if self.customer.language in ("de", "en") else "de"

    def invoice(self, number: str) -> OpenInvoice | None:
        """One of *this* customer's open invoices by number, else None (never another's)."""
        return next((i for i in self.invoices if i.number == number), None)

    @property
    def total(self) -> Decimal:
        return sum((i.facts.balance for i in self.invoices), Decimal("0.00"))


def _open_ids(conn: Connection, customer_id: int) -> list[int]:
    rows = conn.execute(
        select(INV.c.id, DS.c.state)
        .outerjoin(DS, DS.c.invoice_id == INV.c.id)
        .where(INV.c.customer_id == customer_id, INV.c.closed_on.is_(None))
        .order_by(INV.c.due_date, INV.c.id)
    ).all()
    return [r.id for r in rows if r.state not in TERMINAL_NAMES]


def _offers(conn: Connection, invoice_id: int) -> Offers:
    """The offers the engine made in its messages about the invoice (newest message first):
    what the policy offered this customer, with its condition already judged by the run."""
    for (payload,) in conn.execute(
        select(OUTBOX.c.payload)
        .where(OUTBOX.c.invoice_id == invoice_id)
        .order_by(OUTBOX.c.id.desc())
        .limit(20)
    ):
        words = json.loads(payload or "{}").get("offers") or []
        if words:
            return parse_offers(words)
    return Offers()


def load_page(engine: Engine, customer_id: int, today: date | None = None) -> Page:
    """The customer's page; `today` (the portal's business day) decides which Skonto or
    discount terms still apply."""
    from mahnwerk.engine.skonto import terms_on

    with engine.connect() as conn:
        customer = load_customers(conn, {customer_id})[customer_id]
        language = customer.language if customer.language in ("de", "en") else "de"
        ids = _open_ids(conn, customer_id)
        facts = load_invoices(conn, set(ids), language)
        payments: dict[int, list[PaymentLine]] = {}
        for r in conn.execute(
            select(LEDGER.c.invoice_id, LEDGER.c.booked_on, LEDGER.c.amount)
            .where(LEDGER.c.invoice_id.in_(ids), LEDGER.c.kind == "payment")
            .order_by(LEDGER.c.booked_on, LEDGER.c.id)
        ):
            payments.setdefault(r.invoice_id, []).append(
                PaymentLine(r.booked_on, -Decimal(r.amount))
            )
        told: dict[int, list[Told]] = {}
        for r in conn.execute(
            select(INBOX.c.invoice_id, INBOX.c.kind, INBOX.c.occurred_on, INBOX.c.actor)
            .where(INBOX.c.invoice_id.in_(ids), INBOX.c.applied_run_id.is_(None))
            .order_by(INBOX.c.id)
        ):
            told.setdefault(r.invoice_id, []).append(Told(r.kind, r.occurred_on, r.actor))
        states = {
            r.invoice_id: r
            for r in conn.execute(
                select(DS.c.invoice_id, DS.c.promises, DS.c.plan_active).where(
                    DS.c.invoice_id.in_(ids)
                )
            )
        }
        offers = {iid: _offers(conn, iid) for iid in ids}
        terms = {iid: terms_on(conn, iid, today) if today else () for iid in ids}
        sent = [
            Sent(
                r.id,
                r.channel,
                r.template,
                r.finished_at,
                r.subject,
                _paper(r.channel) and _pdf(r.artefact) is not None,
            )
            for r in conn.execute(
                select(DELIVERY)
                .where(
                    DELIVERY.c.customer_id == customer_id,
                    DELIVERY.c.status == "sent",
                    DELIVERY.c.channel.in_(channels.written()),
                )
                .order_by(DELIVERY.c.finished_at.desc())
                .limit(50)
            )
        ]
    invoices = [
        OpenInvoice(
            facts[iid],
            payments.get(iid, []),
            upcoming(engine, facts[iid].number),
            offers[iid],
            states[iid].promises if iid in states else 0,
            bool(states[iid].plan_active) if iid in states else False,
            told.get(iid, []),
            terms[iid],
        )
        for iid in ids
    ]
    return Page(customer, invoices, sent)


def letter_file(engine: Engine, customer_id: int, delivery_id: int) -> Path | None:
    """The archived PDF of a letter sent to this customer (None for another's or none)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(DELIVERY.c.artefact).where(
                DELIVERY.c.id == delivery_id,
                DELIVERY.c.customer_id == customer_id,
                DELIVERY.c.channel == "letter",
                DELIVERY.c.status == "sent",
            )
        ).first()
    return None if row is None else _pdf(row.artefact)


def _paper(channel: str) -> bool:
    """Whether a delivery on `channel` was a letter whose PDF may lie on disk."""
    return channel in channels.REGISTRY and channels.REGISTRY[channel].paper


def _pdf(artefact: str | None) -> Path | None:
    """The letter's own PDF from the delivery record (`<file> (in <print batch>)`)."""
    if not artefact:
        return None
    path = Path(artefact.split(" (in ", 1)[0])
    return path if path.suffix == ".pdf" and path.is_file() else None
