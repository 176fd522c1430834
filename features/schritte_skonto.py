"""Steps of the Skonto scenarios (`skonto.feature`): e-invoices with terms, the terms stored.

Kept apart from conftest.py, which imports them.  E-invoices enter through the real
importer (`engine/einvoice`), exactly as `mahnwerk import einvoice` reads them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_bdd import parsers, then, when
from sqlalchemy import select

from mahnwerk.engine import models as m

ROOT = Path(__file__).resolve().parent.parent


@when(parsers.parse('die E-Rechnung "{pfad}" eingelesen wird'))
def e_rechnung(welt: Any, pfad: str) -> None:
    from mahnwerk.engine.einvoice.load import import_einvoices

    import_einvoices(welt.engine, [ROOT / pfad])


@then(parsers.parse('hat "{rechnung}" die Skontostufen:'))
def skontostufen(welt: Any, rechnung: str, datatable: list[list[str]]) -> None:
    from mahnwerk.engine.importer import parse_amount
    from mahnwerk.engine.terms import tiers_from_json

    inv = m.Invoice.__table__
    with welt.engine.connect() as conn:
        stored = conn.execute(
            select(inv.c.skonto_terms).where(inv.c.external_id == rechnung)
        ).scalar_one()
    header, *rows = datatable
    want = []
    for row in rows:
        cells = dict(zip(header, row, strict=True))
        want.append((int(cells["Tage"]), parse_amount(cells["Prozent"].rstrip(" %"))))
    got = [(t.days, t.percent) for t in tiers_from_json(stored)]
    assert got == want, f"Skontostufen von {rechnung}: {got}"
