"""The GiroCode (EPC QR code) on letters and in e-mails, read back as a banking app reads it.

Every code here is decoded by a real QR decoder (zxing-cpp) from what the customer gets: the
letter's PDF rasterised (pypdfium2), the PNG inside the e-mail.  The round trip goes on
through the bank import: the scanned payment as a camt.053 credit, `mahnwerk import bank`,
and the money must land on exactly the letter's invoices.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from mahnwerk.cli import app
from mahnwerk.engine import models as m
from mahnwerk.engine.comms import formatting, girocode
from mahnwerk.engine.comms.checks import probe_context
from mahnwerk.engine.comms.config import load_settings
from mahnwerk.engine.comms.context import build_context
from mahnwerk.engine.comms.dispatch import dispatch
from mahnwerk.engine.comms.pdf import Letter, letters_pdf, letters_pdf_each
from mahnwerk.engine.comms.templates import TemplateError, TemplateStore

from .girocode_helpers import camt053
from .helpers import NOW, write_config

STORE = TemplateStore()
LETTERS = sorted({(k.name, k.language) for k in STORE.keys() if k.channel == "letter"})


def letter_for(ctx, settings) -> Letter:
    rendered = STORE.render(STORE.find(ctx["template"], ctx["language"], "letter"), ctx)
    return Letter(
        settings.creditor,
        ctx["recipient"].lines,
        rendered.subject,
        rendered.html or rendered.text,
        date(2026, 6, 1),
        ctx["language"],
        ctx["customer"].number,
        ctx["reference"],
    )


def many(ctx, count: int, settings):
    one = ctx["invoices"][0]
    invoices = [dataclasses.replace(one, id=n, number=f"PR-2026-{n:04d}") for n in range(count)]
    return build_context(
        settings=settings,
        customer=ctx["customer"],
        invoices=invoices,
        template=ctx["template"],
        channel="letter",
        language=ctx["language"],
        tone=None,
        letter_date=date(2026, 6, 1),
        state="mahnung_1",
    )


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    folder = tmp_path_factory.mktemp("girocode")
    return load_settings(
        write_config(legal=True, collection=False, path=folder / "mahnwerk.toml"), env={}
    )


def test_every_letter_in_german_and_english_carries_a_code_for_its_open_amount(settings):
    """Scanned from the printed page: creditor, IBAN, BIC, exactly the open total, and the
    reference the letter prints as Verwendungszweck."""
    contexts = [probe_context(n, lang, "letter", settings=settings) for n, lang in LETTERS]
    drawn = letters_pdf_each([letter_for(ctx, settings) for ctx in contexts])
    assert {lang for _, lang in LETTERS} == {"de", "en"}
    for (name, language), ctx, pdf in zip(LETTERS, contexts, drawn, strict=True):
        [codes] = girocode.read_pdf(pdf)
        assert len(codes) == 1, (name, language)
        code = codes[0]
        assert code.amount == ctx["totals"]["balance"] == Decimal("1250.35"), name
        assert code.text == ctx["reference"] == "PR-2026-0815"
        assert code.iban == "DE89370400440532013000" and code.bic == "COBADEFFXXX"
        assert code.name == "Muster Versand GmbH"


def test_a_letter_about_many_invoices_carries_one_code_per_group_that_fits_140_characters(
    settings,
):
    ctx = many(probe_context("mahnung_1", "de", "letter", settings=settings), 25, settings)
    pdf = letters_pdf([letter_for(ctx, settings)])
    codes = [code for page in girocode.read_pdf(pdf) for code in page]
    assert len(codes) == 3
    assert all(len(code.text) <= girocode.MAX_TEXT for code in codes)
    named = [n for code in codes for n in code.text.split()[2:]]
    assert named == [f"PR-2026-{n:04d}" for n in range(25)]  # each once, none cut
    assert all(code.text.startswith("Kd K-0042 ") for code in codes)
    assert sum(code.amount for code in codes) == ctx["totals"]["balance"]
    assert [code.amount for code in codes] == [Decimal("12503.50")] * 2 + [Decimal("6251.75")]
    # the printed reference is never cut inside a number either
    assert len(ctx["reference"]) <= 140 and ctx["reference"].split()[-1] == "PR-2026-0009"
    # the pay sentence names every transfer: its amount and the reference its code carries
    for language in ("de", "en"):
        lctx = many(probe_context("mahnung_1", language, "letter", settings=settings), 25,
                    settings)  # fmt: skip
        rendered = STORE.render(STORE.find("mahnung_1", language, "letter"), lctx)
        text = " ".join(rendered.text.split())
        quote = ("„{}“", '"{}"')[language == "en"]
        for code in codes:
            money = " ".join(formatting.money(code.amount, language).split())
            assert f"{money} " in text, language
            assert quote.format(code.text) in text, (language, code.text)
        assert ("in 3 Überweisungen", "in 3 transfers")[language == "en"] in text
        # and the online payment link too: one per transfer, each with its reference
        for code in codes:
            assert "https://pay.example.com/" + code.text.replace(" ", "%20") in text


def test_the_field_limits_of_epc069_12_hold():
    numbers = [f"R2026{n:06d}" for n in range(40)]
    for part in girocode.groups("K-0042", numbers):
        assert len(girocode.remittance("K-0042", part)) <= 140
    assert sum(girocode.groups("K-0042", numbers), []) == numbers
    creditor = dataclasses.replace(
        probe_context("mahnung_1", "de", "letter")["creditor"],
        name="Allgemeine Versorgungs- und Dienstleistungsgesellschaft für Stadtwerke "
        "Süd mbH & Co. KG",
    )
    assert len(creditor.name) > 70
    name = girocode.payee_name(creditor)
    assert len(name) <= 70 and creditor.name.startswith(name) and name.endswith("Stadtwerke")
    [transfer] = girocode.transfers(creditor, "K-0042", [("R1", Decimal("10.00"))])
    assert girocode.read_png(transfer.png())[0].name == name
    # a number too long for the field alone gets no code rather than a cut one
    assert girocode.transfers(creditor, "K", [("X" * 141, Decimal("1.00"))]) == []
    # EPC's largest amount is 999,999,999.99 EUR
    assert girocode.transfers(creditor, "K", [("R1", Decimal("999999999.99"))])
    assert girocode.transfers(creditor, "K", [("R1", Decimal("1000000000.00"))]) == []
    # a template asking for a code of no amount is the template's error, with file and line
    ctx = probe_context("mahnung_1", "de", "letter")
    with pytest.raises(TemplateError, match=r"_macros.j2:\d+: .*'abc' is not an amount"):
        STORE.render_source(
            '{% import "_macros.j2" as m with context %}{{ m.girocode("abc") }}', ctx, html=True
        )


def test_no_code_without_an_iban_or_without_money_asked_for(tmp_path):
    online_only = load_settings(
        write_config(legal=True, collection=False, path=tmp_path / "mahnwerk.toml", iban=None),
        env={},
    )
    assert online_only.creditor.iban == ""
    ctx = probe_context("mahnung_1", "de", "letter", settings=online_only)
    assert ctx["girocodes"].reason == "the creditor has no IBAN ([creditor] iban in the settings)"
    pdf = letters_pdf([letter_for(ctx, online_only)])
    assert girocode.read_pdf(pdf) == [[]]
    from io import BytesIO

    from pypdf import PdfReader

    text = " ".join(PdfReader(BytesIO(pdf)).pages[0].extract_text().split())
    assert "IBAN" not in text and "Bitte bezahlen Sie 1.250,35 €" in text
    assert "pay.example.com" in text
    # the call script asks for no money: no code
    settings = load_settings(
        write_config(legal=True, collection=False, path=tmp_path / "with-iban.toml"), env={}
    )
    call = probe_context("anruf_key_account", "de", "call", settings=settings)
    key = STORE.find("anruf_key_account", "de", "call")
    assert "girocode" not in STORE.render(key, call).text
    assert girocode.transfers(settings.creditor, "K", [("R1", Decimal("0.00"))]) == []
    assert (
        girocode.transfers(settings.creditor, "K", [("R1", Decimal("5.00"))], currencies=("CHF",))
        == []
    )


def test_an_email_asking_for_money_shows_the_code_as_an_inline_image(
    engine, seed, smtp_server, tmp_path
):
    settings = load_settings(
        write_config(
            legal=True, collection=False, path=tmp_path / "mahnwerk.toml", smtp=smtp_server
        ),
        env={"MAHNWERK_SMTP_PASSWORD": "geheim-123"},
    )
    c = seed.customer("K1", language="en")
    first = seed.invoice(c, "R2026-0001", state="erinnerung")
    seed.invoice(c, "R2026-0002", amount="250.00", state="erinnerung")
    seed.queue(first, c, "zahlungserinnerung", "email", state="erinnerung", language="en")
    seed.queue(first + 1, c, "zahlungserinnerung", "email", state="erinnerung", language="en")
    stats = dispatch(engine, settings, NOW)
    assert stats.errors == [] and stats.messages["email"] == 1
    [mail] = smtp_server.box.mails()
    html_part = mail.get_body(("html",))
    html = html_part.get_content()
    [image] = [p for p in mail.walk() if p.get_content_type() == "image/png"]
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html and "girocode:" not in html
    assert image.get_content_disposition() != "attachment"
    [code] = girocode.read_png(image.get_content())
    # 1,000.00 + 1.00 fee + 4.78 interest, and 250.00 + 1.00 + 4.78
    assert code.amount == Decimal("1261.56")
    assert code.text == "Kd K1 R2026-0001 R2026-0002"
    assert "girocode" not in mail.get_body(("plain",)).get_content()


def test_the_scanned_code_pays_exactly_the_letters_invoices_through_the_bank_import(
    engine, db_url, seed, tmp_path
):
    """QR → camt.053 credit with that amount and text → `mahnwerk import bank` → each
    invoice of the letter paid its open balance, nothing elsewhere, nothing to a person."""
    settings = load_settings(
        write_config(
            legal=True,
            collection=False,
            path=tmp_path / "mahnwerk.toml",
            letters=tmp_path / "letters",
        ),
        env={},
    )
    alone = seed.customer("K7001", name="Erika Mustermann")
    several = seed.customer("K7002", name="John Smith", language="en")
    single = seed.invoice(alone, "R2026000701", amount="119.00")
    bundle = [
        seed.invoice(several, f"R2026000{n}", amount=amount)
        for n, amount in ((702, "80.00"), (703, "1200.50"), (704, "15.99"))
    ]
    seed.invoice(several, "R2026000705", amount="300.00")  # open, but not in this letter
    lots = seed.customer("K7003", name="Viele Rechnungen GmbH", type="B2B")
    twelve = [seed.invoice(lots, f"R2026000{n}", amount=f"{n}.00") for n in range(710, 722)]
    seed.queue(single, alone, "mahnung_1", "letter")
    for iid in bundle:
        seed.queue(iid, several, "mahnung_1", "letter", language="en")
    for iid in twelve:
        seed.queue(iid, lots, "mahnung_1", "letter")
    stats = dispatch(engine, settings, NOW)
    assert stats.errors == [] and stats.messages["letter"] == 3
    pdfs = [p for p in stats.files if p.suffix == ".pdf"]
    assert len(pdfs) == 3
    scanned = [
        code for pdf in pdfs for page in girocode.read_pdf(pdf.read_bytes()) for code in page
    ]
    # twelve numbers do not fit 140 characters: two codes, for eleven and for one invoice
    assert sorted(code.text for code in scanned) == [
        "Kd K7002 R2026000702 R2026000703 R2026000704",
        "Kd K7003 " + " ".join(f"R2026000{n}" for n in range(710, 721)),  # 140 characters
        "R2026000701",
        "R2026000721",
    ]
    statement = camt053(tmp_path / "statement.xml", scanned, payer="Zahler Name")
    result = CliRunner().invoke(app, ["import", "bank", str(statement), "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "4 credits: 4 matched (16 payments" in result.output, result.output
    with engine.connect() as conn:
        paid = {
            r.external_id: r.amount
            for r in conn.execute(
                select(m.INV.c.external_id, m.PAY.c.amount).join(
                    m.PAY, m.PAY.c.invoice_id == m.INV.c.id
                )
            )
        }
    extra = Decimal("5.78")  # each seeded invoice owes a 1.00 fee and 4.78 interest
    assert paid == {
        "R2026000701": Decimal("119.00") + extra,
        "R2026000702": Decimal("80.00") + extra,
        "R2026000703": Decimal("1200.50") + extra,
        "R2026000704": Decimal("15.99") + extra,
        **{f"R2026000{n}": Decimal(n) + extra for n in range(710, 722)},
    }


def test_field_texts_survive_the_latin1_charset(settings):
    """A creditor name with umlauts is sent in ISO 8859-1 (charset 2) and read back as written."""
    creditor = dataclasses.replace(settings.creditor, name="Prüf-Gläubigerin GmbH")
    [transfer] = girocode.transfers(creditor, "K", [("R-ÄÖ-1", Decimal("12.30"))])
    [code] = girocode.read_png(transfer.png())
    assert (code.name, code.text, code.amount) == (
        "Prüf-Gläubigerin GmbH",
        "R-ÄÖ-1",
        Decimal("12.30"),
    )


# --- letters check ----------------------------------------------------------------------------

OWN_LETTER = """{% extends "_letter.de.j2" %}
{% block subject %}1. Mahnung{% endblock %}
{% block body %}
Bitte überweisen Sie {{ totals.balance|money }} auf unser Konto, IBAN {{ creditor.iban }},
Verwendungszweck „{{ reference }}“.

