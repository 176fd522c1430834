"""Letters as PDF: A4 in the DIN 5008 layout (form B), ready for a window envelope.

Positions (millimetres from the top-left corner), so the address shows
through a DL/C5/C6 window envelope and the folds land where they should:

* address field 20/45, 85 × 45: a 5 mm return line (the creditor's name and
  address only — E1: nothing on the envelope hints at a debt), then the
  recipient's address from 62.7;
* information block at 125/50: customer number, reference, date;
* subject from 98.5 (bold), text between the 25 mm and 20 mm margins;
* fold marks at 105 and 210, the punch mark at 148.5; on every page a footer
  with the creditor's address, phone and e-mail, the register details the legal
  form requires (`legal.imprint_lines`: § 35a GmbHG, §§ 37a, 125a HGB …) and
  the bank; "Seite 1 von 2" in the information block of the first page and at
  the top of the following ones — counted per letter, so a print batch of many
  letters numbers each letter on its own;
* the closing ("Mit freundlichen Grüßen" and the name) never stands alone on a
  page: if it and the paragraph before it do not fit, they move on together;
* the GiroCode (EPC QR code, `girocode.py`) of a letter that asks for money at the top
  right of the first page, 23 mm square between letterhead and information block, with a
  short caption beside it: a fixed place that never pushes a one-page letter onto a
  second page and is not seen through the envelope window (E1).  A letter about so many
  invoices that it needs several codes prints them in a row where the payment paragraph
  asks for the money, each with its amount.

The body is the template's HTML rendering (paragraphs, the invoice table,
lists), drawn by fpdf2 with DejaVu Sans (shipped with matplotlib) so that
`€`, umlauts and `„…“` print.  `letters_pdf` draws letters into one file;
`print_batch` joins the letters of a dispatch into the print shop's file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF

from mahnwerk.engine.comms import formatting, girocode
from mahnwerk.engine.comms.config import Creditor
from mahnwerk.engine.comms.legal import imprint_lines, page_label

LEFT, RIGHT = 25.0, 20.0
ADDRESS_X, ADDRESS_Y, ADDRESS_W = 20.0, 45.0, 85.0
INFO_X, INFO_Y = 125.0, 50.0
SUBJECT_Y = 98.5
FOOTER_H = 22.0
BREAK_MARGIN = FOOTER_H + 4  # the body ends 2 mm above the footer
FOLLOW_PAGE_Y = 10.0  # "Seite 2 von 2" above the text of the following pages
#: fpdf2 sets paragraphs and lists at 1.0, where descenders touch the next line; 1.2 reads
#: like a typed letter (DIN 5008 allows 1.0–1.5) and keeps a one-invoice letter on one page
LINE_HEIGHT = 1.2
#: paragraphs kept on one page at the end of a letter: the last one, greeting, name
CLOSING_PARAGRAPHS = 3
CODE_Y = 26.5  # the single GiroCode: below the letterhead, above the information block
CODE_ROW_GAP = 4.0
CODES_HERE = "<!--girocodes-->"  # where several codes go, in the body's HTML
CAPTIONS = {
    "de": (
        "GiroCode",
        "Mit Ihrer Banking-App scannen:",
        "Betrag und Verwendungszweck",
        "sind schon ausgefüllt.",
        "Bitte je Code eine Überweisung; jeder nennt seine Rechnungen.",
        "Code {n} von {of}",
    ),
    "en": (
        "GiroCode",
        "Scan with your banking app:",
        "amount and reference",
        "are filled in for you.",
        "Please make one transfer per code; each names its invoices.",
        "Code {n} of {of}",
    ),
}


@dataclass(frozen=True, slots=True)
class Letter:
    """One letter: who to, about what, and the rendered text."""

    creditor: Creditor
    address: tuple[str, ...]  # recipient lines, name first (heirs for a deceased, C6)
    subject: str
    html: str  # the body as the template rendered it for HTML
    letter_date: date
    language: str
    customer_number: str
    reference: str
    portal_link: str | None = None  # the customer's page: printed as a QR code too


PORTAL_QR_MM = 22.0
#: The caption beside the portal link's QR code, so a reader with two codes on the page
#: knows which one pays and which one opens their page; the letter's text names the code
#: by its first line (`portal_caption` in the templates' context, `m.portal()`).
PORTAL_CAPTIONS = {
    "de": (
        "Ihre persönliche Seite",
        "Rechnungen sehen, bezahlen,",
        "widersprechen, Raten:",
        "mit dem Handy scannen.",
    ),
    "en": (
        "Your personal page",
        "see invoices, pay, dispute,",
        "agree instalments:",
        "scan with your phone.",
    ),
}


@lru_cache(maxsize=1)
def _fonts() -> tuple[str, str]:
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return str(folder / "DejaVuSans.ttf"), str(folder / "DejaVuSans-Bold.ttf")


class _LetterPdf(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        regular, bold = _fonts()
        self.add_font("DejaVu", "", regular)
        self.add_font("DejaVu", "B", bold)
        self.set_margins(LEFT, 20.0, RIGHT)
        self.set_auto_page_break(True, margin=BREAK_MARGIN)
        self.current: Letter | None = None
        self.info_end = INFO_Y
        self.scratch: _LetterPdf | None = None  # measures blocks before they are placed
        self.set_creator("mahnwerk")

    def footer(self) -> None:
        letter = self.current
        if letter is None:
            return
        self.set_y(-FOOTER_H - 2)
        self.set_font("DejaVu", "", 7)
        self.set_text_color(80, 80, 80)
        for line in imprint_lines(letter.creditor, letter.language):
            self.multi_cell(0, 3.2, line, align="C", new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)
        # fold and punch marks (DIN 5008 form B)
        self.set_draw_color(150, 150, 150)
        self.set_line_width(0.2)
        for y, length in ((105.0, 5.0), (148.5, 7.0), (210.0, 5.0)):
            self.line(3.0, y, 3.0 + length, y)


def _draw(pdf: _LetterPdf, letter: Letter) -> None:
    # the new page first: adding it draws the footer of the previous letter's last page,
    # which must still be that letter's (its language, its sender)
    pdf.add_page()
    pdf.current = letter
    _letterhead(pdf, letter)
    y = _info_block(pdf, letter)
    pdf.info_end = y  # where "Seite 1 von n" goes once the letter's length is known
    html, codes = girocode.take_markers(letter.html, letter.creditor, CODES_HERE)
    if len(codes) == 1:
        _single_code(pdf, codes[0], letter.language)
    if letter.portal_link:  # the personal page as a QR code, right of the page number
        _portal_code(pdf, letter.portal_link, y + 1, letter.language)
    _body(pdf, letter, html, codes)


def _portal_code(pdf: _LetterPdf, url: str, top: float, language: str) -> None:
    """The portal link's QR code below the information block, its caption to the left
    (under "Seite 1 von n"), set like the GiroCode's: what the code is for."""
    from io import BytesIO

    from mahnwerk.portal.links import qr_png

    x = 210 - RIGHT - PORTAL_QR_MM
    pdf.image(BytesIO(qr_png(url)), x=x, y=top, w=PORTAL_QR_MM, h=PORTAL_QR_MM)
    title, *lines = PORTAL_CAPTIONS.get(language, PORTAL_CAPTIONS["de"])
    pdf.set_xy(INFO_X, top + PORTAL_QR_MM / 2 - 4)
    pdf.set_font("DejaVu", "B", 8)
    pdf.cell(x - INFO_X - 1, 3.5, title, align="R", new_x="LEFT", new_y="NEXT")
    pdf.set_font("DejaVu", "", 7)
    for line in lines:
        pdf.cell(x - INFO_X - 1, 3.2, line, align="R", new_x="LEFT", new_y="NEXT")


