"""Booking bank entries: the book the matcher reads, a matched credit written as
ordinary `payment` rows with a `bank_payment` event, the payer's account learnt,
and a returned debit noted on its invoices.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from mahnwerk.engine.bank.entries import BankEntry
from mahnwerk.engine.bank.matching import (
    Book,
    Decision,
    OpenItem,
    Payer,
)
from mahnwerk.engine.identity import IdentityError, person
from mahnwerk.engine.store import bank as stored
from mahnwerk.engine.terms import all_terms, offers_from_json, tiers_from_json
from mahnwerk.errors import MahnwerkError

QUEUE_STATUSES = ("unmatched", "review")
_CHUNK = 500


class AssignError(MahnwerkError, ValueError):
    """A person's assignment that cannot be done; the message says what to do instead."""


def _person(actor: str, what: str) -> str:
    """The deciding person's name for the log (`identity.person`: no machine names)."""
    try:
        return person(actor, what)
    except IdentityError as exc:
        raise AssignError(str(exc)) from None


@dataclass(frozen=True, slots=True)
class BankImportResult:
    """What one import did.  Importing the same file again gives `new == 0`."""

    path: str
    entries: int
    new: int
    credits: int
    matched: int
    queued: int
    review: int
    other: int
    payments: int
    booked: Decimal

    @property
    def duplicates(self) -> int:
        return self.entries - self.new

    def __str__(self) -> str:
        text = f"{self.path}: {self.entries} entries"
        if self.duplicates:
            text += f" ({self.duplicates} already imported)"
        if not self.new:
            return text + ", nothing new"
        text += (
            f"; {self.credits} credits: {self.matched} matched "
            f"({self.payments} payments, {self.booked} booked), {self.queued} to the queue"
        )
        if self.review:
            text += f"; {self.review} returns/reversals for review"
        if self.other:
            text += f"; {self.other} debits"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "entries": self.entries,
            "new": self.new,
            "duplicates": self.duplicates,
            "credits": self.credits,
            "matched": self.matched,
            "queued": self.queued,
            "review": self.review,
            "other": self.other,
            "payments": self.payments,
            "booked": str(self.booked),
        }


def load_book(conn: Connection) -> Book:
    """Every invoice with its open balance (less payments not yet applied), payers, IBANs."""
    pending, rows, payers, accounts = stored.book_rows(conn)
    invoices: dict[int, OpenItem] = {}
    for r in rows:
        invoices[r.id] = _open_item(r, Decimal(pending.get(r.id) or 0))
    customers = {r.id: Payer(r.id, r.external_id, r.name) for r in payers}
    return Book(invoices, customers, accounts)


def _open_item(r: Any, pending: Decimal) -> OpenItem:
    """One invoice as matching sees it: its balance less payments not yet applied."""
    amount = Decimal(r.amount)
    if r.ds is not None:
        principal = Decimal(r.principal_open)
        balance = principal + Decimal(r.fees_open) + Decimal(r.interest_open)
    else:
        principal = balance = amount
    balance -= pending
    # issue 19: what pays the invoice under one of its Skonto tiers or offered discounts
    # (whether in time is the engine's decision, on the payment's date)
    terms = all_terms(
        r.issue_date,
        amount,
        balance,
        tiers_from_json(r.skonto_terms),
        offers_from_json(r.discount_offers),
    )
    return OpenItem(
        r.id,
        r.external_id,
        r.customer_id,
        r.due_date,
        r.currency,
        balance,
        principal,
        amount,
        tuple(t.pay for t in terms if t.pay > 0),
    )


def _status(entry: BankEntry, decision: Decision) -> str:
    if entry.kind == "credit":
        return "matched" if decision.allocations else "unmatched"
    if entry.kind in ("return", "reversal"):
        return "review"
    return "other"


def _book(
    conn: Connection,
    book: Book,
    entry_id: int,
    entry: BankEntry,
    decision: Decision,
    actor: str,
    now: datetime,
) -> None:
    """Payments for the allocations, an event per invoice, and the payer's IBAN learnt."""
    who = entry.counterparty_name or entry.counterparty_iban or "unknown payer"
    for n, a in enumerate(decision.allocations, 1):
        stored.add_payment(
            conn,
            {
                "external_id": f"bank:{entry_id}:{n}",
                "customer_id": a.customer_id,
                "invoice_id": a.invoice_id,
                "booked_on": entry.booked_on,
                "amount": a.amount,
                "currency": entry.currency,
                "reference": entry.remittance or None,
                "applied": False,
                "source": "bank",
            },
            {
                "invoice_id": a.invoice_id,
                "customer_id": a.customer_id,
                "kind": "bank_payment",
                "occurred_on": entry.booked_on,
                "recorded_at": now,
                "actor": actor,
                "message": f"Zahlungseingang {a.amount} {entry.currency} von {who} "
                f"(bank entry {entry_id}, {decision.method}): {decision.note}",
                "payload": json.dumps(
                    {
                        "bank_entry": entry_id,
                        "amount": str(a.amount),
                        "method": decision.method,
                        "remittance": entry.remittance,
                    }
                ),
            },
        )
    book.book(decision.allocations)
    customers = {a.customer_id for a in decision.allocations}
    if decision.method != "amount" and len(customers) == 1:
        customer = customers.pop()
        # Only the customer's own account: a relative paying once is no reason to match
        # that account's next payments to this customer.
        if decision.method == "person" or book.same_person(entry.counterparty_name, customer):
            _learn(conn, book, entry.counterparty_iban, customer, decision.method, now)


def _learn(
    conn: Connection, book: Book, iban: str, customer_id: int, source: str, now: datetime
) -> None:
    """Remember a payer's IBAN for the next time; a known IBAN is never re-assigned."""
    if not iban or iban in book.accounts:
        return
    stored.add_account(conn, iban, customer_id, source, now)
    book.accounts[iban] = customer_id


def _note_return(
    conn: Connection, book: Book, entry_id: int, entry: BankEntry, actor: str, now: datetime
) -> None:
    """A return naming an invoice (or repeating a booked credit's end-to-end id) is logged there."""
    invoice_ids = book.refs.find(f"{entry.remittance} {entry.end_to_end_id}")
    if entry.end_to_end_id and not invoice_ids:
        ids = stored.earlier_credits(conn, entry.end_to_end_id, entry_id)
        if ids:
            invoice_ids = stored.invoices_paid_by(conn, ids[0])
    for invoice_id in dict.fromkeys(invoice_ids):
        item = book.invoices[invoice_id]
        stored.add_event(
            conn,
            {
                "invoice_id": invoice_id,
                "customer_id": item.customer_id,
                "kind": "bank_return",
                "occurred_on": entry.booked_on,
                "recorded_at": now,
                "actor": actor,
                "message": f"Rückbuchung {entry.amount} {entry.currency} "
                f"({entry.bank_code or entry.kind}) — bank entry {entry_id} waits for a person",
                "payload": json.dumps({"bank_entry": entry_id, "amount": str(entry.amount)}),
            },
        )
