"""What a template may say: the facts of one message, read from the database.

A message is about one customer and one or more of their invoices (several
when dispatch bundles them, D3).  The context holds only what identifies and
justifies the claim (E1, data minimisation): who is addressed, the invoices
with their open principal, the fees and the interest itemised line by line
(§ 13a RDG wants principal, rate and period), the total, the creditor's bank
details and a payment reference.  Nothing else about the customer — no risk
score, no segment, no tags — reaches a template.

Amounts come from the engine's own books: `dunning_state` holds what is open
now (principal, fees, interest) and the `ledger` the lines that made it up.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Connection

from mahnwerk.dsl.ir import TERMINAL_NAMES
from mahnwerk.engine.comms import formatting, girocode
from mahnwerk.engine.comms.config import Settings
from mahnwerk.engine.comms.legal import imprint_lines
from mahnwerk.engine.comms.pdf import PORTAL_CAPTIONS
from mahnwerk.engine.store import messages
from mahnwerk.engine.terms import Term, all_terms, offers_from_json, still_applying, tiers_from_json

ZERO = Decimal("0.00")

#: Why a cost was charged, as the letter explains it (§ 13a RDG: type, amount and reason).
#: `{day}` is the day it was charged.  A fee charged with the step this letter belongs to
#: is this letter's postage ("fee"); a fee of an earlier step was the postage of *that*
#: letter ("earlier_fee") and is named by its day, never as the cost of this one.
COST_REASONS = {
    "de": {
        "fee": ("Mahngebühr", "Material- und Portokosten dieses Schreibens (§§ 280, 286 BGB)"),
        "earlier_fee": (
            "Mahngebühr vom {day}",
            "Material- und Portokosten unseres Schreibens vom {day} (§§ 280, 286 BGB)",
        ),
        "lump_sum": ("Verzugspauschale", "Pauschale nach § 288 Abs. 5 BGB"),
        "collection_cost": ("Inkassokosten", "Kosten der Rechtsverfolgung (§ 13e RDG)"),
    },
    "en": {
        "fee": ("Reminder fee", "cost of printing and posting this letter (ss. 280, 286 BGB)"),
        "earlier_fee": (
            "Reminder fee of {day}",
            "cost of printing and posting our letter of {day} (ss. 280, 286 BGB)",
        ),
        "lump_sum": ("Late-payment lump sum", "flat sum under s. 288(5) BGB"),
        "collection_cost": ("Collection costs", "costs of pursuing the claim (s. 13e RDG)"),
    },
}


def cost_words(
    kind: str, booked_on: date, step_from: date | None, language: str
) -> tuple[str, str]:
    """(label, reason) of a cost line; a fee booked before this step (`step_from`) was an
    earlier letter's, and says so with its day ("Mahngebühr vom 12.03.2026")."""
    reasons = COST_REASONS.get(language, COST_REASONS["de"])
    if kind == "fee" and step_from is not None and booked_on < step_from:
        kind = "earlier_fee"
    label, reason = reasons[kind]
    day = formatting.day(booked_on, language)
    return label.format(day=day), reason.format(day=day)


@dataclass(frozen=True, slots=True)
class CostLine:
    kind: str
    label: str
    reason: str
    amount: Decimal
    booked_on: date


@dataclass(frozen=True, slots=True)
class InterestLine:
    period_from: date
    period_to: date
    days: int
    rate: Decimal | None
    principal: Decimal
    amount: Decimal
    provisional: bool