def _letterhead(pdf: _LetterPdf, letter: Letter) -> None:
    """The sender at the top, the return line and the recipient in the window."""
    c = letter.creditor
    pdf.set_xy(LEFT, 15)
    pdf.set_font("DejaVu", "B", 14)
    pdf.cell(0, 7, c.name, new_x="LMARGIN", new_y="NEXT", align="R")
    pdf.set_font("DejaVu", "", 8)
    pdf.cell(0, 4, f"{c.street} · {c.postal_code} {c.city}", align="R")
    # return line in the window (E1: name and address only)
    pdf.set_xy(ADDRESS_X + 5, ADDRESS_Y + 2)
    pdf.set_font("DejaVu", "", 7)
    pdf.cell(ADDRESS_W - 5, 3, c.address_line)
    pdf.line(ADDRESS_X + 5, ADDRESS_Y + 5, ADDRESS_X + ADDRESS_W - 5, ADDRESS_Y + 5)
    # recipient
    pdf.set_font("DejaVu", "", 10)
    y = ADDRESS_Y + 17.7
    for line in letter.address[:6]:
        pdf.set_xy(ADDRESS_X + 5, y)
        pdf.cell(ADDRESS_W - 5, 4.5, line)
        y += 4.5


def _info_block(pdf: _LetterPdf, letter: Letter) -> float:
    """Customer number, payment reference and date at the right; returns where it ends."""
    labels = (
        ("Kundennummer", "Verwendungszweck", "Datum")
        if letter.language == "de"
        else ("Customer no.", "Reference", "Date")
    )
    values = (
        letter.customer_number,
        letter.reference,
        formatting.day(letter.letter_date, letter.language),
    )
    y = INFO_Y
    for label, value in zip(labels, values, strict=True):
        pdf.set_xy(INFO_X, y)
        pdf.set_font("DejaVu", "", 8)
        pdf.cell(30, 4.5, label)
        pdf.set_font("DejaVu", "", 9)
        pdf.multi_cell(210 - RIGHT - INFO_X - 30, 4.5, value)
        y = max(y + 4.5, pdf.get_y())
    return y


