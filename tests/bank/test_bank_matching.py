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


# ---------------------------------------------------------------------------
# What a bookkeeper reads in the queue and the log: each decision's note in full (issue 20)
# ---------------------------------------------------------------------------

BRAUN_IBAN = "DE02100500000054540402"


def test_debits_returns_and_reversals_say_they_are_no_payment() -> None:
    for kind in ("debit", "return", "reversal"):
        decision = match(replace(credit("119.00", "R2026000041"), kind=kind), book())
        assert decision == type(decision)(note=f"{kind}: not a payment")


def test_a_named_invoice_paid_in_full_or_overpaid_says_so() -> None:
    full = match(credit("119.00", "RE R2026000041", "Hans Müller"), book())
    assert (full.method, full.note, full.customer_id) == (
        "reference", "pays R2026000041 in full", 1
    )
    over = match(credit("150.00", "RE R2026000041", "Hans Müller"), book())
    assert [(a.number, a.amount) for a in over.allocations] == [("R2026000041", D("150.00"))]
    assert over.note == (
        "overpayment: 31,00 more than the 119,00 open on R2026000041; booked to R2026000041, "
        "where it becomes the customer's credit"
    )


def test_a_combined_payment_of_two_customers_invoices_has_no_single_customer() -> None:
    decision = match(credit("139.00", "R2026000041 R2026000043"), book())
    assert [(a.number, a.amount) for a in decision.allocations] == [
        ("R2026000043", D("20.00")),
        ("R2026000041", D("119.00")),
    ]
    assert decision.customer_id is None
    assert decision.note == (
        "combined payment (2 invoices named): pays R2026000041, R2026000043 in full"
    )


def test_an_invoice_in_another_currency_is_not_paid_in_euro() -> None:
    chf = Book(invoices={46: replace(item(46, 1, "100.00"), currency="CHF")},
               customers={1: Payer(1, "K1", "Hans Müller")})
    decision = match(credit("100.00", "R2026000046", "Hans Müller"), chf)
    assert not decision.allocations
    assert decision.note == "names R2026000046, but in another currency (CHF, paid in EUR)"


def test_a_typo_confirmed_by_the_amount_alone_names_both() -> None:
    """An unknown payer writes …14 for R2026000041 and pays exactly its 119.00."""
    decision = match(credit("119.00", "R2026000014", "Fremde Person"), book())
    assert [(a.number, a.amount) for a in decision.allocations] == [("R2026000041", D("119.00"))]
    assert (decision.method, decision.customer_id) == ("reference_near", 1)
    assert decision.note == (
        "number in the text is one typo away from R2026000041, confirmed by the amount; "
        "pays R2026000041 in full"
    )


def test_a_typo_is_confirmed_by_the_payer_even_at_another_amount() -> None:
    decision = match(credit("50.00", "Rechnung R2026000014", "Hans Müller"), book())
    assert [(a.number, a.amount) for a in decision.allocations] == [("R2026000041", D("50.00"))]
    assert decision.note == (
        "number in the text is one typo away from R2026000041, confirmed by the payer; "
        "partial payment: 50,00 of 119,00 open on R2026000041"
    )


def test_a_known_account_does_not_confirm_another_customers_typo_by_its_amount() -> None:
    """Braun's known account writes R2026100041 (one digit off Müller's R2026000041) and
    pays 119.00, Müller's amount: not confirmed."""
    decision = match(credit("119.00", "R2026100041", "", BRAUN_IBAN), book())
    assert not decision.allocations and decision.customer_id == 3
    assert decision.note == (
        "payer Dieter Braun (K3, recognised by IBAN); no open invoice fits 119,00 "
        "(open: R2026000044 45,00, R2026000045 45,00)"
    )


def test_a_doubted_number_says_who_paid_what_and_why_a_person_decides() -> None:
    decision = match(credit("45.00", "RE R2026000041", "Dieter Braun", BRAUN_IBAN), book())
    assert decision.note == (
        "names R2026000041 of Hans Müller, but Dieter Braun (K3, recognised by IBAN) paid "
        "45,00, which fits none of them: a typo? a person decides"
    )
    at_its_amount = match(credit("119.00", "RE R2026000041", "", BRAUN_IBAN), book())
    assert at_its_amount.note == (
        "names R2026000041 of Hans Müller, but Dieter Braun (K3, recognised by IBAN) paid "
        "119,00, from that customer's known account: another customer's invoice is paid only "
        "when a person says so"
    )
    stranger = match(credit("45.00", "RE R2026000041", "Fremde Person"), book())
    assert not stranger.allocations and stranger.customer_id is None
    assert stranger.note == (
        "names R2026000041 of Hans Müller, but Fremde Person paid 45,00, which fits none of "
        "them: a typo? a person decides"
    )


