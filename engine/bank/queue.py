"""The queue of bank entries waiting for a person, shared by the CLI and the TUI:
list, show, assign to invoices, dismiss, remember an account, match again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from mahnwerk.engine.bank.booking import QUEUE_STATUSES, AssignError, _book, _person, load_book
from mahnwerk.engine.bank.entries import BankEntry
from mahnwerk.engine.bank.matching import (
    Allocation,
    Book,
    Decision,
    OpenItem,
    describe,
    designated,
    match,
)
from mahnwerk.engine.store import bank as stored


def _row(r: Any, customers: dict[int, tuple[str, str]]) -> dict[str, Any]:
    customer = customers.get(r.customer_id) if r.customer_id else None
    return {
        "id": r.id,
        "booked_on": r.booked_on.isoformat(),
        "amount": str(r.amount),
        "currency": r.currency,
        "kind": r.kind,
        "status": r.status,
        "payer": r.counterparty_name or "",
        "iban": r.counterparty_iban or "",
        "remittance": r.remittance,
        "customer": customer[0] if customer else None,
        "customer_name": customer[1] if customer else None,
        "note": r.note,
        "file": r.file,
        "line": r.line,
    }


def list_queue(
    engine: Engine, *, include_review: bool = True, limit: int = 200, offset: int = 0
) -> list[dict[str, Any]]:
    """Entries waiting for a person, oldest first: unmatched credits (and returns to review)."""
    statuses = QUEUE_STATUSES if include_review else ("unmatched",)
    rows, customers = stored.queue_page(engine, statuses, limit, offset)
    return [_row(r, customers) for r in rows]


def entry(engine: Engine, entry_id: int) -> dict[str, Any]:
    """One bank entry with the payments it became (for a detail screen)."""
    found = stored.entry_detail(engine, entry_id)
    if found is None:
        raise AssignError(f"no bank entry {entry_id}: see `mahnwerk bank unmatched`")
    r, customers, payments = found
    out = _row(r, customers)
    out["matched_by"] = r.matched_by
    out["decided_by"] = r.decided_by
    out["payments"] = [
        {"invoice": p.external_id, "amount": str(p.amount), "applied": bool(p.applied)}
        for p in payments
    ]
    return out


def assign(
    engine: Engine,
    entry_id: int,
    invoices: Sequence[str],
    *,
    actor: str,
    now: datetime,
    amounts: Sequence[Decimal] | None = None,
) -> list[Allocation]:
    """Book a waiting credit to the invoices a person names (`amounts`, else § 366 BGB).

    Exactly one person can take an entry: the status changes from `unmatched` in the
    same statement that checks it, so a second, concurrent assignment fails cleanly.
    """
    if not invoices:
        raise AssignError("name at least one invoice")
    actor = _person(actor, "say who assigns it (--by NAME)")
    with engine.begin() as conn:
        r = _waiting_entry(conn, entry_id)
        book = load_book(conn)
        items = _named_items(book, invoices, r.currency)
        amount = Decimal(r.amount)
        if amounts is not None:
            allocations = _as_given(items, amounts, amount)
        else:
            allocations = designated(items, amount, r.value_date or r.booked_on)
        note = f"assigned by {actor}: " + describe(items, allocations, amount)
        taken = stored.take_waiting(
            conn,
            entry_id,
            {
                "status": "assigned",
                "matched_by": "person",
                "decided_by": actor,
                "decided_at": now,
                "note": note,
                "customer_id": allocations[0].customer_id,
            },
        )
        if not taken:
            raise AssignError(f"bank entry {entry_id} was just taken by someone else")
        decision = Decision(tuple(allocations), "person", note)
        _book(conn, book, entry_id, _entry_value(r), decision, actor, now)
    return allocations


def _waiting_entry(conn: Any, entry_id: int) -> Any:
    """The bank entry, if it is a payment still waiting for a person."""
    r = stored.entry_row(conn, entry_id)
    if r is None:
        raise AssignError(f"no bank entry {entry_id}: see `mahnwerk bank unmatched`")
    if r.status == "review":
        raise AssignError(
            f"bank entry {entry_id} is a {r.kind}, not a payment: deal with it, then "
            f"`mahnwerk bank dismiss {entry_id} --reason …`"
        )
    if r.status != "unmatched":
        raise AssignError(f"bank entry {entry_id} is already {r.status}; nothing booked")
    return r


def _named_items(book: Book, invoices: Sequence[str], currency: str) -> list[OpenItem]:
    """The invoices a person named, each known and in the payment's currency."""
    by_number = {item.number: item for item in book.invoices.values()}
    items = []
    for number in invoices:
        item = by_number.get(number)
        if item is None:
            raise AssignError(f"no invoice {number!r}: check the number")
        if item.currency != currency:
            raise AssignError(f"invoice {number} is in {item.currency}, the payment in {currency}")
        items.append(item)
    return items


