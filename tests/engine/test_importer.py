"""CSV import: German exports read right, every bad cell named, all or nothing, re-runs inert."""

from __future__ import annotations

import re
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import Engine, func
from sqlalchemy import select as sa_select
from sqlmodel import select
from typer.testing import CliRunner

from mahnwerk.cmd_data import register
from mahnwerk.engine.importer import (
    CellError,
    ImportFailed,
    decode,
    import_file,
    parse_amount,
    parse_bool,
    parse_date,
)
from mahnwerk.engine.models import Customer, DunningState, Event, Invoice, Payment
from mahnwerk.engine.store.db import init_db, session

ERROR_FORM = re.compile(r"^(?P<file>[^:]+\.csv):(?P<line>\d+):(?P<column>[^:]+): .+ — .+$")


def _snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the import may touch, to prove nothing changed."""
    tables = (Customer, Invoice, Payment, DunningState, Event)
    with engine.connect() as conn:
        return {
            model.__tablename__: sorted(  # type: ignore[attr-defined]
                tuple(r)
                for r in conn.execute(sa_select(model.__table__))  # type: ignore[attr-defined]
            )
            for model in tables
        }


def _errors(exc: pytest.ExceptionInfo[ImportFailed]) -> set[tuple[int, str]]:
    return {(e.line, e.column) for e in exc.value.errors}


def _assert_well_formed(exc: pytest.ExceptionInfo[ImportFailed], path: Path) -> None:
    for error in exc.value.errors:
        m = ERROR_FORM.match(str(error))
        assert m, f"badly formed error: {error}"
        assert m["file"] == str(path)


@pytest.fixture
def books(engine: Engine, data_dir: Path) -> Engine:
    """A database with the sample customers and invoices imported."""
    import_file(engine, "customers", data_dir / "kunden_cp1252.csv")
    import_file(engine, "invoices", data_dir / "rechnungen_cp1252.csv")
    return engine


# ---------------------------------------------------------------------------
# Reading cells
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234,56", "1234.56"),
        ("1234,56", "1234.56"),
        ("1234.56", "1234.56"),
        ("1234,5", "1234.50"),
        ("250", "250.00"),
        ("1.234.567,89", "1234567.89"),
        ("1,234.56", "1234.56"),
        ("1.234.567", "1234567.00"),
        (" -12,30 ", "-12.30"),
        ("0,01", "0.01"),
    ],
)
def test_amounts_in_german_and_plain_forms(text: str, expected: str) -> None:
    value = parse_amount(text)
    assert value == Decimal(expected) and str(value) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("1.234", "ambiguous"),
        ("1,234", "ambiguous"),
        ("12,345", "ambiguous"),
        ("1234,567", "more than two decimal places"),
        ("12.50 EUR", "not an amount"),
        ("1.23.45", "not an amount"),
        ("", "empty"),
        ("abc", "not an amount"),
    ],
)
def test_ambiguous_or_invalid_amounts_are_refused(text: str, why: str) -> None:
    with pytest.raises(CellError, match=why):
        parse_amount(text)


def test_dates_german_and_iso() -> None:
    assert parse_date("31.01.2024") == date(2024, 1, 31)
    assert parse_date("1.2.2024") == date(2024, 2, 1)
    assert parse_date("2024-02-29") == date(2024, 2, 29)
    with pytest.raises(CellError, match="no such day"):
        parse_date("31.02.2024")
    with pytest.raises(CellError, match="not a date"):
        parse_date("31.01.24")


def test_yes_no_in_both_languages() -> None:
    assert [parse_bool(t) for t in ("ja", "Yes", "TRUE", "1", "nein", "no", "0", "")] == [
        True,
        True,
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    with pytest.raises(CellError):
        parse_bool("vielleicht")


def test_decoding_utf8_bom_and_cp1252() -> None:
    assert decode("Größe".encode()) == "Größe"
    assert decode(b"\xef\xbb\xbf" + "Größe".encode()) == "Größe"
    assert decode("Größe €".encode("cp1252")) == "Größe €"


# ---------------------------------------------------------------------------
# Importing good files
# ---------------------------------------------------------------------------


def test_customers_from_cp1252_semicolon_export(engine: Engine, data_dir: Path) -> None:
    result = import_file(engine, "customers", data_dir / "kunden_cp1252.csv")
    assert (result.inserted, result.updated, result.unchanged) == (4, 0, 0)
    assert result.ignored_columns == ("Kostenstelle",)
    with session(engine) as s:
        by_id = {c.external_id: c for c in s.exec(select(Customer))}
    baecker = by_id["10001"]
    assert baecker.name == "Bäckerei Größer GmbH & Co. KG"
    assert (baecker.type, baecker.region, baecker.city) == ("B2B", "BY", "München")
    assert baecker.tags == "Großkunde,Lastschrift"
    assert by_id["10002"].postal_code == "01099" and by_id["10002"].vulnerable is True
    assert (by_id["10003"].type, by_id["10003"].country, by_id["10003"].region) == (
        "B2B",
        "DE",
        "NW",
    )
    assert (by_id["10004"].type, by_id["10004"].language, by_id["10004"].email) == (
        "B2C",
        "fr",
        None,
    )


def test_invoices_with_decimal_commas_and_no_dunning_state(books: Engine) -> None:
    with session(books) as s:
        invoices = {i.external_id: i for i in s.exec(select(Invoice))}
        states = s.exec(select(func.count()).select_from(DunningState)).one()
    assert invoices["RE-2024-0001"].amount == Decimal("1234.56")
    assert invoices["RE-2024-0004"].amount == Decimal("12500.00")
    assert invoices["RE-2024-0003"].currency == "EUR"
    assert invoices["RE-2024-0002"].due_date == date(2024, 1, 29)
    # The engine creates dunning states: an invoice without one is "new".
    assert states == 0


def test_comma_separated_utf8_with_quoted_values(engine: Engine, data_dir: Path) -> None:
    import_file(engine, "customers", data_dir / "customers_utf8.csv")
    result = import_file(engine, "invoices", data_dir / "invoices_comma.csv")
    assert result.inserted == 3
    with session(engine) as s:
        anna = s.exec(select(Customer).where(Customer.external_id == "C-1")).one()
        amounts = dict(s.exec(select(Invoice.external_id, Invoice.amount)).all())
        agreed = dict(s.exec(select(Invoice.external_id, Invoice.due_date_agreed)).all())
    assert anna.name == "Schmidt, Anna" and anna.tags == "slow payer,vip"
    assert anna.opted_out == "sms" and anna.vulnerable is True
    assert amounts == {
        "INV-1": Decimal("1234.56"),
        "INV-2": Decimal("1234.56"),
        "INV-3": Decimal("2500.00"),
    }
    assert agreed == {"INV-1": True, "INV-2": False, "INV-3": False}


def test_payments_matched_by_invoice_or_left_for_the_engine(books: Engine, data_dir: Path) -> None:
    result = import_file(books, "payments", data_dir / "zahlungen_utf8_bom.csv")
    assert result.inserted == 4
    with session(books) as s:
        rows = {p.external_id: p for p in s.exec(select(Payment))}
        invoice_1 = s.exec(select(Invoice).where(Invoice.external_id == "RE-2024-0001")).one()
    assert rows["B-9001"].invoice_id == invoice_1.id
    assert rows["B-9001"].customer_id == invoice_1.customer_id
    assert rows["B-9001"].amount == Decimal("1234.56")
    assert rows["B-9002"].invoice_id is None
    assert rows["B-9002"].reference == "Rg. 2024-0002 Teilzahlung Größer"
    assert all(not p.applied and p.source == "import" for p in rows.values())


def test_reimporting_the_same_files_changes_nothing(books: Engine, data_dir: Path) -> None:
    import_file(books, "payments", data_dir / "zahlungen_utf8_bom.csv")
    before = _snapshot(books)
    for kind, name in (
        ("customers", "kunden_cp1252.csv"),
        ("invoices", "rechnungen_cp1252.csv"),
        ("payments", "zahlungen_utf8_bom.csv"),
    ):
        result = import_file(books, kind, data_dir / name)  # type: ignore[arg-type]
        assert (result.inserted, result.updated) == (0, 0)
        assert result.unchanged > 0
    assert _snapshot(books) == before


def test_changed_rows_are_updated_by_external_id(
    books: Engine, data_dir: Path, tmp_path: Path
) -> None:
    text = (data_dir / "rechnungen_cp1252.csv").read_text(encoding="cp1252")
    changed = tmp_path / "rechnungen.csv"
    changed.write_text(
        text.replace("89,90", "99,90") + "RE-2024-0006;10002;01.04.2024;15.04.2024;10,00;EUR\r\n",
        encoding="cp1252",
    )
    result = import_file(books, "invoices", changed)
    assert (result.inserted, result.updated, result.unchanged) == (1, 1, 4)
    with session(books) as s:
        amount = s.exec(select(Invoice.amount).where(Invoice.external_id == "RE-2024-0002")).one()
        events = s.exec(select(Event).where(Event.kind == "import")).all()
    assert amount == Decimal("99.90")
    assert events[-1].actor == "import" and "1 inserted, 1 updated" in events[-1].message


def test_engine_matches_are_not_undone_by_a_reimport(books: Engine, data_dir: Path) -> None:
    path = data_dir / "zahlungen_utf8_bom.csv"
    import_file(books, "payments", path)
    with session(books) as s:
        payment = s.exec(select(Payment).where(Payment.external_id == "B-9002")).one()
        invoice = s.exec(select(Invoice).where(Invoice.external_id == "RE-2024-0002")).one()
        payment.invoice_id, payment.customer_id, payment.applied = (
            invoice.id,
            invoice.customer_id,
            True,
        )
        s.add(payment)
    result = import_file(books, "payments", path)
    assert (result.inserted, result.updated) == (0, 0)
    with session(books) as s:
        assert (
            s.exec(select(Payment.invoice_id).where(Payment.external_id == "B-9002")).one()
            == invoice.id
        )


# ---------------------------------------------------------------------------
# Broken files: every problem named, nothing written
# ---------------------------------------------------------------------------


def test_broken_customers_name_every_row_and_column(engine: Engine, data_dir: Path) -> None:
    path = data_dir / "kunden_kaputt.csv"
    with pytest.raises(ImportFailed) as exc:
        import_file(engine, "customers", path)
    _assert_well_formed(exc, path)
    assert _errors(exc) == {
        (2, "Typ"),  # "Behörde" is neither B2B nor B2C
        (3, "E-Mail"),
        (3, "PLZ"),  # Excel ate the leading zero of 01067
        (3, "Schutzbedürftig"),
        (4, "Name"),
        (4, "Bundesland"),
        (5, "Kundennummer"),  # duplicate of line 2
    }
    assert "Excel drops leading zeros" in str(exc.value)
    with session(engine) as s:
        assert s.exec(select(func.count()).select_from(Customer)).one() == 0


def test_broken_invoices_name_every_row_and_column(books: Engine, data_dir: Path) -> None:
    before = _snapshot(books)
    path = data_dir / "rechnungen_kaputt.csv"
    with pytest.raises(ImportFailed) as exc:
        import_file(books, "invoices", path)
    _assert_well_formed(exc, path)
    assert _errors(exc) == {
        (2, "Betrag"),  # 1.234 is ambiguous
        (3, "Kundennummer"),  # unknown customer 99999
        (4, "Fälligkeit"),  # due before issue
        (5, "Rechnungsdatum"),  # 31.02.
        (5, "Betrag"),  # 0,00
        (6, "Rechnungsdatum"),  # two-digit year
        (6, "Betrag"),  # three decimals
        (6, "Währung"),  # "Euro"
        (7, "Rechnungsnummer"),  # duplicate of line 2
        (8, "Rechnungsnummer"),  # empty
        (8, "Betrag"),  # negative
    }
    messages = {(e.line, e.column): e.message for e in exc.value.errors}
    assert "unknown customer '99999'" in messages[(3, "Kundennummer")]
    assert "before the issue date" in messages[(4, "Fälligkeit")]
    assert _snapshot(books) == before


def test_broken_payments_name_every_row_and_column(books: Engine, data_dir: Path) -> None:
    before = _snapshot(books)
    path = data_dir / "zahlungen_kaputt.csv"
    with pytest.raises(ImportFailed) as exc:
        import_file(books, "payments", path)
    _assert_well_formed(exc, path)
    assert _errors(exc) == {
        (2, "Rechnungsnummer"),  # unknown invoice
        (3, "Rechnungsnummer"),  # neither invoice nor reference
        (4, "Buchungsdatum"),
        (4, "Betrag"),  # negative
        (5, "Währung"),  # USD for an EUR invoice
    }
    assert _snapshot(books) == before


def test_one_bad_row_keeps_the_good_rows_out_too(
    engine: Engine, data_dir: Path, tmp_path: Path
) -> None:
    text = (data_dir / "kunden_cp1252.csv").read_text(encoding="cp1252")
    path = tmp_path / "kunden.csv"
    path.write_text(text + "10005;Neu GmbH;B2X;;;;;;;;;;;\r\n", encoding="cp1252")
    with pytest.raises(ImportFailed) as exc:
        import_file(engine, "customers", path)
    assert _errors(exc) == {(6, "Typ")}
    with session(engine) as s:
        assert s.exec(select(func.count()).select_from(Customer)).one() == 0


def test_unquoted_decimal_comma_in_comma_file_is_explained(engine: Engine, data_dir: Path) -> None:
    path = data_dir / "invoices_unquoted_comma.csv"
    with pytest.raises(ImportFailed) as exc:
        import_file(engine, "invoices", path)
    _assert_well_formed(exc, path)
    assert _errors(exc) == {(2, "column 6")}
    assert "must be in quotes" in str(exc.value)


def test_missing_required_column(engine: Engine, data_dir: Path) -> None:
    path = data_dir / "rechnungen_ohne_betrag.csv"
    with pytest.raises(ImportFailed) as exc:
        import_file(engine, "invoices", path)
    _assert_well_formed(exc, path)
    assert _errors(exc) == {(1, "amount")}
    assert "Betrag" in str(exc.value) or "betrag" in str(exc.value)


def test_file_level_problems(engine: Engine, tmp_path: Path) -> None:
    empty = tmp_path / "leer.csv"
    empty.write_bytes(b"")
    with pytest.raises(ImportFailed, match="file is empty"):
        import_file(engine, "customers", empty)
    garbage = tmp_path / "binaer.csv"
    garbage.write_bytes(b"customer_id;name;type\r\n\x81\x8d;x;B2B\r\n")
    with pytest.raises(ImportFailed, match="neither UTF-8 nor Windows-1252"):
        import_file(engine, "customers", garbage)
    with pytest.raises(ImportFailed, match="cannot read file"):
        import_file(engine, "customers", tmp_path / "gibt-es-nicht.csv")


def test_excel_sep_line_and_blank_lines(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text(
        "sep=;\r\nKundennummer;Name;Typ\r\n\r\nK1;A;B2B\r\nK2;;B2C\r\n", encoding="utf-8"
    )
    with pytest.raises(ImportFailed) as exc:
        import_file(engine, "customers", path)
    assert _errors(exc) == {(5, "Name")}  # line numbers count the sep= and blank lines


def test_invoices_in_dunning_are_not_rewritten(
    books: Engine, data_dir: Path, tmp_path: Path
) -> None:
    with session(books) as s:
        invoice = s.exec(select(Invoice).where(Invoice.external_id == "RE-2024-0002")).one()
        s.add(
            DunningState(
                invoice_id=invoice.id,
                segment="b2b",
                ladder="standard",
                state="reminder",
                entered_on=date(2024, 1, 30),
                principal_open=Decimal("89.90"),
            )
        )
    text = (data_dir / "rechnungen_cp1252.csv").read_text(encoding="cp1252")
    path = tmp_path / "rechnungen.csv"
    path.write_text(text.replace("89,90", "79,90"), encoding="cp1252")
    with pytest.raises(ImportFailed, match="already in dunning") as exc:
        import_file(books, "invoices", path)
    assert _errors(exc) == {(3, "Betrag")}


# ---------------------------------------------------------------------------
# Scale and the command line
# ---------------------------------------------------------------------------


def test_large_files_import_in_bulk(engine: Engine, tmp_path: Path) -> None:
    n = 20_000
    customers = tmp_path / "kunden.csv"
    customers.write_text(
        "Kundennummer;Name;Typ\n" + "".join(f"K{i};Kunde {i};B2C\n" for i in range(n)),
        encoding="utf-8",
    )
    invoices = tmp_path / "rechnungen.csv"
    invoices.write_text(
        "Rechnungsnummer;Kundennummer;Rechnungsdatum;Fälligkeit;Betrag\n"
        + "".join(
            f"R{i};K{i};01.02.2024;15.02.2024;{i % 900 + 1}.234,5{i % 10}\n" for i in range(n)
        ),
        encoding="utf-8",
    )
    started = time.perf_counter()
    import_file(engine, "customers", customers)
    assert import_file(engine, "invoices", invoices).inserted == n
    assert import_file(engine, "invoices", invoices).unchanged == n
    assert time.perf_counter() - started < 30  # ~1 s on a laptop; generous for CI


def _cli() -> typer.Typer:
    from mahnwerk.boundary import MahnwerkGroup

    app = typer.Typer(cls=MahnwerkGroup)  # with the CLI's error boundary, as `mahnwerk` has
    register(app)
    return app


def test_cli_init_and_import(db_url: str, data_dir: Path) -> None:
    runner = CliRunner()
    app = _cli()
    result = runner.invoke(app, ["init", "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "created database" in result.stdout
    assert "up to date" in runner.invoke(app, ["init", "--db", db_url]).stdout
    ok = runner.invoke(
        app, ["import", "customers", str(data_dir / "kunden_cp1252.csv"), "--db", db_url]
    )
    assert ok.exit_code == 0, ok.output
    assert "4 inserted, 0 updated, 0 unchanged" in ok.stdout
    bad = runner.invoke(
        app, ["import", "invoices", str(data_dir / "rechnungen_kaputt.csv"), "--db", db_url]
    )
    assert bad.exit_code == 1
    assert "rechnungen_kaputt.csv:3:Kundennummer: unknown customer" in bad.stderr
    assert "nothing was imported" in bad.stderr and bad.stdout == ""


def test_cli_refuses_an_uninitialised_database(db_url: str, data_dir: Path) -> None:
    result = CliRunner().invoke(
        _cli(), ["import", "customers", str(data_dir / "kunden_cp1252.csv"), "--db", db_url]
    )
    assert result.exit_code == 1
    assert "mahnwerk init" in result.stderr


def test_cli_reads_database_from_environment(
    db_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAHNWERK_DB", db_url)
    init_db(db_url)
    result = CliRunner().invoke(
        _cli(), ["import", "customers", str(data_dir / "kunden_cp1252.csv")]
    )
    assert result.exit_code == 0, result.output


def test_line_break_in_a_name_or_address_is_refused_with_its_place(
    engine: Engine, tmp_path: Path
) -> None:
    # Issue 12: "Name\nBcc: …" was imported and then stopped every dispatch.
    path = tmp_path / "kunden.csv"
    path.write_text(
        'Kundennummer;Name;Typ;Straße\nK1;"Anna Schulz\nBcc: all@example.org";B2C;Weg 1\n'
        "K2;Bernd Vogel;B2C;Weg\t2\nK3;Carla Weber;B2C;Hauptstraße 3\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportFailed) as exc:
        import_file(engine, "customers", path)
    _assert_well_formed(exc, path)
    assert _errors(exc) == {(2, "Name"), (4, "Straße")}
    assert "a line break in 'Anna Schulz\\nBcc: all@example.org'" in str(exc.value)
    assert "a tab in 'Weg\\t2'" in str(exc.value)
    with engine.connect() as conn:
        assert conn.execute(sa_select(Customer.__table__)).first() is None


def test_payment_dated_after_the_import_day_is_refused_or_held(
    books: Engine, tmp_path: Path
) -> None:
    # Issue 12: a payment dated 2030 was accepted and counted at once.
    from datetime import UTC, datetime

    path = tmp_path / "zahlungen.csv"
    path.write_text(
        "Buchungs-ID;Buchungsdatum;Betrag;Rechnungsnummer\n"
        "B-1;02.03.2026;10,00;RE-2024-0001\n"
        "B-2;03.03.2026;20,00;RE-2024-0001\n"
        "B-3;05.01.2030;30,00;RE-2024-0001\n",
        encoding="utf-8",
    )
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with pytest.raises(ImportFailed) as exc:
        import_file(books, "payments", path, now=now)
    _assert_well_formed(exc, path)
    assert _errors(exc) == {(3, "Buchungsdatum"), (4, "Buchungsdatum")}
    assert "payment dated 05.01.2030, after today (02.03.2026)" in str(exc.value)
    assert "--allow-future" in str(exc.value)
    with books.connect() as conn:
        assert conn.execute(sa_select(Payment.__table__)).first() is None
    result = import_file(books, "payments", path, now=now, allow_future=True)
    assert result.inserted == 3
    with books.connect() as conn:
        dates = sorted(r.booked_on for r in conn.execute(sa_select(Payment.__table__)))
    assert dates[-1] == date(2030, 1, 5)  # kept with its own date
    from mahnwerk.engine.policies import PolicySet, deploy
    from mahnwerk.engine.runner import run

    deploy(books, Path(__file__).with_name("data") / "runner_policy.mahn", now)
    run(books, date(2026, 3, 5), PolicySet.load(books), now)
    with books.connect() as conn:
        rows = conn.execute(
            sa_select(Payment.__table__.c.external_id, Payment.__table__.c.applied)
        ).all()
    applied = {external_id: bool(flag) for external_id, flag in rows}
    assert applied == {"B-1": True, "B-2": True, "B-3": False}  # held until 05.01.2030


def test_a_50_mb_cell_is_a_sentence_naming_the_line_and_the_limit(
    engine: Engine, tmp_path: Path
) -> None:
    # Issue 12: `field larger than field limit (131072)` reached the user as a traceback.
    path = tmp_path / "kunden.csv"
    with path.open("w", encoding="utf-8") as f:
        f.write('Kundennummer;Name;Typ\nK1;Anna;B2C\nK2;"Bernd')
        f.write("x" * (50 * 1024 * 1024))
        f.write('";B2C\n')
    with pytest.raises(ImportFailed) as exc:
        import_file(engine, "customers", path)
    text = str(exc.value)
    assert f"{path}:3:" in text
    assert "a cell longer than 10,000 characters, the limit for one cell" in text
    assert "field limit" not in text
    with engine.connect() as conn:
        assert conn.execute(sa_select(Customer.__table__)).first() is None


def test_a_cell_over_the_cell_limit_is_refused_with_its_line(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "kunden.csv"
    path.write_text(
        f"Kundennummer;Name;Typ\nK1;Anna;B2C\nK2;{'y' * 20_000};B2C\n", encoding="utf-8"
    )
    with pytest.raises(ImportFailed) as exc:
        import_file(engine, "customers", path)
    assert f"{path}:3: a cell longer than 10,000 characters" in str(exc.value)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mahnwerk.engine import limits

    monkeypatch.setattr(limits, "CSV_FILE_BYTES", 1024 * 1024)  # the rule, at a testable size
    path = tmp_path / "rechnungen.csv"
    path.write_bytes(b"Rechnungsnummer;Kundennummer\n" + b"R1;K1\n" * 200_000)
    with pytest.raises(ImportFailed) as exc:
        import_file(engine, "invoices", path)
    assert "the file is 1.1 MB, more than the limit of 1 MB for one import" in str(exc.value)
    assert "split it" in str(exc.value)
