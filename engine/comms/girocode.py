"""GiroCode: the EPC QR code (EPC069-12) that fills in a bank transfer when scanned.

A customer who scans it in a banking app gets the creditor's name, IBAN and BIC, the
amount and the remittance text filled in; nothing is typed, so nothing is mistyped.
The payload (service tag `BCD`, version, character set, `SCT`, BIC, name, IBAN,
`EUR` amount, purpose, remittance) is made by segno's EPC helper, which also enforces the
standard's limits; this module decides *what* goes in:

* **name** — the creditor's name, at most 70 characters (EPC069-12).  A longer name is cut
  at a word edge; banks compare it with the account holder (Verification of Payee), so
  `letters check` says when that happened.
* **remittance text** — the one format the bank import recognises (`remittance`): the
  invoice numbers, with the customer number in front when there are several.  At most
  140 characters, and a number is never cut in half: a half number is another invoice's
  number or none (`engine/bank/references.py` would match it, or a near miss of it).
* **amount** — exactly what the message asks for; the open total of its invoices.
* **purpose** — left empty: a purpose code (ISO 20022 `SUPP`, `GDDS` …) is for the
  payer's bank and a wrong one can hold a transfer up; no bank needs one for an invoice.

When the numbers of a letter's invoices do not fit into one remittance text (about ten
invoice numbers), the letter carries **one code per group of invoices that fits**, each
for the open total of its group — a code naming some invoices but carrying the money of
all would book the excess on the last named invoice as a credit, while the unnamed ones
would be dunned on.  Several codes are rare (a bundle of more than ten invoices), and each
of them round-trips through the bank import exactly.

No code at all when the creditor has no IBAN, the invoices are not in euro (EPC069-12 is
euro-only), or nothing is owed; `unavailable` says which, for `letters check`.

Templates do not draw codes: `m.pay()` puts a marker `<img src="girocode:AMOUNT:TEXT">`
into the HTML; the letter's PDF (`pdf.py`) and the e-mail (`inline_images`) turn it into
the image, with the creditor's details from the settings — one source for the payee.
`transfers` is the function the customer portal calls for the invoices a customer chose.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from hashlib import sha256
from typing import Any
from urllib.parse import quote, unquote

import segno
import segno.helpers

from mahnwerk.engine.comms.config import Creditor

MAX_TEXT = 140  # unstructured remittance information, EPC069-12 field 11
MAX_NAME = 70  # beneficiary name, field 6
CURRENCY = "EUR"  # the only currency an EPC QR code can carry
#: the QR's side on a letter: the module of a version-7 code (the usual payload) is then
#: 0.43 mm, well above what phone cameras read at arm's length (EPC asks for ≥ 0.4 mm)
LETTER_SIZE_MM = 23.0
MARKER = re.compile(r'(?:<br>)?<img src="girocode:(?P<amount>[0-9.]+):(?P<text>[^"]*)"[^>]*>')
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999.99")  # EPC069-12 field 8


@dataclass(frozen=True, slots=True)
class Transfer:
    """One code's content: a SEPA credit transfer to the creditor."""

    name: str
    iban: str  # compact, no spaces
    bic: str
    amount: Decimal
    text: str

    def qr(self) -> segno.QRCode:
        return segno.helpers.make_epc_qr(
            name=self.name, iban=self.iban, amount=self.amount, text=self.text, bic=self.bic
        )

    def png(self, scale: int = 6) -> bytes:
        """The code as PNG, with the quiet zone of four modules the standard asks for."""
        from io import BytesIO

        out = BytesIO()
        self.qr().save(out, kind="png", scale=scale, border=4)
        return out.getvalue()

    @property
    def src(self) -> str:
        """The marker a template puts into HTML where the code belongs."""
        return f"girocode:{self.amount}:{quote(self.text, safe='')}"

    @property
    def cid(self) -> str:
        """Content-ID of the code as an e-mail's inline image: the same code, the same id."""
        digest = sha256(f"{self.iban}|{self.amount}|{self.text}".encode()).hexdigest()[:20]
        return f"girocode-{digest}@mahnwerk"


@dataclass(frozen=True, slots=True)
class Payment:
    """What a banking app reads from a scanned code (the parsed EPC payload)."""

    bic: str
    name: str
    iban: str
    amount: Decimal
    purpose: str
    reference: str
    text: str


def remittance(customer_number: str, numbers: Sequence[str]) -> str:
    """The remittance text for these invoices — the one format, also printed in letters
    as "Verwendungszweck": the number alone, or `Kd <customer> <numbers…>` for several
    (the bank import finds every number; the customer number helps a person)."""
    joined = " ".join(numbers)
    return joined if len(numbers) == 1 else f"Kd {customer_number} {joined}"


