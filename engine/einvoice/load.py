"""`mahnwerk import einvoice`: e-invoices become customers and open items, whole or not at all.

Every file named (folders are read for `*.xml` and `*.pdf`) is read first; one that is
not an e-invoice stops the whole import before anything is written, so a credit note and
the invoice it reduces never land apart.  Then, in one transaction:

* **the customer** is found by, in this order: the buyer identifier (BT-46) equal to a
  customer number; the VAT id (BT-48, compared without spaces and in capitals); the name
  and postal code (compared without case and extra spaces).  A buyer found by none of
  these becomes a new customer numbered by BT-46, else the VAT id, else `EI-` and a hash
  of name and postal code — B2B when the invoice states a VAT id or a legal registration
  (BT-47), else B2C.  A customer that exists is not changed (the master data in the
  accounting system wins), except that a missing VAT id is filled in.
* **the invoice** is an open item numbered by BT-1, for the amount due for payment
  (BT-115), due on BT-9; without a due date it is due on issue (§ 271 Abs. 1 BGB), or
  after the period the payment terms (BT-20) state ("innerhalb von 14 Tagen", "30 days
  net").  A due date counts as *agreed* (A1) only with `--terms-agreed`: a date printed on
  an invoice alone is not an agreement (BGH III ZR 91/07).  An invoice with nothing to
  collect (amount due 0 or less) is recorded and opens nothing.
* **a credit note** (type 381 and kin, or a UBL `CreditNote`) reduces the invoice its
  BT-25 names.  Before dunning has begun it lowers the invoice's amount (to zero: the
  invoice is closed); once the invoice is in dunning it is booked as a payment, which
  the next run applies like every other (§ 367 BGB order).

The same document again, in either syntax, is recognised by kind and number and changes
nothing; the same number with another amount, due date or buyer is refused unless
`update=True`, and even then not once the invoice is in dunning.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from mahnwerk import clock
from mahnwerk.engine.einvoice.document import DocumentKind, EDocument, EInvoiceError
from mahnwerk.engine.einvoice.xml import MAX_XML_BYTES, read_xml
from mahnwerk.engine.importer import ImportFailed, RowError
from mahnwerk.engine.store import einvoices as stored
from mahnwerk.engine.store import log_book_event
from mahnwerk.engine.terms import TermError, parse_bt20, tiers_json

#: Countries whose customers are written to in German by default.
GERMAN_SPEAKING = frozenset({"DE", "AT", "CH", "LI", "LU"})
#: "zahlbar innerhalb von 14 Tagen", "14 Tage netto", "within 30 days", "net 30 days"
_PERIOD = re.compile(
    r"(?:innerhalb\s+(?:von\s+)?(\d{1,3})\s+tag|(\d{1,3})\s+tage?\s+netto|"
    r"within\s+(\d{1,3})\s+days|net\s+(\d{1,3})\s+days|(\d{1,3})\s+days\s+net)",
    re.IGNORECASE,
)
_NET = re.compile(
    r"(?:netto\s+(\d{1,3})\s+tage|(\d{1,3})\s+tage?\s+netto|net\s+(\d{1,3})\s+days)", re.IGNORECASE
)
_SKONTO_WORD = re.compile(r"skonto|discount|#", re.IGNORECASE)


def read_document(path: Path) -> EDocument:
    """One file: XML as it is, a PDF by its embedded Factur-X/ZUGFeRD XML."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EInvoiceError(
            path, "", f"cannot read the file ({exc.strerror})", "check the path and the permissions"
        ) from None
    if not data.startswith(b"%PDF"):
        return read_xml(path, data)
    if len(data) > MAX_XML_BYTES * 2:
        raise EInvoiceError(
            path,
            "",
            "the PDF is larger than 40 MB",
            "an invoice PDF is far smaller; is this the right file?",
        )
    from facturx import get_xml_from_pdf  # only this command pays for pypdf and lxml

    try:
        name, xml = get_xml_from_pdf(data, check_xsd=False)
    except Exception as exc:  # the library raises bare Exceptions for broken PDFs
        raise EInvoiceError(
            path, "", f"the PDF cannot be read ({exc})", "ask the sender for the invoice again"
        ) from None
    if not xml:
        raise EInvoiceError(
            path,
            "",
            "this PDF carries no e-invoice (no Factur-X/ZUGFeRD XML attached)",
            "a plain PDF invoice cannot be read; import it as CSV, or ask for a ZUGFeRD PDF",
        )
    return read_xml(path, xml, syntax="Factur-X")


