"""Steps of the outlines over the pure law functions: default (Verzug), statutory interest,
allocation (§ 366, § 367 BGB), lump sum and collection costs, limitation.  They compute
with plain values, no database; `ergebnis` carries a computation to its `Dann` steps.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pytest_bdd import parsers, then, when
from werte import _JA, _OHNE, _tag_oder_nichts, _verbraucher, betrag, tag

from mahnwerk.engine import allocation as allocation_mod
from mahnwerk.engine import default as default_mod
from mahnwerk.engine import fees as fees_mod
from mahnwerk.engine import interest as interest_mod
from mahnwerk.engine import limitation as limitation_mod
from mahnwerk.engine import rates as rates_mod
from mahnwerk.engine.importer import parse_amount


@pytest.fixture
def ergebnis() -> dict[str, Any]:
    """What a pure legal computation of an outline returned, for its `Dann` steps."""
    return {}


# --- the law functions, for the outlines ------------------------------------------


@when(
    parsers.parse(
        "der Verzugsbeginn einer Rechnung bestimmt wird: fällig {faellig}, Fälligkeit "
        "vereinbart {vereinbart}, Schuldner {schuldner}, zugegangen {zugang}, Hinweis "
        "auf 30 Tage {hinweis}, Mahnung zugegangen {mahnung}, Bundesland {land}"
    )
)
def verzugsbeginn(
    ergebnis: dict[str, Any],
    faellig: str,
    vereinbart: str,
    schuldner: str,
    zugang: str,
    hinweis: str,
    mahnung: str,
    land: str,
) -> None:
    ergebnis["verzug"] = default_mod.default_start(
        due_date=tag(faellig),
        due_date_agreed=_JA[vereinbart],
        consumer=_verbraucher(schuldner),
        received_on=_tag_oder_nichts(zugang),
        notice_30_days=_JA[hinweis],
        first_reminder_received=_tag_oder_nichts(mahnung),
        region=land,
    )


@then(parsers.parse('beginnt der Verzug am {beginn} nach Regel "{regel}"'))
def verzug_beginnt(ergebnis: dict[str, Any], beginn: str, regel: str) -> None:
    found = ergebnis["verzug"]
    if beginn.strip() in _OHNE:
        assert found is None, found
        return
    assert found is not None, "kein Verzug"
    assert (found.start, found.rule) == (tag(beginn), regel), found


@when(parsers.parse("der gesetzliche Verzugszins am {tag_} für {schuldner} ({art}) bestimmt wird"))
def zinssatz(ergebnis: dict[str, Any], tag_: str, schuldner: str, art: str) -> None:
    assert art in ("Entgeltforderung", "sonstige Geldschuld"), art
    ergebnis["basis"] = rates_mod.base_rate_on(tag(tag_))
    ergebnis["satz"] = rates_mod.statutory_rate_on(
        tag(tag_),
        consumer=_verbraucher(schuldner),
        payment_for_goods_or_services=art == "Entgeltforderung",
    )
    ergebnis["vorlaeufig"] = rates_mod.base_rate_table().is_provisional(tag(tag_))


def _prozent(text: str) -> Decimal:
    return parse_amount(text.strip().removesuffix("%").strip())


@then(parsers.parse("beträgt der Basiszins {basis} und der Verzugszins {satz} im Jahr"))
def saetze(ergebnis: dict[str, Any], basis: str, satz: str) -> None:
    assert (ergebnis["basis"], ergebnis["satz"]) == (_prozent(basis), _prozent(satz)), ergebnis


@then(parsers.parse("ist der Basiszins an diesem Tag {sicher}"))
def basiszins_sicher(ergebnis: dict[str, Any], sicher: str) -> None:
    assert sicher in ("veröffentlicht", "vorläufig"), sicher
    assert ergebnis["vorlaeufig"] == (sicher == "vorläufig"), ergebnis


@when(
    parsers.parse(
        "Verzugszinsen auf {haupt} gegen {schuldner} ab dem {von} bis zur Gutschrift am "
        "{gutschrift} berechnet werden"
    )
)
def zinsen_rechnen(
    ergebnis: dict[str, Any], haupt: str, schuldner: str, von: str, gutschrift: str
) -> None:
    ergebnis["zinsen"] = interest_mod.default_interest(
        betrag(haupt), tag(von), tag(gutschrift), consumer=_verbraucher(schuldner)
    )


@then(parsers.parse("ergeben sich die Zeiträume:"))
def zinszeitraeume(ergebnis: dict[str, Any], datatable: list[list[str]]) -> None:
    header, *rows = datatable
    want = [(int(r[0]), _prozent(r[1]), betrag(r[2])) for r in rows]
    got = [(p.days, p.rate, p.rounded) for p in ergebnis["zinsen"].periods]
    assert got == want, got


@then(parsers.parse("betragen die Verzugszinsen zusammen {summe}"))
def zinsen_summe(ergebnis: dict[str, Any], summe: str) -> None:
    assert ergebnis["zinsen"].total == betrag(summe), ergebnis["zinsen"]


@when(
    parsers.parse(
        "eine Zahlung von {zahlung} auf Kosten {kosten}, Zinsen {zinsen} und "
        "Hauptforderung {haupt} verrechnet wird"
    )
)
def verrechnen(
    ergebnis: dict[str, Any], zahlung: str, kosten: str, zinsen: str, haupt: str
) -> None:
    ergebnis["tilgung"] = allocation_mod.allocate_367(
        betrag(zahlung), costs=betrag(kosten), interest=betrag(zinsen), principal=betrag(haupt)
    )


@then(
    parsers.parse(
        "tilgt sie Kosten {kosten}, Zinsen {zinsen} und Hauptforderung {haupt}, Überschuss {rest}"
    )
)
def getilgt(ergebnis: dict[str, Any], kosten: str, zinsen: str, haupt: str, rest: str) -> None:
    a = ergebnis["tilgung"]
    got = (a.costs, a.interest, a.principal, a.excess)
    assert got == (betrag(kosten), betrag(zinsen), betrag(haupt), betrag(rest)), got


@then(parsers.parse("bleibt eine Hauptforderung von {haupt} offen"))
def bleibt_offen(ergebnis: dict[str, Any], haupt: str) -> None:
    assert ergebnis["tilgung"].remaining.principal == betrag(haupt), ergebnis["tilgung"]


@when(parsers.parse("eine Zahlung von {zahlung} ohne Bestimmung am {tag_} eingeht auf:"))
def verrechnen_366(
    ergebnis: dict[str, Any], zahlung: str, tag_: str, datatable: list[list[str]]
) -> None:
    header, *rows = datatable
    claims = []
    for row in rows:
        cells = dict(zip(header, row, strict=True))
        claims.append(
            allocation_mod.OpenClaim(
                id=cells["Rechnung"],
                due_date=tag(cells["Fälligkeit"]),
                owed=allocation_mod.Balance(principal=betrag(cells["offen"])),
                secured=_JA[cells["gesichert"]],
            )
        )
    ergebnis["366"] = allocation_mod.allocate_366(betrag(zahlung), claims, tag(tag_))


@then(parsers.parse("erhalten die Rechnungen:"))
def erhalten(ergebnis: dict[str, Any], datatable: list[list[str]]) -> None:
    header, *rows = datatable
    split = ergebnis["366"]
    for rechnung, summe in rows:
        assert split.for_claim(rechnung).paid.total == betrag(summe), split


@when(
    parsers.parse(
        "nach der Pauschale von {pauschale} Rechtsverfolgungskosten von {kosten} entstehen"
    )
)
def pauschale_anrechnen(ergebnis: dict[str, Any], pauschale: str, kosten: str) -> None:
    ergebnis["pauschale"] = betrag(pauschale)
    ergebnis["rest"] = fees_mod.costs_after_lump_sum(betrag(pauschale), betrag(kosten))


@then(parsers.parse("sind davon noch {rest} zu zahlen, zusammen mit der Pauschale {gesamt}"))
def pauschale_rest(ergebnis: dict[str, Any], rest: str, gesamt: str) -> None:
    assert ergebnis["rest"] == betrag(rest), ergebnis
    assert ergebnis["pauschale"] + ergebnis["rest"] == betrag(gesamt), ergebnis


_FAELLE = {
    "Regelfall": fees_mod.CollectionCase.STANDARD,
    "Zahlung auf erste Aufforderung": fees_mod.CollectionCase.PAID_ON_FIRST_DEMAND,
    "besonders schwierig": fees_mod.CollectionCase.DIFFICULT,
}


@when(
    parsers.parse(
        "Inkassokosten für eine Forderung von {wert} mit Auftrag am {tag_} im "
        'Fall "{fall}" berechnet werden'
    )
)
def inkassokosten(ergebnis: dict[str, Any], wert: str, tag_: str, fall: str) -> None:
    ergebnis["inkasso"] = fees_mod.collection_costs(betrag(wert), tag(tag_), _FAELLE[fall])


@then(parsers.parse("beträgt die 1,0-Gebühr {eins}"))
def eins_gebuehr(ergebnis: dict[str, Any], eins: str) -> None:
    assert ergebnis["inkasso"].one_fee == betrag(eins), ergebnis["inkasso"]


@then(parsers.parse("betragen Geschäftsgebühr {gebuehr} und Auslagen {auslagen}, zusammen {summe}"))
def inkasso_summe(ergebnis: dict[str, Any], gebuehr: str, auslagen: str, summe: str) -> None:
    c = ergebnis["inkasso"]
    assert (c.fee, c.expenses, c.total) == (betrag(gebuehr), betrag(auslagen), betrag(summe)), c


@when(
    parsers.parse(
        "die Verjährung einer am {faellig} fälligen Forderung mit Anerkenntnis "
        "(Teilzahlung) am {teilzahlung} bestimmt wird"
    )
)
def verjaehrung(ergebnis: dict[str, Any], faellig: str, teilzahlung: str) -> None:
    day = _tag_oder_nichts(teilzahlung)
    events = [limitation_mod.Restart(day, "Teilzahlung")] if day else []
    ergebnis["verjaehrt_ab"] = limitation_mod.time_barred_from(tag(faellig), events)


@then(parsers.parse("ist sie ab dem {tag_} verjährt"))
def verjaehrt(ergebnis: dict[str, Any], tag_: str) -> None:
    assert ergebnis["verjaehrt_ab"] == tag(tag_), ergebnis