def _body(pdf: _LetterPdf, letter: Letter, html: str, codes: list[girocode.Transfer]) -> None:
    """Subject and text; several GiroCodes in a row where the text asks for the money; the
    closing kept on one page; the pages numbered."""
    pdf.set_xy(LEFT, SUBJECT_Y)
    pdf.set_font("DejaVu", "B", 11)
    pdf.multi_cell(0, 5.5, letter.subject, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 10)
    # fpdf2 sets paragraphs and lists at 1.0 line height, where descenders touch the next
    # line; 1.25 reads like a typed letter (DIN 5008 sets 1.0–1.5 as the writer likes)
    body = re.sub(r"<(p|ul|ol)([ >])", rf'<\1 line-height="{LINE_HEIGHT}"\2', html)
    first = pdf.page_no()
    if len(codes) > 1 and CODES_HERE in body:
        before, body = body.split(CODES_HERE, 1)
        # the paragraph asking for the money is open in `before`: close it, draw, go on
        pdf.write_html(before + "</p>", font_family="DejaVu", table_line_separators=True)
        _code_row(pdf, codes, letter.language)
        body = "<p>" + body.replace(CODES_HERE, "")
    head, closing = _split_closing(body)
    pdf.write_html(head, font_family="DejaVu", table_line_separators=True)
    if closing:
        if pdf.will_page_break(_height(pdf, closing)):
            pdf.add_page()
        pdf.write_html(closing, font_family="DejaVu", table_line_separators=True)
    _number_pages(pdf, first, pdf.page_no(), letter.language)


def _code_image(pdf: _LetterPdf, transfer: girocode.Transfer, x: float, y: float) -> None:
    from io import BytesIO

    size = girocode.LETTER_SIZE_MM
    pdf.image(BytesIO(transfer.png(scale=8)), x=x, y=y, w=size, h=size)


def _single_code(pdf: _LetterPdf, transfer: girocode.Transfer, language: str) -> None:
    """The letter's one code at the top right of the first page, its caption to the left."""
    size = girocode.LETTER_SIZE_MM
    x = 210 - RIGHT - size
    _code_image(pdf, transfer, x, CODE_Y)
    title, *lines = CAPTIONS.get(language, CAPTIONS["de"])[:4]
    pdf.set_xy(INFO_X, CODE_Y + size / 2 - 6)
    pdf.set_font("DejaVu", "B", 8)
    pdf.cell(x - INFO_X - 1, 3.5, title, align="R", new_x="LEFT", new_y="NEXT")
    pdf.set_font("DejaVu", "", 7)
    for line in lines:
        pdf.cell(x - INFO_X - 1, 3.2, line, align="R", new_x="LEFT", new_y="NEXT")