def files_in(paths: list[Path]) -> list[Path]:
    """The files named, folders expanded to their XML and PDF files in name order."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.iterdir() if p.suffix.lower() in (".xml", ".pdf"))
        else:
            out.append(path)
    return out


@dataclass(slots=True)
class EImportResult:
    """What an e-invoice import did, file by file (each line says why)."""

    lines: list[str] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    credited: int = 0
    nothing_due: int = 0
    customers_created: int = 0

    def __str__(self) -> str:
        return "\n".join(
            [
                *self.lines,
                f"{self.created} invoice(s) created, {self.updated} updated, "
                f"{self.unchanged} unchanged, {self.credited} credit note(s), "
                f"{self.nothing_due} with nothing to collect; "
                f"{self.customers_created} new customer(s)",
            ]
        )


def normal_vat_id(text: str | None) -> str | None:
    return re.sub(r"[\s.\-]", "", text).upper() or None if text else None


def _name_key(name: str, postal: str | None) -> tuple[str, str]:
    return (" ".join(name.casefold().split()), (postal or "").replace(" ", ""))


def _same_figures(a: Any, b: EDocument) -> bool:
    """Two readings of one document: equal in what the claim is (either syntax)."""
    return (a.amount_due, a.currency, a.due_date, a.issue_date) == (
        b.amount_due,
        b.currency,
        b.due_date,
        b.issue_date,
    )


def due_date_of(doc: EDocument) -> date:
    """BT-9; else the period BT-20 states; else due on issue (§ 271 Abs. 1 BGB)."""
    if doc.due_date is not None:
        return doc.due_date
    for line in doc.payment_terms.splitlines():
        # "2 % Skonto innerhalb von 7 Tagen, netto 30 Tage": a Skonto period is not the net
        # due date (default and interest run from the net due date only, issue 19)
        pattern = _NET if _SKONTO_WORD.search(line) else _PERIOD
        found = pattern.search(line)
        if found:
            days = int(next(g for g in found.groups() if g))
            return doc.issue_date + timedelta(days=days)
    return doc.issue_date


def skonto_tiers(doc: EDocument) -> str | None:
    """The Skonto tiers BT-20 states, as stored (`invoice.skonto_terms`).

    A `#SKONTO#` line that cannot be read stops the import with the file, the line of the
    file it stands on (XML files) and what is wrong — a term is never dropped silently."""
    try:
        return tiers_json(parse_bt20(doc.payment_terms))
    except TermError as exc:
        raise EInvoiceError(
            doc.path,
            f"{doc.number}: payment terms (BT-20) line {exc.line}",
            exc.message,
            exc.hint + "; correct the e-invoice at its issuer",
            line=_file_line(doc.path, exc.text),
        ) from None


def _file_line(path: str, text: str) -> int:
    """The line of an XML file holding `text` (0 for a PDF or when not found)."""
    if not text or not path.lower().endswith(".xml"):
        return 0
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                if text in line:
                    return number
    except OSError:
        return 0
    return 0


class _Loader:
    """One import's transaction: the indexes it matches by and the errors it collects."""

    def __init__(
        self, conn: Connection, now: datetime, update_changed: bool, terms_agreed: bool
    ) -> None:
        self.conn, self.now = conn, now
        self.update_changed, self.terms_agreed = update_changed, terms_agreed
        self.errors: list[RowError] = []
        self.result = EImportResult()
        rows = stored.customer_keys(conn)
        self.by_number = {r.external_id: r.id for r in rows}
        self.by_vat = {r.vat_id: r.id for r in rows if r.vat_id}
        self.by_name = {_name_key(r.name, r.postal_code): r.id for r in rows}
        self.vat_of = {r.id: r.vat_id for r in rows}
        self.seen: dict[tuple[str, str], EDocument] = {}  # this import's documents so far

    def error(self, doc: EDocument, message: str, hint: str) -> None:
        self.errors.append(RowError(doc.path, 0, "", f"{doc.number}: {message}", hint))

    # customers ---------------------------------------------------------------
    def customer(self, doc: EDocument) -> int:
        buyer = doc.buyer
        vat = normal_vat_id(buyer.vat_id)
        found = (
            (self.by_number.get(buyer.identifier) if buyer.identifier else None)
            or (self.by_vat.get(vat) if vat else None)
            or self.by_name.get(_name_key(buyer.name, buyer.postal_code))
        )
        if found is not None:
            if vat and not self.vat_of.get(found):
                stored.set_vat_id(self.conn, found, vat)
                self.vat_of[found], self.by_vat[vat] = vat, found
            return found
        return self._new_customer(doc, vat)

    def _new_customer(self, doc: EDocument, vat: str | None) -> int:
        buyer = doc.buyer
        digest = hashlib.sha256(f"{buyer.name}|{buyer.postal_code}".encode()).hexdigest()[:8]
        number = buyer.identifier or vat or f"EI-{digest.upper()}"
        country = (buyer.country or "DE").upper()
        email = (
            buyer.email
            if buyer.email and re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", buyer.email)
            else None
        )
        values: dict[str, Any] = {
            "external_id": number,
            "name": buyer.name,
            "type": "B2B" if buyer.is_business else "B2C",
            "email": email,
            "phone": buyer.phone,
            "street": buyer.street,
            "postal_code": buyer.postal_code,
            "city": buyer.city,
            "country": country if re.fullmatch(r"[A-Z]{2}", country) else "DE",
            "language": "de" if country in GERMAN_SPEAKING else "en",
            "vat_id": vat,
        }
        new_id = stored.add_customer(self.conn, values)
        self.by_number[number] = new_id
        if vat:
            self.by_vat[vat] = new_id
        self.by_name[_name_key(buyer.name, buyer.postal_code)] = new_id
        self.result.customers_created += 1
        self.result.lines.append(f"{doc.path}: new customer {number} ({buyer.name})")
        return new_id

    # documents -----------------------------------------------------------------
    def load(self, doc: EDocument) -> None:
        twin = self.seen.setdefault((doc.kind.value, doc.number), doc)
        if twin is not doc and not _same_figures(twin, doc):
            self.error(
                doc,
                f"appears twice in this import with other figures (also in {twin.path})",
                "import one of the two, or correct the number",
            )
            return
        old = stored.document(self.conn, doc.kind.value, doc.number)
        if old is not None and self._same(old, doc):
            self.result.unchanged += 1
            self.result.lines.append(f"{doc.path}: {doc.number} already imported, unchanged")
            return
        if doc.kind is DocumentKind.CREDIT_NOTE:
            if old is not None:
                self.error(
                    doc,
                    "this credit note was imported before with other figures",
                    "a credit note cannot change; issue a new one",
                )
                return
            self._credit(doc)
            return
        self._invoice(doc, old)

    def _same(self, old: Any, doc: EDocument) -> bool:
        return _same_figures(old, doc)

    def _record(self, doc: EDocument, customer_id: int, invoice_id: int | None) -> None:
        stored.add_document(
            self.conn,
            {
                "kind": doc.kind.value,
                "number": doc.number,
                "type_code": doc.type_code,
                "syntax": doc.syntax,
                "file_name": Path(doc.path).name,
                "issue_date": doc.issue_date,
                "due_date": doc.due_date,
                "currency": doc.currency,
                "amount_due": doc.amount_due,
                "customer_id": customer_id,
                "invoice_id": invoice_id,
                "preceding": "\n".join(doc.preceding),
                "imported_at": self.now,
            },
        )

    def _invoice(self, doc: EDocument, old: Any) -> None:
        if old is not None and not self.update_changed:
            self.error(
                doc,
                f"imported before with {old.amount_due} {old.currency} due "
                f"{old.due_date or old.issue_date}; this file says {doc.amount_due} "
                f"{doc.currency} due {doc.due_date or doc.issue_date}",
                "import with --update if the invoice was corrected, or check the file",
            )
            return
        existing = stored.invoice_id(self.conn, doc.number)
        if existing is not None and self._in_dunning(existing):
            self.error(
                doc,
                "the invoice is already in dunning; its amount and due date "
                "cannot change by import",
                "book a credit note or a payment instead",
            )
            return
        customer_id = self.customer(doc)
        if doc.amount_due <= 0:
            self._upsert_doc(doc, customer_id, None, old)
            self.result.nothing_due += 1
            self.result.lines.append(
                f"{doc.path}: {doc.number} has nothing to collect "
                f"(amount due {doc.amount_due} {doc.currency}); no open item"
            )
            return
        try:
            skonto = skonto_tiers(doc)
        except EInvoiceError as exc:
            self.errors.extend(exc.errors)
            return
        values = {
            "external_id": doc.number,
            "customer_id": customer_id,
            "issue_date": doc.issue_date,
            "due_date": due_date_of(doc),
            "amount": doc.amount_due,
            "currency": doc.currency,
            "due_date_agreed": self.terms_agreed,
            "payment_terms": doc.payment_terms or None,
            "skonto_terms": skonto,
        }
        if existing is None:
            invoice_id = stored.add_invoice(self.conn, values)
            self.result.created += 1
        else:
            stored.update_invoice(self.conn, existing, values)
            invoice_id = existing
            self.result.updated += 1
        self._upsert_doc(doc, customer_id, invoice_id, old)
        self.result.lines.append(
            f"{doc.path}: {doc.number} {doc.amount_due} {doc.currency} due "
            f"{values['due_date']:%d.%m.%Y} ({doc.syntax})"
        )

    def _upsert_doc(
        self, doc: EDocument, customer_id: int, invoice_id: int | None, old: Any
    ) -> None:
        if old is not None:
            stored.delete_document(self.conn, old.id)
        self._record(doc, customer_id, invoice_id)

    def _in_dunning(self, invoice_id: int) -> bool:
        return stored.in_dunning(self.conn, invoice_id)

    def _credit(self, doc: EDocument) -> None:
        if len(doc.preceding) != 1:
            self.error(
                doc,
                "a credit note must name exactly one preceding invoice (BT-25); "
                f"this one names {len(doc.preceding) or 'none'}",
                "ask the sender to reference the invoice it corrects",
            )
            return
        target = stored.invoice(self.conn, doc.preceding[0])
        if target is None:
            self.error(
                doc,
                f"the invoice it reduces, {doc.preceding[0]}, is unknown",
                "import that invoice first (or in the same command)",
            )
            return
        if doc.currency != target.currency:
            self.error(
                doc,
                f"credit in {doc.currency} for an invoice in {target.currency}",
                "ask the sender for a credit note in the invoice's currency",
            )
            return
        credit = abs(doc.amount_due)
        if self._in_dunning(target.id):
            stored.add_payment(
                self.conn,
                {
                    "external_id": f"GS-{doc.number}",
                    "customer_id": target.customer_id,
                    "invoice_id": target.id,
                    "booked_on": doc.issue_date,
                    "amount": credit,
                    "currency": doc.currency,
                    "reference": f"Gutschrift {doc.number} zu {target.external_id}",
                    "source": "import",
                },
            )
            how = "booked as a payment (the invoice is in dunning)"
        else:
            left = target.amount - credit
            values: dict[str, Any] = {"amount": max(left, Decimal("0.00"))}
            if left <= 0:
                values["closed_on"] = doc.issue_date
            stored.update_invoice(self.conn, target.id, values)
            how = "closed" if left <= 0 else f"now {left} {doc.currency}"
        self._record(doc, target.customer_id, target.id)
        self.result.credited += 1
        self.result.lines.append(
            f"{doc.path}: credit note {doc.number} over {credit} {doc.currency} reduces "
            f"{target.external_id}: {how}"
        )


