"""Step definitions for the German scenarios: they drive the real engine on a real SQLite file.

Every scenario gets its own database file.  Data enters the way it does in production —
customers, invoices and payments as CSV exports through the importer (the Gherkin tables
carry the German column headers an accounting export has), events through the inbox,
approvals through the four-eyes module, and each day through the real run.  The `Dann`
steps read what a finance manager would read: the invoice's state, its ledger, its
messages and its timeline with the rule behind every entry.

Amounts are written as in German documents (`1.000,00 EUR`), dates as `2025-05-15` or
`15.05.2025`; both go through the importer's own parsers, so a scenario cannot use a
format the product does not accept.

Shared values (amounts, days, the run's hour) are in `werte.py`; the outlines over the
pure law functions in `schritte_gesetz.py`, the handover steps in `schritte_akte.py`,
the Skonto steps in `schritte_skonto.py`; the star imports at the end bring their
step fixtures here.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when
from sqlalchemy import select
from werte import betrag, morgens, tag

from mahnwerk.engine import approvals
from mahnwerk.engine import models as m
from mahnwerk.engine.importer import import_file
from mahnwerk.engine.policies import PolicySet, deploy
from mahnwerk.engine.runner import run
from mahnwerk.engine.store import invoices as queries
from mahnwerk.engine.store.db import init_db, make_engine

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Welt:
    """What one scenario has built so far: its database, its folder, its last run."""

    engine: Any
    folder: Path
    policies: int = 0
    runs: list[Any] = field(default_factory=list)
    error: Exception | None = None

    def csv(self, name: str, table: list[list[str]]) -> Path:
        path = self.folder / name
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=";").writerows(table)
        path.write_text(buffer.getvalue(), encoding="utf-8")
        return path

    def invoice_id(self, invoice: str) -> int:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(m.Invoice.__table__.c.id).where(m.Invoice.__table__.c.external_id == invoice)
            ).scalar()
        assert found is not None, f"no invoice {invoice!r} in this scenario"
        return found

    def timeline(self, invoice: str) -> dict[str, Any]:
        return queries.timeline(self.engine, invoice)

    def state(self, invoice: str) -> Any:
        ds = m.DunningState.__table__
        with self.engine.connect() as conn:
            row = conn.execute(
                select(ds).where(ds.c.invoice_id == self.invoice_id(invoice))
            ).first()
        assert row is not None, f"{invoice} has no dunning state yet: has a run seen it?"
        return row

    def outbox(self, invoice: str | None = None, customer: str | None = None) -> list[Any]:
        out, cust = m.Outbox.__table__, m.Customer.__table__
        query = select(out, cust.c.external_id.label("kunde"), cust.c.timezone).join(
            cust, cust.c.id == out.c.customer_id
        )
        if invoice is not None:
            query = query.where(out.c.invoice_id == self.invoice_id(invoice))
        if customer is not None:
            query = query.where(cust.c.external_id == customer)
        with self.engine.connect() as conn:
            return list(conn.execute(query.order_by(out.c.not_before, out.c.id)))

    def run(self, day: date) -> None:
        self.runs.append(run(self.engine, day, PolicySet.load(self.engine), morgens(day)))


@pytest.fixture
def welt(tmp_path: Path) -> Welt:
    url = f"sqlite:///{tmp_path / 'mahnwerk.db'}"
    init_db(url)
    engine = make_engine(url)
    yield Welt(engine, tmp_path)
    engine.dispose()


# ---------------------------------------------------------------------------
# Angenommen: policies and master data
# ---------------------------------------------------------------------------


@given(parsers.parse('die Richtlinie "{pfad}" ist in Kraft'))
def richtlinie_datei(welt: Welt, pfad: str) -> None:
    deploy(welt.engine, ROOT / pfad, morgens(date(2020, 1, 1)))


@given("die Richtlinie ist in Kraft:")
def richtlinie_text(welt: Welt, docstring: str) -> None:
    welt.policies += 1
    path = welt.folder / f"richtlinie_{welt.policies}.mahn"
    path.write_text(docstring + "\n", encoding="utf-8")
    deploy(welt.engine, path, morgens(date(2020, 1, 1)))


@given("die Kunden:")
def kunden(welt: Welt, datatable: list[list[str]]) -> None:
    import_file(welt.engine, "customers", welt.csv("kunden.csv", datatable))


@given("die Rechnungen:")
@when("die Rechnungen eingehen:")
def rechnungen(welt: Welt, datatable: list[list[str]]) -> None:
    import_file(welt.engine, "invoices", welt.csv("rechnungen.csv", datatable))


@given("die Zahlungen:")
@when("die Zahlungen eingehen:")
def zahlungen(welt: Welt, datatable: list[list[str]]) -> None:
    welt.policies += 1  # a new file name per import keeps each CSV for a post-mortem
    import_file(welt.engine, "payments", welt.csv(f"zahlungen_{welt.policies}.csv", datatable))


# ---------------------------------------------------------------------------
# Wenn: runs, events, decisions
# ---------------------------------------------------------------------------


@given(parsers.parse("der Mahnlauf am {tag_} gelaufen ist"))
@when(parsers.parse("der Mahnlauf am {tag_} läuft"))
def mahnlauf(welt: Welt, tag_: str) -> None:
    welt.run(tag(tag_))


@given(parsers.parse("der Mahnlauf täglich vom {von} bis zum {bis} gelaufen ist"))
@when(parsers.parse("der Mahnlauf täglich vom {von} bis zum {bis} läuft"))
def mahnlauf_taeglich(welt: Welt, von: str, bis: str) -> None:
    day, end = tag(von), tag(bis)
    assert day <= end, f"{von} liegt nach {bis}"
    while day <= end:
        welt.run(day)
        day += timedelta(days=1)


_EREIGNISSE = {
    "bestreitet": "dispute_opened",
    "Bestreiten ausgeräumt": "dispute_resolved",
    "Zahlungsversprechen gebrochen": "promise_broken",
    "Rate versäumt": "instalment_missed",
    "Insolvenz": "insolvency",
    "Ausbuchung": "write_off",
    "Sperre": "hold",
    "Sperre aufgehoben": "release",
    "Todesfall": "death_notice",
    "Zustellung gescheitert": "delivery_failed",
}


@given(parsers.parse('für "{rechnung}" am {tag_} das Ereignis "{ereignis}" erfasst wurde'))
@when(parsers.parse('für "{rechnung}" am {tag_} das Ereignis "{ereignis}" erfasst wird'))
def ereignis(welt: Welt, rechnung: str, tag_: str, ereignis: str) -> None:
    kind = _EREIGNISSE.get(ereignis, ereignis)
    queries.record_event(
        welt.engine, rechnung, kind, tag(tag_), "sachbearbeitung", morgens(tag(tag_))
    )


@given(parsers.parse('"{rechnung}" am {tag_} bestritten wurde'))
@when(parsers.parse('"{rechnung}" am {tag_} bestritten wird'))
def bestritten(welt: Welt, rechnung: str, tag_: str) -> None:
    ereignis(welt, rechnung, tag_, "dispute_opened")


@given(parsers.parse('der Kunde am {tag_} für "{rechnung}" Zahlung bis zum {bis} verspricht'))
@when(parsers.parse('der Kunde am {tag_} für "{rechnung}" Zahlung bis zum {bis} verspricht'))
def versprechen(welt: Welt, tag_: str, rechnung: str, bis: str) -> None:
    queries.record_event(
        welt.engine,
        rechnung,
        "promise_made",
        tag(tag_),
        "sachbearbeitung",
        morgens(tag(tag_)),
        {"promised_date": tag(bis).isoformat()},
    )


@when(parsers.parse('am {tag_} ein Ratenplan für "{rechnung}" vereinbart wird:'))
def ratenplan(welt: Welt, tag_: str, rechnung: str, datatable: list[list[str]]) -> None:
    header, *rows = datatable
    plan = [[tag(r[0]).isoformat(), str(betrag(r[1]))] for r in rows]
    queries.record_event(
        welt.engine,
        rechnung,
        "plan_agreed",
        tag(tag_),
        "sachbearbeitung",
        morgens(tag(tag_)),
        {"instalments": plan},
    )


def _pending_for(welt: Welt, rechnung: str) -> Any:
    found = [p for p in approvals.pending(welt.engine) if p.invoice == rechnung]
    assert found, f"für {rechnung} wartet keine Freigabe"
    return found[0]


@when(parsers.parse('"{person}" die Eskalation von "{rechnung}" am {tag_} freigibt'))
def freigeben(welt: Welt, person: str, rechnung: str, tag_: str) -> None:
    welt.error = None
    item = _pending_for(welt, rechnung)
    try:
        approvals.decide(welt.engine, item.id, person, True, morgens(tag(tag_)), tag(tag_))
    except approvals.ApprovalError as exc:
        welt.error = exc


@when(parsers.parse('"{person}" die Eskalation von "{rechnung}" am {tag_} ablehnt'))
def ablehnen(welt: Welt, person: str, rechnung: str, tag_: str) -> None:
    item = _pending_for(welt, rechnung)
    approvals.decide(welt.engine, item.id, person, False, morgens(tag(tag_)), tag(tag_))


# ---------------------------------------------------------------------------
# Dann: what a finance manager checks
# ---------------------------------------------------------------------------


@then(parsers.parse('steht "{rechnung}" im Zustand "{zustand}"'))
def im_zustand(welt: Welt, rechnung: str, zustand: str) -> None:
    assert welt.state(rechnung).state == zustand


@then(parsers.parse('steht "{rechnung}" nicht im Zustand "{zustand}"'))
def nicht_im_zustand(welt: Welt, rechnung: str, zustand: str) -> None:
    assert welt.state(rechnung).state != zustand


def _ledger(welt: Welt, rechnung: str, art: str) -> list[dict[str, Any]]:
    return [line for line in welt.timeline(rechnung)["ledger"] if line["kind"] == art]


_ARTEN = {
    "Verzugszinsen": "interest",
    "Mahngebühren": "fee",
    "Pauschale": "lump_sum",
    "Zahlungen": "payment",
    "Ausbuchungen": "write_off",
    "Inkassokosten": "collection_costs",
    "Skonti": "skonto",
    "Nachlässe": "discount",
}


@then(parsers.parse('betragen die {art} auf "{rechnung}" insgesamt {summe}'))
def summe_der_art(welt: Welt, art: str, rechnung: str, summe: str) -> None:
    lines = _ledger(welt, rechnung, _ARTEN.get(art, art))
    total = sum((Decimal(line["amount"]) for line in lines), Decimal("0.00"))
    assert total == betrag(summe), f"{art} auf {rechnung}: {total} ({lines})"


@then(parsers.parse('bucht das Hauptbuch von "{rechnung}" keine {art}'))
def keine_buchung(welt: Welt, rechnung: str, art: str) -> None:
    lines = _ledger(welt, rechnung, _ARTEN.get(art, art))
    assert not lines, f"unerwartete {art} auf {rechnung}: {lines}"


@then(parsers.parse('zeigt das Hauptbuch von "{rechnung}" die Buchungen:'))
def buchungen(welt: Welt, rechnung: str, datatable: list[list[str]]) -> None:
    header, *rows = datatable
    want = []
    for row in rows:
        cells = dict(zip(header, row, strict=True))
        want.append(
            (_ARTEN.get(cells["Art"], cells["Art"]), betrag(cells["Betrag"]), tag(cells["Datum"]))
        )
    got = [
        (line["kind"], Decimal(line["amount"]), date.fromisoformat(line["date"]))
        for line in welt.timeline(rechnung)["ledger"]
    ]
    assert got == want, f"Hauptbuch von {rechnung}:\n{got}"


@then(parsers.parse('schuldet "{rechnung}" noch {summe}'))
def offener_betrag(welt: Welt, rechnung: str, summe: str) -> None:
    row = welt.state(rechnung)
    assert row.principal_open + row.fees_open + row.interest_open == betrag(summe), (
        f"offen: Hauptforderung {row.principal_open}, Kosten {row.fees_open}, "
        f"Zinsen {row.interest_open}"
    )


@then(parsers.parse('ist die Hauptforderung von "{rechnung}" noch {summe} offen'))
def hauptforderung(welt: Welt, rechnung: str, summe: str) -> None:
    assert welt.state(rechnung).principal_open == betrag(summe)


@then(parsers.parse('liegt für "{rechnung}" keine Nachricht im Postausgang'))
def keine_nachricht(welt: Welt, rechnung: str) -> None:
    rows = welt.outbox(invoice=rechnung)
    assert not rows, [(r.channel, r.template) for r in rows]


@then(parsers.parse('liegen für "{rechnung}" {anzahl:d} Nachrichten im Postausgang'))
def anzahl_nachrichten(welt: Welt, rechnung: str, anzahl: int) -> None:
    rows = welt.outbox(invoice=rechnung)
    assert len(rows) == anzahl, [(r.channel, r.template) for r in rows]


@then(parsers.parse('liegen für "{rechnung}" im Postausgang:'))
def nachrichten(welt: Welt, rechnung: str, datatable: list[list[str]]) -> None:
    _check_outbox(welt.outbox(invoice=rechnung), datatable)


@then(parsers.parse('liegen für den Kunden "{kunde}" im Postausgang:'))
def nachrichten_kunde(welt: Welt, kunde: str, datatable: list[list[str]]) -> None:
    _check_outbox(welt.outbox(customer=kunde), datatable)


def _check_outbox(rows: list[Any], datatable: list[list[str]]) -> None:
    """Compare the columns the table names: Kanal, Vorlage, Frühestens (local time)."""
    header, *want = datatable
    got = []
    for row in rows:
        cells = {
            "Kanal": row.channel,
            "Vorlage": row.template,
            "Frühestens": _local(row.not_before, row),
            "Status": row.status,
        }
        got.append([cells[h] for h in header])
    assert got == want, f"Postausgang:\n{got}"


def _local(instant: datetime, row: Any) -> str:
    """`not_before` in the customer's own time zone, as `2025-08-16 08:00`."""
    from zoneinfo import ZoneInfo

    return instant.astimezone(ZoneInfo(row.timezone)).strftime("%Y-%m-%d %H:%M")