@dataclass(frozen=True, slots=True)
class InvoiceFacts:
    id: int
    number: str
    issue_date: date
    due_date: date
    amount: Decimal
    currency: str
    state: str
    principal: Decimal
    fees: Decimal
    interest: Decimal
    costs: tuple[CostLine, ...] = ()
    interest_lines: tuple[InterestLine, ...] = ()
    disputed: bool = False
    held: bool = False
    pause_reason: str | None = None
    paused_until: date | None = None
    entered_on: date | None = None  # the day the invoice entered `state`
    next_step_on: date | None = None  # the next day the engine may take a step
    pending_approval: str | None = None
    #: issue 19: every Skonto tier and offered discount, priced on the open balance
    terms: tuple[Term, ...] = ()
    #: issue 19: a Skonto deducted too late (what the Skonto letter names), else None
    deduction: dict[str, Any] | None = None

    def still_applying(self, on: date) -> tuple[Term, ...]:
        """The terms a payment on `on` can still use (none once closed or deducted late)."""
        if self.deduction is not None or self.state in TERMINAL_NAMES:
            return ()
        return still_applying(self.terms, on)

    def blocked(self, today: date) -> str | None:
        """Why no message may go out about this invoice today (C1, holds, pauses), or None."""
        if self.disputed:
            return "the invoice is disputed (C1)"
        if self.held:
            return "the invoice is on hold"
        if self.pause_reason is not None and (
            self.paused_until is None or today <= self.paused_until
        ):
            return f"the invoice is paused ({self.pause_reason})"
        return None

    @property
    def balance(self) -> Decimal:
        return self.principal + self.fees + self.interest

    @property
    def paid(self) -> Decimal:
        return self.amount - self.principal if self.amount > self.principal else ZERO


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who the message is addressed to; for a deceased customer the heirs (C6)."""

    name: str  # the name on the envelope / in the To: header
    lines: tuple[str, ...]  # the address block, name first
    salutation: str
    estate: bool = False
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    id: int
    number: str
    name: str
    type: str
    email: str | None
    phone: str | None
    street: str | None
    postal_code: str | None
    city: str | None
    country: str
    language: str
    opted_out: frozenset[str]
    deceased_since: date | None

    @property
    def is_business(self) -> bool:
        return self.type == "B2B"


@dataclass
class Offers:
    payment_plan: int | None = None  # at most this many instalments
    skonto_percent: Decimal | None = None
    skonto_days: int | None = None
    words: list[str] = field(default_factory=list)


def parse_offers(words: list[str]) -> Offers:
    """The engine's offer texts (`offer payment plan of 6 instalments …`) as numbers."""
    out = Offers(words=list(words))
    for text in words:
        if m := re.search(r"payment plan of (\d+)", text):
            out.payment_plan = int(m.group(1))
        if m := re.search(r"skonto ([\d.]+)\s*%(?: within (\d+))?", text):
            out.skonto_percent = Decimal(m.group(1))
            out.skonto_days = int(m.group(2)) if m.group(2) else None
    return out


def recipient(customer: CustomerFacts, language: str) -> Recipient:
    """Address block and salutation; C6: after a death, the heirs — never the deceased."""
    en = language == "en"
    place = " ".join(p for p in (customer.postal_code, customer.city) if p)
    tail = tuple(p for p in (customer.street, place) if p)
    if customer.country and customer.country != "DE":
        tail += (customer.country,)
    if customer.deceased_since is not None:
        head = f"To the estate of {customer.name}" if en else f"An die Erben von {customer.name}"
        return Recipient(
            name=head,
            lines=(head, *tail),
            salutation="Dear Sir or Madam," if en else "Sehr geehrte Damen und Herren,",
            estate=True,
            email=customer.email,
            phone=None,
        )
    if customer.is_business:
        salutation = "Dear Sir or Madam," if en else "Sehr geehrte Damen und Herren,"
    else:
        salutation = f"Dear {customer.name}," if en else f"Guten Tag {customer.name},"
    return Recipient(
        customer.name, (customer.name, *tail), salutation, False, customer.email, customer.phone
    )


def payment_reference(customer: CustomerFacts, invoices: list[InvoiceFacts]) -> str:
    """SEPA remittance text (at most 140 characters): the invoice numbers, so the
    bank import can match the payment (`engine/bank/references.py` reads numbers from it).
    Too many numbers for 140 characters: the first ones that fit, each whole — a number
    cut in half names another invoice or none (the GiroCodes then carry one code per
    group, `girocode.py`)."""
    first = (girocode.groups(customer.number, [i.number for i in invoices]) or [[]])[0]
    return girocode.remittance(customer.number, first)[: girocode.MAX_TEXT]


def payment_date(letter_date: date, invoices: list[InvoiceFacts], days: int) -> date:
    """The day a message asks the customer to pay by: `days` after the letter, but

    * never after the due date of an invoice that is not yet due — a note before the due
      date asks for payment on the due date, not a week after it (a later date would
      move the agreed due date and with it the start of default, § 286 BGB);
    * never on or after the day the engine may take the next step — a reminder that
      says "by the 14th" must not be followed by a Mahnung on the 12th.  Only when that
      step is still ahead of the letter (a letter sent late keeps its own period).
    """
    pay_by = letter_date + timedelta(days=days)
    for invoice in invoices:
        if letter_date <= invoice.due_date:
            pay_by = min(pay_by, invoice.due_date)
        step = invoice.next_step_on
        if step is not None and step - timedelta(days=1) > letter_date:
            pay_by = min(pay_by, step - timedelta(days=1))
    return pay_by


