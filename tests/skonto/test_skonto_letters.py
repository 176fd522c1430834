"""Letters show the terms that still apply, and the Skonto letter names terms and payment day."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from mahnwerk.engine.comms.checks import check_store, probe_context
from mahnwerk.engine.comms.templates import TemplateStore
from mahnwerk.engine.terms import Offered, Tier, all_terms


def flat(text: str) -> str:
    return " ".join(text.split())


def _with_terms(name: str, language: str, letter_date: date, channel: str = "letter") -> str:
    """A probe letter for an invoice of 1.200,00 € with 2 % Skonto within 10 days."""
    from mahnwerk.engine.comms.checks import probe_settings
    from mahnwerk.engine.comms.context import build_context

    ctx = probe_context(name, language, channel)
    invoice = replace(
        ctx["invoice"],
        issue_date=date(2026, 3, 2),
        due_date=date(2026, 4, 1),
        amount=Decimal("1200.00"),
        principal=Decimal("1200.00"),
        fees=Decimal("0.00"),
        interest=Decimal("0.00"),
        costs=(),
        interest_lines=(),
        deduction=None,
        terms=all_terms(
            date(2026, 3, 2),
            Decimal("1200.00"),
            Decimal("1200.00"),
            (Tier(10, Decimal("2.00")),),
            (Offered(date(2026, 4, 8), Decimal("1.5"), "p.mahn:9", date(2026, 3, 20)),),
        ),
    )
    ctx = build_context(
        settings=probe_settings(),
        customer=ctx["customer"],
        invoices=[invoice],
        template=name,
        channel=channel,
        language=language,
        tone=None,
        letter_date=letter_date,
    )
    store = TemplateStore()
    return flat(store.render(store.find(name, language, channel), ctx).text)


def test_a_letter_shows_the_skonto_that_still_applies_in_german():
    text = _with_terms("vorab_hinweis", "de", date(2026, 3, 5))
    assert "Skonto: bei Zahlung bis 12.03.2026 nur 1.176,00 €" in text
    assert "Unser Angebot: bei Zahlung bis 08.04.2026 nur 1.182,00 €" in text


def test_a_letter_shows_the_skonto_that_still_applies_in_english():
    text = _with_terms("vorab_hinweis", "en", date(2026, 3, 5))
    assert "pay by 12 March 2026 and pay only €1,176.00" in text


def test_a_term_whose_day_passed_is_not_shown():
    text = _with_terms("zahlungserinnerung", "de", date(2026, 3, 13))
    assert "12.03.2026" not in text and "1.176,00" not in text
    assert "bei Zahlung bis 08.04.2026 nur 1.182,00 €" in text


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_skonto_letter_names_the_terms_and_the_payment_day(language):
    store = TemplateStore()
    ctx = probe_context("skonto_nachforderung", language, "letter")
    text = flat(store.render(store.find("skonto_nachforderung", language, "letter"), ctx).text)
    if language == "de":
        assert "Zahlung über 1.209,87 €, die am 19.02.2026 bei uns eingegangen ist" in text
        assert "2,00 % Skonto bei Zahlung innerhalb von 14 Tagen, also bis zum 17.02.2026" in text
        assert "24,69 €" in text
        assert "Mahngebühr" not in text and "Mahnung" not in text
    else:
        assert "€1,209.87, which reached us on 19 February 2026" in text
        assert "by 17 February 2026" in text


def test_the_skonto_letters_pass_the_template_checks():
    assert check_store(TemplateStore()) == []
