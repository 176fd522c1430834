"""The agency's PDF dossier of one claim: a cover with the case, then every letter sent.

The cover states, in German (the agency's working language), the creditor, the debtor,
the claim and every line behind its balance — interest with rate and period, fees, the
lump sum, payments — the letters sent with their dates, and what the debtor said
(disputes, promises).  The letters that follow are the copies the dispatcher archived
when it sent them (`letters_folder/<day>/<customer>_<template>_*.pdf`), not a new
rendering: the agency sees what the debtor received.  A copy that cannot be found is
named on the cover as missing, never silently left out.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel.numbers import format_currency
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from mahnwerk.engine.comms.pdf import _fonts  # the DejaVu faces the letters use


def _eur(value: str | None, currency: str = "EUR") -> str:
    """`1.234,56 €`: the record's money strings as a German reader writes them."""
    return "–" if value is None else format_currency(Decimal(value), currency, locale="de_DE")


def _paper(channel: str) -> bool:
    """A letter on paper (a print batch's or a letter shop's), whose copy is archived."""
    from mahnwerk.engine.comms import channels

    return channel in channels.REGISTRY and channels.REGISTRY[channel].paper


def letter_copies(record: dict[str, Any], archive: Path) -> list[tuple[dict, Path | None]]:
    """Each sent letter with its archived PDF (None where none is found)."""
    number = re.sub(r"[^A-Za-z0-9_-]", "_", record["debtor"]["number"])
    out = []
    for letter in record["letters"]:
        if not _paper(letter["channel"]):
            continue
        folder = archive / (letter["sent_on"] or "")
        found = sorted(folder.glob(f"{number}_{letter['template']}_*.pdf"))
        out.append((letter, found[0] if found else None))
    return out


class _Cover(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4")
        regular, bold = _fonts()
        self.add_font("DejaVu", "", regular)
        self.add_font("DejaVu", "B", bold)
        self.set_auto_page_break(True, margin=18)
        self.add_page()

    def heading(self, text: str) -> None:
        self.ln(3)
        self.set_font("DejaVu", "B", 11)
        self.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
        self.set_font("DejaVu", "", 9)

    def line_(self, text: str) -> None:
        self.multi_cell(0, 5, text, align="L", new_x="LMARGIN", new_y="NEXT")


def cover(record: dict[str, Any], copies: list[tuple[dict, Path | None]]) -> bytes:
    claim, debtor, creditor = record["claim"], record["debtor"], record["creditor"]
    cur = claim["currency"]
    pdf = _Cover()
    pdf.set_font("DejaVu", "B", 14)
    pdf.cell(
        0,
        9,
        f"Übergabe an {record['agency']} – Rechnung {claim['invoice']}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("DejaVu", "", 9)
    pdf.line_(f"Übergeben am {record['handed_over_on']}. {record['collection_costs']}")
    pdf.heading("Gläubiger")
    pdf.line_(
        f"{creditor['name']}, {creditor['street']}, {creditor['postal_code']} "
        f"{creditor['city']}; IBAN {creditor['iban']}"
    )
    pdf.heading("Schuldner")
    pdf.line_(
        f"{debtor['name']} ({debtor['type']}, Kundennummer {debtor['number']}), "
        f"{debtor['street'] or '–'}, {debtor['postal_code'] or ''} {debtor['city'] or ''}"
        f"; E-Mail {debtor['email'] or '–'}; Telefon {debtor['phone'] or '–'}"
    )
    pdf.heading("Forderung")
    pdf.line_(
        f"Rechnung {claim['invoice']} vom {claim['issue_date']}, fällig "
        f"{claim['due_date']}, Betrag {_eur(claim['amount'], cur)}; in Verzug seit "
        f"{claim['default_since'] or '–'}; bestritten: "
        f"{'ja' if claim['disputed'] else 'nein'}"
    )
    for line in record["interest"]:
        pdf.line_(
            f"Zinsen {line['from']} bis {line['to']} zu {line['rate']} % p. a.: "
            f"{_eur(line['amount'], cur)}"
        )
    for line in record["charges"]:
        what = {"fee": "Mahngebühr", "lump_sum": "Pauschale § 288 Abs. 5 BGB"}.get(
            line["kind"], line["kind"]
        )
        pdf.line_(f"{what} vom {line['booked_on']}: {_eur(line['amount'], cur)}")
    for line in record["payments"]:
        pdf.line_(f"Zahlung vom {line['booked_on']}: {_eur(line['amount'], cur)}")
    pdf.set_font("DejaVu", "B", 9)
    pdf.line_(f"Offen: {_eur(record['balance'], cur)}")
    pdf.heading("Schreiben")
    for letter, path in copies:
        pdf.line_(
            f"{letter['sent_on']}: {letter['template']} (Brief)"
            + ("" if path else " – Kopie nicht im Briefarchiv gefunden")
        )
    for letter in record["letters"]:
        if not _paper(letter["channel"]):
            pdf.line_(f"{letter['sent_on']}: {letter['template']} ({letter['channel']})")
    if record["history"]:
        pdf.heading("Verlauf")
        for h in record["history"]:
            pdf.line_(f"{h['on']}: {h['what']} ({h['by']}) {h['note'] or ''}")
    return bytes(pdf.output())


def dossier(record: dict[str, Any], archive: Path) -> bytes:
    """The cover, then the archived copy of every letter sent, as one PDF."""
    copies = letter_copies(record, archive)
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(cover(record, copies))))
    for _, path in copies:
        if path is not None:
            writer.append(PdfReader(path))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
