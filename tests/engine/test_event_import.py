"""Events by import: every event kind from a CSV file, all or nothing, re-imports inert."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from mahnwerk.cmd_data import register as register_data
from mahnwerk.cmd_events import import_group, register
from mahnwerk.engine import models as m
from mahnwerk.engine.event_import import ImportFailed, import_events, parse_kind
from mahnwerk.engine.importer import import_file
from mahnwerk.engine.policies import PolicySet, deploy
from mahnwerk.engine.runner import run
from mahnwerk.engine.store import invoices as queries

POLICY = Path(__file__).with_name("data") / "runner_policy.mahn"
NOW = datetime(2024, 3, 20, 9, 0, tzinfo=UTC)
INBOX, PAY, EVENT = m.Inbox.__table__, m.Payment.__table__, m.Event.__table__
INV = m.Invoice.__table__


@pytest.fixture
def books(engine: Engine, data_dir: Path) -> Engine:
    """The sample customers and invoices RE-2024-0001 … RE-2024-0005 (cp1252 exports)."""
    import_file(engine, "customers", data_dir / "kunden_cp1252.csv")
    import_file(engine, "invoices", data_dir / "rechnungen_cp1252.csv")
    return engine


def write(tmp_path: Path, text: str, name: str = "ereignisse.csv", enc: str = "cp1252") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(enc))
    return path


def tables(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            t.name: sorted(tuple(r) for r in conn.execute(select(t)))
            for t in (INBOX, PAY, EVENT, m.DunningState.__table__)
        }


def inbox(engine: Engine) -> list[tuple[str, str, date, dict[str, Any]]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(INV.c.external_id, INBOX.c.kind, INBOX.c.occurred_on, INBOX.c.payload)
            .join(INV, INV.c.id == INBOX.c.invoice_id)
            .order_by(INBOX.c.id)
        ).all()
    return [(r[0], r[1], r[2], json.loads(r[3])) for r in rows]


GERMAN = """\
Rechnungsnummer;Art;Datum;Betrag;Zugesagt bis;Bemerkung;Sachbearbeiter
RE-2024-0005;Widerspruch;20.03.2024;;;Ware beschädigt;Jörg
RE-2024-0001;Zahlungszusage;22.01.2024;;15.02.2024;;Jörg
RE-2024-0002;Zahlung;01.02.2024;89,90;;Überweisung;
RE-2024-0004;Sperre;02.04.2024;;;;
RE-2024-0004;Freigabe;2024-04-10;;;;
RE-2024-0003;Ratenzahlung;20.02.2024;;;;
"""


def test_events_go_to_the_inbox_and_payments_to_the_payment_table(books, tmp_path):
    path = write(tmp_path, GERMAN)
    result = import_events(books, path, actor="anna", now=NOW)
    assert (result.events, result.payments, result.unchanged) == (5, 1, 0)
    assert result.ignored_columns == ("Sachbearbeiter",)
    assert str(result) == (
        f"{path}: events: 5 recorded, 1 payment(s), 0 already imported "
        "(ignored columns: Sachbearbeiter)"
    )
    got = [
        (inv, kind, on, {k: v for k, v in p.items() if k != "import_id"})
        for inv, kind, on, p in inbox(books)
    ]
    assert got == [
        ("RE-2024-0005", "dispute_opened", date(2024, 3, 20), {"note": "Ware beschädigt"}),
        ("RE-2024-0001", "promise_made", date(2024, 1, 22), {"promised_date": "2024-02-15"}),
        ("RE-2024-0004", "hold", date(2024, 4, 2), {}),
        ("RE-2024-0004", "release", date(2024, 4, 10), {}),
        ("RE-2024-0003", "plan_agreed", date(2024, 2, 20), {}),
    ]
    assert all(p["import_id"].startswith("evt-") for *_, p in inbox(books))
    with books.connect() as conn:
        (pay,) = conn.execute(select(PAY, INV.c.external_id.label("inv")).join(INV)).all()
        actors = set(conn.execute(select(INBOX.c.actor)).scalars())
        log = conn.execute(select(EVENT).where(EVENT.c.actor == "anna")).all()
    assert (pay.inv, pay.booked_on, pay.amount, pay.currency) == (
        "RE-2024-0002",
        date(2024, 2, 1),
        Decimal("89.90"),
        "EUR",
    )
    assert (pay.source, pay.reference, pay.applied) == ("import", "Überweisung", False)
    assert actors == {"anna"}
    assert [(e.kind, e.message) for e in log] == [("import", str(result))]


def test_reimporting_the_same_file_changes_nothing(books, tmp_path):
    path = write(tmp_path, GERMAN)
    import_events(books, path, now=NOW)
    before = tables(books)
    again = import_events(books, path, now=NOW)
    assert (again.events, again.payments, again.unchanged) == (0, 0, 6)
    assert tables(books) == before  # not even an import line in the log


def test_a_file_with_one_more_row_adds_only_that_row(books, tmp_path):
    import_events(books, write(tmp_path, GERMAN), now=NOW)
    more = GERMAN + "RE-2024-0005;dispute_resolved;25.03.2024;;;;\n"
    result = import_events(books, write(tmp_path, more, "more.csv"), now=NOW)
    assert (result.events, result.payments, result.unchanged) == (1, 0, 6)


def test_equal_rows_are_separate_events_and_still_import_once(books, tmp_path):
    text = "invoice_id,kind,date,amount\n" + "RE-2024-0005,payment,2024-03-20,50.00\n" * 2
    path = write(tmp_path, text, "twice.csv", "utf-8-sig")
    assert import_events(books, path, now=NOW).payments == 2
    assert import_events(books, path, now=NOW).unchanged == 2
    with books.connect() as conn:
        assert conn.execute(select(PAY.c.amount)).scalars().all() == [Decimal("50.00")] * 2


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("dispute_opened", "dispute_opened"),
        ("Widerspruch", "dispute_opened"),
        ("WIDERSPRUCH ERLEDIGT", "dispute_resolved"),
        ("Zahlungszusage", "promise_made"),
        ("promise-broken", "promise_broken"),
        ("Teilzahlung", "payment"),
        ("payment_full", "payment_full"),
        ("Insolvenz", "insolvency"),
        ("Write-Off", "write_off"),
        ("Todesfall", "death_notice"),
        ("unzustellbar", "delivery_failed"),
    ],
)
def test_kinds_and_their_german_and_english_names(text, kind):
    assert parse_kind(text) == kind


BROKEN = """\
Rechnungsnummer;Art;Datum;Betrag;Zugesagt bis
RE-2099-0001;Widerspruch;20.03.2024;;
RE-2024-0005;Mahnbescheid;20.03.2024;;
RE-2024-0005;Zahlung;20.03.2024;;
RE-2024-0005;Zahlung;20.03.2024;-5,00;
RE-2024-0005;Zahlungszusage;20.03.2024;;
RE-2024-0005;Zahlungszusage;20.03.2024;;10.03.2024
RE-2024-0005;Widerspruch;31.02.2024;;
RE-2024-0005;Widerspruch;01.03.2024;;
RE-2024-0005;Sperre;20.03.2024;100,00;
RE-2024-0005;;20.03.2024;;
RE-2024-0005;Widerspruch;;;
RE-2024-0005;Zahlung;20.03.2024;1.234;
RE-2024-0005;Widerspruch;20.03.2024;;01.04.2024
RE-2024-0005;Widerspruch;20.03.2024;;
"""


def test_every_bad_row_is_named_and_nothing_is_imported(books, tmp_path):
    path = write(tmp_path, BROKEN)
    before = tables(books)
    with pytest.raises(ImportFailed) as caught:
        import_events(books, path, now=NOW)
    f = str(path)
    assert [str(e) for e in caught.value.errors] == [
        f"{f}:2:Rechnungsnummer: unknown invoice 'RE-2099-0001' — import the invoice first "
        "(mahnwerk import invoices FILE) or correct the number",
        f"{f}:3:Art: unknown event kind 'Mahnbescheid' — write one of callback_requested, "
        "conversation, court_order_served, death_notice, delivery_failed, dispute_opened, "
        "dispute_resolved, "
        "enforcement_applied, hold, insolvency, instalment_missed, objection_filed, payment, "
        "payment_full, payment_partial, plan_agreed, plan_completed, promise_broken, "
        "promise_made, release, write_off",
        f"{f}:4:Betrag: a payment needs its amount — write e.g. 119,00",
        f"{f}:5:Betrag: a payment must be more than 0, is -5.00 — leave refunds and "
        "chargebacks out of this file",
        f"{f}:6:Zugesagt bis: a promise needs the promised date — add a column promised_date "
        "(zugesagt_bis) with the day, dd.mm.yyyy",
        f"{f}:7:Zugesagt bis: promised for 10.03.2024, before the promise (20.03.2024) — "
        "check both dates",
        f"{f}:8:Datum: no such day: '31.02.2024' — check day and month",
        f"{f}:9:Datum: 01.03.2024 is before invoice RE-2024-0005 was issued (05.03.2024) — "
        "check the date (day and month swapped?) and the invoice number",
        f"{f}:10:Betrag: an amount belongs to a payment, not to hold — leave the cell empty, "
        "or write payment as the kind",
        f"{f}:11:Art: event kind is empty — write e.g. Widerspruch or payment",
        f"{f}:12:Datum: date is empty — write the day it happened, dd.mm.yyyy",
        f"{f}:13:Betrag: amount '1.234' is ambiguous (thousands separator, or three "
        "decimals?) — for 1234 write 1234 or 1.234,00; amounts have at most two decimals",
        f"{f}:14:Zugesagt bis: a promised date belongs to a promise, not to dispute_opened — "
        "leave the cell empty, or write promise_made as the kind",
    ]
    assert str(caught.value).endswith(f"{f}: 13 error(s); nothing was imported")
    assert tables(books) == before


def test_missing_columns_are_named_with_their_german_names(books, tmp_path):
    path = write(tmp_path, "Rechnungsnummer;Betrag\nRE-2024-0005;10,00\n")
    with pytest.raises(ImportFailed) as caught:
        import_events(books, path, now=NOW)
    assert [str(e) for e in caught.value.errors] == [
        f"{path}:1:kind: required column is missing — add a column 'kind' "
        "(or art, ereignis, vorgang)",
        f"{path}:1:date: required column is missing — add a column 'date' "
        "(or datum, am, ereignisdatum)",
    ]


def test_a_row_with_more_values_than_the_header_is_refused(books, tmp_path):
    path = write(tmp_path, "invoice_id,kind,date,amount\nRE-2024-0005,payment,2024-03-20,12,50\n")
    with pytest.raises(ImportFailed) as caught:
        import_events(books, path, now=NOW)
    assert [(e.line, e.column) for e in caught.value.errors] == [(2, "column 5")]


def test_an_empty_or_unreadable_file_is_refused(books, tmp_path):
    with pytest.raises(ImportFailed, match="file is empty"):
        import_events(books, write(tmp_path, "\n\n"), now=NOW)
    with pytest.raises(ImportFailed, match="cannot read file"):
        import_events(books, tmp_path / "missing.csv", now=NOW)


def test_the_next_run_applies_imported_events(books, tmp_path):
    deploy(books, POLICY, NOW)
    text = """\
