"""The DATEV booking batch (EXTF "Buchungsstapel", header version 700, format version 13).

A pure function of the batch's header facts and its bookings: no database, no clock.
The layout, as DATEV documents it for the import of booking batches:

* line 1, the header: `"EXTF";700;21;"Buchungsstapel";13;` then the creation time
  (`YYYYMMDDHHMMSSFFF`), origin, who exported, consultant (Beraternummer) and client
  (Mandantennummer), start of the fiscal year, ledger account length, the period
  covered, a label, booking type 1 (financial accounting), currency and the chart;
* line 2, the 125 column names of format version 13;
* one line per booking: the amount without sign with a decimal comma, `S` or `H` for
  whether the *account* (here always the debtor) is debited or credited, the counter
  account, the document date as `DDMM` (the year is the header's, so one batch never
  spans two fiscal years), Belegfeld 1 (the invoice number) and a text of at most 60
  characters; a `Buchungs GUID` derived from the ledger line lets DATEV itself refuse a
  booking it has seen.

Fields are separated by `;`, text is quoted with `"`, lines end with CRLF, and the file
is Windows-1252, the encoding the DATEV import reads without being told.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

ENCODING = "cp1252"
HEADER_VERSION, CATEGORY, FORMAT_NAME, FORMAT_VERSION = 700, 21, "Buchungsstapel", 13

_BELEGINFO = [f"Beleginfo - {k} {i}" for i in range(1, 9) for k in ("Art", "Inhalt")]
_ZUSATZ = [
    f"Zusatzinformation{' -' if k == 'Art' else '-'} {k} {i}"
    for i in range(1, 21)
    for k in ("Art", "Inhalt")
]
#: The column names of format version 13, in order (DATEV reads by position).
COLUMNS: tuple[str, ...] = (
    "Umsatz (ohne Soll/Haben-Kz)", "Soll/Haben-Kennzeichen", "WKZ Umsatz", "Kurs",
    "Basis-Umsatz", "WKZ Basis-Umsatz", "Konto", "Gegenkonto (ohne BU-Schlüssel)",
    "BU-Schlüssel", "Belegdatum", "Belegfeld 1", "Belegfeld 2", "Skonto", "Buchungstext",
    "Postensperre", "Diverse Adressnummer", "Geschäftspartnerbank", "Sachverhalt",
    "Zinssperre", "Beleglink", *_BELEGINFO,
    "KOST1 - Kostenstelle", "KOST2 - Kostenstelle", "Kost-Menge",
    "EU-Land u. UStID (Bestimmung)", "EU-Steuersatz (Bestimmung)", "Abw. Versteuerungsart",
    "Sachverhalt L+L", "Funktionsergänzung L+L", "BU 49 Hauptfunktionstyp",
    "BU 49 Hauptfunktionsnummer", "BU 49 Funktionsergänzung", *_ZUSATZ,
    "Stück", "Gewicht", "Zahlweise", "Forderungsart", "Veranlagungsjahr",
    "Zugeordnete Fälligkeit", "Skontotyp", "Auftragsnummer", "Buchungstyp",
    "USt-Schlüssel (Anzahlungen)", "EU-Land (Anzahlungen)", "Sachverhalt L+L (Anzahlungen)",
    "EU-Steuersatz (Anzahlungen)", "Erlöskonto (Anzahlungen)", "Herkunft-Kz",
    "Buchungs GUID", "KOST-Datum", "SEPA-Mandatsreferenz", "Skontosperre",
    "Gesellschaftername", "Beteiligtennummer", "Identifikationsnummer", "Zeichnernummer",
    "Postensperre bis", "Bezeichnung SoBil-Sachverhalt", "Kennzeichen SoBil-Buchung",
    "Festschreibung", "Leistungsdatum", "Datum Zuord. Steuerperiode", "Fälligkeit",
    "Generalumkehr (GU)", "Steuersatz", "Land", "Abrechnungsreferenz", "BVV-Position",
    "EU-Land u. UStID (Ursprung)", "EU-Steuersatz (Ursprung)", "Abw. Skontokonto",
)  # fmt: skip
_INDEX = {name: i for i, name in enumerate(COLUMNS)}
_GUID_SPACE = uuid.UUID("5a0c1f8e-6d2b-4c6e-9a57-6d61686e7765")
#: Characters DATEV accepts in Belegfeld 1; others become "-".
_BELEG = re.compile(r"[^A-Za-z0-9$&%*+\-/]")


@dataclass(frozen=True, slots=True)
class Header:
    consultant: int
    client: int
    fiscal_year_start: date
    account_length: int
    period_from: date
    period_to: date
    label: str
    chart: str  # "SKR03" or "SKR04"
    created_at: datetime
    exported_by: str = "mahnwerk"


@dataclass(frozen=True, slots=True)
class Booking:
    """One booking: `amount` signed from the debtor's view (+ debit, − credit)."""

    ledger_id: int
    amount: Decimal
    currency: str
    debtor: int
    counter: int
    day: date
    document: str  # Belegfeld 1: the invoice number
    text: str


def _q(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def money(amount: Decimal) -> str:
    """`1234,56`: no sign (the S/H flag carries it), no thousands separator."""
    return f"{abs(amount):.2f}".replace(".", ",")


def header_line(h: Header) -> str:
    fields = [
        _q("EXTF"), str(HEADER_VERSION), str(CATEGORY), _q(FORMAT_NAME), str(FORMAT_VERSION),
        h.created_at.strftime("%Y%m%d%H%M%S") + f"{h.created_at.microsecond // 1000:03d}",
        "", _q("MW"), _q(h.exported_by[:25]), _q(""), str(h.consultant), str(h.client),
        h.fiscal_year_start.strftime("%Y%m%d"), str(h.account_length),
        h.period_from.strftime("%Y%m%d"), h.period_to.strftime("%Y%m%d"), _q(h.label[:30]),
        _q(""), "1", "0", "0", _q("EUR"), "", _q(""), "", "", _q(h.chart[-2:]), "", "", "",
        _q(""),
    ]  # fmt: skip
    return ";".join(fields)


def booking_line(b: Booking) -> str:
    cells = [""] * len(COLUMNS)
    values = {
        "Umsatz (ohne Soll/Haben-Kz)": money(b.amount),
        "Soll/Haben-Kennzeichen": _q("S" if b.amount >= 0 else "H"),
        "WKZ Umsatz": _q(b.currency),
        "Konto": str(b.debtor),
        "Gegenkonto (ohne BU-Schlüssel)": str(b.counter),
        "Belegdatum": b.day.strftime("%d%m"),
        "Belegfeld 1": _q(_BELEG.sub("-", b.document)[:36]),
        "Buchungstext": _q(" ".join(b.text.split())[:60]),
        "Buchungs GUID": _q(str(uuid.uuid5(_GUID_SPACE, f"ledger:{b.ledger_id}"))),
    }
    for name, value in values.items():
        cells[_INDEX[name]] = value
    return ";".join(cells)


def booking_batch(header: Header, bookings: list[Booking]) -> bytes:
    """The whole file, encoded for DATEV (characters it cannot hold become "?")."""
    lines = [header_line(header), ";".join(COLUMNS), *map(booking_line, bookings)]
    return ("\r\n".join(lines) + "\r\n").encode(ENCODING, errors="replace")
