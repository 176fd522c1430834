"""Bank matching knows Skonto: a payer's credit of the amount less a tier finds its invoice."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from mahnwerk.engine.bank.entries import BankEntry
from mahnwerk.engine.bank.matching import Book, OpenItem, Payer, match

D = Decimal


def _item(n: int, amount: str, discounted: tuple[str, ...] = ()) -> OpenItem:
    return OpenItem(
        n,
        f"R{n}",
        1,
        date(2026, 4, 1),
        "EUR",
        D(amount),
        D(amount),
        D(amount),
        tuple(D(x) for x in discounted),
    )


def _credit(amount: str) -> BankEntry:
    return BankEntry(
        account="DE89370400440532013000",
        statement="1",
        booked_on=date(2026, 3, 10),
        amount=D(amount),
        currency="EUR",
        direction="C",
        kind="credit",
        remittance="Zahlung",
        counterparty_name="Muster GmbH",
        counterparty_iban="DE02100500000054540402",
    )


def _book(*items: OpenItem) -> Book:
    return Book(
        invoices={i.id: i for i in items},
        customers={1: Payer(1, "10001", "Muster GmbH")},
        accounts={"DE02100500000054540402": 1},
    )


def test_the_amount_less_skonto_pays_the_only_invoice_it_fits():
    book = _book(_item(1, "1200.00", ("1176.00", "1188.00")), _item(2, "500.00", ("490.00",)))
    decision = match(_credit("1176.00"), book)
    assert [(a.number, a.amount) for a in decision.allocations] == [("R1", D("1176.00"))]
    assert decision.method == "amount"


def test_an_exact_balance_comes_before_a_skonto_reading_and_two_fits_wait_for_a_person():
    book = _book(_item(1, "1200.00", ("1176.00",)), _item(2, "1176.00"))
    decision = match(_credit("1176.00"), book)
    assert [a.number for a in decision.allocations] == ["R2"]
    book = _book(_item(1, "1200.00", ("1176.00",)), _item(3, "1200.00", ("1176.00",)))
    decision = match(_credit("1176.00"), book)
    assert decision.allocations == () and "2 open invoices" in decision.note


def test_without_skonto_terms_the_amount_is_no_skonto_reading_but_spread_by_366():
    """Without terms, 1,176.00 is not R1 less 2 %: the known payer's credit names no invoice
    and is less than they owe, so § 366 Abs. 2 spreads it (issue 11) — both invoices fall due
    the same day, so in proportion — instead of paying R1 in full with a discount."""
    book = _book(_item(1, "1200.00"), _item(2, "500.00"))
    decision = match(_credit("1176.00"), replace(book))
    assert [(a.number, a.amount) for a in decision.allocations] == [
        ("R1", D("830.12")),
        ("R2", D("345.88")),
    ]
