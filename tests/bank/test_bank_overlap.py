"""One bank booking is one entry, whatever file brings it; an incomplete statement books nothing.

The files in tests/data/bank/overlap are one account (DE89 3704 0044 0532 0130 00) seen
twice: an MT940 export for 16–17 March (the account as `BLZ/Kontonummer`) and a camt.053
for 17–18 March.  17 March is in both, with two genuine transfers of 49.50 from the same
payer with the same text; a bookkeeper expects each booking of the three days once —
and both 49.50 transfers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from mahnwerk.engine.bank import StatementError, import_statement, read_statement
from mahnwerk.engine.importer import import_file
from mahnwerk.engine.models import BANK_ENTRY, INV, PAY

BANK = Path(__file__).parents[1] / "data" / "bank"
MT940 = BANK / "overlap" / "mt940_0316_0317.sta"
CAMT = BANK / "overlap" / "camt053_0317_0318.xml"
NOW = datetime(2026, 3, 18, 19, 0, tzinfo=UTC)
D = Decimal
EXPECTED = {
    "R2026000103": [D("119.00")],
    "R2026000104": [D("59.90")],
    "R2026000106": [D("49.50"), D("49.50")],
    "R2026000108": [D("30.00")],
}


@pytest.fixture
def book(engine: Engine) -> Engine:
    import_file(engine, "customers", BANK / "book" / "kunden.csv", now=NOW)
    import_file(engine, "invoices", BANK / "book" / "rechnungen.csv", now=NOW)
    return engine


def booked(engine: Engine) -> dict[str, list[Decimal]]:
    out: dict[str, list[Decimal]] = {}
    with engine.connect() as conn:
        for number, amount in conn.execute(
            select(INV.c.external_id, PAY.c.amount)
            .join(INV, INV.c.id == PAY.c.invoice_id)
            .where(PAY.c.source == "bank")
            .order_by(INV.c.external_id, PAY.c.id)
        ):
            out.setdefault(number, []).append(D(amount))
    return out


def entries(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(BANK_ENTRY)).scalar_one()


@pytest.mark.parametrize("order", [(MT940, CAMT), (CAMT, MT940)], ids=["mt940-first", "camt-first"])
def test_overlapping_mt940_and_camt_book_each_booking_once(book: Engine, order) -> None:
    first, second = order
    import_statement(book, first, now=NOW)
    result = import_statement(book, second, now=NOW)
    assert result.duplicates == 2  # the two 49.50 transfers of 17 March, already known
    assert booked(book) == EXPECTED
    assert entries(book) == 5


def test_a_second_identical_transfer_on_the_same_day_is_booked(book: Engine) -> None:
    # Two bookings with every field alike, told apart by their position in the statement.
    first, second = read_statement(CAMT)[:2]
    assert first.key != second.key
    import_statement(book, CAMT, now=NOW)
    assert booked(book)["R2026000106"] == [D("49.50"), D("49.50")]


def test_a_statement_renumbered_by_the_bank_is_still_recognised(book: Engine, tmp_path) -> None:
    # The same bookings under another statement number (:20:/:28C:) book nothing twice.
    import_statement(book, MT940, now=NOW)
    text = MT940.read_text(encoding="ascii").replace(":20:MW-0317", ":20:MW-9999")
    again = tmp_path / "renumbered.sta"
    again.write_text(text.replace(":28C:00012/001", ":28C:00099/001"), encoding="ascii")
    result = import_statement(book, again, now=NOW)
    assert result.new == 0
    assert sum(len(v) for v in booked(book).values()) == 4


def _cut(tmp_path: Path, before: str) -> tuple[Path, int]:
    """The MT940 file cut off just before the first line starting with `before`."""
    lines = MT940.read_text(encoding="ascii").splitlines()
    last = next(n for n, line in enumerate(lines) if line.startswith(before))
    cut = tmp_path / "cut.sta"
    cut.write_text("\n".join(lines[:last]) + "\n", encoding="ascii")
    return cut, last


def test_a_truncated_mt940_is_refused_and_the_complete_one_books_once(
    book: Engine, tmp_path: Path
) -> None:
    # A download that broke after the first 49.50 of 17 March, before the second and :62F:.
    lines = MT940.read_text(encoding="ascii").splitlines()
    second_4950 = [n for n, line in enumerate(lines) if line.startswith(":61:2603170317")][1]
    cut = tmp_path / "cut.sta"
    cut.write_text("\n".join(lines[:second_4950]) + "\n", encoding="ascii")
    with pytest.raises(StatementError) as info:
        import_statement(book, cut, now=NOW)
    message = str(info.value)
    assert message.startswith(f"{cut}:{second_4950}: ")
    assert "without its closing balance" in message and "nothing was imported" in message
    assert entries(book) == 0
    import_statement(book, MT940, now=NOW)
    assert booked(book)["R2026000106"] == [D("49.50"), D("49.50")]
    assert sum(len(v) for v in booked(book).values()) == 4


def test_mt940_whose_entries_do_not_reach_the_closing_balance_is_refused(
    book: Engine, tmp_path: Path
) -> None:
    # One :61:/:86: pair left out; the balance lines are all there.
    lines = MT940.read_text(encoding="ascii").splitlines()
    drop = next(n for n, line in enumerate(lines) if line.startswith(":61:2603160316C59,90"))
    broken = tmp_path / "missing_entry.sta"
    broken.write_text("\n".join(lines[:drop] + lines[drop + 2 :]) + "\n", encoding="ascii")
    with pytest.raises(StatementError) as info:
        import_statement(book, broken, now=NOW)
    assert str(info.value).startswith(f"{broken}:{drop + 1}: statement MW-0316")
    assert "does not balance" in str(info.value) and "1.178,90" in str(info.value)
    assert entries(book) == 0


def test_camt_with_an_entry_missing_is_refused_with_the_statement_line(
    book: Engine, tmp_path: Path
) -> None:
    text = CAMT.read_text(encoding="utf-8")
    start = text.index("<Ntry>")
    end = text.index("</Ntry>", start) + len("</Ntry>")
    broken = tmp_path / "missing.xml"
    broken.write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(StatementError) as info:
        import_statement(book, broken, now=NOW)
    line = text[: text.index("<Stmt>")].count("\n") + 1
    assert str(info.value).startswith(f"{broken}:{line}: statement MW-CAMT-0317 does not balance")
    assert entries(book) == 0


def test_camt053_without_balances_is_refused(tmp_path: Path) -> None:
    text = CAMT.read_text(encoding="utf-8")
    start = text.index("<Bal>")
    end = text.index("</Bal>", start) + len("</Bal>")
    broken = tmp_path / "nobal.xml"
    broken.write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(StatementError, match=r"nobal\.xml:\d+: Stmt\[1\]: no opening"):
        read_statement(broken)
