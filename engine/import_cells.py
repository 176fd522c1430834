"""Reading one cell of an imported CSV file: amounts, dates, yes/no, currencies,
countries, regions, languages and time zones, as German exports write them.

Each parser takes the cell's text and returns the value or raises `CellError`
with what to write instead; the checker turns that into `FILE:ROW:COLUMN`.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mahnwerk.engine.import_columns import _names
from mahnwerk.errors import MahnwerkError

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1000000000000")  # Numeric(14, 2) holds up to 999 999 999 999.99


class CellError(MahnwerkError, ValueError):
    """A value that cannot be read; `hint` tells the user what to write instead."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


_AMOUNT_FORMS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    # (pattern, thousands separator, decimal separator)
    (re.compile(r"\d+"), "", ""),
    (re.compile(r"\d+,\d{1,2}"), "", ","),
    (re.compile(r"\d+\.\d{1,2}"), "", "."),
    (re.compile(r"\d{1,3}(?:\.\d{3})+,\d{1,2}"), ".", ","),
    (re.compile(r"\d{1,3}(?:,\d{3})+\.\d{1,2}"), ",", "."),
    (re.compile(r"\d{1,3}(?:\.\d{3}){2,}"), ".", ""),
    (re.compile(r"\d{1,3}(?:,\d{3}){2,}"), ",", ""),
)
_AMBIGUOUS = re.compile(r"\d{1,3}[.,]\d{3}")
_TOO_PRECISE = re.compile(r"[\d.,]*[.,]\d{3,}")


@lru_cache(maxsize=65536)
def parse_amount(text: str) -> Decimal:
    """`1.234,56`, `1234,56`, `1234.56` → `Decimal('1234.56')`; refuses the ambiguous `1.234`."""
    value = text.strip()
    sign = ""
    if value[:1] in "+-" and value:
        sign, value = value[0], value[1:].strip()
    if not value:
        raise CellError("amount is empty", "write the amount, e.g. 1.234,56")
    for pattern, thousands, decimal_sep in _AMOUNT_FORMS:
        if pattern.fullmatch(value):
            plain = value.replace(thousands, "") if thousands else value
            plain = plain.replace(decimal_sep, ".") if decimal_sep else plain
            try:
                return Decimal(sign + plain).quantize(CENT)
            except InvalidOperation:  # pragma: no cover - patterns only let digits through
                break
    if _AMBIGUOUS.fullmatch(value):
        whole = int(value.replace(".", "").replace(",", ""))
        german = f"{whole:,}".replace(",", ".")
        raise CellError(
            f"amount {text.strip()!r} is ambiguous (thousands separator, or three decimals?)",
            f"for {whole} write {whole} or {german},00; amounts have at most two decimals",
        )
    if _TOO_PRECISE.fullmatch(value):
        raise CellError(
            f"amount {text.strip()!r} has more than two decimal places",
            "amounts are in cents: at most two digits after the decimal comma",
        )
    raise CellError(
        f"not an amount: {text.strip()!r}",
        "write digits with a decimal comma or point, e.g. 1.234,56 or 1234.56 (no currency sign)",
    )


_DE_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


@lru_cache(maxsize=65536)
def parse_date(text: str) -> date:
    """`31.01.2024` or `2024-01-31` → `date(2024, 1, 31)`; two-digit years are refused."""
    value = text.strip()
    if m := _DE_DATE.fullmatch(value):
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    elif m := _ISO_DATE.fullmatch(value):
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    else:
        raise CellError(
            f"not a date: {value!r}", "write dd.mm.yyyy (31.01.2024) or yyyy-mm-dd (2024-01-31)"
        )
    try:
        return date(year, month, day)
    except ValueError:
        raise CellError(f"no such day: {value!r}", "check day and month") from None


_TRUE = frozenset({"yes", "y", "ja", "j", "true", "wahr", "1", "x"})
_FALSE = frozenset({"no", "n", "nein", "false", "falsch", "0", ""})


@lru_cache(maxsize=4096)
def parse_bool(text: str) -> bool:
    """yes/no, ja/nein, true/false, 1/0 (any case); empty means no."""
    value = text.strip().casefold()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise CellError(f"not yes or no: {text.strip()!r}", "write ja/nein, yes/no, true/false or 1/0")


_GOODS_SERVICES = frozenset(
    "entgelt entgeltforderung lieferung leistung ware waren dienstleistung werklohn miete "
    "goods services goods_services goods_or_services payment_for_goods_or_services".split()
)
_OTHER_DEBT = frozenset(
    "sonstige sonstiges sonstige_geldforderung andere darlehen schadensersatz vertragsstrafe "
    "erstattung other other_money_debt loan damages refund".split()
)