@then(parsers.parse('wartet "{rechnung}" auf eine Freigabe'))
def wartet(welt: Welt, rechnung: str) -> None:
    assert welt.state(rechnung).pending_approval, f"{rechnung} wartet auf keine Freigabe"


@then(parsers.parse('wartet "{rechnung}" auf keine Freigabe'))
def wartet_nicht(welt: Welt, rechnung: str) -> None:
    assert not welt.state(rechnung).pending_approval


@then(parsers.parse('wird die Entscheidung abgelehnt mit "{text}"'))
def entscheidung_abgelehnt(welt: Welt, text: str) -> None:
    assert welt.error is not None, "die Entscheidung wurde angenommen"
    assert text in str(welt.error), str(welt.error)


@then(parsers.parse('nennt der Verlauf von "{rechnung}" "{text}"'))
def verlauf_nennt(welt: Welt, rechnung: str, text: str) -> None:
    entries = [e["message"] or "" for e in welt.timeline(rechnung)["events"]]
    assert any(text in e for e in entries), "\n".join(entries)


@then(parsers.parse('nennt der Verlauf von "{rechnung}" nicht "{text}"'))
def verlauf_nennt_nicht(welt: Welt, rechnung: str, text: str) -> None:
    entries = [e["message"] or "" for e in welt.timeline(rechnung)["events"]]
    assert not any(text in e for e in entries), "\n".join(entries)


