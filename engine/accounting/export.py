"""`mahnwerk export datev`: the bookings mahnwerk made, to the books, each exactly once.

What goes out is the ledger's own charges and write-offs — dunning fees, the 40 EUR lump
sum, default interest, write-offs (residual cents included), Skonto earned and discounts
the policy offered (issue 19) — never the principal (the
accounting system booked the invoice) nor payments (the bank statement booked them).
`EXPORTED` is the one table of what is exported, to which account, under which text.

A booking is exported once: the batch that took it is recorded beside it
(`datev_booking`), so a second export of the same period finds nothing, unless `again`
is asked for (a lost file); the GUID in each line lets DATEV refuse a repeat as well.
The file is written to a temporary name and moved into place inside the transaction
that records the batch, so a failed export leaves neither a file nor a record.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from mahnwerk import clock
from mahnwerk.engine.accounting.accounts import DatevSettings
from mahnwerk.engine.accounting.datev import Booking, Header, booking_batch
from mahnwerk.engine.store import accounting as stored
from mahnwerk.errors import MahnwerkError

#: Ledger kind → (account key in the chart, booking text).
EXPORTED: dict[str, tuple[str, str]] = {
    "fee": ("fees", "Mahngebühr"),
    "lump_sum": ("lump_sum", "Verzugspauschale"),
    "interest": ("interest", "Verzugszinsen"),
    "write_off": ("write_off", "Ausbuchung"),
    # issue 19: a Skonto earned reduces the claim like a write-off (and, with it, the VAT,
    # § 17 Abs. 1 UStG: the BU-Schlüssel stays empty for the accountant's correction)
    "skonto": ("skonto", "Skonto"),
    "discount": ("discount", "Nachlass Zahlungsanreiz"),
}


class ExportRefused(MahnwerkError):
    """The export cannot be made as asked; says what to do instead."""


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path | None
    bookings: int
    total: Decimal
    batch_id: int | None
    already: int  # bookings of the period exported before (and not again)

    def __str__(self) -> str:
        if self.path is None:
            return (
                f"nothing to export: {self.already} booking(s) of this period went out in "
                "earlier batches (mahnwerk export datev --list; --again repeats them)"
            )
        return (
            f"{self.path}: batch {self.batch_id}, {self.bookings} booking(s), "
            f"balance {self.total:.2f}"
        )


def _booking(row, settings: DatevSettings) -> Booking:  # type: ignore[no-untyped-def]
    """A ledger line as a booking on the customer's debtor account."""
    account, label = EXPORTED[row.kind]
    text = f"{label} {row.invoice_no}"
    if row.kind == "interest" and row.period_from and row.period_to:
        text += f" {row.period_from:%d.%m.}-{row.period_to:%d.%m.%y}"
    debtor = settings.debtor(row.cust)
    if debtor == settings.debtor_fallback:
        text += f" Kd {row.cust}"  # on the collective account, name the customer
    return Booking(
        ledger_id=row.id,
        amount=row.amount,
        currency=row.currency,
        debtor=debtor,
        counter=settings.account(account),
        day=row.booked_on,
        document=row.invoice_no,
        text=text,
    )


def export_datev(
    engine: Engine,
    settings: DatevSettings,
    period_from: date,
    period_to: date,
    out: Path,
    *,
    again: bool = False,
    actor: str = "export",
    now: datetime | None = None,
) -> ExportResult:
    """Write the period's unexported bookings to `out` and record the batch."""
    now = now or clock.now()
    year = settings.fiscal_year_of(period_from)
    if period_to < period_from or settings.fiscal_year_of(period_to) != year:
        raise ExportRefused(
            f"{period_from:%d.%m.%Y}–{period_to:%d.%m.%Y} is not a period within one fiscal "
            f"year (starting {year:%d.%m.%Y}): a DATEV batch dates its bookings by day and "
            "month only, so export each fiscal year on its own"
        )
    with engine.begin() as conn:
        rows = stored.ledger_lines(conn, EXPORTED, period_from, period_to)
        todo = [r for r in rows if again or r.export_id is None]
        if not todo:
            return ExportResult(None, 0, Decimal("0.00"), None, len(rows))
        bookings = [_booking(r, settings) for r in todo]
        header = Header(
            consultant=settings.consultant,
            client=settings.client,
            fiscal_year_start=year,
            account_length=settings.account_length,
            period_from=period_from,
            period_to=period_to,
            label=f"mahnwerk {period_from:%m/%Y}",
            chart=settings.chart,
            created_at=now,
        )
        total = sum((b.amount for b in bookings), Decimal("0.00"))
        batch_id = stored.record_batch(
            conn, now=now, period_from=period_from, period_to=period_to, file_name=out.name,
            bookings=len(bookings), total=total, actor=actor,
            ledger_ids=[r.id for r in todo if r.export_id is None],
        )  # fmt: skip
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_bytes(booking_batch(header, bookings))
        os.replace(tmp, out)
    return ExportResult(out, len(bookings), total, batch_id, len(rows) - len(todo))


def list_exports(engine: Engine) -> list[str]:
    """The batches written so far, newest last, one line each."""
    rows, count = stored.batches(engine)
    lines = [
        f"{r.id:>4}  {r.created_at:%Y-%m-%d %H:%M}  {r.period_from:%d.%m.%Y}–"
        f"{r.period_to:%d.%m.%Y}  {r.bookings:>6} booking(s)  {r.total:>12.2f}  {r.file_name}"
        f"  ({r.actor})"
        for r in rows
    ]
    return lines + [f"{len(rows)} batch(es), {count} booking(s) exported"]
