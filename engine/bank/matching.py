"""Which invoices a bank credit pays, and how much each — a pure decision, no database.

The order is the order a bookkeeper works in:

1. **Reference.**  Invoice numbers found in the remittance text (and end-to-end id) are
   the debtor's own designation (§ 366 Abs. 1 BGB): the money goes to those invoices.
   Several numbers are a combined payment; when it does not cover them all, the debtor
   said which debts but not in which order, so the law's order applies among them
   (§ 366 Abs. 2, `allocation.allocate_366`): the ones due on the day of the credit
   first, then the older, and invoices that tie share the money in proportion to what
   each owes.  An excess stays on the one paid last (the engine turns it into the
   customer's credit) and is noted.  Because
   invoice numbers are dense, a number is doubted when the amount fits none of the named
   invoices and the payer is evidently somebody else (`_plausible`): one wrong digit
   names another customer's real invoice.  Money from an account known to belong to one
   customer never pays another customer's invoice without a person.
2. **Payer and amount.**  Without a number, the payer is recognised by a known IBAN, by
   name, or by a customer number in the text; then a *unique* open invoice of that payer
   whose balance (or principal, or the amount less one of its Skonto tiers or offered
   discounts) is exactly the amount is paid (paying exactly one invoice's amount designates
   it); the total of all the payer's open invoices pays all of them; less than that total,
   fitting no single invoice, is a payment without designation and pays the payer's
   invoices in the order of § 366 Abs. 2 BGB, as above.  A number one typo away from an
   invoice counts when payer or amount confirm it.
3. **A person.**  Everything else — unknown payer, two invoices with the same amount,
   more than the payer owes, a doubted number — is not guessed at: it waits in the queue
   with the reason, and with the payer when one was recognised.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from itertools import product
from math import prod

from mahnwerk.engine.allocation import Balance, OpenClaim, allocate_366, order_366
from mahnwerk.engine.bank.entries import BankEntry
from mahnwerk.engine.bank.entries import money_text as _money
from mahnwerk.engine.bank.references import ReferenceIndex, compact

ZERO = Decimal("0.00")
#: Ways to read one payment as several invoices, each in full or less a Skonto, tried at most
#: (two tiers on each of seven invoices); beyond that a person reads it.
MAX_READINGS = 3**7


@dataclass(frozen=True, slots=True)
class OpenItem:
    """An invoice as the matcher sees it; `balance` already counts unapplied payments."""

    id: int
    number: str
    customer_id: int
    due_date: date
    currency: str
    balance: Decimal
    principal: Decimal
    amount: Decimal
    #: issue 19: the amounts that pay it under a Skonto tier or an offered discount
    discounted: tuple[Decimal, ...] = ()


@dataclass(frozen=True, slots=True)
class Payer:
    id: int
    number: str
    name: str


@dataclass(frozen=True, slots=True)
class Allocation:
    invoice_id: int
    number: str
    customer_id: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Decision:
    """`allocations` empty: the entry goes to the queue, `note` says why."""

    allocations: tuple[Allocation, ...] = ()
    method: str = ""
    note: str = ""
    customer_id: int | None = None


_LEGAL = frozenset(
    "GMBH AG KG OHG UG MBH CO EK EV GBR SE KGAA INH FA FIRMA HERR FRAU HR FR DR PROF UND "
    "HAFTUNGSBESCHRAENKT LTD BV NV SARL SA".split()
)
_UMLAUTS = str.maketrans(
    {"Ä": "AE", "Ö": "OE", "Ü": "UE", "ß": "SS", "ä": "AE", "ö": "OE", "ü": "UE"}
)


def name_tokens(name: str) -> frozenset[str]:
    """`Müller, Hans` and `HANS MUELLER` → {HANS, MUELLER}; legal forms and titles dropped."""
    words = re.findall(r"[A-Z0-9]+", name.translate(_UMLAUTS).upper())
    return frozenset(w for w in words if len(w) >= 2 and w not in _LEGAL)


@dataclass
class Book:
    """The open items and payers an import matches against, updated as it books."""

    invoices: dict[int, OpenItem]
    customers: dict[int, Payer]
    accounts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.refs = ReferenceIndex((i.number, i.id) for i in self.invoices.values())
        self.customer_refs = ReferenceIndex(
            (c.number, c.id) for c in self.customers.values() if len(compact(c.number)) >= 4
        )
        self.by_customer: dict[int, list[int]] = defaultdict(list)
        for item in sorted(self.invoices.values(), key=lambda i: (i.due_date, i.id)):
            self.by_customer[item.customer_id].append(item.id)
        self.names: dict[frozenset[str], set[int]] = defaultdict(set)
        self.name_words: dict[str, set[int]] = defaultdict(set)
        self.tokens: dict[int, frozenset[str]] = {}
        for c in self.customers.values():
            tokens = name_tokens(c.name)
            if tokens:
                self.tokens[c.id] = tokens
                self.names[tokens].add(c.id)
                for word in tokens:
                    self.name_words[word].add(c.id)

    def book(self, allocations: Iterable[Allocation]) -> None:
        """Lower balances by what was just booked, so the next entry sees it."""
        for a in allocations:
            item = self.invoices[a.invoice_id]
            self.invoices[a.invoice_id] = replace(item, balance=item.balance - a.amount)

    def same_person(self, name: str, customer_id: int) -> bool:
        """Does a bank's payer name share a word with the customer's name?"""
        return bool(name_tokens(name) & self.tokens.get(customer_id, frozenset()))

    def someone_else(self, name: str, customer_id: int) -> bool:
        """Is a bank's payer name evidently not the customer's: both have words, none shared?

        A name of legal forms and titles only ("AG", "Herr Dr.") says nothing about who
        paid, and neither does a customer's name without a word of its own.
        """
        words, theirs = name_tokens(name), self.tokens.get(customer_id, frozenset())
        return bool(words and theirs) and not words & theirs

    def payer_by_name(self, name: str) -> int | None:
        tokens = name_tokens(name)
        if not tokens:
            return None
        exact = self.names.get(tokens, set())
        if len(exact) == 1:
            return next(iter(exact))
        if exact:
            return None
        # The bank's name holds the customer's whole name and more ("… GmbH & Co. KG").
        rarest = min(tokens, key=lambda w: len(self.name_words.get(w, ())))
        found = {
            cid
            for cid in self.name_words.get(rarest, ())
            if len(self.tokens[cid]) >= 2 and self.tokens[cid] <= tokens
        }
        return next(iter(found)) if len(found) == 1 else None


def designated(items: Sequence[OpenItem], amount: Decimal, paid_on: date) -> list[Allocation]:
    """§ 366 BGB: `amount` over `items`, in the order the law pays them.

    The items are the debts the debtor named (§ 366 Abs. 1), or all their open invoices when
    they named none (Abs. 2); either way the money the items cannot all take is shared by
    `allocation.allocate_366`: due on `paid_on` first, then the older due date, ties in
    proportion to what each owes.  We know nothing of security or burden (every invoice
    bears the same statutory rate), so those tie.  Each share is later split by § 367
    (costs, interest, principal) by the engine's step.  An excess over everything open
    stays on the invoice paid last, where the engine turns it into the customer's credit.
    """
    claims = [
        OpenClaim(str(i.id), i.due_date, Balance(principal=max(i.balance, ZERO))) for i in items
    ]
    split = allocate_366(amount, claims, paid_on)
    by_id = {str(i.id): i for i in items}
    ranked = [by_id[c.id] for c in order_366(claims, paid_on)]
    shares = {claim_id: a.paid.total for claim_id, a in split.allocations}
    if split.excess > 0:
        shares[str(ranked[-1].id)] += split.excess
    return [
        Allocation(i.id, i.number, i.customer_id, shares[str(i.id)])
        for i in ranked
        if shares[str(i.id)] > 0
    ]


def less_skonto(items: Sequence[OpenItem], amount: Decimal) -> list[Allocation] | None:
    """Issue 20: `amount` pays each of `items`, one or more less a Skonto tier or offered
    discount ("Sammelüberweisung abzüglich Skonto") — if exactly one reading adds up to it.

    Each invoice gets its own amount, so the engine's step sees each invoice's Skonto
    payment (and decides on the payment's date whether it was in time).  Two readings that
    add up alike (A less Skonto and B in full, or the other way round) are no reading.
    """
    full = tuple(max(i.balance, ZERO) for i in items)
    choices = [(paid, *i.discounted) for paid, i in zip(full, items, strict=True)]
    if len(items) < 2 or prod(len(c) for c in choices) > MAX_READINGS:
        return None
    readings = {pick for pick in product(*choices) if sum(pick) == amount and pick != full}
    if len(readings) != 1:
        return None
    (pick,) = readings
    return [
        Allocation(i.id, i.number, i.customer_id, paid) for i, paid in zip(items, pick, strict=True)
    ]


def _listing(items: Sequence[OpenItem], allocations: Sequence[Allocation]) -> str:
    """`R1 1.176,00 (1.200,00 less Skonto), R2 500,00`: what a person reads in the log."""
    open_ = {i.id: max(i.balance, ZERO) for i in items}
    return ", ".join(
        f"{a.number} {_money(a.amount)}"
        + (
            f" ({_money(open_[a.invoice_id])} less Skonto)"
            if a.amount != open_[a.invoice_id]
            else ""
        )
        for a in allocations
    )


def describe(items: Sequence[OpenItem], allocations: Sequence[Allocation], amount: Decimal) -> str:
    """Exact, less Skonto, partial payment or overpayment: what a person reads in the log.

    An amount that is one invoice's Skonto amount says so: called a partial payment, it had
    a person look for a residual the step then cleared (whether the Skonto was earned in
    time is the step's to decide, and its note says)."""
    open_total = sum((max(i.balance, ZERO) for i in items), ZERO)
    names = ", ".join(i.number for i in items)
    if amount == open_total:
        return f"pays {names} in full"
    if len(items) == 1 and amount in items[0].discounted:
        return f"pays {names} less Skonto: {_money(amount)} of {_money(open_total)} open"
    if amount < open_total:
        return f"partial payment: {_money(amount)} of {_money(open_total)} open on {names}"
    excess = amount - open_total
    last = allocations[-1].number if allocations else names
    return (
        f"overpayment: {_money(excess)} more than the {_money(open_total)} open on {names}; "
        f"booked to {last}, where it becomes the customer's credit"
    )


def match(entry: BankEntry, book: Book) -> Decision:
    """Decide for one credit entry; debits, returns and reversals are never payments."""
    if entry.kind != "credit":
        return Decision(note=f"{entry.kind}: not a payment")
    text = f"{entry.remittance} {entry.end_to_end_id}"
    named = [book.invoices[i] for i in book.refs.find(text)]
    same = [i for i in named if i.currency == entry.currency]
    payer, how = _payer(entry, book)
    if same and _plausible(same, entry, payer, how, book):
        return _designation(entry, same)
    if named and not same:
        return Decision(
            note=f"names {', '.join(i.number for i in named)}, but in another currency "
            f"({named[0].currency}, paid in {entry.currency})"
        )
    # No number, or one that fits neither payer nor amount: a typo of a number that does?
    near = [
        book.invoices[i]
        for i in book.refs.near_candidates(text)
        if book.invoices[i].currency == entry.currency and book.invoices[i] not in same
    ]
    confirmed = [
        i for i in near if i.customer_id == payer or (how != "IBAN" and _fits(i, entry.amount))
    ]
    if len(confirmed) == 1:
        item = confirmed[0]
        allocations = designated([item], entry.amount, paid_on(entry))
        why = "payer" if item.customer_id == payer else "amount"
        return Decision(
            tuple(allocations),
            "reference_near",
            f"number in the text is one typo away from {item.number}, confirmed by the {why}; "
            + describe([item], allocations, entry.amount),
            item.customer_id,
        )
    if same:
        owners = ", ".join(f"{i.number} of {book.customers[i.customer_id].name}" for i in same[:3])
        paid_by = entry.counterparty_name or "an unknown payer"
        if payer is not None:
            who = book.customers[payer]
            paid_by = f"{who.name} ({who.number}, recognised by {how})"
        why = (
            "from that customer's known account: another customer's invoice is paid only "
            "when a person says so"
            if how == "IBAN" and any(_fits(i, entry.amount) for i in same)
            else "which fits none of them: a typo? a person decides"
        )
        return Decision(
            note=f"names {owners}, but {paid_by} paid {_money(entry.amount)}, {why}",
            customer_id=payer,
        )
    if payer is None:
        who = entry.counterparty_name or "no name"
        iban = f", IBAN {entry.counterparty_iban}" if entry.counterparty_iban else ""
        return Decision(note=f"no invoice number in the text and payer unknown ({who}{iban})")
    return _by_amount(entry, book, payer, how)


def _is(value: Decimal | tuple[Decimal, ...], amount: Decimal) -> bool:
    """`value` is the amount, or (the Skonto amounts of an invoice) holds it."""
    return amount in value if isinstance(value, tuple) else value == amount


def _fits(item: OpenItem, amount: Decimal) -> bool:
    return amount in (item.balance, item.principal, item.amount, *item.discounted)


def _plausible(
    items: Sequence[OpenItem], entry: BankEntry, payer: int | None, how: str, book: Book
) -> bool:
    """A named invoice is taken at its word unless the payment speaks against it.

    Money from an account known to be one customer's (`how == "IBAN"`) is that customer's
    money: it never pays another customer's invoice on its own, however well the amount
    fits — a parent paying a child's bill, or a typo that hits a real number, is for a
    person to confirm.

    Invoice numbers are dense (R2026000042, …043): one wrong digit names a real invoice of
    somebody else.  So a number is doubted when the amount fits neither one named invoice
    nor their total *and* the payer is another customer — known as such, or by a name
    that shares nothing with the named invoices' customers.  A payer without a name (or
    with legal forms only, "AG"), or the customer paying part of an invoice, is not doubted.
    """
    if how == "IBAN" and any(i.customer_id != payer for i in items):
        return False
    amount = entry.amount
    total = sum((max(i.balance, ZERO) for i in items), ZERO)
    if amount == total or any(_fits(i, amount) for i in items):
        return True
    if payer is not None:
        return any(i.customer_id == payer for i in items)
    return not all(book.someone_else(entry.counterparty_name, i.customer_id) for i in items)


def paid_on(entry: BankEntry) -> date:
    """The day the money was credited: what "due" is judged by (§ 366 Abs. 2)."""
    return entry.value_date or entry.booked_on


def _designation(entry: BankEntry, items: list[OpenItem]) -> Decision:
    skonto = less_skonto(items, entry.amount)
    if skonto is not None:
        allocations = skonto
        note = f"combined payment ({len(items)} invoices named), less Skonto: "
        note += _listing(items, skonto)
    else:
        allocations = designated(items, entry.amount, paid_on(entry))
        note = describe(items, allocations, entry.amount)
        if len(items) > 1:
            note = f"combined payment ({len(items)} invoices named): {note}"
    customers = {i.customer_id for i in items}
    return Decision(
        tuple(allocations), "reference", note, customers.pop() if len(customers) == 1 else None
    )


def _payer(entry: BankEntry, book: Book) -> tuple[int | None, str]:
    if entry.counterparty_iban and entry.counterparty_iban in book.accounts:
        return book.accounts[entry.counterparty_iban], "IBAN"
    if entry.counterparty_name and (cid := book.payer_by_name(entry.counterparty_name)):
        return cid, "name"
    found = book.customer_refs.find(entry.remittance)
    if len(found) == 1:
        return found[0], "customer number in the text"
    return None, ""


def _by_amount(entry: BankEntry, book: Book, payer: int, how: str) -> Decision:
    who = book.customers[payer]
    label = f"{who.name} ({who.number}, recognised by {how})"
    items = [
        book.invoices[i]
        for i in book.by_customer.get(payer, ())
        if book.invoices[i].balance > 0 and book.invoices[i].currency == entry.currency
    ]
    exact = _exactly(entry, items, payer, label)
    return exact if exact is not None else _by_sum(entry, items, payer, label)


def _exactly(entry: BankEntry, items: list[OpenItem], payer: int, label: str) -> Decision | None:
    """The one open invoice of exactly the amount (balance, principal, amount, less Skonto).

    Several of the same amount: a person decides.  None: no invoice of that amount.
    """
    amount = entry.amount
    for field_ in ("balance", "principal", "amount", "discounted"):
        exact = [i for i in items if _is(getattr(i, field_), amount)]
        if len(exact) == 1:
            allocations = designated(exact, amount, paid_on(entry))
            return Decision(
                tuple(allocations),
                "amount",
                f"payer {label}; the only open invoice of exactly {_money(amount)}: "
                + describe(exact, allocations, amount),
                payer,
            )
        if len(exact) > 1:
            return Decision(
                note=f"payer {label}; {len(exact)} open invoices of exactly {_money(amount)} "
                f"({', '.join(i.number for i in exact)}): which one is for a person to say",
                customer_id=payer,
            )
    return None


def _by_sum(entry: BankEntry, items: list[OpenItem], payer: int, label: str) -> Decision:
    """All open invoices (less Skonto, or their total), the only one in part, or § 366."""
    amount = entry.amount
    skonto = less_skonto(items, amount)
    if skonto is not None:
        return Decision(
            tuple(skonto),
            "amount",
            f"payer {label}; all {len(items)} open invoices, less Skonto: "
            + _listing(items, skonto),
            payer,
        )
    total = sum((i.balance for i in items), ZERO)
    if len(items) > 1 and amount == total:
        allocations = designated(items, amount, paid_on(entry))
        return Decision(
            tuple(allocations),
            "amount",
            f"payer {label}; the amount is the total of all {len(items)} open invoices",
            payer,
        )
    if len(items) == 1 and amount < items[0].balance:
        allocations = designated(items, amount, paid_on(entry))
        return Decision(
            tuple(allocations),
            "amount",
            f"payer {label}; their only open invoice: " + describe(items, allocations, amount),
            payer,
        )
    if len(items) > 1 and amount < total:
        allocations = designated(items, amount, paid_on(entry))
        return Decision(
            tuple(allocations),
            "amount",
            f"payer {label}; no invoice named and none of exactly {_money(amount)}: shared by "
            f"§ 366 Abs. 2 BGB (due first, then older, ties in proportion): "
            + ", ".join(f"{a.number} {_money(a.amount)}" for a in allocations),
            payer,
        )
    listing = ", ".join(f"{i.number} {_money(i.balance)}" for i in items[:5]) or "none"
    return Decision(
        note=f"payer {label}; no open invoice fits {_money(amount)} (open: {listing})",
        customer_id=payer,
    )


__all__ = [
    "Allocation",
    "Book",
    "Decision",
    "OpenItem",
    "Payer",
    "designated",
    "less_skonto",
    "match",
    "paid_on",
    "name_tokens",
]