@then(parsers.parse('nennt jede Entscheidung im Verlauf von "{rechnung}" ihre Regel'))
def jede_regel(welt: Welt, rechnung: str) -> None:
    story = welt.timeline(rechnung)
    decisions = [
        e
        for e in story["events"]
        if e["kind"] not in ("import", "payment_applied") and e["actor"] == "engine"
    ]
    assert decisions, f"{rechnung} hat keinen Verlauf"
    for entry in decisions + story["ledger"] + story["messages"]:
        if entry.get("kind") == "payment":
            continue  # a payment is the customer's act, not a decision of ours
        assert entry.get("rule"), f"ohne Regel: {entry}"


# --- Schritte für A/B/C/D (Szenarien-Team)
# Steps for the rules A1–A8, B1, B2, C1, C4, C7, D5–D8, E3.  The `Dann` steps read the
# dunning state, the ledger and the timeline a finance manager sees; the outlines over
# the public law functions show the numbers of the legal catalogue line by line.

from mahnwerk.dsl.compile import compile_source  # noqa: E402
from mahnwerk.dsl.errors import PolicyError  # noqa: E402


@when("die Kundendaten geändert werden:")
def kundendaten_geaendert(welt: Welt, datatable: list[list[str]]) -> None:
    welt.policies += 1
    import_file(welt.engine, "customers", welt.csv(f"kunden_{welt.policies}.csv", datatable))