def _as_given(
    items: list[OpenItem], amounts: Sequence[Decimal], amount: Decimal
) -> list[Allocation]:
    """The person's own split: one positive amount per invoice, adding up to the payment."""
    if len(amounts) != len(items):
        raise AssignError("give one amount per invoice")
    if sum(amounts, Decimal(0)) != amount or any(a <= 0 for a in amounts):
        raise AssignError(f"the amounts must be positive and add up to the payment, {amount}")
    return [
        Allocation(i.id, i.number, i.customer_id, a) for i, a in zip(items, amounts, strict=True)
    ]


def dismiss(engine: Engine, entry_id: int, *, actor: str, reason: str, now: datetime) -> None:
    """Close a queued entry that is not a customer's payment; the reason is kept."""
    if not reason.strip():
        raise AssignError("give a reason (--reason), e.g. 'refund from supplier'")
    actor = _person(actor, "say who dismisses it (--by NAME)")
    with engine.begin() as conn:
        done = stored.dismiss_waiting(
            conn, entry_id, QUEUE_STATUSES, actor, now, f" | dismissed by {actor}: {reason.strip()}"
        )
        if not done:
            exists = stored.entry_status(conn, entry_id)
            if exists is None:
                raise AssignError(f"no bank entry {entry_id}")
            raise AssignError(f"bank entry {entry_id} is {exists}, not waiting in the queue")


def remember_account(
    engine: Engine, customer: str, iban: str, *, now: datetime, source: str = "person"
) -> None:
    """Record that payments from `iban` come from `customer` (used to match by amount)."""
    iban = iban.replace(" ", "").upper()
    with engine.begin() as conn:
        cid = stored.customer_id(conn, customer)
        if cid is None:
            raise AssignError(f"no customer {customer!r}")
        old = stored.account_owner(conn, iban)
        if old is not None and old != cid:
            stored.move_account(conn, iban, cid, source, now)
        elif old is None:
            stored.add_account(conn, iban, cid, source, now)


def rematch(engine: Engine, *, now: datetime, actor: str = "bank-import") -> int:
    """Match waiting credits again (new invoices or IBANs may name them now); return how many."""
    matched = 0
    with engine.begin() as conn:
        rows = stored.unmatched(conn)
        if not rows:
            return 0
        book = load_book(conn)
        for r in rows:
            value = _entry_value(r)
            decision = match(value, book)
            if not decision.allocations:
                continue
            stored.take_waiting(
                conn,
                r.id,
                {
                    "status": "matched",
                    "matched_by": decision.method,
                    "note": decision.note,
                    "customer_id": decision.customer_id,
                },
            )
            _book(conn, book, r.id, value, decision, actor, now)
            matched += 1
    return matched


def latest_booking(engine: Engine, account: str | None = None) -> date | None:
    """The last booking day of any imported statement (of `account`, if given).

    For the payment grace of spec A9: money booked after this day cannot be known yet,
    so a run may treat a due date close to or after it as "payment possibly in transit".
    """
    return stored.latest_booking(engine, account)


def _entry_value(r: Any) -> BankEntry:
    return BankEntry(
        account=r.account,
        statement=r.statement,
        booked_on=r.booked_on if isinstance(r.booked_on, date) else date.fromisoformat(r.booked_on),
        amount=Decimal(r.amount),
        currency=r.currency,
        direction=r.direction,
        kind=r.kind,
        remittance=r.remittance or "",
        counterparty_name=r.counterparty_name or "",
        counterparty_iban=r.counterparty_iban or "",
        end_to_end_id=r.end_to_end_id or "",
        entry_ref=r.entry_ref or "",
        bank_code=r.bank_code or "",
        value_date=r.value_date,
        line=r.line or 0,
    )
