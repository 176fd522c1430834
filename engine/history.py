"""Payment histories, read into one plain shape for analytics and replays.

Two sources describe how customers paid: the engine's own database (invoices,
the payments booked on them, the disputes entered) and a real receivables
export in the layout of IBM's "Accounts Receivable" sample (the history the
demo is calibrated on, see `calibration.py`).  Both become `PastInvoice`s, so
the behaviour figures, the risk model and the policy replay never care which
one they read.

The sample states no licence: it is read from `../shared/data/` at run time
and never copied into the project.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import Engine

from mahnwerk.engine.store.reports import history_rows
from mahnwerk.errors import MahnwerkError

#: The columns an accounts-receivable export must have (IBM sample layout).
AR_COLUMNS = (
    "customerID",
    "invoiceNumber",
    "InvoiceDate",
    "DueDate",
    "InvoiceAmount",
    "Disputed",
    "SettledDate",
    "PaperlessBill",
)


class HistoryError(MahnwerkError, ValueError):
    """A history file that cannot be read; the message names file, line and what to do."""


@dataclass(frozen=True, slots=True)
class PastInvoice:
    """One invoice and how it was paid, as far as the source knows."""

    customer: str
    invoice: str
    issue_date: date
    due_date: date
    amount: Decimal
    paid_on: date | None = None  # the day it was paid in full; None while open
    disputed: bool = False
    disputed_on: date | None = None  # None: the source does not say when
    payments: int = 0  # how many payments went into it (more than one: paid in parts)
    paperless: bool | None = None

    @property
    def days_late(self) -> int | None:
        """Days paid after the due date (0 when on time); None while unpaid."""
        if self.paid_on is None:
            return None
        return max(0, (self.paid_on - self.due_date).days)


def _us_date(text: str, where: str, column: str) -> date:
    try:
        return datetime.strptime(text.strip(), "%m/%d/%Y").date()
    except ValueError:
        raise HistoryError(
            f"{where}: column {column}: {text!r} is not a date in the form M/D/YYYY"
        ) from None


def read_ar_csv(path: str | Path) -> list[PastInvoice]:
    """The invoices of an accounts-receivable CSV in the IBM sample layout.

    Dates are US `M/D/YYYY`; `invoiceNumber` keeps its leading zeros; a row
    with `SettledDate` is paid in full on that day (the sample knows no part
    payments and no dispute dates).
    """
    path = Path(path)
    if not path.is_file():
        raise HistoryError(f"{path}: no such file; give the accounts-receivable CSV")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise HistoryError(
            f"{path}: not UTF-8 text (byte {exc.start}); export the CSV as UTF-8"
        ) from None
    with io.StringIO(text, newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in AR_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise HistoryError(
                f"{path}:1: missing column(s) {', '.join(missing)}; "
                f"an accounts-receivable export needs {', '.join(AR_COLUMNS)}"
            )
        out = []
        for line, row in enumerate(reader, start=2):
            where = f"{path}:{line}"
            try:
                amount = Decimal(row["InvoiceAmount"].strip())
            except InvalidOperation:
                raise HistoryError(
                    f"{where}: column InvoiceAmount: {row['InvoiceAmount']!r} is not an amount "
                    "(write 55.94)"
                ) from None
            settled = row["SettledDate"].strip()
            out.append(
                PastInvoice(
                    customer=row["customerID"].strip(),
                    invoice=row["invoiceNumber"].strip(),
                    issue_date=_us_date(row["InvoiceDate"], where, "InvoiceDate"),
                    due_date=_us_date(row["DueDate"], where, "DueDate"),
                    amount=amount,
                    paid_on=_us_date(settled, where, "SettledDate") if settled else None,
                    disputed=row["Disputed"].strip() == "Yes",
                    payments=1 if settled else 0,
                    paperless=row["PaperlessBill"].strip() == "Electronic",
                )
            )
    return out


def read_database(engine: Engine, as_of: date) -> list[PastInvoice]:
    """The invoices in the engine's database as they stood at the end of `as_of`.

    Paid in full: the invoice's dunning record stands in `paid` and its last
    payment was booked by `as_of` (that payment's day is the day it was paid).
    Payments and disputes dated after `as_of` are not counted, so figures for a
    past day show what was known that day.
    """
    rows, payments, disputes = history_rows(engine, as_of)
    out = []
    for r in rows:
        count, last = payments.get(r.id, (0, None))
        # Paid in full on the day of its last payment (a run may close it days later).
        paid_on = last if r.state == "paid" and last is not None else None
        out.append(
            PastInvoice(
                customer=r.customer,
                invoice=r.external_id,
                issue_date=r.issue_date,
                due_date=r.due_date,
                amount=Decimal(r.amount),
                paid_on=paid_on,
                disputed=r.id in disputes,
                disputed_on=disputes.get(r.id),
                payments=count,
            )
        )
    return out


def by_customer(invoices: list[PastInvoice]) -> dict[str, list[PastInvoice]]:
    """Each customer's invoices, oldest first (by issue date, then number)."""
    out: dict[str, list[PastInvoice]] = defaultdict(list)
    for inv in sorted(invoices, key=lambda i: (i.issue_date, i.invoice)):
        out[inv.customer].append(inv)
    return dict(out)
