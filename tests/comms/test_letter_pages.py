"""Letters a German business can send as they are: the sender's legal details, page numbers,
no closing alone on a page, one page for one invoice.

Checked as the customer and the print shop see them: the PDF's page count and its text
(pypdf), and `mahnwerk letters check` refusing a configuration that lacks a detail.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from mahnwerk.cli import app
from mahnwerk.engine.comms.checks import probe_context
from mahnwerk.engine.comms.config import EXAMPLE, demo_settings
from mahnwerk.engine.comms.context import build_context
from mahnwerk.engine.comms.legal import LEGAL_FORMS, missing
from mahnwerk.engine.comms.pdf import Letter, letters_pdf, letters_pdf_each
from mahnwerk.engine.comms.templates import TemplateStore

STORE = TemplateStore()
SETTINGS = demo_settings()


def flat(text: str) -> str:
    return " ".join(text.split())


def pages(pdf: bytes) -> list[str]:
    return [flat(p.extract_text()) for p in PdfReader(BytesIO(pdf)).pages]


def letter(name: str, language: str = "de", invoices: int = 1, business: bool = False) -> Letter:
    ctx = probe_context(name, language, "letter", settings=SETTINGS, business=business)
    if invoices > 1:
        one = ctx["invoices"][0]
        many = [dataclasses.replace(one, id=n, number=f"PR-2026-{n:04d}") for n in range(invoices)]
        ctx = build_context(
            settings=SETTINGS,
            customer=ctx["customer"],
            invoices=many,
            template=name,
            channel="letter",
            language=language,
            tone=None,
            letter_date=date(2026, 6, 1),
            state="mahnung_1",
        )
    rendered = STORE.render(STORE.find(name, language, "letter"), ctx)
    return Letter(
        SETTINGS.creditor,
        ctx["recipient"].lines,
        rendered.subject,
        rendered.html or rendered.text,
        date(2026, 6, 1),
        language,
        "K-0042",
        ctx["reference"],
    )


LETTERS = sorted({(k.name, k.language) for k in STORE.keys() if k.channel == "letter"})


@pytest.fixture(scope="module")
def one_invoice_letters() -> dict[tuple[str, str, bool], bytes]:
    """Every shipped letter for a consumer and a business, drawn in one go (fonts load once)."""
    keys = [(name, language, business) for name, language in LETTERS for business in (0, 1)]
    drawn = letters_pdf_each([letter(n, lang, business=bool(b)) for n, lang, b in keys])
    return dict(zip(keys, drawn, strict=True))


@pytest.mark.parametrize(("name", "language"), LETTERS)
def test_a_one_invoice_letter_fits_one_page_with_the_senders_legal_details(
    one_invoice_letters, name, language
):
    for business in (0, 1):
        (text,) = pages(one_invoice_letters[(name, language, business)])
        assert ("Page 1 of 1" if language == "en" else "Seite 1 von 1") in text
        court = "Register court" if language == "en" else "Registergericht"
        managers = "Managing directors" if language == "en" else "Geschäftsführung"
        assert f"{court}: Amtsgericht Berlin-Charlottenburg HRB 123456 B" in text
        assert f"{managers}: Erika Muster, Max Beispiel" in text
        assert ("Registered office: Berlin" if language == "en" else "Sitz: Berlin") in text
        assert "Tel. 030 1234567" in text and "forderungen@example.com" in text


def test_a_long_letter_is_numbered_and_its_closing_stays_with_the_last_paragraph():
    """Every length from 1 to 30 invoices: the page with "Mit freundlichen Grüßen" also
    holds the end of the paragraph before it, and every page says "Seite i von n"."""
    lengths = range(1, 31)
    drawn = letters_pdf_each([letter("mahnung_1", invoices=n) for n in lengths])
    multi = 0
    for n, pdf in zip(lengths, drawn, strict=True):
        text = pages(pdf)
        total = len(text)
        multi += total > 1
        for number, page in enumerate(text, 1):
            assert f"Seite {number} von {total}" in page, (n, number)
        closing = [p for p in text if "Mit freundlichen Grüßen" in p]
        assert len(closing) == 1, n
        assert "forderungen@example.com. Mit freundlichen Grüßen" in closing[0], (n, closing)
    assert multi > 10  # the check above met real page breaks


def test_a_print_batch_numbers_each_letter_on_its_own():
    batch = pages(letters_pdf([letter("mahnung_1", invoices=20), letter("mahnung_2")]))
    total = len(batch) - 1
    assert total > 1
    for number, page in enumerate(batch[:-1], 1):
        assert f"Seite {number} von {total}" in page
    assert "Seite 1 von 1" in batch[-1]


def test_the_handover_letter_for_a_business_fits_one_page():
    """The longest letter (§ 13a RDG): B3's details, the itemised costs and interest."""
    pdf = letters_pdf([letter("inkasso_ankuendigung", business=True)])
    assert len(pages(pdf)) == 1


# --- the configuration ----------------------------------------------------------------------


def check(tmp_path: Path, text: str):
    (tmp_path / "mahnwerk.toml").write_text(text, encoding="utf-8")
    config = str(tmp_path / "mahnwerk.toml")
    return CliRunner().invoke(app, ["letters", "check", "--config", config])


def test_the_example_configuration_passes_letters_check(tmp_path):
    result = check(tmp_path, EXAMPLE)
    assert result.exit_code == 0, result.output
    assert "templates: ok" in result.output


@pytest.mark.parametrize(
    "key",
    [
        "phone",
        "email",
        "legal_form",
        "seat",
        "register_court",
        "register_number",
        "managing_directors",
    ],
)
def test_letters_check_refuses_a_configuration_without_a_legal_detail(tmp_path, key):
    text = "\n".join(line for line in EXAMPLE.splitlines() if not line.startswith(f"{key} ="))
    assert text != EXAMPLE
    result = check(tmp_path, text)
    assert result.exit_code == 1, result.output
    assert f"[creditor] {key}: missing" in result.stderr


@pytest.mark.parametrize(
    ("form", "name", "wanted"),
    [
        ("AG", "Muster Versand AG", {"board"}),
        ("eG", "Muster Versand eG", {"board"}),
        ("GmbH & Co. KG", "Muster Versand GmbH & Co. KG", {"general_partner"}),
        ("e.K.", "Muster Versand", {"name"}),  # § 19 HGB: "e.K." belongs to the name
        ("KG", "Muster Versand KG", set()),
        ("Ltd", "Muster Versand Ltd", {"legal_form"}),
    ],
)
def test_each_legal_form_asks_for_its_own_details(form, name, wanted):
    creditor = dataclasses.replace(SETTINGS.creditor, legal_form=form, name=name)
    assert {gap.key for gap in missing(creditor)} == wanted


def test_the_table_knows_every_form_the_example_names():
    for form in ("GmbH", "UG (haftungsbeschränkt)", "AG", "OHG", "KG", "GmbH & Co. KG", "e.K."):
        assert form in LEGAL_FORMS and form in EXAMPLE


def test_an_english_letter_names_the_pages_in_english():
    (text,) = pages(letters_pdf([letter("mahnung_1", "en")]))
    assert "Page 1 of 1" in text and "Registered office: Berlin" in text