@when("die Richtlinie geprüft wird:")
def richtlinie_pruefen(welt: Welt, docstring: str) -> None:
    welt.policies += 1
    path = welt.folder / f"richtlinie_{welt.policies}.mahn"
    path.write_text(docstring + "\n", encoding="utf-8")
    welt.error = None
    try:
        compile_source(docstring + "\n", str(path))
    except PolicyError as exc:
        welt.error = exc


@then(parsers.parse('lehnt die Prüfung sie in Zeile {zeile:d} ab mit "{text}"'))
def pruefung_lehnt_ab(welt: Welt, zeile: int, text: str) -> None:
    assert isinstance(welt.error, PolicyError), "die Richtlinie wurde angenommen"
    hits = [d for d in welt.error.diagnostics if text in d.render(None)]
    assert hits, str(welt.error)
    assert any(d.span.line == zeile for d in hits), str(welt.error)


@then(parsers.parse('ist "{rechnung}" ab dem {tag_} in Verzug'))
def in_verzug_ab(welt: Welt, rechnung: str, tag_: str) -> None:
    assert welt.state(rechnung).default_since == tag(tag_)


@then(parsers.parse('ist "{rechnung}" am {tag_} nicht in Verzug'))
def nicht_in_verzug(welt: Welt, rechnung: str, tag_: str) -> None:
    since = welt.state(rechnung).default_since
    assert since is None or since > tag(tag_), f"{rechnung} ist seit {since} in Verzug"


def _zinszeilen(welt: Welt, rechnung: str) -> list[dict[str, Any]]:
    lines = _ledger(welt, rechnung, "interest")
    assert lines, f"keine Verzugszinsen auf {rechnung}"
    return lines


@then(parsers.parse('laufen die Verzugszinsen auf "{rechnung}" vom {von} bis zum {bis}'))
def zinsen_laufen(welt: Welt, rechnung: str, von: str, bis: str) -> None:
    lines = _zinszeilen(welt, rechnung)
    starts = [date.fromisoformat(line["period"][0]) for line in lines]
    ends = [date.fromisoformat(line["period"][1]) for line in lines]
    assert (min(starts), max(ends)) == (tag(von), tag(bis)), lines
    days = sum((e - s).days + 1 for s, e in zip(starts, ends, strict=True))
    assert days == (tag(bis) - tag(von)).days + 1, f"Lücke oder doppelte Tage: {lines}"


@then(parsers.parse('sind die Verzugszinsen auf "{rechnung}" ab dem {tag_} als vorläufig markiert'))
def zinsen_vorlaeufig(welt: Welt, rechnung: str, tag_: str) -> None:
    first = tag(tag_)
    lines = _zinszeilen(welt, rechnung)
    later = [line for line in lines if date.fromisoformat(line["period"][1]) >= first]
    earlier = [line for line in lines if date.fromisoformat(line["period"][1]) < first]
    assert later, f"keine Zinsen ab {first}: {lines}"
    assert all(line["provisional"] for line in later), f"nicht vorläufig: {later}"
    assert not any(line["provisional"] for line in earlier), f"zu früh vorläufig: {earlier}"


@then(parsers.parse('ist "{rechnung}" ab dem {tag_} verjährt'))
def verjaehrt_ab(welt: Welt, rechnung: str, tag_: str) -> None:
    assert welt.state(rechnung).time_barred_from == tag(tag_)


@then(
    parsers.parse(
        'stehen auf "{rechnung}" noch offen: Kosten {kosten}, Zinsen {zinsen}, '
        "Hauptforderung {haupt}"
    )
)
def offen_nach_art(welt: Welt, rechnung: str, kosten: str, zinsen: str, haupt: str) -> None:
    row = welt.state(rechnung)
    got = (row.fees_open, row.interest_open, row.principal_open)
    assert got == (betrag(kosten), betrag(zinsen), betrag(haupt)), got


_AUFGABEN = {
    "Inkassoübergabe": "task_handover",
    "gerichtliches Mahnverfahren": "task_court_order",
    "Auskunfteimeldung": "task_credit_report",
    "Benachrichtigung": "task_notify",
}


def _aufgaben(welt: Welt, rechnung: str, aufgabe: str) -> list[dict[str, Any]]:
    kind = _AUFGABEN[aufgabe]
    return [e for e in welt.timeline(rechnung)["events"] if e["kind"] == kind]


@then(parsers.parse('verzeichnet der Verlauf von "{rechnung}" die Aufgabe "{aufgabe}"'))
def aufgabe_da(welt: Welt, rechnung: str, aufgabe: str) -> None:
    assert _aufgaben(welt, rechnung, aufgabe), [
        e["kind"] for e in welt.timeline(rechnung)["events"]
    ]


