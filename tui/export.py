"""The queue's current filter as a file: CSV for a German Excel, or XLSX.

German Excel opens a CSV by double click only when it is `;`-separated, with a
decimal comma and a UTF-8 byte-order mark (otherwise umlauts break); amounts go
into XLSX as numbers with two decimals, dates as dates.  Every matching invoice is
written, read page by page by key, so a big export never holds the book in memory
twice.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from mahnwerk.engine.store.screens import QueueFilter, queue_page

HEADER = ("invoice", "customer", "name", "city", "amount", "balance", "due", "days overdue",
          "segment", "state", "flags")  # fmt: skip


def rows(engine: Engine, filters: QueueFilter, today: date) -> Iterator[list[Any]]:
    after = None
    while True:
        page = queue_page(engine, filters, today, after, size=1000)
        for r in page.rows:
            due = date.fromisoformat(r["due_date"])
            flags = " ".join(f for f in ("held", "disputed") if r[f]) or (r["paused"] or "")
            yield [r["invoice"], r["customer"], r["customer_name"], r["city"],
                   Decimal(r["amount"]), Decimal(r["balance"]), due,
                   max((today - due).days, 0), r["segment"] or "", r["state"], flags]  # fmt: skip
        if not page.more or not page.keys:
            return
        after = page.keys[-1]


def _german(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, date):
        return f"{value:%d.%m.%Y}"
    return str(value)


def write_csv(engine: Engine, filters: QueueFilter, today: date, path: Path) -> int:
    n = 0
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f, delimiter=";")
        out.writerow(HEADER)
        for row in rows(engine, filters, today):
            out.writerow([_german(v) for v in row])
            n += 1
    return n


def write_xlsx(engine: Engine, filters: QueueFilter, today: date, path: Path) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Rechnungen")
    sheet.append(list(HEADER))
    n = 0
    for row in rows(engine, filters, today):
        cells = []
        for v in row:
            cell = WriteOnlyCell(sheet, value=v)  # Decimal stays Decimal: no float rounding
            if isinstance(v, Decimal):
                cell.number_format = "#,##0.00"
            elif isinstance(v, date):
                cell.number_format = "DD.MM.YYYY"
            cells.append(cell)
        sheet.append(cells)
        n += 1
    book.save(path)
    return n


def export(engine: Engine, filters: QueueFilter, today: date, path: Path) -> int:
    """Write the filter's invoices to `path` (.csv or .xlsx); returns how many."""
    if path.suffix.lower() == ".xlsx":
        return write_xlsx(engine, filters, today, path)
    if path.suffix.lower() == ".csv":
        return write_csv(engine, filters, today, path)
    raise ValueError(f"{path.name}: the file name must end in .csv or .xlsx")
