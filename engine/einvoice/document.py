"""What mahnwerk takes from an e-invoice: the EN 16931 business terms a dunning run needs.

Both syntaxes of XRechnung (UBL 2.1 `Invoice`/`CreditNote` and UN/CEFACT CII) and the
CII inside a ZUGFeRD/Factur-X PDF are read into one frozen `EDocument`, so the import
never asks which syntax a file was written in — the same separation the policy readers
keep between text and IR.  Each field names its business term (BT-…) from EN 16931-1.

Left out on purpose: lines, VAT breakdown and seller details.  mahnwerk duns the amount
due for payment (BT-115); how it was made up is the accounting system's concern.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from mahnwerk.engine.importer import ImportFailed, RowError


class DocumentKind(StrEnum):
    """How a document acts on the receivables (from BT-3, the type code, and the root)."""

    INVOICE = "invoice"  # 380 commercial, 384 corrected, 389 self-billed, 326 partial, …
    CREDIT_NOTE = "credit_note"  # 381 (or a UBL CreditNote): reduces the invoice it names


#: UNTDID 1001 codes of documents that reduce a claim (EN 16931 allows 261, 381, 396, 532).
CREDIT_NOTE_CODES = frozenset({"261", "381", "396", "532"})


@dataclass(frozen=True, slots=True)
class Buyer:
    """The debtor (BG-7): who the claim is against, as the invoice names them."""

    name: str  # BT-44
    identifier: str | None  # BT-46, in practice often the seller's customer number
    legal_registration: str | None  # BT-47 (e.g. HRB 3456)
    vat_id: str | None  # BT-48
    email: str | None  # BT-49 with scheme EM, else the contact's BT-58
    phone: str | None  # BT-57
    street: str | None  # BT-50 (and BT-51 joined)
    city: str | None  # BT-52
    postal_code: str | None  # BT-53
    country: str | None  # BT-55

    @property
    def is_business(self) -> bool:
        """A VAT id or a legal registration marks a business (§ 14 BGB): the B2B rules apply."""
        return bool(self.vat_id or self.legal_registration)


@dataclass(frozen=True, slots=True)
class EDocument:
    """One e-invoice or credit note, syntax-neutral."""

    path: str
    syntax: str  # "UBL", "CII" or "Factur-X"
    kind: DocumentKind
    number: str  # BT-1
    type_code: str  # BT-3
    issue_date: date  # BT-2
    due_date: date | None  # BT-9
    payment_terms: str  # BT-20, all notes joined by newlines ("" when absent)
    currency: str  # BT-5
    amount_due: Decimal  # BT-115 (for credit notes: what is credited, positive)
    buyer: Buyer
    preceding: tuple[str, ...]  # BT-25


class EInvoiceError(ImportFailed):
    """A file that is not an e-invoice mahnwerk can read; names the file and the element."""

    def __init__(
        self, path: str | Path, where: str, message: str, hint: str = "", line: int = 0
    ) -> None:
        text = f"{where}: {message}" if where else message
        super().__init__(str(path), [RowError(str(path), line, "", text, hint)])
