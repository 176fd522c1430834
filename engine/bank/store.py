"""Bank statements in the database: import once, book matched credits as payments, queue the rest.

`import_statement` reads a file whole (a broken file raises `StatementError` before the
database is touched), then in *one* transaction stores each entry it has not seen
(`bank_entry.entry_key` is unique: re-importing a file, or an overlapping one, books
nothing twice), matches every new credit and writes what a match means as ordinary
`payment` rows — source `bank`, invoice and customer set, `applied` false — plus a
`bank_payment` line in the event log of each invoice.  The next `mahnwerk run` applies
those payments like any other (`runner.wake_pending` / `_pending_events`); this module
never touches dunning state, so there is one payment path, not two.

Entries that are not matched wait for a person: `list_queue` shows them with the
reason, `assign` books one to invoices a person names, `dismiss` closes one that is not
a customer's payment (a refund, a return that has been dealt with).  Those three are
plain functions so the CLI and the TUI share them.  `rematch` tries the queue again, e.g.
after invoices were imported that a waiting credit names.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from mahnwerk import clock
from mahnwerk.engine import lease
from mahnwerk.engine.bank.entries import BankEntry, StatementError, read_statement
from mahnwerk.engine.bank.matching import (
    Allocation,
    Book,
    Decision,
    OpenItem,
    Payer,
    describe,
    designated,
    match,
)
from mahnwerk.engine.identity import IdentityError, person
from mahnwerk.engine.models import BANK_ACCOUNT, BANK_ENTRY, CUST, DS, EVENT, INV, PAY
from mahnwerk.engine.terms import all_terms, offers_from_json, tiers_from_json
from mahnwerk.errors import MahnwerkError

BERLIN = ZoneInfo("Europe/Berlin")
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


# ---------------------------------------------------------------------------
# Loading what the matcher needs
# ---------------------------------------------------------------------------


def load_book(conn: Connection) -> Book:
    """Every invoice with its open balance (less payments not yet applied), payers, IBANs."""
    pending = dict(
        conn.execute(
            select(PAY.c.invoice_id, func.sum(PAY.c.amount))
            .where(PAY.c.applied.is_(False), PAY.c.invoice_id.is_not(None))
            .group_by(PAY.c.invoice_id)
        ).all()
    )
    invoices: dict[int, OpenItem] = {}
    rows = conn.execute(
        select(
            INV.c.id,
            INV.c.external_id,
            INV.c.customer_id,
            INV.c.due_date,
            INV.c.currency,
            INV.c.amount,
            INV.c.issue_date,
            INV.c.skonto_terms,
            DS.c.invoice_id.label("ds"),
            DS.c.principal_open,
            DS.c.fees_open,
            DS.c.interest_open,
            DS.c.discount_offers,
        ).outerjoin(DS, DS.c.invoice_id == INV.c.id)
    )
    for r in rows:
        amount = Decimal(r.amount)
        if r.ds is not None:
            principal = Decimal(r.principal_open)
            balance = principal + Decimal(r.fees_open) + Decimal(r.interest_open)
        else:
            principal = balance = amount
        balance -= Decimal(pending.get(r.id) or 0)
        # issue 19: what pays the invoice under one of its Skonto tiers or offered discounts
        # (whether in time is the engine's decision, on the payment's date)
        terms = all_terms(
            r.issue_date,
            amount,
            balance,
            tiers_from_json(r.skonto_terms),
            offers_from_json(r.discount_offers),
        )
        invoices[r.id] = OpenItem(
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
    customers = {
        r.id: Payer(r.id, r.external_id, r.name)
        for r in conn.execute(select(CUST.c.id, CUST.c.external_id, CUST.c.name))
    }
    accounts = dict(conn.execute(select(BANK_ACCOUNT.c.iban, BANK_ACCOUNT.c.customer_id)).all())
    return Book(invoices, customers, accounts)


# ---------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------


def import_statement(
    engine: Engine,
    path: str | Path,
    *,
    now: datetime | None = None,
    actor: str = "bank-import",
    wait: float = lease.DEFAULT_WAIT,
) -> BankImportResult:
    """Import one camt.053/054 or MT940 file whole, or raise `StatementError` and write nothing.

    Written under the book lease, like every import: never beside a run."""
    now = now or clock.now()
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    entries = read_statement(path)
    name = str(path)
    counts = dict.fromkeys(("credits", "matched", "queued", "review", "other", "payments"), 0)
    booked = Decimal("0.00")
    try:
        with lease.holding(engine, f"the import of {name}", wait=wait), engine.begin() as conn:
            known = _known_keys(conn, [e.key for e in entries])
            new = [e for e in entries if e.key not in known]
            if new:
                book = load_book(conn)
                for entry in new:
                    decision = match(entry, book)
                    status = _status(entry, decision)
                    entry_id = _insert_entry(conn, entry, name, status, decision, now)
                    if entry.kind == "credit":
                        counts["credits"] += 1
                    if status == "matched":
                        counts["matched"] += 1
                        counts["payments"] += len(decision.allocations)
                        booked += entry.amount
                        _book(conn, book, entry_id, entry, decision, actor, now)
                    elif status == "unmatched":
                        counts["queued"] += 1
                    elif status == "review":
                        counts["review"] += 1
                        _note_return(conn, book, entry_id, entry, actor, now)
                    else:
                        counts["other"] += 1
            result = BankImportResult(name, len(entries), len(new), booked=booked, **counts)
            if new:
                _log_import(conn, result, actor, now)
    except IntegrityError as exc:
        raise StatementError(
            name,
            f"the database refused the import: {exc.orig}",
            "another import of the same statement may have run at the same time; run it again",
        ) from exc
    return result


def _known_keys(conn: Connection, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(keys), _CHUNK):
        chunk = keys[i : i + _CHUNK]
        found.update(
            conn.execute(
                select(BANK_ENTRY.c.entry_key).where(BANK_ENTRY.c.entry_key.in_(chunk))
            ).scalars()
        )
    return found


def _status(entry: BankEntry, decision: Decision) -> str:
    if entry.kind == "credit":
        return "matched" if decision.allocations else "unmatched"
    if entry.kind in ("return", "reversal"):
        return "review"
    return "other"


def _insert_entry(
    conn: Connection,
    entry: BankEntry,
    file: str,
    status: str,
    decision: Decision,
    now: datetime,
) -> int:
    note = decision.note
    if entry.kind == "return":
        note = (
            "returned payment or direct debit: not a payment; if it reverses money booked "
            "for an invoice, that invoice is open again — check it, then dismiss this entry"
        )
    elif entry.kind == "reversal":
        note = "the bank reversed an earlier booking: check it, then dismiss this entry"
    elif entry.kind == "debit":
        note = ""
    return conn.execute(
        insert(BANK_ENTRY).values(
            entry_key=entry.key,
            account=entry.account,
            statement=entry.statement,
            entry_ref=entry.entry_ref or None,
            booked_on=entry.booked_on,
            value_date=entry.value_date,
            amount=entry.amount,
            currency=entry.currency,
            direction=entry.direction,
            kind=entry.kind,
            counterparty_name=entry.counterparty_name or None,
            counterparty_iban=entry.counterparty_iban or None,
            end_to_end_id=entry.end_to_end_id or None,
            remittance=entry.remittance,
            bank_code=entry.bank_code or None,
            file=file,
            line=entry.line or None,
            status=status,
            matched_by=decision.method or None if status == "matched" else None,
            customer_id=decision.customer_id,
            note=note,
            imported_at=now,
        )
    ).inserted_primary_key[0]


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
        conn.execute(
            insert(PAY).values(
                external_id=f"bank:{entry_id}:{n}",
                customer_id=a.customer_id,
                invoice_id=a.invoice_id,
                booked_on=entry.booked_on,
                amount=a.amount,
                currency=entry.currency,
                reference=entry.remittance or None,
                applied=False,
                source="bank",
            )
        )
        conn.execute(
            insert(EVENT).values(
                invoice_id=a.invoice_id,
                customer_id=a.customer_id,
                kind="bank_payment",
                occurred_on=entry.booked_on,
                recorded_at=now,
                actor=actor,
                message=f"Zahlungseingang {a.amount} {entry.currency} von {who} "
                f"(bank entry {entry_id}, {decision.method}): {decision.note}",
                payload=json.dumps(
                    {
                        "bank_entry": entry_id,
                        "amount": str(a.amount),
                        "method": decision.method,
                        "remittance": entry.remittance,
                    }
                ),
            )
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
    conn.execute(
        insert(BANK_ACCOUNT).values(
            iban=iban, customer_id=customer_id, learned_from=source, created_at=now
        )
    )
    book.accounts[iban] = customer_id


def _note_return(
    conn: Connection, book: Book, entry_id: int, entry: BankEntry, actor: str, now: datetime
) -> None:
    """A return naming an invoice (or repeating a booked credit's end-to-end id) is logged there."""
    invoice_ids = book.refs.find(f"{entry.remittance} {entry.end_to_end_id}")
    if entry.end_to_end_id and not invoice_ids:
        earlier = conn.execute(
            select(BANK_ENTRY.c.id).where(
                BANK_ENTRY.c.end_to_end_id == entry.end_to_end_id,
                BANK_ENTRY.c.kind == "credit",
                BANK_ENTRY.c.id != entry_id,
            )
        ).scalars()
        ids = list(earlier)
        if ids:
            invoice_ids = list(
                conn.execute(
                    select(PAY.c.invoice_id)
                    .where(PAY.c.external_id.like(f"bank:{ids[0]}:%"))
                    .order_by(PAY.c.id)
                ).scalars()
            )
    for invoice_id in dict.fromkeys(invoice_ids):
        item = book.invoices[invoice_id]
        conn.execute(
            insert(EVENT).values(
                invoice_id=invoice_id,
                customer_id=item.customer_id,
                kind="bank_return",
                occurred_on=entry.booked_on,
                recorded_at=now,
                actor=actor,
                message=f"Rückbuchung {entry.amount} {entry.currency} "
                f"({entry.bank_code or entry.kind}) — bank entry {entry_id} waits for a person",
                payload=json.dumps({"bank_entry": entry_id, "amount": str(entry.amount)}),
            )
        )


def _log_import(conn: Connection, result: BankImportResult, actor: str, now: datetime) -> None:
    conn.execute(
        insert(EVENT).values(
            kind="bank_import",
            occurred_on=now.astimezone(BERLIN).date(),
            recorded_at=now,
            actor=actor,
            message=str(result),
            payload=json.dumps(result.as_dict()),
        )
    )


# ---------------------------------------------------------------------------
# The queue: for the CLI and the TUI
# ---------------------------------------------------------------------------


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
    with engine.connect() as conn:
        rows = conn.execute(
            select(BANK_ENTRY)
            .where(BANK_ENTRY.c.status.in_(statuses))
            .order_by(BANK_ENTRY.c.booked_on, BANK_ENTRY.c.id)
            .limit(limit)
            .offset(offset)
        ).all()
        ids = {r.customer_id for r in rows if r.customer_id}
        customers = {
            r.id: (r.external_id, r.name)
            for r in conn.execute(
                select(CUST.c.id, CUST.c.external_id, CUST.c.name).where(CUST.c.id.in_(ids))
            )
        }
    return [_row(r, customers) for r in rows]


def entry(engine: Engine, entry_id: int) -> dict[str, Any]:
    """One bank entry with the payments it became (for a detail screen)."""
    with engine.connect() as conn:
        r = conn.execute(select(BANK_ENTRY).where(BANK_ENTRY.c.id == entry_id)).first()
        if r is None:
            raise AssignError(f"no bank entry {entry_id}: see `mahnwerk bank unmatched`")
        customers = {
            c.id: (c.external_id, c.name)
            for c in conn.execute(
                select(CUST.c.id, CUST.c.external_id, CUST.c.name).where(CUST.c.id == r.customer_id)
            )
        }
        payments = conn.execute(
            select(INV.c.external_id, PAY.c.amount, PAY.c.applied)
            .join(INV, INV.c.id == PAY.c.invoice_id)
            .where(PAY.c.external_id.like(f"bank:{entry_id}:%"))
            .order_by(PAY.c.id)
        ).all()
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
        r = conn.execute(select(BANK_ENTRY).where(BANK_ENTRY.c.id == entry_id)).first()
        if r is None:
            raise AssignError(f"no bank entry {entry_id}: see `mahnwerk bank unmatched`")
        if r.status == "review":
            raise AssignError(
                f"bank entry {entry_id} is a {r.kind}, not a payment: deal with it, then "
                f"`mahnwerk bank dismiss {entry_id} --reason …`"
            )
        if r.status != "unmatched":
            raise AssignError(f"bank entry {entry_id} is already {r.status}; nothing booked")
        book = load_book(conn)
        by_number = {item.number: item for item in book.invoices.values()}
        items = []
        for number in invoices:
            item = by_number.get(number)
            if item is None:
                raise AssignError(f"no invoice {number!r}: check the number")
            if item.currency != r.currency:
                raise AssignError(
                    f"invoice {number} is in {item.currency}, the payment in {r.currency}"
                )
            items.append(item)
        amount = Decimal(r.amount)
        if amounts is not None:
            if len(amounts) != len(items):
                raise AssignError("give one amount per invoice")
            if sum(amounts, Decimal(0)) != amount or any(a <= 0 for a in amounts):
                raise AssignError(
                    f"the amounts must be positive and add up to the payment, {amount}"
                )
            allocations = [
                Allocation(i.id, i.number, i.customer_id, a)
                for i, a in zip(items, amounts, strict=True)
            ]
        else:
            when = r.value_date or r.booked_on
            allocations = designated(items, amount, when)
        note = f"assigned by {actor}: " + describe(items, allocations, amount)
        taken = conn.execute(
            update(BANK_ENTRY)
            .where(BANK_ENTRY.c.id == entry_id, BANK_ENTRY.c.status == "unmatched")
            .values(
                status="assigned",
                matched_by="person",
                decided_by=actor,
                decided_at=now,
                note=note,
                customer_id=allocations[0].customer_id,
            )
        )
        if taken.rowcount != 1:
            raise AssignError(f"bank entry {entry_id} was just taken by someone else")
        bank_entry = _entry_value(r)
        _book(
            conn,
            book,
            entry_id,
            bank_entry,
            Decision(tuple(allocations), "person", note),
            actor,
            now,
        )
    return allocations


def dismiss(engine: Engine, entry_id: int, *, actor: str, reason: str, now: datetime) -> None:
    """Close a queued entry that is not a customer's payment; the reason is kept."""
    if not reason.strip():
        raise AssignError("give a reason (--reason), e.g. 'refund from supplier'")
    actor = _person(actor, "say who dismisses it (--by NAME)")
    with engine.begin() as conn:
        done = conn.execute(
            update(BANK_ENTRY)
            .where(BANK_ENTRY.c.id == entry_id, BANK_ENTRY.c.status.in_(QUEUE_STATUSES))
            .values(
                status="dismissed",
                decided_by=actor,
                decided_at=now,
                note=BANK_ENTRY.c.note + f" | dismissed by {actor}: {reason.strip()}",
            )
        )
        if done.rowcount != 1:
            exists = conn.execute(
                select(BANK_ENTRY.c.status).where(BANK_ENTRY.c.id == entry_id)
            ).scalar()
            if exists is None:
                raise AssignError(f"no bank entry {entry_id}")
            raise AssignError(f"bank entry {entry_id} is {exists}, not waiting in the queue")


def remember_account(
    engine: Engine, customer: str, iban: str, *, now: datetime, source: str = "person"
) -> None:
    """Record that payments from `iban` come from `customer` (used to match by amount)."""
    iban = iban.replace(" ", "").upper()
    with engine.begin() as conn:
        cid = conn.execute(select(CUST.c.id).where(CUST.c.external_id == customer)).scalar()
        if cid is None:
            raise AssignError(f"no customer {customer!r}")
        old = conn.execute(
            select(BANK_ACCOUNT.c.customer_id).where(BANK_ACCOUNT.c.iban == iban)
        ).scalar()
        if old is not None and old != cid:
            conn.execute(
                update(BANK_ACCOUNT)
                .where(BANK_ACCOUNT.c.iban == iban)
                .values(customer_id=cid, learned_from=source, created_at=now)
            )
        elif old is None:
            conn.execute(
                insert(BANK_ACCOUNT).values(
                    iban=iban, customer_id=cid, learned_from=source, created_at=now
                )
            )


def rematch(engine: Engine, *, now: datetime, actor: str = "bank-import") -> int:
    """Match waiting credits again (new invoices or IBANs may name them now); return how many."""
    matched = 0
    with engine.begin() as conn:
        rows = conn.execute(
            select(BANK_ENTRY)
            .where(BANK_ENTRY.c.status == "unmatched")
            .order_by(BANK_ENTRY.c.booked_on, BANK_ENTRY.c.id)
        ).all()
        if not rows:
            return 0
        book = load_book(conn)
        for r in rows:
            value = _entry_value(r)
            decision = match(value, book)
            if not decision.allocations:
                continue
            conn.execute(
                update(BANK_ENTRY)
                .where(BANK_ENTRY.c.id == r.id, BANK_ENTRY.c.status == "unmatched")
                .values(
                    status="matched",
                    matched_by=decision.method,
                    note=decision.note,
                    customer_id=decision.customer_id,
                )
            )
            _book(conn, book, r.id, value, decision, actor, now)
            matched += 1
    return matched


def latest_booking(engine: Engine, account: str | None = None) -> date | None:
    """The last booking day of any imported statement (of `account`, if given).

    For the payment grace of spec A9: money booked after this day cannot be known yet,
    so a run may treat a due date close to or after it as "payment possibly in transit".
    """
    query = select(func.max(BANK_ENTRY.c.booked_on))
    if account:
        query = query.where(BANK_ENTRY.c.account == account)
    with engine.connect() as conn:
        return conn.execute(query).scalar()


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


__all__ = [
    "QUEUE_STATUSES",
    "AssignError",
    "BankImportResult",
    "assign",
    "dismiss",
    "entry",
    "import_statement",
    "latest_booking",
    "list_queue",
    "load_book",
    "rematch",
    "remember_account",
]
