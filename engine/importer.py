"""CSV import of customers, invoices and payments, as German accounting exports write them.

A file imports whole or not at all.  Every row is checked first and *all*
problems are reported at once, each as `FILE:ROW:COLUMN: message — what to do`
(ROW is the line in the file, the header is line 1), because a bookkeeper
fixes an export in one go, not one error per attempt.  Only a clean file is
written, in one transaction, as an upsert by external id: importing the same
file again changes nothing.

What the reader accepts (exports from DATEV, Lexware, sevDesk, Excel ...):

* separator `;` or `,` (or tab), taken from the header line; an Excel `sep=;`
  first line is honoured;
* UTF-8 with or without BOM, else Windows-1252 (cp1252); UTF-16 with BOM;
* amounts `1.234,56`, `1234,56`, `1234.56` (also `1,234.56`); `1.234` is
  refused as ambiguous (thousand or one-point-two-three-four?);
* dates `dd.mm.yyyy` (also `d.m.yyyy`) or ISO `yyyy-mm-dd`;
* header names in any case, with German aliases (`Kundennummer`, `Betrag`,
  `Fälligkeit` ...); unknown columns are ignored and reported.

Canonical columns (* = required; see `COLUMNS` for every alias):

customers
    customer_id*, name*, type* (B2B or B2C), email, phone, street, postal_code,
    city, country (ISO code, default DE), region (e.g. BY), language (default de),
    tags (separated by | or ,), vulnerable (yes/no/ja/nein/true/false/1/0),
    opted_out (channels, separated by | or ,), timezone (default Europe/Berlin)
invoices
    invoice_id*, customer_id*, issue_date*, due_date*, amount*, currency
    (default EUR), due_date_agreed (yes/no), notice_30_days (yes/no), received_on,
    claim_kind (goods/services or other money debt: § 288 Abs. 2, 5 BGB)
payments
    payment_id*, date*, amount*, currency (default EUR), invoice_id or reference*
    (at least one of the two columns), customer_id

A column present in the file is the truth for that field; a column that is
absent leaves the stored value alone.  Exception: on payments an empty
`invoice_id` or `customer_id` never clears a match the engine already made.

Contract with the engine: importing an invoice does not create its
`dunning_state`; an invoice without one is "new" and the engine takes it up.
Once it has (a `dunning_state` exists), the import refuses to change its
amount, currency, customer or due date; likewise for a payment the engine has
applied.  Those corrections go through the engine so the ledger stays right.

The import is split by what each part does: `import_cells` reads one cell
(amounts, dates, countries ...), `import_columns` names the columns and their
aliases, `import_table` reads and decodes the file into rows, `import_checks`
and `import_claims` check the rows against the file and the database; this
module plans nothing itself, it runs the checks, writes and logs.  Every name
other modules import stays importable from here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.exc import IntegrityError

from mahnwerk import clock
from mahnwerk.dsl.statute import BERLIN
from mahnwerk.engine import store
from mahnwerk.engine.import_cells import (
    CellError,
    parse_amount,
    parse_bool,
    parse_claim_kind,
    parse_currency,
    parse_date,
)
from mahnwerk.engine.import_checks import _check_customers, _Checker, _Plan
from mahnwerk.engine.import_claims import _check_invoices, _check_payments
from mahnwerk.engine.import_columns import COLUMNS, KINDS, ColumnSpec, Kind
from mahnwerk.engine.import_table import (
    CsvTable,
    ImportFailed,
    ImportResult,
    Row,
    RowError,
    _map_header,
    decode,
    read_table,
)
from mahnwerk.engine.store import lease
from mahnwerk.engine.store.imports import write_rows

_CHECKS: dict[Kind, Callable[[_Checker, Connection], tuple[_Plan, Table]]] = {
    "customers": _check_customers,
    "invoices": _check_invoices,
    "payments": _check_payments,
}


def import_file(
    engine: Engine,
    kind: Kind,
    path: str | Path,
    *,
    actor: str = "import",
    now: datetime | None = None,
    wait: float = lease.DEFAULT_WAIT,
    allow_future: bool = False,
) -> ImportResult:
    """Import one CSV file of `kind` whole, or raise `ImportFailed` and write nothing.

    The file is read and parsed first; then the import takes the book lease (waiting up
    to `wait` s for a run or another import, `lease.BookBusy` after that), so it never
    writes beside a run.

    `now` (aware) stamps the single `import` event written when something
    changed; it defaults to the current time.  An unchanged re-import writes
    nothing at all, not even an event.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}; use one of {', '.join(KINDS)}")
    now = now or clock.now()
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    path = Path(path)
    table = read_table(path, kind, str(path))
    checker = _Checker(table, now.astimezone(BERLIN).date(), allow_future)
    with lease.holding(engine, f"the import of {path}", wait=wait), engine.begin() as conn:
        plan, db_table = _CHECKS[kind](checker, conn)
        if checker.errors:
            raise ImportFailed(table.path, checker.errors)
        try:
            _write(conn, db_table, plan)
        except IntegrityError as exc:
            raise ImportFailed(
                table.path,
                [
                    RowError(
                        table.path,
                        0,
                        "",
                        f"the database refused the import: {exc.orig}",
                        "another import may have run at the same time; run this one again",
                    )
                ],
            ) from exc
        result = ImportResult(
            kind, table.path, len(plan.inserts), len(plan.updates), plan.unchanged, table.ignored
        )
        if plan.inserts or plan.updates:
            _log(conn, result, actor, now)
    return result


