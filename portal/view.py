"""What the customer's page shows, read from the engine's own books.

The same facts the letters print (`engine/comms/context.py`: principal, each fee with its
reason, each interest line with rate and period) — so the page and the letter cannot
disagree — plus the payments booked, the letters and e-mails sent, what the engine will do
next (`engine/customer_view.upcoming`, the TUI's own answer) and what the customer has told
us that no run has applied yet.  Only this customer's rows are read: every query is
filtered by the customer id the verified link names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Connection, Engine

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
from mahnwerk.engine.store import portal as store

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


def _offers(conn: Connection, invoice_id: int) -> Offers:
    """The offers the engine made in its messages about the invoice (newest message first):
    what the policy offered this customer, with its condition already judged by the run."""
    words = store.offered(conn, invoice_id)
    return parse_offers(words) if words else Offers()


def load_page(engine: Engine, customer_id: int, today: date | None = None) -> Page:
    """The customer's page; `today` (the portal's business day) decides which Skonto or
    discount terms still apply."""
    from mahnwerk.engine.skonto import terms_on

    with engine.connect() as conn:
        customer = load_customers(conn, {customer_id})[customer_id]
        language = customer.language if customer.language in ("de", "en") else "de"
        ids = store.open_invoice_ids(conn, customer_id)
        facts = load_invoices(conn, set(ids), language)
        payments: dict[int, list[PaymentLine]] = {}
        for r in store.payments(conn, ids):
            payments.setdefault(r.invoice_id, []).append(
                PaymentLine(r.booked_on, -Decimal(r.amount))
            )
        told: dict[int, list[Told]] = {}
        for r in store.waiting_events(conn, ids):
            told.setdefault(r.invoice_id, []).append(Told(r.kind, r.occurred_on, r.actor))
        states = store.promises_and_plans(conn, ids)
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
            for r in store.sent_written(conn, customer_id, channels.written())
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
    row = store.letter_artefact(engine, customer_id, delivery_id)
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