@then(parsers.parse('verzeichnet der Verlauf von "{rechnung}" keine Aufgabe "{aufgabe}"'))
def aufgabe_fehlt(welt: Welt, rechnung: str, aufgabe: str) -> None:
    found = _aufgaben(welt, rechnung, aufgabe)
    assert not found, found


@then(parsers.parse('nennen die Buchungen "{art}" von "{rechnung}" die Regel "{stelle}"'))
def buchung_regel(welt: Welt, art: str, rechnung: str, stelle: str) -> None:
    lines = _ledger(welt, rechnung, _ARTEN.get(art, art))
    assert lines, f"keine {art} auf {rechnung}"
    for line in lines:
        assert (line["rule"] or "").endswith(stelle), line


@then(
    parsers.parse(
        'nennt der Übergang von "{rechnung}" nach "{zustand}" die Regel "{stelle}" '
        'und den Grund "{grund}"'
    )
)
def uebergang_regel(welt: Welt, rechnung: str, zustand: str, stelle: str, grund: str) -> None:
    moves = [
        e
        for e in welt.timeline(rechnung)["events"]
        if e["kind"] == "transition" and e["to"] == zustand
    ]
    assert len(moves) == 1, moves
    assert (moves[0]["rule"] or "").endswith(stelle), moves[0]
    assert grund in (moves[0]["message"] or ""), moves[0]


@then(parsers.parse('nennt der Verlauf von "{rechnung}" "{text}" mit der Regel "{stelle}"'))
def verlauf_mit_regel(welt: Welt, rechnung: str, text: str, stelle: str) -> None:
    entries = [e for e in welt.timeline(rechnung)["events"] if text in (e["message"] or "")]
    assert entries, "\n".join(e["message"] or "" for e in welt.timeline(rechnung)["events"])
    assert all((e["rule"] or "").endswith(stelle) for e in entries), entries


@then(parsers.parse('nennt der Verlauf von "{rechnung}" die Entscheidung von "{person}"'))
def verlauf_person(welt: Welt, rechnung: str, person: str) -> None:
    acts = [e for e in welt.timeline(rechnung)["events"] if e["actor"] == person]
    assert acts, [(e["kind"], e["actor"]) for e in welt.timeline(rechnung)["events"]]
    assert all(e["rule"] for e in acts), acts


@then(parsers.parse('ist "{rechnung}" am {tag_} in den Zustand "{zustand}" gewechselt'))
def gewechselt_am(welt: Welt, rechnung: str, tag_: str, zustand: str) -> None:
    moves = [
        (e["date"], e["to"])
        for e in welt.timeline(rechnung)["events"]
        if e["kind"] == "transition" and e["to"] == zustand
    ]
    assert moves == [(tag(tag_).isoformat(), zustand)], moves


@then(parsers.parse('bucht das Hauptbuch von "{rechnung}" vor dem {tag_} keine {art}'))
def keine_buchung_vor(welt: Welt, rechnung: str, tag_: str, art: str) -> None:
    lines = _ledger(welt, rechnung, _ARTEN.get(art, art))
    early = [line for line in lines if date.fromisoformat(line["date"]) < tag(tag_)]
    assert not early, f"{art} vor {tag_}: {early}"


def pytest_bdd_apply_tag(tag: str, function: Any) -> bool | None:
    """`@offen`: the scenario shows an engine bug that is reported but not yet fixed.

    It runs and is expected to fail (strict: once the engine is fixed it passes, the run
    says so, and the tag must go); features/README.md lists each such bug.
    """
    if tag != "offen":
        return None
    marker = pytest.mark.xfail(strict=True, reason="offener Engine-Fehler, s. features/README.md")
    marker(function)
    return True


@then(
    parsers.parse('nennen die Buchungen "{art}" vom {tag_} auf "{rechnung}" die Regel "{stelle}"')
)
def buchung_am_regel(welt: Welt, art: str, tag_: str, rechnung: str, stelle: str) -> None:
    lines = [
        line
        for line in _ledger(welt, rechnung, _ARTEN.get(art, art))
        if line["date"] == tag(tag_).isoformat()
    ]
    assert lines, f"keine {art} vom {tag_} auf {rechnung}"
    for line in lines:
        assert (line["rule"] or "").endswith(stelle), line


#: What the engine decides about a person (E3): steps, charges, letters, escalations.
_ENTSCHEIDUNGEN = {"transition", "message_queued", "approval_requested", "approval_given"}
_BELASTUNGEN = {"fee", "interest", "lump_sum", "collection_costs", "write_off"}


@then(parsers.parse('nennt jede Entscheidung über "{rechnung}" eine Zeile der Richtlinie'))
def jede_entscheidung_zeile(welt: Welt, rechnung: str) -> None:
    """Stricter than `ihre Regel`: `engine` is no rule a customer can be shown."""
    story = welt.timeline(rechnung)
    entries = [
        e
        for e in story["events"]
        if e["kind"] in _ENTSCHEIDUNGEN | _BELASTUNGEN or e["kind"].startswith("task_")
    ]
    entries += [line for line in story["ledger"] if line["kind"] in _BELASTUNGEN]
    entries += story["messages"]
    assert entries, f"{rechnung} hat keine Entscheidungen"
    for entry in entries:
        rule = entry.get("rule") or ""
        assert rule.rsplit(":", 1)[-1].isdigit(), f"ohne Zeile der Richtlinie: {entry}"


# --- Schritte für A9, C2, C3, C5, C6, D1–D4, D9, D10, E1, E2 (Engine-Team) -----------------