def payee_name(creditor: Creditor) -> str:
    """The creditor's name as the code carries it: at most 70 characters, cut at a word."""
    name = " ".join(creditor.name.split())
    if len(name) <= MAX_NAME:
        return name
    cut = name[: MAX_NAME + 1].rsplit(" ", 1)[0]
    return cut if cut else name[:MAX_NAME]


def groups(customer_number: str, numbers: Sequence[str]) -> list[list[str]]:
    """The invoice numbers in order, split into groups whose remittance text fits 140
    characters; a number too long to fit even alone is a group of its own (no code)."""
    out: list[list[str]] = []
    for number in numbers:
        if out and len(remittance(customer_number, [*out[-1], number])) <= MAX_TEXT:
            out[-1].append(number)
        else:
            out.append([number])
    return out


@dataclass(frozen=True, slots=True)
class Group:
    """One transfer's worth of invoices: their numbers, open total and remittance text."""

    numbers: tuple[str, ...]
    amount: Decimal
    text: str


def grouped(customer_number: str, invoices: Sequence[tuple[str, Decimal]]) -> list[Group]:
    """The invoices (number, open balance) as the transfers that pay them: one per group
    of `groups`, whether or not a code can be printed — what the pay sentence of a letter
    and the portal's pay page name, one reference per transfer."""
    balances = dict(invoices)
    return [
        Group(
            tuple(part),
            sum((balances[n] for n in part), Decimal("0.00")),
            remittance(customer_number, part),
        )
        for part in groups(customer_number, [number for number, _ in invoices])
    ]


def unavailable(creditor: Creditor, currencies: Sequence[str], amount: Decimal) -> str | None:
    """Why no code can be printed, or None: no IBAN, not euro, nothing owed."""
    if not creditor.iban:
        return "the creditor has no IBAN ([creditor] iban in the settings)"
    other = sorted({c for c in currencies if c != CURRENCY})
    if other:
        return f"the invoices are in {', '.join(other)}; a GiroCode carries euro only"
    if amount < CENT:
        return "the message asks for no money"
    if amount > MAX_AMOUNT:
        return f"the amount is above the {MAX_AMOUNT} EUR a GiroCode can carry"
    return None


def transfers(
    creditor: Creditor,
    customer_number: str,
    invoices: Sequence[tuple[str, Decimal]],
    amount: Decimal | None = None,
    currencies: Sequence[str] = (CURRENCY,),
) -> list[Transfer]:
    """The codes that pay these invoices (number, open balance): one per group of numbers
    that fits the remittance text.  `amount` (default: the open total) is what the
    message asks for; a different amount gets a code only when all numbers fit one text.
    Empty when `unavailable` names a reason, or when credits among the invoices make the
    groups' totals differ from the amount (the letter's own figure is then the truth)."""
    total = sum((balance for _, balance in invoices), Decimal("0.00"))
    amount = total if amount is None else amount
    if not invoices or unavailable(creditor, currencies, amount) is not None:
        return []
    name, iban, bic = payee_name(creditor), creditor.iban.replace(" ", ""), creditor.bic
    balances = dict(invoices)
    parts = groups(customer_number, [number for number, _ in invoices])
    if any(len(remittance(customer_number, part)) > MAX_TEXT for part in parts):
        return []
    if len(parts) == 1:
        return [
            Transfer(name, iban, bic, amount.quantize(CENT), remittance(customer_number, parts[0]))
        ]
    sums = [sum((balances[n] for n in part), Decimal("0.00")) for part in parts]
    if amount != total or any(s < CENT for s in sums):
        return []
    return [
        Transfer(name, iban, bic, s.quantize(CENT), remittance(customer_number, part))
        for part, s in zip(parts, sums, strict=True)
    ]


@dataclass(frozen=True, slots=True)
class GiroCodes:
    """What a template sees as `girocodes`: the codes for the message's invoices."""

    creditor: Creditor
    customer_number: str
    invoices: tuple[tuple[str, Decimal], ...]
    currencies: tuple[str, ...]
    total: Decimal

    def for_amount(self, amount: Any = None) -> list[Transfer]:
        """The codes for `amount` (default: the open total) — what `m.pay()` asks for."""
        try:
            value = self.total if amount is None else Decimal(str(amount))
        except InvalidOperation:
            # a template error (`m.girocode("abc")`), reported with the template's file and line
            raise ValueError(f"girocode: {amount!r} is not an amount") from None
        return transfers(self.creditor, self.customer_number, self.invoices, value, self.currencies)

    @property
    def reason(self) -> str | None:
        return unavailable(self.creditor, self.currencies, self.total)

    def transfers(self, amount: Any = None) -> list[Group]:
        """The transfers the pay sentence names for `amount`: one per group of invoices
        when the whole open total is asked for and they need several remittance texts
        (then each code pays one group), else one."""
        parts = grouped(self.customer_number, self.invoices)
        whole = amount is None or Decimal(str(amount)) == self.total
        return parts if whole and len(parts) > 1 else []