def _totals(invoices: list[InvoiceFacts]) -> dict[str, Decimal]:
    totals = {
        "amount": sum((i.amount for i in invoices), ZERO),
        "principal": sum((i.principal for i in invoices), ZERO),
        "fees": sum((i.fees for i in invoices), ZERO),
        "interest": sum((i.interest for i in invoices), ZERO),
    }
    totals["balance"] = totals["principal"] + totals["fees"] + totals["interest"]
    return totals


def _payment_link(settings: Settings, reference: str) -> str | None:
    """`[creditor] payment_link` with this message's payment reference filled in."""
    link = settings.creditor.payment_link
    if link:
        from urllib.parse import quote

        link = link.replace("{reference}", quote(reference))
    return link


def build_context(
    *,
    settings: Settings,
    customer: CustomerFacts,
    invoices: list[InvoiceFacts],
    template: str,
    channel: str,
    language: str,
    tone: str | None,
    letter_date: date,
    state: str | None = None,
    offers: list[str] | None = None,
    announces: list[str] | None = None,
    portal_link: str | None = None,
) -> dict[str, Any]:
    """The variables a template sees; everything a letter says comes from here.

    `portal_link` is the customer's personal page (`mahnwerk.portal.links`), printed as a
    short address and, on letters, a QR code; None where no portal is configured."""
    currency = invoices[0].currency if invoices else "EUR"
    totals = _totals(invoices)
    reference = payment_reference(customer, invoices)
    return {
        "template": template,
        "channel": channel,
        "language": language,
        "tone": tone or "standard",
        "currency": currency,
        "letter_date": letter_date,
        "pay_by": payment_date(letter_date, invoices, settings.creditor.payment_days),
        "customer": customer,
        "recipient": recipient(customer, language),
        "creditor": settings.creditor,
        # the sender's details the legal form requires (§ 35a GmbHG, §§ 37a, 125a HGB), one
        # line each: business e-mails need them as much as letters
        "imprint": imprint_lines(settings.creditor, language),
        "collection": settings.collection,
        "invoices": invoices,
        "invoice": invoices[0] if invoices else None,
        "numbers": ", ".join(i.number for i in invoices),
        "totals": totals,
        "reference": reference,
        "payment_link": _payment_link(settings, reference),
        # the EPC QR codes `m.pay()` marks in letters and e-mails (girocode.py)
        "girocodes": girocode.GiroCodes(
            settings.creditor, customer.number, tuple((i.number, i.balance) for i in invoices),
            tuple(i.currency for i in invoices), totals["balance"],
        ),  # fmt: skip
        "portal_link": portal_link,
        # the caption the letter prints beside the link's QR code (pdf.py): the text names it
        "portal_caption": PORTAL_CAPTIONS.get(language, PORTAL_CAPTIONS["de"])[0],
        "state": state,
        "offers": parse_offers(offers or []),
        # D9: the steps ahead the engine found the workflow can and will take (credit_report,
        # court_order, handover); a letter threatens nothing else.  C2: the engine records
        # the credit-bureau notice as given when this list holds `credit_report`, so the
        # templates must print it then (`m.announcements()`).
        "announces": frozenset(announces or ()),
    } | _lines(invoices, letter_date)


def _lines(invoices: list[InvoiceFacts], letter_date: date) -> dict[str, Any]:
    """The itemised costs and interest, and the terms a payment can still use."""
    return {
        "costs": [c for i in invoices for c in i.costs],
        "interest_lines": [line for i in invoices for line in i.interest_lines],
        # issue 19: the Skonto and discounts a payment on the letter's day can still use
        # ("bei Zahlung bis 12.03. nur 1.176,00 €"), and a Skonto deducted too late
        "terms": [
            {"invoice": i, "term": t} for i in invoices for t in i.still_applying(letter_date)
        ],
        "deduction": next((i.deduction for i in invoices if i.deduction), None),
    }


# ---------------------------------------------------------------------------
# Reading the facts
# ---------------------------------------------------------------------------


def load_customers(conn: Connection, ids: set[int]) -> dict[int, CustomerFacts]:
    out: dict[int, CustomerFacts] = {}
    for r in messages.customer_rows(conn, ids):
        out[r.id] = CustomerFacts(
            id=r.id,
            number=r.external_id,
            name=r.name,
            type=r.type,
            email=r.email,
            phone=r.phone,
            street=r.street,
            postal_code=r.postal_code,
            city=r.city,
            country=r.country or "DE",
            language=r.language or "de",
            opted_out=frozenset(
                p.strip().lower() for p in (r.opted_out or "").split(",") if p.strip()
            ),
            deceased_since=r.deceased_since,
        )
    return out


