"""The matching decision on plain values: which invoice a credit pays, or why it waits."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from mahnwerk.engine.bank.entries import BankEntry
from mahnwerk.engine.bank.matching import Book, OpenItem, Payer, designated, match, name_tokens

D = Decimal


def item(n: int, customer: int, balance: str, due: date = date(2026, 2, 1)) -> OpenItem:
    return OpenItem(
        n, f"R20260000{n:02d}", customer, due, "EUR", D(balance), D(balance), D(balance)
    )


def credit(amount: str, text: str = "", name: str = "", iban: str = "") -> BankEntry:
    return BankEntry(
        account="DE89370400440532013000",
        statement="1",
        booked_on=date(2026, 3, 10),
        amount=D(amount),
        currency="EUR",
        direction="C",
        kind="credit",
        remittance=text,
        counterparty_name=name,
        counterparty_iban=iban,
    )


def book() -> Book:
    return Book(
        invoices={
            41: item(41, 1, "119.00"),
            42: item(42, 2, "80.00"),
            43: item(43, 2, "20.00", date(2026, 1, 15)),
            44: item(44, 3, "45.00"),
            45: item(45, 3, "45.00"),
        },
        customers={
            1: Payer(1, "K1", "Hans Müller"),
            2: Payer(2, "K2", "Weber Logistik GmbH & Co. KG"),
            3: Payer(3, "K3", "Dieter Braun"),
        },
        accounts={"DE02100500000054540402": 3},
    )


def test_named_invoice_is_paid_even_in_part() -> None:
    decision = match(credit("50.00", "RE R2026000041", "MUELLER, HANS"), book())
    assert [(a.number, a.amount) for a in decision.allocations] == [("R2026000041", D("50.00"))]
    assert decision.method == "reference"
    assert "partial payment: 50,00 of 119,00" in decision.note


def test_combined_payment_pays_the_older_due_date_first() -> None:
    decision = match(credit("30.00", "R2026000042 R2026000043"), book())
    assert [(a.number, a.amount) for a in decision.allocations] == [
        ("R2026000043", D("20.00")),
        ("R2026000042", D("10.00")),
    ]


def test_overpayment_stays_on_the_last_named_invoice() -> None:
    older = item(1, 1, "10.00", date(2026, 1, 15))
    allocations = designated([item(2, 1, "5.00"), older], D("20.00"), date(2026, 3, 10))
    assert [(a.number, a.amount) for a in allocations] == [
        ("R2026000001", D("10.00")),
        ("R2026000002", D("10.00")),
    ]


def test_a_credit_naming_two_invoices_of_one_day_pays_each_its_share() -> None:
    # § 366 Abs. 2 BGB: 200.00 for "R2026000051 R2026000052", issued and due together over
    # 300.00 and 100.00: neither is older, so each gets its proportion, 150.00 and 50.00.
    # (Before, the lower number took all 200.00 and the other invoice got nothing.)
    two = Book(
        invoices={51: item(51, 5, "300.00"), 52: item(52, 5, "100.00")},
        customers={5: Payer(5, "K5", "Klara Fischer")},
    )
    decision = match(credit("200.00", "R2026000051 R2026000052", "Klara Fischer"), two)
    assert [(a.number, a.amount) for a in decision.allocations] == [
        ("R2026000051", D("150.00")),
        ("R2026000052", D("50.00")),
    ]
    assert decision.method == "reference"
    assert "combined payment (2 invoices named)" in decision.note


def test_a_credit_naming_no_invoice_pays_the_payers_due_invoices_first_then_the_older() -> None:
    # Known account of Otto Lang, three open invoices, 100.00 without a number and fitting
    # none: the law decides (§ 366 Abs. 2 BGB).  R…61 (due 10 Jan) is paid in full, R…62
    # (due 1 Feb) gets the rest, R…63 is not due on the day of the credit and gets nothing.
    three = Book(
        invoices={
            63: item(63, 6, "200.00", date(2026, 4, 1)),
            62: item(62, 6, "50.00", date(2026, 2, 1)),
            61: item(61, 6, "80.00", date(2026, 1, 10)),
        },
        customers={6: Payer(6, "K6", "Otto Lang")},
        accounts={"DE44500105175407324931": 6},
    )
    decision = match(credit("100.00", "Abschlag", "O. Lang", "DE44500105175407324931"), three)
    assert [(a.number, a.amount) for a in decision.allocations] == [
        ("R2026000061", D("80.00")),
        ("R2026000062", D("20.00")),
    ]
    assert decision.method == "amount" and decision.customer_id == 6
    assert "§ 366 Abs. 2 BGB" in decision.note
    assert "R2026000061 80,00, R2026000062 20,00" in decision.note


def test_a_credit_above_everything_the_payer_owes_still_waits_for_a_person() -> None:
    decision = match(credit("200.00", "", "", "DE02100500000054540402"), book())
    assert not decision.allocations
    assert "no open invoice fits 200,00" in decision.note


def test_the_invoice_due_first_is_paid_first_even_when_named_last() -> None:
    today = item(71, 7, "30.00", date(2026, 3, 10))
    later = item(72, 7, "30.00", date(2026, 3, 11))
    allocations = designated([later, today], D("40.00"), date(2026, 3, 10))
    assert [(a.number, a.amount) for a in allocations] == [
        ("R2026000071", D("30.00")),
        ("R2026000072", D("10.00")),
    ]


def test_typo_naming_another_customers_invoice_is_doubted() -> None:
    # Dieter Braun (known IBAN) writes ...41 (Hans Müller's) for 45.00: not Müller's money.
    decision = match(
        credit("45.00", "RE R2026000041", "Dieter Braun", "DE02100500000054540402"), book()
    )
    assert not decision.allocations
    assert "fits none of them" in decision.note
    assert decision.customer_id == 3


def test_typo_of_the_payers_own_invoice_is_corrected() -> None:
    # Weber Logistik writes ...24 for its own ...42 and pays exactly its balance.
    decision = match(credit("80.00", "Rechnung R2026000024", "WEBER LOGISTIK GMBH"), book())
    assert [a.number for a in decision.allocations] == ["R2026000042"]
    assert decision.method == "reference_near"


def test_payer_and_amount_without_a_number() -> None:
    decision = match(credit("20.00", "Danke", "Weber Logistik GmbH & Co. KG"), book())
    assert [a.number for a in decision.allocations] == ["R2026000043"]
    assert decision.method == "amount"


def test_two_invoices_with_the_same_amount_wait_for_a_person() -> None:
    decision = match(credit("45.00", "Danke", "", "DE02100500000054540402"), book())
    assert not decision.allocations
    assert "2 open invoices of exactly 45,00" in decision.note


def test_the_total_of_all_open_invoices_pays_them_all() -> None:
    decision = match(credit("90.00", "", "Dieter Braun"), book())
    assert sorted(a.number for a in decision.allocations) == ["R2026000044", "R2026000045"]


def test_returns_are_never_matched() -> None:
    returned = replace(credit("119.00", "R2026000041"), kind="return")
    assert not match(returned, book()).allocations


def test_name_tokens_ignore_legal_forms_order_and_umlauts() -> None:
    assert name_tokens("MUELLER, HANS") == name_tokens("Hans Müller")
    assert name_tokens("Weber Logistik GmbH & Co. KG") == {"WEBER", "LOGISTIK"}


# ---------------------------------------------------------------------------
# Issue 20: mutations of the matcher that the tests above let through
# ---------------------------------------------------------------------------


def test_known_payer_casts_doubt_on_another_customers_invoice_number() -> None:
    # 45.00 from Dieter Braun's known account, no name given by the bank, naming Hans
    # Müller's R2026000041 (119.00): not Müller's money, whatever the text says.
    decision = match(credit("45.00", "RE R2026000041", iban="DE02100500000054540402"), book())
    assert not decision.allocations
    assert decision.customer_id == 3


def test_known_account_does_not_pay_another_customers_invoice_even_at_its_amount() -> None:
    # The amount is exactly Müller's invoice, but the money comes from Braun's account.
    decision = match(credit("119.00", "R2026000041", iban="DE02100500000054540402"), book())
    assert not decision.allocations
    assert "known account" in decision.note


def test_overpayment_is_not_taken_by_the_payers_only_open_invoice() -> None:
    # Hans Müller (by name) has one open invoice of 119.00 and pays 150.00 without a number:
    # which invoice the extra 31.00 is for, or whether it is a mistake, a person decides.
    decision = match(credit("150.00", "", "MUELLER, HANS"), book())
    assert not decision.allocations
    assert decision.customer_id == 1
    assert "no open invoice fits 150,00" in decision.note


def test_underpayment_is_taken_by_the_payers_only_open_invoice() -> None:
    decision = match(credit("100.00", "", "MUELLER, HANS"), book())
    assert [(a.number, a.amount) for a in decision.allocations] == [("R2026000041", D("100.00"))]


_amounts = st.decimals(min_value=D("0.01"), max_value=D("300.00"), places=2)


@st.composite
def _books_and_credits(draw: st.DrawFn) -> tuple[Book, BankEntry, int]:
    """A book of 2–4 customers, each with a known account and 1–4 invoices, and a credit
    from one of those accounts naming (or not) any invoices, at any amount — often exactly
    another customer's invoice, under any payer name."""
    n_customers = draw(st.integers(2, 4))
    invoices: dict[int, OpenItem] = {}
    n = 10
    for customer in range(1, n_customers + 1):
        for _ in range(draw(st.integers(1, 4))):
            invoices[n] = item(n, customer, str(draw(_amounts)))
            n += 1
    customers = {
        c: Payer(c, f"K{c:04d}", name)
        for c, name in zip(
            range(1, n_customers + 1),
            ["Hans Müller", "Erika Muster", "Weber Logistik GmbH", "Dieter Braun"],
            strict=False,
        )
    }
    accounts = {f"DE{c:02d}100500000054540402": c for c in customers}
    payer = draw(st.sampled_from(sorted(customers)))
    named = draw(st.lists(st.sampled_from(sorted(invoices)), max_size=3))
    amount = draw(
        st.one_of(_amounts, st.sampled_from([invoices[i].balance for i in sorted(invoices)]))
    )
    text = " ".join(invoices[i].number for i in named)
    if draw(st.booleans()) and text:  # a typo in the last digit
        text = text[:-1] + str((int(text[-1]) + 1) % 10)
    name = draw(st.sampled_from(["", *(c.name for c in customers.values()), "Fremde Person"]))
    entry = credit(str(amount), text, name, f"DE{payer:02d}100500000054540402")
    return Book(invoices, customers, accounts), entry, payer


@settings(max_examples=300, deadline=None)
@given(_books_and_credits())
def test_known_payers_credit_never_books_to_another_customers_invoice(
    case: tuple[Book, BankEntry, int],
) -> None:
    book_, entry, payer = case
    decision = match(entry, book_)
    assert all(a.customer_id == payer for a in decision.allocations), decision.note
