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


def test_two_invoices_paid_at_once_each_less_its_skonto_are_both_paid():
    """Issue 20: a business pays R1 (1,200.00, 2 % Skonto 1,176.00) and R2 (500.00, 2 %
    Skonto 490.00) with one transfer of 1,666.00 and no invoice number.  Each invoice gets
    its Skonto amount, so the step settles both with Skonto; before, the matcher knew a
    Skonto amount only for one invoice alone and spread 1,666.00 in proportion (1,176.47 and
    490.00 would not have come out, leaving both invoices open)."""
    book = _book(_item(1, "1200.00", ("1176.00", "1188.00")), _item(2, "500.00", ("490.00",)))
    decision = match(_credit("1666.00"), book)
    assert [(a.number, a.amount) for a in decision.allocations] == [
        ("R1", D("1176.00")),
        ("R2", D("490.00")),
    ]
    assert (decision.method, decision.customer_id) == ("amount", 1)
    assert decision.note == (
        "payer Muster GmbH (10001, recognised by IBAN); all 2 open invoices, less Skonto: "
        "R1 1.176,00 (1.200,00 less Skonto), R2 490,00 (500,00 less Skonto)"
    )
    one = match(_credit("1690.00"), book)  # R1 in full, R2 less its Skonto
    assert [(a.number, a.amount) for a in one.allocations] == [
        ("R1", D("1200.00")),
        ("R2", D("490.00")),
    ]
    assert one.note.endswith("less Skonto: R1 1.200,00, R2 490,00 (500,00 less Skonto)")


def test_two_invoices_named_and_paid_less_skonto_get_their_own_amounts():
    """The same transfer naming both invoices: a combined payment, each less its Skonto."""
    book = _book(_item(1, "1200.00", ("1176.00",)), _item(2, "500.00", ("490.00",)))
    decision = match(replace(_credit("1666.00"), remittance="RE R1 und R2"), book)
    assert [(a.number, a.amount) for a in decision.allocations] == [
        ("R1", D("1176.00")),
        ("R2", D("490.00")),
    ]
    assert decision.method == "reference"
    assert decision.note == (
        "combined payment (2 invoices named), less Skonto: R1 1.176,00 (1.200,00 less "
        "Skonto), R2 490,00 (500,00 less Skonto)"
    )


def test_a_sum_that_two_skonto_readings_explain_is_no_skonto_reading():
    """2,376.00 is R1 less Skonto and R2 in full, or the other way round: nobody can tell
    which, so no Skonto is read into it; § 366 Abs. 2 shares it as before (same due date,
    same balance: half each)."""
    book = _book(_item(1, "1200.00", ("1176.00",)), _item(2, "1200.00", ("1176.00",)))
    decision = match(_credit("2376.00"), book)
    assert [(a.number, a.amount) for a in decision.allocations] == [
        ("R1", D("1188.00")),
        ("R2", D("1188.00")),
    ]
    assert "Skonto" not in decision.note
