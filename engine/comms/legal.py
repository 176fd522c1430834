"""What a business letter must say about its sender, by the sender's legal form.

German law makes the sender's identity part of every business letter (and
business e-mail): a GmbH names its seat, register court, register number and
every managing director (§ 35a GmbHG), an AG its board and the chair of its
supervisory board (§ 80 AktG), a registered merchant, an OHG or a KG their
register details (§§ 37a, 125a HGB) — a GmbH & Co. KG those of its general
partner as well (§ 125a Abs. 1 S. 2, § 177a HGB) — and a cooperative its
board (§ 25a GenG).  A letter without them is a fine (§ 14 HGB) and looks like
a scam to a customer who wants to check who asks for money.  And a customer
must be able to answer: a phone number and an e-mail address belong in every
letter, whatever the legal form.

`LEGAL_FORMS` is the table: per legal form, the statute and the `[creditor]`
keys it requires.  `missing(creditor)` lists what a configuration lacks (so
`mahnwerk letters check` can refuse it, naming the key); `imprint_lines`
writes the footer's lines in the letter's language, used by the PDF letters
and the e-mail layouts alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from mahnwerk.engine.comms.config import Creditor

REGISTER = ("seat", "register_court", "register_number")


@dataclass(frozen=True, slots=True)
class LegalForm:
    law: str  # the provision that requires the details
    keys: tuple[str, ...]  # `[creditor]` keys that must be set
    designations: tuple[str, ...]  # one of them must be part of the name (§ 4 GmbHG, § 19 HGB)
    seat_label: tuple[str, str] = ("Sitz", "Registered office")


_GMBH = REGISTER + ("managing_directors",)
LEGAL_FORMS: dict[str, LegalForm] = {
    "GmbH": LegalForm("§ 35a GmbHG", _GMBH, ("GmbH", "Gesellschaft mit beschränkter Haftung")),
    "UG (haftungsbeschränkt)": LegalForm(
        "§ 35a GmbHG", _GMBH, ("UG (haftungsbeschränkt)", "Unternehmergesellschaft")
    ),
    "AG": LegalForm("§ 80 AktG", REGISTER + ("board",), ("AG", "Aktiengesellschaft")),
    "OHG": LegalForm("§ 125a HGB", REGISTER, ("OHG", "offene Handelsgesellschaft")),
    "KG": LegalForm("§ 125a HGB", REGISTER, ("KG", "Kommanditgesellschaft")),
    "GmbH & Co. KG": LegalForm(
        "§ 125a Abs. 1 S. 2 HGB, § 35a GmbHG",
        REGISTER + ("general_partner", "managing_directors"),
        ("GmbH & Co. KG",),
    ),
    "e.K.": LegalForm(
        "§ 37a HGB",
        REGISTER,
        ("e.K.", "e.Kfm.", "e.Kfr.", "eingetragener Kaufmann", "eingetragene Kauffrau"),
        ("Niederlassung", "Place of business"),
    ),
    "eG": LegalForm("§ 25a GenG", REGISTER + ("board",), ("eG", "eingetragene Genossenschaft")),
    # not in a commercial register: name and address suffice (§ 15b GewO)
    "Einzelunternehmen": LegalForm("§ 15b GewO", (), ()),
}

#: Every letter, whatever the form: how the customer reaches a person.
CONTACT = ("phone", "email")

_HINTS = {
    "legal_form": f'write legal_form = "GmbH" (one of: {", ".join(LEGAL_FORMS)})',
    "seat": 'the registered office, e.g. seat = "Berlin"',
    "register_court": 'e.g. register_court = "Amtsgericht Berlin-Charlottenburg"',
    "register_number": 'e.g. register_number = "HRB 123456 B"',
    "managing_directors": 'every managing director, e.g. managing_directors = ["Erika Muster"]',
    "board": 'every board member, e.g. board = ["Erika Muster (Vorsitz)", "Max Beispiel"]',
    "general_partner": 'the liable partner, e.g. general_partner = "Muster Verwaltungs GmbH, '
    'Sitz Berlin, Amtsgericht Berlin-Charlottenburg HRB 654321 B"',
    "phone": 'a number the customer can call, e.g. phone = "030 1234567"',
    "email": 'an address the customer can write to, e.g. email = "forderungen@example.com"',
}


@dataclass(frozen=True, slots=True)
class Gap:
    """One missing detail: the key, the provision that wants it, what to write."""

    key: str
    law: str
    hint: str

    def __str__(self) -> str:
        return f"[creditor] {self.key}: missing ({self.law}) — {self.hint}"


def missing(creditor: Creditor) -> list[Gap]:
    """What the letters of this creditor would lack; empty when they may go out."""
    gaps = [
        Gap(key, "every letter: the customer must be able to reach us", _HINTS[key])
        for key in CONTACT
        if not getattr(creditor, key)
    ]
    form = LEGAL_FORMS.get(creditor.legal_form or "")
    if form is None:
        what = "missing" if not creditor.legal_form else f"unknown: {creditor.legal_form!r}"
        gaps.append(Gap("legal_form", f"§§ 35a GmbHG, 37a/125a HGB; {what}", _HINTS["legal_form"]))
        return gaps
    gaps += [Gap(k, form.law, _HINTS[k]) for k in form.keys if not getattr(creditor, k)]
    if form.designations and not any(d in creditor.name for d in form.designations):
        gaps.append(
            Gap(
                "name",
                "§ 4 GmbHG, § 4 AktG, § 19 HGB, § 3 GenG",
                f"the name {creditor.name!r} must show the legal form "
                f"({' or '.join(form.designations)})",
            )
        )
    return gaps


_LABELS = {
    "de": {
        "phone": "Tel.",
        "court": "Registergericht",
        "managing_directors": "Geschäftsführung",
        "board": "Vorstand",
        "chair": "Vorsitz des Aufsichtsrats",
        "general_partner": "Persönlich haftende Gesellschafterin",
        "vat": "USt-IdNr.",
    },
    "en": {
        "phone": "Tel.",
        "court": "Register court",
        "managing_directors": "Managing directors",
        "board": "Board",
        "chair": "Chair of the supervisory board",
        "general_partner": "General partner",
        "vat": "VAT ID",
    },
}


def imprint_lines(creditor: Creditor, language: str) -> list[str]:
    """The footer: who writes (address, phone, e-mail), the register details the legal
    form requires, and the bank — one line each, ` · ` between the parts."""
    en = language == "en"
    words = _LABELS["en" if en else "de"]
    c = creditor
    contact = [c.address_line]
    if c.phone:
        contact.append(f"{words['phone']} {c.phone}")
    contact += [p for p in (c.email, c.website) if p]
    form = LEGAL_FORMS.get(c.legal_form or "")
    legal: list[str] = []
    if c.seat:
        label = form.seat_label[1 if en else 0] if form else ("Registered office" if en else "Sitz")
        legal.append(f"{label}: {c.seat}")
    if c.register_court or c.register_number:
        court = " ".join(p for p in (c.register_court, c.register_number) if p)
        legal.append(f"{words['court']}: {court}")
    elif c.register:
        legal.append(c.register)
    if c.general_partner:
        legal.append(f"{words['general_partner']}: {c.general_partner}")
    for key in ("managing_directors", "board"):
        people = getattr(c, key)
        if people:
            legal.append(f"{words[key]}: {', '.join(people)}")
    if c.supervisory_board_chair:
        legal.append(f"{words['chair']}: {c.supervisory_board_chair}")
    # a creditor paid only online has no account to print (config.py)
    account = [c.bank, f"IBAN {c.iban}", f"BIC {c.bic}"] if c.iban else []
    bank = " · ".join(p for p in (*account, f"{words['vat']} {c.vat_id}" if c.vat_id else "") if p)
    return [" · ".join(contact), *([" · ".join(legal)] if legal else []), *([bank] if bank else [])]


def page_label(page: int, pages: int, language: str) -> str:
    """ "Seite 1 von 2" / "Page 1 of 2"."""
    return f"Page {page} of {pages}" if language == "en" else f"Seite {page} von {pages}"
