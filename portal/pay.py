"""The pay page's GiroCode: an EPC QR code (EPC069-12) for the chosen invoices.

Made with segno's EPC helper for the creditor's IBAN/BIC, the exact open amount and
the remittance text the letters print (`comms.context.payment_reference`: the invoice
numbers, which the bank matching reads back), drawn as inline SVG so the page loads
nothing from elsewhere.
"""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

from mahnwerk.engine.comms.config import Creditor


def girocode_svg(creditor: Creditor, amount: Decimal, reference: str, title: str) -> str:
    """The code as SVG; "" where none can be made (`girocode.unavailable`: a creditor paid
    only online has no IBAN, nothing is owed) or the reference does not fit 140 characters."""
    from mahnwerk.engine.comms import girocode

    if girocode.unavailable(creditor, (girocode.CURRENCY,), amount) is not None:
        return ""
    if len(reference) > girocode.MAX_TEXT:
        return ""
    qr = girocode.Transfer(
        girocode.payee_name(creditor),
        creditor.iban.replace(" ", ""),
        creditor.bic,
        amount.quantize(girocode.CENT),
        reference,
    ).qr()
    out = BytesIO()
    qr.save(out, kind="svg", scale=4, border=4, title=title, svgns=True, xmldecl=False)
    return out.getvalue().decode()
