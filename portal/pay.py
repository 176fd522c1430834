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
    from segno import helpers

    qr = helpers.make_epc_qr(
        name=creditor.name[:70],
        iban=creditor.iban.replace(" ", ""),
        amount=amount,
        text=reference[:140],
        bic=creditor.bic,
    )
    out = BytesIO()
    qr.save(out, kind="svg", scale=4, border=4, title=title, svgns=True, xmldecl=False)
    return out.getvalue().decode()