def import_records(
    conn: Connection,
    kind: Kind,
    records: list[dict[str, str]],
    source: str,
    *,
    actor: str,
    now: datetime,
) -> ImportResult:
    """Import rows that arrive as records (the HTTP API) with the checks and upsert of a file.

    Each record maps canonical column names to cell text, as a CSV cell would hold it; a
    record's `line` in errors is its index in `records`.  Records that name different
    columns are checked and written as separate tables (a column a record leaves out
    stays as stored).  The caller owns the transaction: on `ImportFailed` it rolls back.
    """
    groups: dict[tuple[str, ...], list[Row]] = {}
    for index, record in enumerate(records):
        groups.setdefault(tuple(sorted(record)), []).append(Row(index, dict(record)))
    inserted = updated = unchanged = 0
    for names, rows in groups.items():
        checker = _Checker(CsvTable(source, 0, {n: n for n in names}, rows))
        _map_errors = _map_header(source, kind, list(names), 0, COLUMNS[kind])[1]
        if _map_errors:
            raise ImportFailed(
                source,
                [RowError(source, rows[0].line, e.column, e.message, e.hint) for e in _map_errors],
            )
        plan, db_table = _CHECKS[kind](checker, conn)
        if checker.errors:
            raise ImportFailed(source, checker.errors)
        _write(conn, db_table, plan)
        inserted, updated = inserted + len(plan.inserts), updated + len(plan.updates)
        unchanged += plan.unchanged
    result = ImportResult(kind, source, inserted, updated, unchanged, ())
    if inserted or updated:
        _log(conn, result, actor, now)
    return result


def import_customers(engine: Engine, path: str | Path, **kwargs: Any) -> ImportResult:
    """`import_file(engine, "customers", path)`."""
    return import_file(engine, "customers", path, **kwargs)


def import_invoices(engine: Engine, path: str | Path, **kwargs: Any) -> ImportResult:
    """`import_file(engine, "invoices", path)`; does not create dunning states."""
    return import_file(engine, "invoices", path, **kwargs)


def import_payments(engine: Engine, path: str | Path, **kwargs: Any) -> ImportResult:
    """`import_file(engine, "payments", path)`; unmatched payments keep invoice_id NULL."""
    return import_file(engine, "payments", path, **kwargs)


def _write(conn: Connection, table: Table, plan: _Plan) -> None:
    """The checked file's inserts and updates, in the import's transaction."""
    write_rows(conn, table, plan.inserts, plan.updates)


def _log(conn: Connection, result: ImportResult, actor: str, now: datetime) -> None:
    """One event per import that changed something (the day is the Berlin calendar day)."""
    store.log_book_event(
        conn,
        "import",
        actor,
        now,
        str(result),
        {
            "kind": result.kind,
            "file": result.path,
            "inserted": result.inserted,
            "updated": result.updated,
            "unchanged": result.unchanged,
        },
    )


__all__ = [
    "COLUMNS",
    "KINDS",
    "CellError",
    "ColumnSpec",
    "ImportFailed",
    "ImportResult",
    "Kind",
    "RowError",
    "decode",
    "import_customers",
    "import_file",
    "import_invoices",
    "import_payments",
    "import_records",
    "parse_amount",
    "parse_bool",
    "parse_currency",
    "parse_date",
    "read_table",
    "CsvTable",
    "Row",
    "parse_claim_kind",
]
