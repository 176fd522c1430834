"""The pay page's transfers: one per group of the chosen invoices, each with its GiroCode.

`girocode.transfers` (the letters' own function) splits the invoices into groups whose
remittance text fits 140 characters and names each invoice whole — the text the bank
matching reads back — and makes one EPC QR code (EPC069-12) per group for that group's
open total.  The page shows each transfer with its amount, its invoices, its reference,
its code (inline SVG, so the page loads nothing from elsewhere) and, where configured, the
payment provider's link for that amount and reference.  Usually one transfer; several only
when more invoices are chosen than one reference can name (about ten).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO
from urllib.parse import quote

from mahnwerk.engine.comms import girocode
from mahnwerk.engine.comms.config import Settings
from mahnwerk.portal.view import OpenInvoice


@dataclass(frozen=True, slots=True)
class Transfer:
    """One transfer the page asks for."""

    numbers: tuple[str, ...]
    amount: Decimal
    reference: str
    svg: str  # the GiroCode; "" where none can be made (no IBAN, not euro, a credit)
    provider: str | None  # the payment provider's page for this amount and reference


def provider_link(settings: Settings, amount: Decimal, reference: str) -> str | None:
    """`[portal] payment_url` ({amount}, {reference}), else the creditor's `payment_link`
    ({reference}, and {amount} if it has one) — the provider the letters name."""
    template = settings.portal.payment_url or settings.creditor.payment_link
    if not template:
        return None
    return template.replace("{amount}", f"{amount:.2f}").replace(
        "{reference}", quote(reference, safe="")
    )


def transfers(settings: Settings, customer_number: str, chosen: Sequence[OpenInvoice],
              title: str) -> list[Transfer]:  # fmt: skip
    """The transfers that pay the chosen invoices, in the order the page lists them."""
    invoices = [(i.number, i.facts.balance) for i in chosen]
    currencies = [i.facts.currency for i in chosen]
    parts = girocode.grouped(customer_number, invoices)
    codes = girocode.transfers(settings.creditor, customer_number, invoices,
                               currencies=currencies)  # fmt: skip
    if len(codes) != len(parts):  # no code at all (`transfers` says none when one fails)
        codes = []
    out = []
    for n, part in enumerate(parts):
        svg = _svg(codes[n], f"{title} {n + 1}/{len(parts)}") if codes else ""
        provider = provider_link(settings, part.amount, part.text)
        out.append(Transfer(part.numbers, part.amount, part.text, svg, provider))
    return out


def _svg(transfer: girocode.Transfer, title: str) -> str:
    out = BytesIO()
    transfer.qr().save(out, kind="svg", scale=4, border=4, title=title, svgns=True,
                       xmldecl=False)  # fmt: skip
    return out.getvalue().decode()