def load_invoices(conn: Connection, ids: set[int], language: str = "de") -> dict[int, InvoiceFacts]:
    """Invoices with their open amounts and itemised costs and interest."""
    heads, ledgers = messages.invoice_books(conn, ids)
    return {iid: _invoice_facts(r, ledgers.get(iid, []), language) for iid, r in heads.items()}


def _replay(
    lines: list[Any], step_from: date | None, language: str
) -> tuple[list[CostLine], list[InterestLine]]:
    """The cost and interest lines of an invoice's books.  Replayed in order (§ 367 BGB: a
    payment pays costs, then interest, then principal) to know the principal each interest
    line was computed on."""
    kinds = COST_REASONS.get(language, COST_REASONS["de"])
    costs: list[CostLine] = []
    interest: list[InterestLine] = []
    owed = {"costs": ZERO, "interest": ZERO, "principal": ZERO}
    for line in lines:
        amount = Decimal(line.amount)
        if line.kind == "principal":
            owed["principal"] += amount
        elif line.kind in kinds:
            label, reason = cost_words(line.kind, line.booked_on, step_from, language)
            costs.append(CostLine(line.kind, label, reason, amount, line.booked_on))
            owed["costs"] += amount
        elif line.kind == "interest":
            _add_interest(interest, line, amount, owed["principal"])
            owed["interest"] += amount
        elif amount < 0:  # payment, write-off, credit
            rest = -amount
            for bucket in ("costs", "interest", "principal"):
                take = min(rest, owed[bucket])
                owed[bucket] -= take
                rest -= take
    return costs, interest


def _add_interest(
    interest: list[InterestLine], line: Any, amount: Decimal, principal: Decimal
) -> None:
    """An interest line; A6: one period booked on two days is one line, rounded once, as
    booked."""
    start, end = line.period_from or line.booked_on, line.period_to or line.booked_on
    rate = Decimal(line.rate) if line.rate is not None else None
    last = interest[-1] if interest else None
    if (
        last is not None
        and rate is not None
        and (last.rate, last.principal, last.provisional)
        == (rate, principal, bool(line.provisional))
        and last.period_to + timedelta(days=1) == start
    ):
        start, amount = last.period_from, last.amount + amount
        interest.pop()
    days = (end - start).days + 1
    interest.append(
        InterestLine(start, end, days, rate, principal, amount, bool(line.provisional))
    )


def _invoice_facts(r: Any, lines: list[Any], language: str) -> InvoiceFacts:
    step_from = r.entered_on if r.state is not None else None
    costs, interest = _replay(lines, step_from, language)
    has_state = r.state is not None
    return InvoiceFacts(
        id=r.id,
        number=r.external_id,
        issue_date=r.issue_date,
        due_date=r.due_date,
        amount=Decimal(r.amount),
        currency=r.currency or "EUR",
        state=r.state or "new",
        principal=Decimal(r.principal_open) if has_state else Decimal(r.amount),
        fees=Decimal(r.fees_open) if has_state else ZERO,
        interest=Decimal(r.interest_open) if has_state else ZERO,
        costs=tuple(costs),
        interest_lines=tuple(interest),
        disputed=bool(r.disputed),
        held=bool(r.held),
        pause_reason=r.pause_reason,
        paused_until=r.paused_until,
        entered_on=r.entered_on,
        next_step_on=r.next_check_on,
        pending_approval=r.pending_approval,
        terms=all_terms(
            r.issue_date,
            Decimal(r.amount),
            (Decimal(r.principal_open) + Decimal(r.fees_open) + Decimal(r.interest_open))
            if has_state
            else Decimal(r.amount),
            tiers_from_json(r.skonto_terms),
            offers_from_json(r.discount_offers),
        ),
        deduction=_deduction(r.deduction_note),
    )


def _deduction(text: str | None) -> dict[str, Any] | None:
    """The stored late deduction (`engine/skonto.deduction_json`) with dates and amounts."""
    if not text:
        return None
    data = json.loads(text)
    for key in ("percent", "paid", "deducted"):
        data[key] = Decimal(data[key])
    for key in ("last_day", "paid_on"):
        data[key] = date.fromisoformat(data[key])
    return data
