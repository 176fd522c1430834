"""Importing statements into a real database (SQLite, and PostgreSQL when configured).

The book (customers and invoices in tests/data/bank/book) is imported with the ordinary
CSV importer; the statements are the public samples and one German statement of our own
(`own/camt053_de_cases.xml`) with the cases the samples lack.  What is asserted is what a
bookkeeper checks: which invoice got how much, what waits in the queue and why, that a
second import books nothing, and that the next `run` applies the payments.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from mahnwerk.engine.bank import (
    AssignError,
    StatementError,
    assign,
    dismiss,
    entry,
    import_statement,
    latest_booking,
    list_queue,
    rematch,
    remember_account,
)
from mahnwerk.engine.importer import import_file
from mahnwerk.engine.models import BANK_ACCOUNT, BANK_ENTRY, DS, EVENT, INV, PAY
from mahnwerk.engine.policies import PolicySet, deploy
from mahnwerk.engine.runner import run

BANK = Path(__file__).parents[1] / "data" / "bank"
OWN = BANK / "own" / "camt053_de_cases.xml"
SEPA = BANK / "mt940" / "sepa_mt9401.sta"
POLICY = Path(__file__).parents[1] / "engine" / "data" / "runner_policy.mahn"
NOW = datetime(2026, 3, 11, 7, 0, tzinfo=UTC)


@pytest.fixture
def book(engine: Engine) -> Engine:
    import_file(engine, "customers", BANK / "book" / "kunden.csv", now=NOW)
    import_file(engine, "invoices", BANK / "book" / "rechnungen.csv", now=NOW)
    return engine


def payments(engine: Engine) -> dict[str, list[Decimal]]:
    """Invoice number → amounts of the bank payments booked to it."""
    out: dict[str, list[Decimal]] = {}
    with engine.connect() as conn:
        for number, amount in conn.execute(
            select(INV.c.external_id, PAY.c.amount)
            .join(INV, INV.c.id == PAY.c.invoice_id)
            .where(PAY.c.source == "bank")
            .order_by(PAY.c.id)
        ):
            out.setdefault(number, []).append(Decimal(amount))
    return out


def statuses(engine: Engine) -> dict[str, str]:
    """Remittance text → status of the entry."""
    with engine.connect() as conn:
        return dict(conn.execute(select(BANK_ENTRY.c.remittance, BANK_ENTRY.c.status)).all())


def test_own_statement_cases(book: Engine) -> None:
    result = import_statement(book, OWN, now=NOW)
    assert (result.entries, result.credits, result.matched, result.queued) == (9, 7, 5, 2)
    assert (result.review, result.other) == (1, 1)
    paid = payments(book)
    # combined payment, 300.00 for 100.00 + 250.00: the older due date (R…102) first (§ 366)
    assert paid["R2026000102"] == [Decimal("250.00")]
    assert paid["R2026000101"] == [Decimal("50.00")]
    # a swapped digit (…130 for …103), confirmed by the payer's name: partial payment
    assert paid["R2026000103"] == [Decimal("80.00")]
    # no number: the payer's only open invoice of exactly 59.90
    assert paid["R2026000104"] == [Decimal("59.90")]
    # one euro too much: booked all the same (the engine keeps it as credit)
    assert paid["R2026000106"] == [Decimal("150.00")]
    assert paid["R2026000108"] == [Decimal("30.00")]
    assert "R2026000105" not in paid and "R2026000110" not in paid  # two invoices of 45.00
    assert "R2026000107" not in paid  # returned direct debit: never a payment
    state = statuses(book)
    assert state["Danke"] == "unmatched"
    assert state["Erstattung Kaution"] == "unmatched"
    assert state["R2026000107 Lastschrift"] == "review"
    assert state["Kd 4711 Toner"] == "other"
    with book.connect() as conn:
        notes = dict(conn.execute(select(BANK_ENTRY.c.remittance, BANK_ENTRY.c.note)).all())
        returned = conn.execute(
            select(EVENT.c.message)
            .join(INV, INV.c.id == EVENT.c.invoice_id)
            .where(EVENT.c.kind == "bank_return", INV.c.external_id == "R2026000107")
        ).scalar_one()
    assert "2 open invoices of exactly 45,00" in notes["Danke"]
    assert "payer unknown (Max Mustermann" in notes["Erstattung Kaution"]
    assert "overpayment: 1,00" in notes["Rg.-Nr. R-2026-000106"]
    assert "Rückbuchung 75.00 EUR" in returned


def test_reimport_books_nothing_twice(book: Engine) -> None:
    assert latest_booking(book) is None
    first = import_statement(book, OWN, now=NOW)
    assert latest_booking(book) == date(2026, 3, 10)
    assert latest_booking(book, "DE00000000000000000000") is None
    with book.connect() as conn:
        before = (
            conn.execute(select(func.count()).select_from(PAY)).scalar_one(),
            conn.execute(select(func.count()).select_from(EVENT)).scalar_one(),
        )
    again = import_statement(book, OWN, now=NOW)
    assert first.new == 9
    assert (again.new, again.duplicates, again.payments) == (0, 9, 0)
    assert "nothing new" in str(again)
    with book.connect() as conn:
        after = (
            conn.execute(select(func.count()).select_from(PAY)).scalar_one(),
            conn.execute(select(func.count()).select_from(EVENT)).scalar_one(),
        )
    assert after == before


def test_broken_file_imports_nothing(book: Engine, tmp_path: Path) -> None:
    text = SEPA.read_text(encoding="ascii").splitlines()
    # A good first statement, then a :61: dated 30 February in the second one.
    text[29] = text[29].replace(":61:0709040904", ":61:0702300904")
    broken = tmp_path / "broken.sta"
    broken.write_text("\n".join(text), encoding="ascii")
    with pytest.raises(StatementError, match=r"broken\.sta:30: .*no such day"):
        import_statement(book, broken, now=NOW)
    with book.connect() as conn:
        assert conn.execute(select(func.count()).select_from(BANK_ENTRY)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(PAY)).scalar_one() == 0


def test_sample_mt940_matches_by_reference_and_the_next_run_applies_it(book: Engine) -> None:
    result = import_statement(book, SEPA, now=NOW)
    assert result.credits == 24
    assert result.review == 19  # 17 returns (GVC 159) and 2 reversals
    paid = payments(book)
    assert paid["TF20004"] == [Decimal("15000.05")]  # "TFNr 20004"
    assert paid["TF22001"] == [Decimal("19990.05")]  # "TFNr 22 001"
    assert paid["50050002"] == [Decimal("16500.07")]  # "Verwendungszweck 50050002"
    deploy(book, POLICY, NOW)
    stats = run(book, date(2007, 9, 5), PolicySet.load(book), NOW)
    assert stats.payments_applied == result.payments
    with book.connect() as conn:
        open_after = conn.execute(
            select(DS.c.principal_open)
            .join(INV, INV.c.id == DS.c.invoice_id)
            .where(INV.c.external_id == "TF20004")
        ).scalar_one()
        unapplied = conn.execute(
            select(func.count()).select_from(PAY).where(PAY.c.applied.is_(False))
        ).scalar_one()
    assert Decimal(open_after) == 0
    assert unapplied == 0


def test_payer_iban_is_learnt_from_reference_matches_only(book: Engine) -> None:
    import_statement(book, OWN, now=NOW)
    with book.connect() as conn:
        learnt = dict(conn.execute(select(BANK_ACCOUNT.c.iban, BANK_ACCOUNT.c.learned_from)).all())
    assert learnt["DE02600100700048510000"] == "reference"  # Gustav Kraus, by his number
    assert "DE02100500000054540402" not in learnt  # matched by amount only: not learnt


def test_queue_assign_and_dismiss(book: Engine) -> None:
    import_statement(book, OWN, now=NOW)
    queue = list_queue(book)
    assert [q["status"] for q in queue].count("unmatched") == 2
    assert [q["kind"] for q in queue].count("return") == 1
    braun = next(q for q in queue if q["remittance"] == "Danke")
    assert braun["customer"] == "K2004"
    allocations = assign(book, braun["id"], ["R2026000110"], actor="anna.schulz", now=NOW)
    assert [(a.number, a.amount) for a in allocations] == [("R2026000110", Decimal("45.00"))]
    with pytest.raises(AssignError, match="already assigned"):
        assign(book, braun["id"], ["R2026000105"], actor="bob", now=NOW)
    detail = entry(book, braun["id"])
    assert detail["decided_by"] == "anna.schulz"
    assert detail["payments"] == [{"invoice": "R2026000110", "amount": "45.00", "applied": False}]
    returned = next(q for q in queue if q["kind"] == "return")
    with pytest.raises(AssignError, match="not a payment"):
        assign(book, returned["id"], ["R2026000107"], actor="anna.schulz", now=NOW)
    dismiss(
        book, returned["id"], actor="anna.schulz", reason="Lastschrift neu eingereicht", now=NOW
    )
    left = list_queue(book)
    assert [q["remittance"] for q in left] == ["Erstattung Kaution"]
    with book.connect() as conn:
        event = conn.execute(
            select(EVENT.c.actor, EVENT.c.payload)
            .join(INV, INV.c.id == EVENT.c.invoice_id)
            .where(EVENT.c.kind == "bank_payment", INV.c.external_id == "R2026000110")
        ).one()
    assert event.actor == "anna.schulz"
    assert json.loads(event.payload)["method"] == "person"


def test_assign_with_amounts_must_add_up(book: Engine) -> None:
    import_statement(book, OWN, now=NOW)
    stranger = next(q for q in list_queue(book) if q["remittance"] == "Erstattung Kaution")
    with pytest.raises(AssignError, match="add up to the payment, 12.34"):
        assign(
            book,
            stranger["id"],
            ["R2026000105", "R2026000110"],
            actor="anna",
            now=NOW,
            amounts=[Decimal("10.00"), Decimal("1.00")],
        )
    done = assign(
        book,
        stranger["id"],
        ["R2026000105", "R2026000110"],
        actor="anna",
        now=NOW,
        amounts=[Decimal("10.00"), Decimal("2.34")],
    )
    assert [a.amount for a in done] == [Decimal("10.00"), Decimal("2.34")]


def test_known_iban_and_rematch(book: Engine) -> None:
    import_statement(book, OWN, now=NOW)
    assert rematch(book, now=NOW) == 0
    # Max Mustermann pays for Dieter Braun; once a person says so, his 12.34 names no invoice
    # and fits none: a payment without designation, which § 366 Abs. 2 BGB puts on the
    # invoice due first (R…105, due 20 Feb, before R…110, due 25 Feb).
    remember_account(book, "K2004", "DE02 7002 0270 0010 1086 69", now=NOW)
    assert rematch(book, now=NOW) == 1
    assert payments(book)["R2026000105"] == [Decimal("12.34")]
    assert "R2026000110" not in payments(book)
    with book.connect() as conn:
        assert (
            conn.execute(
                select(BANK_ACCOUNT.c.learned_from).where(
                    BANK_ACCOUNT.c.iban == "DE02700202700010108669"
                )
            ).scalar_one()
            == "person"
        )


def test_returned_direct_debit_is_logged_on_the_invoice_it_had_paid(book: Engine) -> None:
    """The return names no invoice; its end-to-end id leads back to the collection."""
    result = import_statement(book, BANK / "own" / "camt053_de_return.xml", now=NOW)
    assert (result.matched, result.review) == (1, 1)
    assert payments(book) == {"R2026000107": [Decimal("75.00")]}  # the return books nothing
    with book.connect() as conn:
        logged = conn.execute(
            select(INV.c.external_id, EVENT.c.occurred_on, EVENT.c.message)
            .join(INV, INV.c.id == EVENT.c.invoice_id)
            .where(EVENT.c.kind == "bank_return")
        ).one()
    assert logged.external_id == "R2026000107"
    assert logged.occurred_on == date(2026, 3, 5)
    assert "Rückbuchung 78.00 EUR" in logged.message
    (waiting,) = list_queue(book)
    assert (waiting["kind"], waiting["amount"]) == ("return", "78.00")
    assert "not a payment" in waiting["note"]