def test_a_named_invoice_is_believed_when_nothing_speaks_against_it() -> None:
    """Part of an invoice paid by its own customer, by a payer without a name, or by a name
    sharing a word with the customer's: paid as named."""
    for name in ("Hans Müller", "", "H. Müller"):
        decision = match(credit("45.00", "RE R2026000041", name), book())
        assert [a.number for a in decision.allocations] == ["R2026000041"], name
    # the total of several named invoices is believed too, from any payer
    total = match(credit("100.00", "R2026000042 R2026000043", "Fremde Person"), book())
    assert [a.amount for a in total.allocations] == [D("20.00"), D("80.00")]


def test_an_unknown_payer_without_a_number_waits_with_name_and_iban() -> None:
    decision = match(credit("10.00", "Danke", "Fremde Person", "DE75512108001245126199"), book())
    assert decision.note == (
        "no invoice number in the text and payer unknown (Fremde Person, IBAN "
        "DE75512108001245126199)"
    )
    anonymous = match(credit("10.00", "Danke"), book())
    assert anonymous.note == "no invoice number in the text and payer unknown (no name)"


def test_payment_by_amount_names_payer_and_how_it_was_recognised() -> None:
    exact = match(credit("119.00", "Danke", "MUELLER, HANS"), book())
    assert (exact.method, exact.customer_id) == ("amount", 1)
    assert exact.note == (
        "payer Hans Müller (K1, recognised by name); the only open invoice of exactly "
        "119,00: pays R2026000041 in full"
    )
    two = match(credit("45.00", "Danke", "", BRAUN_IBAN), book())
    assert two.note == (
        "payer Dieter Braun (K3, recognised by IBAN); 2 open invoices of exactly 45,00 "
        "(R2026000044, R2026000045): which one is for a person to say"
    )
    assert two.customer_id == 3
    both = match(credit("90.00", "", "Dieter Braun"), book())
    assert both.note == (
        "payer Dieter Braun (K3, recognised by name); the amount is the total of all 2 open "
        "invoices"
    )
    only = match(credit("100.00", "", "MUELLER, HANS"), book())
    assert only.note == (
        "payer Hans Müller (K1, recognised by name); their only open invoice: partial "
        "payment: 100,00 of 119,00 open on R2026000041"
    )
    shared = match(credit("50.00", "Danke", "Weber Logistik GmbH"), book())
    assert shared.note == (
        "payer Weber Logistik GmbH & Co. KG (K2, recognised by name); no invoice named and "
        "none of exactly 50,00: shared by § 366 Abs. 2 BGB (due first, then older, ties in "
        "proportion): R2026000043 20,00, R2026000042 30,00"
    )


def test_a_customer_number_in_the_text_recognises_the_payer() -> None:
    """A customer number of at least four characters in the text names the payer; a
    shorter one is too likely to be part of something else."""
    numbers = Book(
        invoices={81: item(81, 8, "60.00"), 82: item(82, 9, "60.00")},
        customers={8: Payer(8, "K-1008", "Anna Schmidt"), 9: Payer(9, "K9", "Bernd Roth")},
    )
    decision = match(credit("60.00", "Kundennr. K-1008"), numbers)
    assert [a.number for a in decision.allocations] == ["R2026000081"]
    assert "recognised by customer number in the text" in decision.note
    short = match(credit("60.00", "Kundennr. K9"), numbers)
    assert not short.allocations and short.customer_id is None


def test_a_paid_or_credited_invoice_is_not_paid_again_by_amount() -> None:
    """After the import booked 119.00 to R…41 its balance is 0: the next 119.00 from the same
    payer fits no open invoice."""
    b = book()
    first = match(credit("119.00", "Danke", "Hans Müller"), b)
    b.book(first.allocations)
    assert b.invoices[41].balance == D("0.00")
    again = match(credit("119.00", "Danke", "Hans Müller"), b)
    assert not again.allocations
    assert again.note.endswith("no open invoice fits 119,00 (open: none)")


