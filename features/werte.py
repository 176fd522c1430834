"""Values the German scenarios write as a finance person would: amounts (`1.000,00 EUR`),
days, the hour a daily run starts, `–` for none, ja/nein, Verbraucher/Unternehmen.
Amounts and days go through the importer's own parsers.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

from mahnwerk.engine.importer import parse_amount, parse_date


def betrag(text: str) -> Decimal:
    """`1.000,00 EUR`, `16,89 €` or `0,00` as a Decimal, through the importer's parser."""
    cleaned = text.strip().removesuffix("EUR").removesuffix("€").strip()
    return parse_amount(cleaned)


def tag(text: str) -> date:
    return parse_date(text.strip())


def morgens(day: date) -> datetime:
    """The wall-clock instant a daily run is started: 06:00 UTC on that day."""
    return datetime.combine(day, time(6, 0), UTC)


_OHNE = ("–", "-", "")
_JA = {"ja": True, "nein": False}


def _tag_oder_nichts(text: str) -> date | None:
    return None if text.strip() in _OHNE else tag(text)


def _verbraucher(schuldner: str) -> bool:
    assert schuldner in ("Verbraucher", "Unternehmen"), schuldner
    return schuldner == "Verbraucher"
