"""A bank entry's identity, amounts in cents, the balance check and the format sniffing.

What a bookkeeper relies on when a statement is imported: the same booking brought by two
files is recognised, an amount is never rounded silently, an incomplete statement is refused
with the figures that do not add up, and a file is read by what it contains.  No database.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from mahnwerk.engine.bank.entries import (
    BankEntry,
    StatementError,
    cents,
    check_balance,
    number_occurrences,
    read_statement,
    reference_text,
)

MT940 = Path(__file__).parents[1] / "data" / "bank" / "mt940"

ENTRY = BankEntry(
    account="DE89370400440532013000",
    statement="1/1",
    booked_on=date(2026, 3, 2),
    amount=Decimal("45.00"),
    currency="EUR",
    direction="C",
    kind="credit",
    remittance="RE R2026000042",
    counterparty_name="Karl Kaufmann",
    counterparty_iban="DE02120300000000202051",
)


def test_a_statement_error_names_file_line_problem_hint_and_that_nothing_was_imported():
    error = StatementError("kontoauszug.sta", "value date is no day", "fix the date", line=6)
    assert str(error) == (
        "kontoauszug.sta:6: value date is no day — fix the date; nothing was imported"
    )
    assert (error.path, error.line, error.message, error.hint) == (
        "kontoauszug.sta", 6, "value date is no day", "fix the date"
    )
    bare = StatementError(Path("auszug.xml"), "no statement")
    assert str(bare) == "auszug.xml: no statement; nothing was imported"
    assert (bare.line, bare.hint) == (0, "")


@pytest.mark.parametrize(
    ("text", "amount"),
    [("8.85", "8.85"), ("8.850", "8.85"), ("8,85", "8.85"), (" 12 ", "12.00"), ("0", "0.00")],
)
def test_an_amount_in_whole_cents_is_read_however_written(text: str, amount: str) -> None:
    value = cents("a.xml", text, 7, "Amt")
    assert value == Decimal(amount) and str(value) == amount


@pytest.mark.parametrize("text", ["8.855", "0.001", "NaN", "Infinity"])
def test_an_amount_finer_than_a_cent_is_refused_not_rounded(text: str) -> None:
    with pytest.raises(StatementError) as info:
        cents("a.xml", text, 7, "Amt")
    assert str(info.value) == (
        f"a.xml:7: Amt: amount {text!r} is not in whole cents — mahnwerk books euro and cent; "
        "ask the bank for the statement in the account currency; nothing was imported"
    )


def test_text_that_is_no_amount_is_refused_with_the_text() -> None:
    with pytest.raises(StatementError) as info:
        cents("a.xml", "12 EUR", 9, "Amt")
    assert str(info.value) == "a.xml:9: Amt: not an amount: '12 EUR'; nothing was imported"


def test_a_balanced_statement_passes_and_one_cent_off_is_refused_with_the_figures() -> None:
    check_balance("a.sta", "7/1", Decimal("1000.00"), Decimal("1234.56"), Decimal("234.56"))
    with pytest.raises(StatementError) as info:
        check_balance("a.sta", "7/1", Decimal("1000.00"), Decimal("1234.56"),
                      Decimal("234.55"), line=12)
    assert str(info.value) == (
        "a.sta:12: statement 7/1 does not balance: opening :60F: 1.000,00 plus the entries "
        "(234,55) is 1.234,55, but the closing balance :62F: is 1.234,56 — entries are "
        "missing or the file is cut off — download the complete statement from online "
        "banking again; nothing was imported"
    )
    with pytest.raises(StatementError) as info:
        check_balance("a.xml", "S1", Decimal("0.00"), Decimal("-5.00"), Decimal("-5.01"),
                      names=("OPBD", "CLBD"))
    assert str(info.value).startswith(
        "a.xml: statement S1 does not balance: opening OPBD 0,00 plus the entries (-5,01) is "
        "-5,01, but the closing balance CLBD is -5,00 — "
    )


def test_the_payers_reference_is_the_svwz_text_in_letters_and_digits() -> None:
    assert reference_text("re r-2026/000042, danke") == "RER2026000042DANKE"
    assert reference_text("EREF+E2E-1 SVWZ+Rechnung 42 ABWA+Karl") == "RECHNUNG42"
    assert reference_text("Rechnung 42 EREF+E2E-1") == "RECHNUNG42"
    assert reference_text("Rechnung 42 MTLG:Kurz") == "RECHNUNG42"
    assert reference_text("DEBTOR 42") == "DEBTOR42"  # a word, not the DEBT+ field
    assert reference_text("SVWZ+Rechnung 42 SVWZ+Kopie") == "RECHNUNG42"


def test_the_same_booking_from_another_statement_or_file_has_the_same_key() -> None:
    """Overlapping statements (a weekly and a daily export, MT940 and camt) bring the same
    booking twice: the statement number, line and file do not make it another booking."""
    other = replace(ENTRY, statement="2/1", line=40, seq=3, source="daily.xml",
                    remittance="re r 2026 000042")
    assert other.key == ENTRY.key
    assert len(ENTRY.key) == 32 and int(ENTRY.key, 16) >= 0


@pytest.mark.parametrize(
    "change",
    [
        {"account": "DE02120300000000202051"},
        {"booked_on": date(2026, 3, 3)},
        {"value_date": date(2026, 3, 3)},
        {"direction": "D"},
        {"amount": Decimal("45.01")},
        {"remittance": "RE R2026000043"},
        {"end_to_end_id": "E2E-7"},
        {"entry_ref": "B7"},
        {"occurrence": 1},
    ],
)
def test_a_booking_differing_in_any_identifying_field_is_another_booking(change) -> None:
    assert replace(ENTRY, **change).key != ENTRY.key


def test_the_value_date_defaults_to_the_booking_date_and_the_end_to_end_id_wins() -> None:
    assert replace(ENTRY, value_date=ENTRY.booked_on).key == ENTRY.key
    with_id = replace(ENTRY, end_to_end_id="E2E-7")
    assert replace(with_id, remittance="anything else").key == with_id.key


def test_identical_bookings_are_ranked_in_file_order() -> None:
    other = replace(ENTRY, amount=Decimal("9.99"))
    ranked = number_occurrences([ENTRY, other, ENTRY, ENTRY, other])
    assert [e.occurrence for e in ranked] == [0, 0, 1, 2, 1]
    assert len({e.key for e in ranked}) == 5


def test_a_file_is_read_by_its_content_not_its_name(tmp_path: Path) -> None:
    """An MT940 named `.xml`, a camt named `.sta` with a byte order mark and blank lines
    before it: each is read by what it is."""
    mt940 = tmp_path / "export.xml"
    mt940.write_bytes((MT940 / "sepa_mt9401.sta").read_bytes())
    assert read_statement(mt940) == read_statement(MT940 / "sepa_mt9401.sta")
    camt = tmp_path / "export.sta"
    camt.write_bytes(b"\xef\xbb\xbf \r\n<Document><BkToCstmrStmt/></Document>")
    with pytest.raises(StatementError) as info:
        read_statement(camt)
    assert "neither camt XML nor MT940" not in str(info.value)


@pytest.mark.parametrize(
    "content",
    [b"{1:F01BANKDEFFXXXX0000000000}{4:\r\n-}", b":20:STARTUMS\r\n", b":61:2603020302C45,00\r\n"],
)
def test_a_file_with_any_mt940_mark_is_read_as_mt940(tmp_path: Path, content: bytes) -> None:
    """A SWIFT header, a :20: or a :61: field each make it MT940: a broken one is refused by
    the MT940 reader with its own reason, never as 'neither format'."""
    path = tmp_path / "auszug.txt"
    path.write_bytes(content)
    try:
        read_statement(path)
    except StatementError as exc:
        assert "neither camt XML nor MT940" not in str(exc)


def test_a_file_that_is_neither_format_is_refused_with_what_to_export(tmp_path: Path) -> None:
    other = tmp_path / "auszug.csv"
    other.write_text("Buchungstag;Betrag\n02.03.2026;45,00\n", encoding="utf-8")
    with pytest.raises(StatementError) as info:
        read_statement(other)
    assert str(info.value) == (
        f"{other}:1: neither camt XML nor MT940 — export the account statement as camt.053 "
        "(XML) or MT940 (SWIFT) from online banking; nothing was imported"
    )


def test_a_missing_file_is_refused_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(StatementError) as info:
        read_statement(tmp_path / "fehlt.sta")
    assert str(info.value) == (
        f"{tmp_path / 'fehlt.sta'}: cannot read the file: No such file or directory; "
        "nothing was imported"
    )


def test_a_file_at_the_size_limit_is_read_and_one_byte_more_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mahnwerk.engine import limits

    data = (MT940 / "sepa_mt9401.sta").read_bytes()
    monkeypatch.setattr(limits, "STATEMENT_FILE_BYTES", len(data))
    exact = tmp_path / "exact.sta"
    exact.write_bytes(data)
    assert read_statement(exact)
    over = tmp_path / "over.sta"
    over.write_bytes(data + b"\n")
    with pytest.raises(StatementError) as info:
        read_statement(over)
    assert str(info.value) == (
        f"{over}: the file is 0.0 MB, more than the limit of {len(data):,} for one statement "
        "file — export a shorter period (a day or a week per file); nothing was imported"
    )


def test_a_camt_at_the_element_limit_is_parsed_and_one_more_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mahnwerk.engine import limits

    monkeypatch.setattr(limits, "XML_ELEMENTS", 3)
    at_limit = tmp_path / "three.xml"
    at_limit.write_text("<Document><a/><b/><c/><d/></Document>", encoding="utf-8")  # 6 '<'/2
    with pytest.raises(StatementError) as info:
        read_statement(at_limit)
    assert "XML elements" not in str(info.value)  # parsed: refused for what it lacks
    over = tmp_path / "four.xml"
    over.write_text("<Document><a/><b/><c/><d/><e/><f/></Document>", encoding="utf-8")
    with pytest.raises(StatementError) as info:
        read_statement(over)
    assert str(info.value) == (
        f"{over}: about 4 XML elements, more than the limit of 3 for one statement file — "
        "export a shorter period (a day or a week per file); nothing was imported"
    )