# ---------------------------------------------------------------------------
# Markers in rendered HTML → images
# ---------------------------------------------------------------------------


def from_marker(match: re.Match[str], creditor: Creditor) -> Transfer:
    return Transfer(
        payee_name(creditor),
        creditor.iban.replace(" ", ""),
        creditor.bic,
        Decimal(match["amount"]),
        unquote(match["text"]),
    )


def take_markers(
    html: str, creditor: Creditor, placeholder: str = ""
) -> tuple[str, list[Transfer]]:
    """The HTML with each marker replaced by `placeholder`, and the codes they stood for."""
    found: list[Transfer] = []

    def swap(match: re.Match[str]) -> str:
        found.append(from_marker(match, creditor))
        return placeholder

    return MARKER.sub(swap, html), found


def inline_images(html: str, creditor: Creditor) -> tuple[str, list[tuple[str, bytes]]]:
    """For an e-mail: markers become `cid:` images; returns the HTML and (cid, png) parts."""
    images: dict[str, bytes] = {}

    def swap(match: re.Match[str]) -> str:
        transfer = from_marker(match, creditor)
        images.setdefault(transfer.cid, transfer.png(scale=4))
        marker = f"girocode:{match['amount']}:{match['text']}"
        return match[0].replace(marker, f"cid:{transfer.cid}", 1)

    return MARKER.sub(swap, html), list(images.items())


# ---------------------------------------------------------------------------
# Reading codes back (letters check, tests): what a banking app would see
# ---------------------------------------------------------------------------

_CHARSETS = (
    "utf-8",
    "iso-8859-1",
    "iso-8859-2",
    "iso-8859-4",
    "iso-8859-5",
    "iso-8859-7",
    "iso-8859-10",
    "iso-8859-15",
)  # EPC069-12 character set 1 … 8


class NotEpc(ValueError):
    """A QR code that is not an EPC credit transfer."""


def parse(data: bytes) -> Payment:
    """An EPC payload (the QR's raw bytes) → its fields; the charset line says the encoding."""
    lines = data.split(b"\n")
    if len(lines) < 10 or lines[0].strip() != b"BCD" or lines[3].strip() != b"SCT":
        raise NotEpc(f"not an EPC credit transfer: {data[:40]!r}")
    try:
        charset = _CHARSETS[int(lines[2]) - 1]
    except (ValueError, IndexError):
        raise NotEpc(f"unknown EPC character set {lines[2]!r}") from None
    fields = [line.decode(charset).rstrip("\r") for line in lines]
    fields += [""] * (12 - len(fields))
    amount = fields[7]
    if not amount.startswith(CURRENCY):
        raise NotEpc(f"EPC amount {amount!r} is not in euro")
    return Payment(
        bic=fields[4],
        name=fields[5],
        iban=fields[6],
        amount=Decimal(amount[3:]).quantize(CENT),
        purpose=fields[8],
        reference=fields[9],
        text=fields[10],
    )


def read_image(image: Any) -> list[Payment]:
    """Every EPC code zxing-cpp finds in a PIL image, top to bottom; other QR codes on the
    page (the portal link's) are not payments and are passed over."""
    import zxingcpp

    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    found.sort(key=lambda b: (b.position.top_left.y, b.position.top_left.x))
    return [parse(bytes(b.bytes)) for b in found if bytes(b.bytes).startswith(b"BCD")]


def read_png(data: bytes) -> list[Payment]:
    """The codes in a PNG (the image an e-mail carries)."""
    from io import BytesIO

    from PIL import Image

    with Image.open(BytesIO(data)) as image:
        return read_image(image.convert("L"))


def read_pdf(pdf: bytes, dpi: int = 200) -> list[list[Payment]]:
    """The codes on each page of a PDF, rasterised as a printer would (pypdfium2): the
    check sees what is printed — size, quiet zone, nothing drawn over it."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        pages = []
        for page in document:
            bitmap = page.render(scale=dpi / 72, grayscale=True)
            pages.append(read_image(bitmap.to_pil()))
            page.close()
        return pages
    finally:
        document.close()


__all__ = [
    "GiroCodes",
    "Group",
    "NotEpc",
    "Payment",
    "Transfer",
    "grouped",
    "groups",
    "inline_images",
    "parse",
    "payee_name",
    "read_image",
    "read_pdf",
    "read_png",
    "remittance",
    "take_markers",
    "transfers",
    "unavailable",
]