{{ m.girocode(WRONG) }}
{% endblock %}
"""


def letters_check(tmp_path, *args: str, iban: str | None = "DE89 3704 0044 0532 0130 00"):
    config = write_config(legal=True, collection=False, path=tmp_path / "mahnwerk.toml", iban=iban)
    return CliRunner().invoke(app, ["letters", "check", "--config", str(config), *args])


def test_letters_check_reads_every_letters_code_back_from_the_pdf(tmp_path):
    result = letters_check(tmp_path)
    assert result.exit_code == 0, result.output
    letters = sum(1 for k in STORE.keys() if k.channel == "letter")
    emails = sum(1 for k in STORE.keys() if k.channel == "email")
    assert f"GiroCode: {letters + emails} letters and e-mails carry a code that decodes" in (
        result.stdout
    )


def test_letters_check_reports_a_letter_whose_code_asks_for_another_amount(tmp_path):
    """The negative control: an own letter prints the open total but codes the principal."""
    own = tmp_path / "own"
    own.mkdir()
    (own / "mahnung_1.de.letter.j2").write_text(
        OWN_LETTER.replace("WRONG", "totals.principal"), encoding="utf-8"
    )
    (own / "mahnung_2.de.letter.j2").write_text(
        OWN_LETTER.replace("{{ m.girocode(WRONG) }}", ""), encoding="utf-8"
    )
    (own / "mahnung_2.en.letter.j2").write_text(
        OWN_LETTER.replace("WRONG", "totals.balance"), encoding="utf-8"
    )
    result = letters_check(tmp_path, "--templates", str(own))
    assert result.exit_code == 1, result.output
    assert (
        "mahnung_1.de.letter.j2: girocode: the GiroCode asks for 1.234,56\xa0€, "
        "the letter's open amount is 1.250,35\xa0€"
    ) in result.stderr
    assert (
        "mahnung_2.de.letter.j2: girocode: the message asks for money (it names the IBAN) "
        "but carries no GiroCode"
    ) in result.stderr
    assert "mahnung_2.en.letter.j2" not in result.stderr  # the same letter, coded right
    assert "2 problem(s)" in result.stderr


def test_letters_check_says_why_there_is_no_code(tmp_path):
    own = tmp_path / "own"
    own.mkdir()
    (own / "dank.de.letter.j2").write_text(
        '{% extends "_letter.de.j2" %}{% block subject %}Danke{% endblock %}'
        "{% block body %}vielen Dank für Ihre Zahlung.{% endblock %}",
        encoding="utf-8",
    )
    result = letters_check(tmp_path, "--templates", str(own))
    assert result.exit_code == 0, result.output
    assert "dank.de.letter.j2: no GiroCode: the message asks for no money" in result.stdout
    online = letters_check(tmp_path, iban=None)
    assert online.exit_code == 0, online.output
    assert (
        "GiroCode: none on any letter or e-mail: the creditor has no IBAN "
        "([creditor] iban in the settings)"
    ) in online.stdout
    assert "GiroCode: 0 letters and e-mails" in online.stdout
