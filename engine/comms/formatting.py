"""Amounts, dates and rates as a reader in the customer's language writes them.

German letters say `1.234,56 €` and `15.04.2026`, English ones `€1,234.56` and
`15 April 2026`; Babel knows the conventions, so the templates only ever write
`{{ amount|money }}` and `{{ day|date }}`.  Amounts stay `Decimal` until they
become text here — never float.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

LOCALES = {"de": "de_DE", "en": "en_GB"}


def locale_for(language: str) -> str:
    """`de` → `de_DE`; an unknown language is refused rather than guessed."""
    try:
        return LOCALES[language]
    except KeyError:
        raise ValueError(
            f"no locale for language {language!r}: use one of {', '.join(LOCALES)}"
        ) from None


@lru_cache(maxsize=4096)
def _money(amount: Decimal, currency: str, locale: str) -> str:
    return format_currency(amount, currency, locale=locale)


def money(amount: Decimal | int | str, language: str, currency: str = "EUR") -> str:
    """`Decimal("1234.56")` → `1.234,56 €` (de) or `€1,234.56` (en)."""
    return _money(Decimal(amount).quantize(Decimal("0.01")), currency, locale_for(language))


@lru_cache(maxsize=4096)
def _date(day: date, locale: str, short: bool) -> str:
    if locale.startswith("de"):
        pattern = "dd.MM.yyyy"
    else:
        pattern = "dd/MM/yyyy" if short else "d MMMM yyyy"
    return format_date(day, pattern, locale=locale)


def day(value: date | datetime, language: str, short: bool = False) -> str:
    """A calendar day: `15.04.2026` (de), `15 April 2026` or in tables `15/04/2026` (en)."""
    if isinstance(value, datetime):
        value = value.date()
    return _date(value, locale_for(language), short)


def percent(rate: Decimal | int | str, language: str) -> str:
    """A rate in percent a year: `Decimal("9.27")` → `9,27 %` (de) or `9.27%` (en)."""
    text = format_decimal(Decimal(rate), format="#,##0.00", locale=locale_for(language))
    return f"{text} %" if language == "de" else f"{text}%"
