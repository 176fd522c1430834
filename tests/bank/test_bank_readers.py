"""Reading real camt.053/054 and MT940 files (public parser test suites, see tests/data/bank).

No database here: what each reader makes of a file, and how a broken file is refused
with the file, the line where there is one, and what to do.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from mahnwerk.engine.bank import StatementError, read_statement
from mahnwerk.engine.bank.references import ReferenceIndex, near

BANK = Path(__file__).parents[1] / "data" / "bank"
CAMT = BANK / "camt"
MT940 = BANK / "mt940"


def test_camt053_credit_with_payer_iban_and_creditor_reference() -> None:
    (entry,) = read_statement(CAMT / "camt053.v2.minimal.xml")
    assert entry.kind == "credit"
    assert entry.amount == Decimal("8.85")
    assert entry.currency == "EUR"
    assert entry.booked_on == date(2014, 12, 31)
    assert entry.value_date == date(2015, 1, 2)
    assert entry.account == "NL26VAYB8060476890"
    assert entry.counterparty_name == "NAME NAME"
    assert entry.counterparty_iban == "NL56AGDH9619008421"
    assert entry.remittance == "4654654654654654"


def test_camt_five_decimals_sample_reads_as_cents() -> None:
    (entry,) = read_statement(CAMT / "camt053.v2.five.decimals.xml")
    assert entry.amount == Decimal("8.85")
    assert str(entry.amount) == "8.85"


def test_camt_amount_finer_than_cents_is_refused(tmp_path: Path) -> None:
    text = (CAMT / "camt053.v2.five.decimals.xml").read_text(encoding="utf-8")
    broken = tmp_path / "fractions.xml"
    broken.write_text(text.replace(">8.850<", ">8.855<"), encoding="utf-8")
    with pytest.raises(StatementError, match=r"fractions\.xml: .*Ntry\[1\].*not in whole cents"):
        read_statement(broken)


def test_camt054_batch_booking_becomes_one_entry_per_transaction() -> None:
    entries = read_statement(CAMT / "camt054.v4.xml")
    assert [e.amount for e in entries] == [Decimal("3.10"), Decimal("3.20"), Decimal("3.20")]
    assert {e.counterparty_name for e in entries} == {"UNIFITS GmbH"}
    assert {e.currency for e in entries} == {"SEK"}
    assert len({e.key for e in entries}) == 3


def test_camt054_without_booking_date_takes_the_notification_date() -> None:
    (entry,) = read_statement(CAMT / "camt054.v2.with-account-name.xml")
    assert entry.booked_on == date(2007, 10, 18)
    assert entry.kind == "debit"


def test_camt_file_with_two_statements_reads_both() -> None:
    entries = read_statement(CAMT / "camt053.v2.multi.statement.xml")
    assert [e.direction for e in entries] == ["C", "D"]
    assert len({e.statement for e in entries}) == 2


def test_camt_v8_party_names_are_read() -> None:
    (entry,) = read_statement(CAMT / "camt053.v8.xml")
    assert entry.counterparty_name == "NAME NAME"
    assert entry.bank_code.startswith("PMNT/RCDT")


def test_camt052_intraday_report_is_refused_with_a_hint() -> None:
    with pytest.raises(StatementError, match="camt.052 intraday report.*import the camt.053"):
        read_statement(CAMT / "camt052.v2.xml")


def test_camt_without_statement_is_refused() -> None:
    with pytest.raises(StatementError, match=r"camt053\.v2\.wrong\.xml: .*no <Stmt>"):
        read_statement(CAMT / "camt053.v2.wrong.xml")


def test_cut_off_xml_names_the_line(tmp_path: Path) -> None:
    lines = (CAMT / "camt053.v2.minimal.xml").read_text(encoding="utf-8").splitlines()
    cut = tmp_path / "cut.xml"
    cut.write_text("\n".join(lines[:120]), encoding="utf-8")
    with pytest.raises(StatementError) as info:
        read_statement(cut)
    assert info.value.line >= 120
    assert "not well-formed XML" in str(info.value)
    assert "nothing was imported" in str(info.value)


def test_mt940_german_sepa_fields_are_split() -> None:
    entries = read_statement(MT940 / "sepa_mt9401.sta")
    first = next(e for e in entries if e.kind == "credit" and e.counterparty_iban)
    assert first.line == 30
    assert first.amount == Decimal("15000.05")
    assert first.counterparty_iban == "DE42100100100043921105"
    assert first.counterparty_name.startswith("Richter Renate")
    assert "TFNr 20004" in first.remittance
    assert first.end_to_end_id == "EndToEndIdTFNR2000400001"
    assert first.account == "50880050/0194777100888"  # the second statement of the file
    assert first.bank_code == "166;GUTSCHRIFT"


def test_mt940_returns_and_reversals_are_never_credits() -> None:
    entries = read_statement(MT940 / "sepa_mt9401.sta")
    returns = [e for e in entries if e.kind == "return"]
    assert returns and all(e.bank_code.startswith("159;RETOURE") for e in returns)
    assert {e.kind for e in entries if "STORNO" in e.bank_code} == {"reversal"}
    assert not any("RETOURE" in e.bank_code for e in entries if e.kind == "credit")


def test_mt940_keys_are_stable_and_distinct() -> None:
    first = read_statement(MT940 / "sepa_mt9401.sta")
    again = read_statement(MT940 / "sepa_mt9401.sta")
    assert [e.key for e in first] == [e.key for e in again]
    assert len({e.key for e in first}) == len(first)


def test_mt940_swift_framing_characters_are_not_content() -> None:
    entries = read_statement(MT940 / "mbank_mt940.sta")
    assert [e.amount for e in entries] == [Decimal("0.01")] * 3
    assert {e.currency for e in entries} == {"PLN"}


def test_mt940_structured_details_after_a_space_are_split() -> None:
    entries = read_statement(MT940 / "cmxl_mt940.sta")
    polish = next(e for e in entries if e.currency == "PLN" and e.amount == Decimal("20000.00"))
    assert "FAKTURA 333/2003" in polish.remittance
    assert polish.counterparty_name.startswith("HUTA SZKLA TOPIC")


@pytest.mark.parametrize(
    ("name", "line", "message"),
    [
        ("february_30.sta", 6, "value date '160230' is no such day"),
        ("sepa_snippet_broken.sta", 6, ":25: after the transactions began"),
        ("invalid_statement.sta", 1, "neither camt XML nor MT940"),
    ],
)
def test_broken_mt940_names_file_and_line(name: str, line: int, message: str) -> None:
    with pytest.raises(StatementError) as info:
        read_statement(MT940 / name)
    assert info.value.line == line
    assert str(info.value).startswith(f"{MT940 / name}:{line}: ")
    assert message in str(info.value)


def test_mt940_iso_8859_1_is_read(tmp_path: Path) -> None:
    text = (MT940 / "sepa_mt9401.sta").read_text(encoding="ascii")
    latin = tmp_path / "latin1.sta"
    latin.write_bytes(text.replace("Karl Kaufmann", "Karl Käufmann").encode("iso-8859-1"))
    names = {e.counterparty_name for e in read_statement(latin)}
    assert "Karl Käufmann" in names


INDEX = ReferenceIndex({"R2026000042": 42, "R2026000043": 43, "4711": 7, "333/2003": 3})


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("RE R2026000042", [42]),
        ("Rechnung r 2026 000042 vielen Dank", [42]),
        ("Rg.-Nr. R-2026-000042", [42]),
        ("RE2026000042", [42]),
        ("2026000042", [42]),
        ("R2026000043 und R2026000042", [43, 42]),
        ("Kd 4711 Toner", [7]),
        ("IBAN DE44 5001 0517 5407 4711 00", []),
        ("Beleg 14711", []),
        ("FAKTURA 333/ 2003.", [3]),
        ("R20260000421", []),
    ],
)
def test_invoice_numbers_are_found_however_written(text: str, found: list[int]) -> None:
    assert INDEX.find(text) == found


def test_one_typo_is_a_candidate_only() -> None:
    assert INDEX.find("R2026000024") == []
    assert INDEX.near_candidates("R2026000024") == [42]
    assert set(INDEX.near_candidates("R202600004")) == {42, 43}
    assert near("2026000042", "2026000024") and not near("2026000042", "2026004200")


def test_statement_with_too_many_xml_elements_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mahnwerk.engine import limits

    monkeypatch.setattr(limits, "XML_ELEMENTS", 1_000)
    bomb = tmp_path / "many.xml"
    bomb.write_text("<Document>" + "<a/>" * 5_000 + "</Document>", encoding="utf-8")
    with pytest.raises(StatementError) as info:
        read_statement(bomb)
    assert "about 2,501 XML elements, more than the limit of 1,000" in str(info.value)


def test_statement_file_over_the_size_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mahnwerk.engine import limits

    monkeypatch.setattr(limits, "STATEMENT_FILE_BYTES", limits.MiB)
    big = tmp_path / "big.sta"
    big.write_bytes((MT940 / "sepa_mt9401.sta").read_bytes() * 60)
    with pytest.raises(StatementError) as info:
        read_statement(big)
    assert "more than the limit of 1 MB for one statement file" in str(info.value)