_AUFGABEN.update(
    {
        "Vollstreckungsbescheid": "task_enforcement_order",
        "Widerspruch prüfen": "task_court_objection",
        "Forderungsanmeldung": "task_file_claim",
    }
)
_KUNDENEREIGNISSE = {"Insolvenz": "insolvency", "Todesfall": "death_notice"}
_SCHRITTE = {
    "Auskunfteimeldung": "credit_report",
    "gerichtliches Mahnverfahren": "court_order",
    "Inkassoübergabe": "handover",
}


@given(parsers.parse('für den Kunden "{kunde}" am {tag_} das Ereignis "{ereignis}" erfasst wurde'))
@when(parsers.parse('für den Kunden "{kunde}" am {tag_} das Ereignis "{ereignis}" erfasst wird'))
def kundenereignis(welt: Welt, kunde: str, tag_: str, ereignis: str) -> None:
    queries.record_customer_event(
        welt.engine,
        kunde,
        _KUNDENEREIGNISSE[ereignis],
        tag(tag_),
        "sachbearbeitung",
        morgens(tag(tag_)),
    )


def _angekuendigt(welt: Welt, rechnung: str) -> list[str]:
    import json

    rows = welt.outbox(invoice=rechnung)
    assert rows, f"keine Nachricht zu {rechnung}"
    return json.loads(rows[-1].payload).get("announces", [])


@then(parsers.parse('kündigt die letzte Nachricht zu "{rechnung}" die "{schritt}" an'))
def kuendigt_an(welt: Welt, rechnung: str, schritt: str) -> None:
    assert _SCHRITTE[schritt] in _angekuendigt(welt, rechnung)


@then(parsers.parse('kündigt die letzte Nachricht zu "{rechnung}" keine "{schritt}" an'))
def kuendigt_nicht_an(welt: Welt, rechnung: str, schritt: str) -> None:
    assert _SCHRITTE[schritt] not in _angekuendigt(welt, rechnung)


@then(parsers.parse('ist die Verjährung von "{rechnung}" gehemmt'))
def verjaehrung_gehemmt(welt: Welt, rechnung: str) -> None:
    assert welt.state(rechnung).time_barred_from is None


@then(parsers.parse('gilt "{rechnung}" als bestritten'))
def gilt_bestritten(welt: Welt, rechnung: str) -> None:
    assert welt.state(rechnung).disputed


@when(parsers.parse('die Auskunft über "{kunde}" erstellt wird'))
def auskunft(welt: Welt, kunde: str) -> None:
    from mahnwerk.engine.privacy import export_customer

    welt.auskunft = export_customer(welt.engine, kunde)


@then(
    parsers.parse(
        'enthält die Auskunft jede Rechnung, Buchung, Nachricht und Entscheidung zu "{rechnung}"'
    )
)
def auskunft_vollstaendig(welt: Welt, rechnung: str) -> None:
    story = welt.timeline(rechnung)
    data = welt.auskunft
    assert rechnung in [i["external_id"] for i in data["invoices"]]
    mine = [row for row in data["ledger"] if row.get("invoice") == rechnung]
    assert len(mine) == len(story["ledger"]) > 0
    events = [row for row in data["events"] if row.get("invoice") == rechnung]
    assert len(events) >= len(story["events"]) > 0
    out = [row for row in data["outbox"] if row.get("invoice") == rechnung]
    assert len(out) == len(story["messages"])


@when(parsers.parse('"{person}" am {tag_} die Löschung der Daten von "{kunde}" verlangt'))
def loeschung(welt: Welt, person: str, tag_: str, kunde: str) -> None:
    from mahnwerk.engine.privacy import ErasureRefused, erase_customer

    welt.error = None
    try:
        welt.loeschung = erase_customer(welt.engine, kunde, tag(tag_), person, morgens(tag(tag_)))
    except ErasureRefused as exc:
        welt.error = exc


@then(parsers.parse('wird die Löschung abgelehnt mit "{text}"'))
def loeschung_abgelehnt(welt: Welt, text: str) -> None:
    assert welt.error is not None, "die Löschung wurde ausgeführt"
    assert text in str(welt.error), str(welt.error)


@then(parsers.parse('sind die Daten von "{kunde}" {modus}'))
def loeschmodus(welt: Welt, kunde: str, modus: str) -> None:
    from mahnwerk.engine.privacy import privacy_status

    want = {"eingeschränkt": "restricted", "anonymisiert": "anonymised"}[modus]
    assert welt.error is None, str(welt.error)
    assert privacy_status(welt.engine, kunde)["status"] == want


@then(parsers.parse('enthält die Auskunft über "{kunde}" "{text}"'))
def auskunft_enthaelt(welt: Welt, kunde: str, text: str) -> None:
    import json

    from mahnwerk.engine.privacy import export_customer

    assert text in json.dumps(export_customer(welt.engine, kunde), ensure_ascii=False)


@then(parsers.parse('enthält die Auskunft über "{kunde}" nirgends "{text}"'))
def auskunft_ohne(welt: Welt, kunde: str, text: str) -> None:
    import json

    from mahnwerk.engine.privacy import export_customer

    dump = json.dumps(export_customer(welt.engine, kunde), ensure_ascii=False)
    assert text not in dump, dump[max(0, dump.find(text) - 200) : dump.find(text) + 200]


# --- what the customer receives: the dispatcher's dry run (B3, C6, D9, E1) --------------------