def test_a_skonto_amount_pays_the_invoice_it_belongs_to() -> None:
    """Issue 19: 116.62 is R…41 less 2 % Skonto: the invoice is paid by amount."""
    skonto = Book(
        invoices={41: replace(item(41, 1, "119.00"), discounted=(D("116.62"),))},
        customers={1: Payer(1, "K1", "Hans Müller")},
    )
    decision = match(credit("116.62", "Danke", "Hans Müller"), skonto)
    assert [(a.number, a.amount) for a in decision.allocations] == [("R2026000041", D("116.62"))]
    assert decision.note.endswith(
        "the only open invoice of exactly 116,62: pays R2026000041 less Skonto: "
        "116,62 of 119,00 open"
    ), decision.note  # not "partial payment" (the last session's note asked)
    named = match(credit("116.62", "R2026000041 abzgl. 2 % Skonto", "Hans Müller"), skonto)
    assert named.note == "pays R2026000041 less Skonto: 116,62 of 119,00 open", named.note


def test_a_payer_name_is_recognised_only_when_it_names_one_customer() -> None:
    """Two customers called Hans Müller: the name alone recognises neither.  A bank name
    holding more words than a one-word customer name does not recognise that customer."""
    twins = Book(
        invoices={1: item(1, 1, "10.00"), 2: item(2, 2, "20.00"), 3: item(3, 3, "30.00")},
        customers={
            1: Payer(1, "K1", "Hans Müller"),
            2: Payer(2, "K2", "Müller Hans"),
            3: Payer(3, "K3", "Meier"),
        },
    )
    assert twins.payer_by_name("Hans Müller") is None
    assert twins.payer_by_name("GmbH & Co. KG") is None
    assert twins.payer_by_name("Meier") == 3
    assert twins.payer_by_name("Meier Bau Süd") is None
    assert name_tokens("Dr. A. B. Meier-Schulz") == {"MEIER", "SCHULZ"}


def test_a_payer_name_of_legal_forms_only_casts_no_doubt_on_the_number() -> None:
    """"AG" or "Fa. GmbH" names nobody: like a payment without a name, 50.00 naming R…41
    is a part payment of it.  Before, such a name counted as somebody else's (it shares no
    word with "Hans Müller") and the payment waited for a person (issue 20).  A name with
    words of its own that are not the customer's still does."""
    for nobody in ("AG", "Fa. GmbH", "Herr Dr."):
        decision = match(credit("50.00", "RE R2026000041", nobody), book())
        assert [(a.number, a.amount) for a in decision.allocations] == [
            ("R2026000041", D("50.00"))
        ], nobody
        assert decision.note == "partial payment: 50,00 of 119,00 open on R2026000041"
        assert book().payer_by_name(nobody) is None
    other = match(credit("50.00", "RE R2026000041", "Erika Mustermann AG"), book())
    assert other.allocations == ()
    assert other.note == (
        "names R2026000041 of Hans Müller, but Erika Mustermann AG paid 50,00, which fits "
        "none of them: a typo? a person decides"
    )


def test_a_customer_name_without_words_of_its_own_casts_no_doubt_either() -> None:
    """A customer stored as "X AG" has no name word to compare: a payer called "Y KG"
    paying part of its invoice is not evidently somebody else."""
    b = Book(invoices={7: item(7, 7, "300.00")}, customers={7: Payer(7, "K7", "X AG")})
    decision = match(credit("100.00", "R2026000007", "Dieter Braun"), b)
    assert [(a.number, a.amount) for a in decision.allocations] == [("R2026000007", D("100.00"))]


def test_notes_write_thousands_with_a_point_and_cents_with_a_comma() -> None:
    """Amounts of 1,000 EUR and more in a note read as a German bookkeeper writes them."""
    big = Book(
        invoices={1: item(1, 1, "12345.67"), 2: item(2, 1, "1000.00", date(2026, 1, 15))},
        customers={1: Payer(1, "K1", "Hans Müller")},
    )
    part = match(credit("2500.50", "R2026000001"), big)
    assert part.note == "partial payment: 2.500,50 of 12.345,67 open on R2026000001"
    over = match(credit("1234567.89", "R2026000002"), big)
    assert over.note == (
        "overpayment: 1.233.567,89 more than the 1.000,00 open on R2026000002; booked to "
        "R2026000002, where it becomes the customer's credit"
    )
    none = match(credit("999.99", "Danke", "Hans Müller"), big)
    assert none.note == (
        "payer Hans Müller (K1, recognised by name); no invoice named and none of exactly "
        "999,99: shared by § 366 Abs. 2 BGB (due first, then older, ties in proportion): "
        "R2026000002 999,99"
    )