def parse_claim_kind(text: str) -> str:
    """A4, A7: `goods_services` (Entgeltforderung, § 288 Abs. 2 BGB) or `other`; empty means
    goods_services (what an invoice usually is)."""
    value = re.sub(r"[^a-z0-9]+", "_", text.strip().casefold().replace("ä", "ae")).strip("_")
    if value == "" or value in _GOODS_SERVICES:
        return "goods_services"
    if value in _OTHER_DEBT:
        return "other"
    raise CellError(
        f"not a kind of claim: {text.strip()!r}",
        "write Entgelt (payment for goods or services) or sonstige (another money debt, "
        "e.g. a loan or damages)",
    )


@lru_cache(maxsize=4096)
def parse_currency(text: str) -> str:
    """A three-letter ISO 4217 code; empty means EUR, `€` is EUR."""
    value = text.strip()
    if value in ("", "€"):
        return "EUR"
    if not re.fullmatch(r"[A-Za-z]{3}", value):
        raise CellError(f"not a currency code: {value!r}", "write a 3-letter code such as EUR")
    return value.upper()


@lru_cache(maxsize=4096)
def parse_list(text: str) -> str:
    """`vip | slow payer, b` → `vip,slow payer,b`: stored comma-separated, without duplicates."""
    items = (item.strip() for item in re.split(r"[|,]", text))
    return ",".join(dict.fromkeys(item for item in items if item))


_CUSTOMER_TYPES = {
    **dict.fromkeys(
        _names("b2b business firma gewerblich unternehmen geschaeftskunde geschäftskunde"), "B2B"
    ),
    **dict.fromkeys(_names("b2c consumer privat privatkunde verbraucher"), "B2C"),
}
_COUNTRIES = {
    "deutschland": "DE",
    "germany": "DE",
    "oesterreich": "AT",
    "österreich": "AT",
    "austria": "AT",
    "schweiz": "CH",
    "switzerland": "CH",
}
_LAENDER = {
    "BW": "baden-württemberg",
    "BY": "bayern",
    "BE": "berlin",
    "BB": "brandenburg",
    "HB": "bremen",
    "HH": "hamburg",
    "HE": "hessen",
    "MV": "mecklenburg-vorpommern",
    "NI": "niedersachsen",
    "NW": "nordrhein-westfalen",
    "RP": "rheinland-pfalz",
    "SL": "saarland",
    "SN": "sachsen",
    "ST": "sachsen-anhalt",
    "SH": "schleswig-holstein",
    "TH": "thüringen",
}
_LAND_NAMES = {name: code for code, name in _LAENDER.items()}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"[+0-9 ()/.\-]+")
_PLZ = re.compile(r"\d{5}")


@lru_cache(maxsize=4096)
def parse_customer_type(text: str) -> str:
    if not text.strip():
        raise CellError("customer type is empty", "write B2B (business) or B2C (consumer)")
    value = _CUSTOMER_TYPES.get(text.strip().casefold())
    if value is None:
        raise CellError(
            f"unknown customer type {text.strip()!r}",
            "write B2B (business) or B2C (consumer): the law differs for the two",
        )
    return value


@lru_cache(maxsize=4096)
def parse_country(text: str) -> str:
    value = text.strip()
    if not value:
        return "DE"
    value = _COUNTRIES.get(value.casefold(), value)
    if not re.fullmatch(r"[A-Za-z]{2}", value):
        raise CellError(f"not a country code: {value!r}", "write the 2-letter ISO code, e.g. DE")
    return value.upper()


@lru_cache(maxsize=4096)
def parse_region(text: str, country: str) -> str | None:
    """A German Land as `BY` (also `DE-BY` or `Bayern`); other countries' codes as given."""
    value = text.strip()
    if not value:
        return None
    if code := _LAND_NAMES.get(value.casefold()):
        return code
    value = value.upper().removeprefix(f"{country}-")
    if country == "DE" and value not in _LAENDER:
        raise CellError(
            f"unknown German Land {text.strip()!r}",
            f"write one of {', '.join(_LAENDER)} (public holidays depend on it)",
        )
    if not re.fullmatch(r"[A-Z0-9]{1,3}", value):
        raise CellError(f"not a region code: {text.strip()!r}", "write a code such as BY")
    return value


@lru_cache(maxsize=4096)
def parse_language(text: str) -> str:
    value = text.strip().lower()
    if not value:
        return "de"
    value = re.sub(r"[-_][a-z]{2}$", "", value)
    if not re.fullmatch(r"[a-z]{2}", value):
        raise CellError(f"not a language code: {text.strip()!r}", "write e.g. de or en")
    return value


@lru_cache(maxsize=4096)
def parse_timezone(text: str) -> str:
    value = text.strip()
    if not value:
        return "Europe/Berlin"
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise CellError(f"unknown time zone {value!r}", "write e.g. Europe/Berlin") from None
    return value


def _optional(text: str) -> str | None:
    return text.strip() or None