@when(parsers.parse("die Post vom {tag_} probeweise versandt wird"))
def post_probeweise(welt: Welt, tag_: str) -> None:
    from zoneinfo import ZoneInfo

    from mahnwerk.engine.comms.config import demo_settings
    from mahnwerk.engine.comms.dispatch import dispatch

    noon = datetime.combine(tag(tag_), time(12, 0), ZoneInfo("Europe/Berlin"))
    welt.post = welt.folder / "post"
    dispatch(welt.engine, demo_settings(), noon, dry_run=True, out=welt.post)


def _files(welt: Welt, kunde: str, suffix: str) -> list[Path]:
    found = sorted(welt.post.glob(f"{kunde}_*{suffix}"))
    assert found, (
        f"keine {suffix}-Datei für {kunde} in {sorted(p.name for p in welt.post.iterdir())}"
    )
    return found


def _brieftext(welt: Welt, kunde: str) -> str:
    from pypdf import PdfReader

    pages = [
        page.extract_text() for f in _files(welt, kunde, ".pdf") for page in PdfReader(f).pages
    ]
    return " ".join(" ".join(pages).split())


@then(parsers.parse('steht im Brief an "{kunde}" "{text}"'))
def im_brief(welt: Welt, kunde: str, text: str) -> None:
    letter = _brieftext(welt, kunde)
    assert " ".join(text.split()) in letter, letter


@then(parsers.parse('geht kein Brief an "{kunde}"'))
def kein_brief(welt: Welt, kunde: str) -> None:
    found = sorted(p.name for p in welt.post.glob(f"{kunde}_*.pdf"))
    assert not found, found


@then(parsers.parse('steht im Brief an "{kunde}" nicht "{text}"'))
def nicht_im_brief(welt: Welt, kunde: str, text: str) -> None:
    letter = _brieftext(welt, kunde)
    assert " ".join(text.split()) not in letter, letter


@then(parsers.parse('droht der Brief an "{kunde}" mit dem Inkasso: {antwort}'))
def droht_inkasso(welt: Welt, kunde: str, antwort: str) -> None:
    threat = "einem Inkassounternehmen zur Einziehung übergeben" in _brieftext(welt, kunde)
    assert threat == {"ja": True, "nein": False}[antwort], _brieftext(welt, kunde)


@then(parsers.parse('lautet der Betreff der E-Mail an "{kunde}" "{betreff}"'))
def betreff(welt: Welt, kunde: str, betreff: str) -> None:
    from email import policy
    from email.parser import BytesParser

    subjects = [
        BytesParser(policy=policy.default).parsebytes(f.read_bytes())["Subject"]
        for f in _files(welt, kunde, ".eml")
    ]
    assert subjects == [betreff], subjects


@when(parsers.parse('die Vorlage "{name}" geprüft wird, wie sie ausgeliefert wird'))
def vorlage_pruefen(welt: Welt, name: str) -> None:
    from mahnwerk.engine.comms.checks import check_collection_letter
    from mahnwerk.engine.comms.templates import SHIPPED

    welt.fehlend = check_collection_letter((SHIPPED / f"{name}.de.letter.j2").read_text("utf-8"))


@when(parsers.parse('die Vorlage "{name}" ohne die Zeile mit "{text}" geprüft wird'))
def vorlage_ohne_zeile(welt: Welt, name: str, text: str) -> None:
    from mahnwerk.engine.comms.checks import check_collection_letter
    from mahnwerk.engine.comms.templates import SHIPPED

    source = (SHIPPED / f"{name}.de.letter.j2").read_text("utf-8")
    kept = [line for line in source.splitlines() if text not in line]
    assert len(kept) < len(source.splitlines()), f"keine Zeile mit {text!r}"
    welt.fehlend = check_collection_letter("\n".join(kept))


@then("fehlt keine Pflichtangabe")
def keine_fehlt(welt: Welt) -> None:
    assert welt.fehlend == [], welt.fehlend


@then(parsers.parse('fehlt die Pflichtangabe "{angabe}"'))
def angabe_fehlt(welt: Welt, angabe: str) -> None:
    assert angabe in welt.fehlend, welt.fehlend


@then(parsers.parse('ist der Betreff "{betreff}" auf {sprache} {urteil}'))
def betreff_urteil(welt: Welt, betreff: str, sprache: str, urteil: str) -> None:
    from mahnwerk.engine.comms.checks import check_subject

    problems = check_subject(betreff, {"Deutsch": "de", "Englisch": "en"}[sprache])
    if urteil == "neutral":
        assert problems == [], problems
    else:
        assert urteil == "verräterisch", urteil
        assert problems and problems[0].rule == "E1", problems


# --- letters, names and what the customer reads (issue 11 part C) ---------------------------


def _zeichen(text: str) -> str:
    r"""`\u200b` in a scenario stands for the character itself (invisible ones stay readable)."""
    import re

    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), text)


@when(
    parsers.parse(
        'unter dem Namen "{name}" die Eskalation von "{rechnung}" am {tag_} freigegeben wird'
    )
)
def freigeben_unter_namen(welt: Welt, name: str, rechnung: str, tag_: str) -> None:
    freigeben(welt, _zeichen(name), rechnung, tag_)


def _mailtext(welt: Welt, kunde: str) -> str:
    """The plain-text part of every e-mail to the customer, as the customer reads it."""
    from email import policy
    from email.parser import BytesParser

    texts = []
    for f in _files(welt, kunde, ".eml"):
        mail = BytesParser(policy=policy.default).parsebytes(f.read_bytes())
        texts.append(mail.get_body(preferencelist=("plain",)).get_content())
    return " ".join(" ".join(texts).split())


