"""The columns of the CSV import: each kind's canonical columns and the header
names (German aliases, any case) that mean them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

from mahnwerk.engine.terms import MAX_TIERS

Kind = Literal["customers", "invoices", "payments"]
KINDS: tuple[Kind, ...] = get_args(Kind)


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """A canonical column and the header names (normalised) that mean it."""

    name: str
    required: bool = False
    aliases: tuple[str, ...] = ()


def _norm_header(text: str) -> str:
    """`Fälligkeit ` → `faelligkeit`, `Kunden-Nr.` → `kunden_nr`: one spelling per header."""
    text = text.strip().lstrip("\ufeff").casefold()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, plain)
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_CUSTOMER_ID = _names(
    "kundennummer kunden_nr kundennr kunde kunden_id debitor debitorennummer debitoren_nr "
    "debitor_nr customer customer_no"
)
_INVOICE_ID = _names(
    "rechnungsnummer rechnungs_nr rechnungsnr re_nr rechnung belegnummer beleg_nr belegnr "
    "invoice invoice_no"
)
_CURRENCY = _names("waehrung wkz curr")


def _skonto_columns() -> tuple[ColumnSpec, ...]:
    """`skonto_N_days`, `skonto_N_percent`, `skonto_N_base` for the tiers N = 1…3.

    German headers `Skonto 1 Tage`, `Skonto 1 Prozent`, `Skonto 1 Basis` (also
    `Skontotage 1`, `Skontosatz 1`, `Skonto 1 Basisbetrag`); the first tier also without its
    number (`Skontotage`, `Skonto %`, `Skontosatz`).
    """
    specs: list[ColumnSpec] = []
    for n in range(1, MAX_TIERS + 1):
        bare = n == 1
        specs += [
            ColumnSpec(
                f"skonto_{n}_days",
                False,
                _names(
                    f"skonto_{n}_tage skontotage_{n} skontotage{n} skonto_tage_{n} "
                    f"skonto_{n}_frist skontofrist_{n} skonto{n}_tage"
                    + (" skontotage skonto_tage skontofrist skonto_days" if bare else "")
                ),
            ),
            ColumnSpec(
                f"skonto_{n}_percent",
                False,
                _names(
                    f"skonto_{n}_prozent skontosatz_{n} skontosatz{n} skonto_prozent_{n} "
                    f"skonto_{n} skonto{n}_prozent skonto_{n}_satz"
                    + (" skontosatz skonto_prozent skonto skonto_percent" if bare else "")
                ),
            ),
            ColumnSpec(
                f"skonto_{n}_base",
                False,
                _names(
                    f"skonto_{n}_basis skonto_{n}_basisbetrag skontobasis_{n} "
                    f"skonto{n}_basis" + (" skontobasis skonto_basis skonto_base" if bare else "")
                ),
            ),
        ]
    return tuple(specs)


COLUMNS: dict[Kind, tuple[ColumnSpec, ...]] = {
    "customers": (
        ColumnSpec("customer_id", True, _CUSTOMER_ID),
        ColumnSpec("name", True, _names("kundenname firmenname firma name_1 name1")),
        ColumnSpec("type", True, _names("typ kundentyp kundenart art customer_type")),
        ColumnSpec("email", False, _names("e_mail mail e_mail_adresse emailadresse")),
        ColumnSpec("phone", False, _names("telefon tel telefonnummer phone_number")),
        ColumnSpec("street", False, _names("strasse str anschrift adresse address")),
        ColumnSpec("postal_code", False, _names("plz postleitzahl zip zip_code")),
        ColumnSpec("city", False, _names("ort stadt wohnort")),
        ColumnSpec("country", False, _names("land laenderkennzeichen country_code")),
        ColumnSpec("region", False, _names("bundesland state")),
        ColumnSpec("language", False, _names("sprache lang")),
        ColumnSpec("tags", False, _names("merkmale schlagworte kategorien")),
        ColumnSpec("vulnerable", False, _names("schutzbeduerftig besonders_schutzbeduerftig")),
        ColumnSpec("opted_out", False, _names("widerspruch kein_kontakt_ueber")),
        ColumnSpec("timezone", False, _names("zeitzone time_zone")),
    ),
    "invoices": (
        ColumnSpec("invoice_id", True, _INVOICE_ID),
        ColumnSpec("customer_id", True, _CUSTOMER_ID),
        ColumnSpec("issue_date", True, _names("rechnungsdatum belegdatum datum date")),
        ColumnSpec(
            "due_date",
            True,
            _names("faelligkeit faellig_am faelligkeitsdatum faellig zahlungsziel due"),
        ),
        ColumnSpec(
            "amount",
            True,
            _names("betrag bruttobetrag brutto summe rechnungsbetrag offener_betrag"),
        ),
        ColumnSpec("currency", False, _CURRENCY),
        ColumnSpec("due_date_agreed", False, _names("faelligkeit_vereinbart")),
        ColumnSpec("notice_30_days", False, _names("hinweis_30_tage verzugshinweis")),
        ColumnSpec("received_on", False, _names("zugang zugegangen_am zugestellt_am")),
        ColumnSpec(
            "claim_kind",
            False,
            _names("forderungsart art_der_forderung forderungstyp kind_of_claim claim_type"),
        ),
        *_skonto_columns(),
    ),
    "payments": (
        ColumnSpec(
            "payment_id",
            True,
            _names(
                "zahlungs_id zahlungsnummer zahlung_nr buchungsnummer buchungs_id "
                "transaktions_id transaction_id"
            ),
        ),
        ColumnSpec(
            "date",
            True,
            _names("buchungsdatum buchungstag datum valuta wertstellung zahlungsdatum booked_on"),
        ),
        ColumnSpec("amount", True, _names("betrag zahlbetrag umsatz")),
        ColumnSpec("currency", False, _CURRENCY),
        ColumnSpec("invoice_id", False, _INVOICE_ID),
        ColumnSpec(
            "reference", False, _names("verwendungszweck referenz buchungstext zweck remittance")
        ),
        ColumnSpec("customer_id", False, _CUSTOMER_ID),
    ),
}


def _alias_map(kind: Kind) -> dict[str, str]:
    result: dict[str, str] = {}
    for spec in COLUMNS[kind]:
        for alias in (spec.name, *spec.aliases):
            result[_norm_header(alias)] = spec.name
    return result


_ALIASES: dict[Kind, dict[str, str]] = {kind: _alias_map(kind) for kind in KINDS}
