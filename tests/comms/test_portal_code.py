"""The portal link's QR code on a letter: captioned with what it is for, beside the
GiroCode's own caption, and the letter's text names it by that caption — true with one
code on the page or two (a "QR code top right" would be either of them)."""

from __future__ import annotations

from datetime import date

import pytest

from mahnwerk.engine.comms.checks import probe_context
from mahnwerk.engine.comms.config import load_settings
from mahnwerk.engine.comms.pdf import PORTAL_CAPTIONS, Letter, letters_pdf
from mahnwerk.engine.comms.templates import TemplateStore

from .helpers import write_config

LINK = "https://kunden.example.com/p/Ab3dEf6hIj9k.QrStUvWxYz0123456789ab"
STORE = TemplateStore()
DPI = 150


def _letter(settings, language: str, link: str | None) -> tuple[bytes, str]:
    ctx = probe_context("mahnung_1", language, "letter", settings=settings)
    ctx["portal_link"] = link
    rendered = STORE.render(STORE.find("mahnung_1", language, "letter"), ctx)
    letter = Letter(settings.creditor, ctx["recipient"].lines, rendered.subject,
                    rendered.html or rendered.text, date(2026, 6, 1), language,
                    ctx["customer"].number, ctx["reference"], link)  # fmt: skip
    return letters_pdf([letter]), " ".join(rendered.text.split())


def _codes_and_caption(pdf: bytes, caption: str):
    """The QR codes of page 1 (payload, top and bottom in points) and where `caption` is."""
    import pypdfium2
    import zxingcpp

    document = pypdfium2.PdfDocument(pdf)
    page = document[0]
    height = page.get_height()
    image = page.render(scale=DPI / 72, grayscale=True).to_pil()
    codes = []
    for b in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode):
        ys = [b.position.top_left.y, b.position.bottom_left.y]
        xs = [b.position.top_left.x, b.position.top_right.x]
        codes.append((bytes(b.bytes), min(ys) * 72 / DPI, max(ys) * 72 / DPI,
                      min(xs) * 72 / DPI))  # fmt: skip
    text = page.get_textpage()
    found = text.search(caption, match_case=True).get_next()
    assert found is not None, f"no caption {caption!r} on the page"
    left, bottom, right, top = text.get_charbox(found[0])
    document.close()
    return codes, (height - top, right)


@pytest.mark.parametrize("language", ["de", "en"])
def test_each_code_on_a_letter_is_captioned_and_the_text_names_the_right_one(
    tmp_path, language
) -> None:
    settings = load_settings(
        write_config(legal=True, collection=False, path=tmp_path / "mahnwerk.toml"), env={}
    )
    caption = PORTAL_CAPTIONS[language][0]
    pdf, text = _letter(settings, language, LINK)
    codes, (caption_y, caption_x) = _codes_and_caption(pdf, caption)
    link = [c for c in codes if c[0] == LINK.encode()]
    giro = [c for c in codes if c[0].startswith(b"BCD")]
    assert len(link) == 1 and len(giro) == 1  # two codes on the first page
    _, top, bottom, left = link[0]
    assert top <= caption_y <= bottom and caption_x < left  # the caption beside its code
    _, giro_top, giro_bottom, _ = giro[0]
    assert not giro_top <= caption_y <= giro_bottom  # not beside the GiroCode
    # the text sends the reader to the code by its caption, not to "top right"
    named = ("„{}“", '"{}"')[language == "en"].format(caption)
    assert named in text and LINK in text
    assert "oben rechts" not in text and "top right" not in text
    # without a portal the letter neither draws the code nor mentions it
    bare, bare_text = _letter(settings, language, None)
    assert caption not in bare_text
    import pypdfium2

    doc = pypdfium2.PdfDocument(bare)
    assert caption not in doc[0].get_textpage().get_text_range()
    doc.close()