invoice_id;kind;date;amount;note
RE-2024-0005;Widerspruch;18.03.2024;;
RE-2024-0002;Zahlung;01.02.2024;89,90;
RE-2024-0004;hold;01.04.2024;;
RE-2024-0003;Zahlung;10.02.2024;20,00;
"""
    path = write(tmp_path, text)
    import_events(books, path, now=NOW)
    policies = PolicySet.load(books)
    stats = run(books, date(2024, 5, 2), policies, NOW)
    assert stats.payments_applied == 2 and stats.events_applied == 2
    rows = {r["invoice"]: r for r in queries.list_invoices(books)}
    assert rows["RE-2024-0002"]["state"] == "paid"
    # First seen on 2 May, disputed since 18 March: no reminder at all (C1).
    assert rows["RE-2024-0005"]["disputed"] and rows["RE-2024-0005"]["state"] == "open"
    assert rows["RE-2024-0004"]["held"]
    assert rows["RE-2024-0003"]["balance"] == "29.99"
    ledger = queries.timeline(books, "RE-2024-0003")["ledger"]
    assert [(x["kind"], x["amount"]) for x in ledger][:2] == [
        ("principal", "49.99"),
        ("payment", "-20.00"),
    ]
    # Importing the file again and running again changes nothing.
    before = tables(books)
    assert import_events(books, path, now=NOW).unchanged == 4
    again = run(books, date(2024, 5, 2), policies, NOW)
    assert again.checked == 0 and again.payments_applied == 0 and again.events_applied == 0
    after = tables(books)
    assert after["inbox"] == before["inbox"] and after["payment"] == before["payment"]
    assert after["dunning_state"] == before["dunning_state"]


def _cli() -> typer.Typer:
    from mahnwerk.boundary import MahnwerkGroup

    app = typer.Typer(cls=MahnwerkGroup)  # with the CLI's error boundary, as `mahnwerk` has
    register_data(app)
    register(import_group(app))
    return app


def test_cli_import_events(db_url: str, data_dir: Path, tmp_path: Path) -> None:
    runner, app = CliRunner(), _cli()
    assert runner.invoke(app, ["init", "--db", db_url]).exit_code == 0
    for kind, name in (("customers", "kunden_cp1252.csv"), ("invoices", "rechnungen_cp1252.csv")):
        ok = runner.invoke(app, ["import", kind, str(data_dir / name), "--db", db_url])
        assert ok.exit_code == 0, ok.output
    good = write(tmp_path, GERMAN)
    ok = runner.invoke(app, ["import", "events", str(good), "--db", db_url])
    assert ok.exit_code == 0, ok.output
    assert f"{good}: events: 5 recorded, 1 payment(s), 0 already imported" in ok.stdout
    again = runner.invoke(app, ["import", "events", str(good), "--db", db_url])
    assert "0 recorded, 0 payment(s), 6 already imported" in again.stdout
    bad = runner.invoke(app, ["import", "events", str(write(tmp_path, BROKEN)), "--db", db_url])
    assert bad.exit_code == 1 and bad.stdout == ""
    assert ":2:Rechnungsnummer: unknown invoice 'RE-2099-0001'" in bad.stderr
    assert "13 error(s); nothing was imported" in bad.stderr
    helptext = runner.invoke(app, ["import", "events", "--help"]).stdout
    assert "invoice_id*" in helptext and "promised_date" in helptext


def test_cli_import_events_needs_an_initialised_database(db_url: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        _cli(), ["import", "events", str(write(tmp_path, GERMAN)), "--db", db_url]
    )
    assert result.exit_code == 1
    assert "mahnwerk init" in result.stderr


def test_a_payment_event_dated_after_the_import_day_is_refused(books, tmp_path):
    path = write(
        tmp_path,
        "Rechnungsnummer;Ereignis;Datum;Betrag\n"
        "RE-2024-0002;Zahlung;01.02.2024;10,00\n"
        "RE-2024-0002;Zahlung;01.04.2030;89,90\n",
    )
    before = tables(books)
    with pytest.raises(ImportFailed) as exc:
        import_events(books, path, now=NOW)
    assert f"{path}:3:Datum: payment dated 01.04.2030, after today (20.03.2024)" in str(exc.value)
    assert tables(books) == before  # nothing written
    result = import_events(books, path, now=NOW, allow_future=True)
    assert result.payments == 2