def _code_row(pdf: _LetterPdf, codes: list[girocode.Transfer], language: str) -> None:
    """Several codes side by side (as many rows as needed), each with its number and amount."""
    size = girocode.LETTER_SIZE_MM
    words = CAPTIONS.get(language, CAPTIONS["de"])
    per_row = int((210 - LEFT - RIGHT + CODE_ROW_GAP) // (size + CODE_ROW_GAP))
    pdf.set_font("DejaVu", "", 8)
    pdf.multi_cell(0, 4, words[4], new_x="LMARGIN", new_y="NEXT")
    for start in range(0, len(codes), per_row):
        if pdf.will_page_break(size + 9):
            pdf.add_page()
        top = pdf.get_y() + 1
        for n, transfer in enumerate(codes[start : start + per_row], start + 1):
            x = LEFT + (n - start - 1) * (size + CODE_ROW_GAP)
            _code_image(pdf, transfer, x, top)
            pdf.set_xy(x, top + size)
            label = words[5].format(n=n, of=len(codes))
            pdf.cell(size, 3.5, label, align="C", new_x="LEFT", new_y="NEXT")
            pdf.cell(size, 3.5, formatting.money(transfer.amount, language), align="C")
        pdf.set_xy(LEFT, top + size + 8)
    pdf.set_font("DejaVu", "", 10)


def _split_closing(body: str) -> tuple[str, str]:
    """The body without, and the closing block: the last `CLOSING_PARAGRAPHS` paragraphs."""
    starts = [m.start() for m in re.finditer(r"<p[ >]", body)]
    if len(starts) < CLOSING_PARAGRAPHS:
        return body, ""
    cut = starts[-CLOSING_PARAGRAPHS]
    return body[:cut], body[cut:]


def _height(pdf: _LetterPdf, html: str) -> float:
    """How tall `html` prints: drawn on a scratch page of a second PDF kept for measuring
    (fonts loaded once per chunk of letters; the scratch PDF is never written out)."""
    if pdf.scratch is None:
        pdf.scratch = _LetterPdf()
        pdf.scratch.set_auto_page_break(False)
    scratch = pdf.scratch
    scratch.add_page()
    scratch.set_font("DejaVu", "", 10)
    # after a paragraph, as in the letter: the space above the block counts too
    scratch.write_html(f'<p line-height="{LINE_HEIGHT}">.</p>', font_family="DejaVu")
    top = scratch.get_y()
    scratch.write_html(html, font_family="DejaVu", table_line_separators=True)
    return scratch.get_y() - top


def _number_pages(pdf: _LetterPdf, first: int, last: int, language: str) -> None:
    """ "Seite i von n" on each page of one letter, drawn once the letter's length is known:
    in the information block of the first page, at the top right of the others."""
    current, auto = pdf.page, pdf.auto_page_break
    pdf.set_auto_page_break(False)
    for number in range(first, last + 1):
        pdf.page = number
        # fpdf2 remembers the font across pages; select it anew so this page's stream says
        # which font the number is in (else it prints in whatever font the page ended with)
        pdf.set_font("DejaVu", "B", 8)
        pdf.set_font("DejaVu", "", 8)
        label = page_label(number - first + 1, last - first + 1, language)
        if number == first:
            pdf.set_xy(INFO_X, pdf.info_end)
            pdf.cell(30, 4.5, label)
        else:
            pdf.set_xy(LEFT, FOLLOW_PAGE_Y)
            pdf.cell(210 - LEFT - RIGHT, 4.5, label, align="R")
    pdf.page = current
    pdf.set_auto_page_break(auto, margin=BREAK_MARGIN)


def _needs_italics(pdf: _LetterPdf, letters: list[Letter]) -> None:
    """Own templates may use <i>/<em>: register the italic styles only then (fonts are slow)."""
    if any("<i" in x.html or "<em" in x.html for x in letters):
        regular, bold = _fonts()
        pdf.add_font("DejaVu", "I", regular)
        pdf.add_font("DejaVu", "BI", bold)


def letters_pdf(letters: list[Letter], title: str = "") -> bytes:
    """One PDF holding the letters in order, each starting on a new page."""
    pdf = _LetterPdf()
    _needs_italics(pdf, letters)
    if title:
        pdf.set_title(title)
    for letter in letters:
        _draw(pdf, letter)
    return bytes(pdf.output())


def letters_pdf_each(letters: list[Letter]) -> list[bytes]:
    """One PDF per letter, drawn together and split: loading and subsetting the fonts
    costs more than drawing a letter, so a dispatch pays for it once per chunk."""
    from io import BytesIO

    from pypdf import PdfReader, PdfWriter

    if not letters:
        return []
    pdf = _LetterPdf()
    _needs_italics(pdf, letters)
    ranges = []
    for letter in letters:
        first = pdf.page_no() + 1
        _draw(pdf, letter)
        ranges.append((first, pdf.page_no()))
    reader = PdfReader(BytesIO(bytes(pdf.output())))
    out = []
    for letter, (first, last) in zip(letters, ranges, strict=True):
        writer = PdfWriter()
        for number in range(first, last + 1):
            writer.add_page(reader.pages[number - 1])
        writer.add_metadata({"/Title": letter.subject, "/Creator": "mahnwerk"})
        buffer = BytesIO()
        writer.write(buffer)
        out.append(buffer.getvalue())
    return out


def print_batch(files: list[Path]) -> bytes:
    """The print shop's file: the letters' PDFs one after the other, each from a new page.

    Built from the files as written (not rendered again), so the batch holds
    exactly the letters that went out — including one a crashed dispatch wrote
    and the next dispatch recorded."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for path in files:
        writer.append(str(path))
    writer.add_metadata({"/Title": "print batch", "/Creator": "mahnwerk"})
    from io import BytesIO

    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file and rename: a crash never leaves half a letter behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        import os

        os.fsync(fh.fileno())
    tmp.replace(path)