@then(parsers.parse('steht in der E-Mail an "{kunde}" "{text}"'))
def in_der_email(welt: Welt, kunde: str, text: str) -> None:
    mail = _mailtext(welt, kunde)
    assert " ".join(text.split()) in mail, mail


@then(parsers.parse('steht in der E-Mail an "{kunde}" nicht "{text}"'))
def nicht_in_der_email(welt: Welt, kunde: str, text: str) -> None:
    mail = _mailtext(welt, kunde)
    assert " ".join(text.split()) not in mail, mail


def _mahnwerk(welt: Welt, befehl: str) -> str:
    """A `mahnwerk …` command line as a user types it, against this scenario's database."""
    import shlex

    from typer.testing import CliRunner

    from mahnwerk.cli import app

    argv = shlex.split(befehl)
    assert argv[0] == "mahnwerk", befehl
    url = welt.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, [*argv[1:], "--db", url])
    assert result.exit_code == 0, (befehl, result.output)
    return result.stdout


@then(parsers.parse('nennt "{befehl}" die Forderung verjährt seit dem {tag_}'))
def show_verjaehrt(welt: Welt, befehl: str, tag_: str) -> None:
    import json

    row = json.loads(_mahnwerk(welt, befehl))["invoice"]
    assert (row["time_barred"], row["time_barred_since"]) == (True, tag(tag_).isoformat()), row


def _zeile(welt: Welt, befehl: str, rechnung: str) -> dict[str, Any]:
    import json

    rows = {r["invoice"]: r for r in json.loads(_mahnwerk(welt, befehl))}
    return rows[rechnung]


@then(parsers.parse('nennt "{befehl}" für "{rechnung}" die Forderung verjährt seit dem {tag_}'))
def liste_verjaehrt(welt: Welt, befehl: str, rechnung: str, tag_: str) -> None:
    row = _zeile(welt, befehl, rechnung)
    assert (row["time_barred"], row["time_barred_since"]) == (True, tag(tag_).isoformat()), row


@then(parsers.parse('nennt "{befehl}" für "{rechnung}" die Forderung nicht verjährt'))
def liste_nicht_verjaehrt(welt: Welt, befehl: str, rechnung: str) -> None:
    row = _zeile(welt, befehl, rechnung)
    assert (row["time_barred"], row["time_barred_since"]) == (False, None), row


@then(parsers.parse('steht in der Ausgabe von "{befehl}" "{text}"'))
def in_der_ausgabe(welt: Welt, befehl: str, text: str) -> None:
    out = _mahnwerk(welt, befehl)
    assert text in out, out


# --- the collection agency's file (inkasso_akte.feature) -------------------------------------
# Its steps live in schritte_akte.py; the star import brings pytest-bdd's step fixtures here.
from schritte_akte import *  # noqa: E402, F403


@then(parsers.parse('hat der Brief an "{kunde}" {anzahl:d} Seite'))
@then(parsers.parse('hat der Brief an "{kunde}" {anzahl:d} Seiten'))
def seiten(welt: Welt, kunde: str, anzahl: int) -> None:
    from pypdf import PdfReader

    counts = [len(PdfReader(f).pages) for f in _files(welt, kunde, ".pdf")]
    assert counts == [anzahl], counts


@when(parsers.parse('die Briefe mit der Beispielkonfiguration ohne "{schluessel}" geprüft werden'))
def briefe_pruefen_ohne(welt: Welt, schluessel: str) -> None:
    from typer.testing import CliRunner

    from mahnwerk.cli import app
    from mahnwerk.engine.comms.config import EXAMPLE

    lines = EXAMPLE.splitlines()
    kept = [line for line in lines if not line.startswith(f"{schluessel} =")]
    assert len(kept) < len(lines), f"kein Schlüssel {schluessel} im Beispiel"
    config = welt.folder / "mahnwerk.toml"
    config.write_text("\n".join(kept) + "\n", encoding="utf-8")
    welt.pruefung = CliRunner().invoke(app, ["letters", "check", "--config", str(config)])


@then(parsers.parse('lehnt die Prüfung sie ab mit "{text}"'))
def pruefung_abgelehnt(welt: Welt, text: str) -> None:
    result = welt.pruefung
    assert result.exit_code == 1, result.output
    assert text in result.stderr, result.stderr


@when(parsers.parse('die Vorschau von "{vorlage}" für "{rechnung}" am {tag_} angesehen wird'))
def vorschau(welt: Welt, vorlage: str, rechnung: str, tag_: str) -> None:
    from mahnwerk.engine.comms.config import EXAMPLE

    config = welt.folder / "mahnwerk.toml"
    config.write_text(EXAMPLE, encoding="utf-8")
    on = tag(tag_).isoformat()
    befehl = f"mahnwerk letters preview --invoice {rechnung} --template {vorlage} --on {on}"
    welt.vorschau = _mahnwerk(welt, f"{befehl} --config {config}")


@then(parsers.parse('sagt die Vorschau "{text}"'))
def vorschau_sagt(welt: Welt, text: str) -> None:
    assert text in welt.vorschau, welt.vorschau


@then(parsers.parse('sagt die Vorschau nicht "{text}"'))
def vorschau_sagt_nicht(welt: Welt, text: str) -> None:
    assert text not in welt.vorschau, welt.vorschau


# The outlines over the pure law functions live in schritte_gesetz.py, the Skonto steps
# (issue 19) in schritte_skonto.py.
from schritte_gesetz import *  # noqa: E402, F403
from schritte_skonto import *  # noqa: E402, F403