def import_einvoices(
    engine: Engine,
    paths: list[Path],
    *,
    update_changed: bool = False,
    terms_agreed: bool = False,
    actor: str = "import",
    now: datetime | None = None,
) -> EImportResult:
    """Import the e-invoices in `paths` whole, or raise `ImportFailed` and write nothing."""
    now = now or clock.now()
    files = files_in(paths)
    if not files:
        raise ImportFailed(
            ", ".join(map(str, paths)),
            [
                RowError(
                    ", ".join(map(str, paths)),
                    0,
                    "",
                    "no .xml or .pdf file found",
                    "name e-invoice files or a folder that holds them",
                )
            ],
        )
    docs, errors = [], []
    for path in files:
        try:
            docs.append(read_document(path))
        except ImportFailed as exc:
            errors += exc.errors
    if errors:
        raise ImportFailed(errors[0].path, errors)
    # invoices before credit notes, so a credit note finds an invoice of the same import
    docs.sort(key=lambda d: d.kind is DocumentKind.CREDIT_NOTE)
    with engine.begin() as conn:
        loader = _Loader(conn, now, update_changed, terms_agreed)
        for doc in docs:
            loader.load(doc)
        if loader.errors:  # raising inside the transaction rolls all of it back
            raise ImportFailed(loader.errors[0].path, loader.errors)
        result = loader.result
        if result.created or result.updated or result.credited or result.nothing_due:
            _log(conn, result, [d.path for d in docs], actor, now)
    return result


def _log(
    conn: Connection, result: EImportResult, files: list[str], actor: str, now: datetime
) -> None:
    log_book_event(
        conn,
        "import",
        actor,
        now,
        str(result).splitlines()[-1],
        {
            "kind": "einvoice",
            "files": files,
            "created": result.created,
            "updated": result.updated,
            "credited": result.credited,
        },
    )
