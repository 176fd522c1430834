"""Steps of the handover scenarios (`inkasso_akte.feature`): real dispatch, the agency's file.

Kept apart from conftest.py, which imports them, so the accounting steps stay together.
The post here is *sent* (not a dry run): letters are archived as PDFs in the scenario's
folder, exactly where the dossier looks for the copies.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pytest_bdd import given, parsers, then, when
from sqlalchemy import func, select

from mahnwerk.engine import models as m


def _settings(welt: Any):  # type: ignore[no-untyped-def]
    from mahnwerk.engine.comms.config import demo_settings

    settings = demo_settings()
    archive = str(welt.folder / "briefarchiv")
    return dataclasses.replace(
        settings, delivery=dataclasses.replace(settings.delivery, letters_folder=archive)
    )


@given(parsers.parse("die Post vom {tag_} verschickt wurde"))
@when(parsers.parse("die Post vom {tag_} verschickt wird"))
def post_versenden(welt: Any, tag_: str) -> None:
    from mahnwerk.engine.comms.dispatch import dispatch
    from mahnwerk.engine.importer import parse_date

    noon = datetime.combine(parse_date(tag_), time(12, 0), ZoneInfo("Europe/Berlin"))
    dispatch(welt.engine, _settings(welt), noon)


@when(parsers.parse('die Akte für "{agentur}" erstellt wird'))
def akte_erstellen(welt: Any, agentur: str) -> None:
    from mahnwerk.engine.accounting.handover import write_handover

    welt.akte_ordner = welt.folder / "akte"
    welt.akte = write_handover(welt.engine, _settings(welt), welt.akte_ordner, agentur)


def _record(welt: Any, rechnung: str) -> dict[str, Any]:
    [path] = [p for p in welt.akte.files if p.suffix == ".json"]
    records = json.loads(path.read_text(encoding="utf-8"))
    found = [r for r in records if r["claim"]["invoice"] == rechnung]
    assert len(found) == 1, [r["claim"]["invoice"] for r in records]
    return found[0]


@then(parsers.parse('enthält die Akte "{rechnung}" mit dem Schuldner "{anschrift}"'))
def akte_schuldner(welt: Any, rechnung: str, anschrift: str) -> None:
    d = _record(welt, rechnung)["debtor"]
    assert f"{d['name']}, {d['street']}, {d['postal_code']} {d['city']}" == anschrift


@then(parsers.parse('nennt die Akte von "{rechnung}" die Kontakte "{mail}" und "{telefon}"'))
def akte_kontakte(welt: Any, rechnung: str, mail: str, telefon: str) -> None:
    d = _record(welt, rechnung)["debtor"]
    assert (d["email"], d["phone"]) == (mail, telefon)


@then(parsers.parse('stimmen die Beträge der Akte von "{rechnung}" mit dem Hauptbuch überein'))
def akte_wie_hauptbuch(welt: Any, rechnung: str) -> None:
    record = _record(welt, rechnung)
    led, ds = m.Ledger.__table__, m.DunningState.__table__
    iid = welt.invoice_id(rechnung)
    with welt.engine.connect() as conn:
        sums = dict(conn.execute(
            select(led.c.kind, func.sum(led.c.amount)).where(led.c.invoice_id == iid)
            .group_by(led.c.kind)).all())
        state = conn.execute(select(ds).where(ds.c.invoice_id == iid)).one()
    interest = sum((Decimal(x["amount"]) for x in record["interest"]), Decimal(0))
    assert interest == sums["interest"] > 0
    assert all(x["rate"] and x["from"] and x["to"] for x in record["interest"])
    charges = {k: sum((Decimal(x["amount"]) for x in record["charges"] if x["kind"] == k),
                      Decimal(0)) for k in ("fee", "lump_sum")}
    assert charges == {"fee": sums["fee"], "lump_sum": sums["lump_sum"]}
    assert charges["lump_sum"] == Decimal("40.00")
    paid = sum((Decimal(x["amount"]) for x in record["payments"]), Decimal(0))
    assert paid == -sums["payment"]
    owed = state.principal_open + state.fees_open + state.interest_open
    assert Decimal(record["balance"]) == owed
    assert Decimal(record["claim"]["principal_open"]) == state.principal_open


@then(parsers.parse('nennt die Akte von "{rechnung}" die Zahlung vom {tag_} über {betrag_}'))
def akte_zahlung(welt: Any, rechnung: str, tag_: str, betrag_: str) -> None:
    from mahnwerk.engine.importer import parse_amount, parse_date

    amount = parse_amount(betrag_.removesuffix("EUR").strip())
    payments = _record(welt, rechnung)["payments"]
    assert {"booked_on": parse_date(tag_).isoformat(), "amount": f"{amount:.2f}"} in payments


@then(parsers.parse('nennt die Akte von "{rechnung}" die versandten Briefe "{vorlagen}"'))
def akte_briefe(welt: Any, rechnung: str, vorlagen: str) -> None:
    letters = _record(welt, rechnung)["letters"]
    assert [x["template"] for x in letters] == [v.strip() for v in vorlagen.split(",")]
    assert all(x["channel"] == "letter" and x["sent_on"] for x in letters)


@then(parsers.parse('enthält das Dossier von "{rechnung}" die Kopien der drei Briefe'))
def dossier_kopien(welt: Any, rechnung: str) -> None:
    from pypdf import PdfReader

    [path] = [p for p in welt.akte.files if p.name.endswith(f"-{rechnung.lower()}.pdf")]
    pages = [page.extract_text() for page in PdfReader(path).pages]
    text = " ".join(" ".join(pages).split())
    assert "Übergabe an Inkasso Partner GmbH – Rechnung R1" in text
    assert "Kopie nicht im Briefarchiv gefunden" not in text
    letters = _record(welt, rechnung)["letters"]
    for letter in letters:  # each copy, as the debtor received it, dated the day it went out
        sent = datetime.fromisoformat(letter["sent_on"])
        assert f"Datum {sent:%d.%m.%Y}" in text, letter
    assert text.count("Kundennummer K1") == 1 + len(letters)  # the cover and each letter


@then(parsers.parse('steht in der CSV-Akte für "{rechnung}" der offene Betrag aus dem Hauptbuch'))
def csv_akte(welt: Any, rechnung: str) -> None:
    [path] = [p for p in welt.akte.files if p.suffix == ".csv"]
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    [row] = [r for r in rows if r["invoice"] == rechnung]
    record = _record(welt, rechnung)
    assert row["balance"] == record["balance"].replace(".", ",")
    assert row["letters_sent"] == "3" and row["debtor_type"] == "B2B"
