"""An invoice's timeline rows, read through the DBAPI alone (no SQLAlchemy imported).

Part of the store layer (`engine/store/`), for `engine/timeline`, which shapes these rows
into `show --json` (docs/json.md) and `show`'s text.  Why not SQLAlchemy here: `mahnwerk
show INV` is what an operator or a script types many times a day, and importing
SQLAlchemy and the table metadata costs more CPU than the whole answer may take (issue
21: `show` under 0.3 s).  So the reading is plain SQL on a DBAPI connection — `sqlite3`
for the command line's fast path (`app/quick.py`), SQLAlchemy's raw connection for
`store.invoices.timeline` (the API, the TUI, the tests).

Values arrive as the driver gives them: `sqlite3` returns dates and instants as text and
amounts as numbers, psycopg returns `date`, aware `datetime` and `Decimal`.  `_TYPES`
turns either into what the engine's SQLAlchemy types would have returned (dates, UTC
instants, amounts at two places), so both paths print the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, NamedTuple


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _instant(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(str(value))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _money(value: Any) -> Decimal | None:
    """As SQLAlchemy's Numeric(14, 2) reads SQLite's REAL/INTEGER: rounded to two places."""
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(f"{float(value):.2f}")


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _text(value: Any) -> Any:
    return value


_TYPES: dict[str, Callable[[Any], Any]] = {
    "date": _date,
    "instant": _instant,
    "money": _money,
    "bool": _bool,
    "text": _text,
}

HEAD: tuple[tuple[str, str, str], ...] = (
    ("i.id", "id", "text"),
    ("i.external_id", "external_id", "text"),
    ("i.amount", "amount", "money"),
    ("i.due_date", "due_date", "date"),
    ("c.external_id", "customer_ext", "text"),
    ("c.name", "customer_name", "text"),
    ("d.segment", "segment", "text"),
    ("d.state", "state", "text"),
    ("d.entered_on", "entered_on", "date"),
    ("d.next_check_on", "next_check_on", "date"),
    ("d.principal_open", "principal_open", "money"),
    ("d.fees_open", "fees_open", "money"),
    ("d.interest_open", "interest_open", "money"),
    ("d.pause_reason", "pause_reason", "text"),
    ("d.held", "held", "bool"),
    ("d.disputed", "disputed", "bool"),
    ("d.time_barred_from", "time_barred_from", "date"),
)
"""The invoice's head row: (SQL expression, name, type) — the columns `invoice_row` reads."""

EVENTS = (
    ("occurred_on", "date"), ("kind", "text"), ("state_from", "text"), ("state_to", "text"),
    ("message", "text"), ("rule", "text"), ("actor", "text"),
)  # fmt: skip
LEDGER = (
    ("booked_on", "date"), ("kind", "text"), ("amount", "money"), ("period_from", "date"),
    ("period_to", "date"), ("provisional", "bool"), ("rule", "text"),
)  # fmt: skip
MESSAGES = (
    ("channel", "text"), ("template", "text"), ("status", "text"),
    ("not_before", "instant"), ("sent_at", "instant"), ("rule", "text"),
)  # fmt: skip


class _Reader:
    """Runs one query with `?` marks on a DBAPI connection whose marks are `mark`."""

    def __init__(self, conn: Any, mark: str) -> None:
        self.cursor = conn.cursor()
        self.mark = mark

    def rows(self, sql: str, params: Sequence[Any], types: Sequence[str]) -> list[tuple]:
        self.cursor.execute(sql.replace("?", self.mark), tuple(params))
        convert = [_TYPES[t] for t in types]
        return [tuple(f(v) for f, v in zip(convert, row, strict=True)) for row in self.cursor]

    def lines(self, table: str, columns: Sequence[tuple[str, str]], iid: int, order: str):
        names = ", ".join(name for name, _ in columns)
        sql = f"SELECT {names} FROM {table} WHERE invoice_id = ? ORDER BY {order}"
        return [
            dict(zip((n for n, _ in columns), row, strict=True))
            for row in self.rows(sql, [iid], [t for _, t in columns])
        ]


def books_date_sql(reader: _Reader) -> date | None:
    """The as-of date of the latest run: the day the books (interest, states) stand at."""
    return reader.rows("SELECT max(as_of) FROM run", [], ["date"])[0][0]


class TimelineRows(NamedTuple):
    """One invoice's rows: its head (`HEAD`'s names), the day limitation is judged on, and
    its event log, ledger and messages (dicts by the names of `EVENTS`, `LEDGER`, `MESSAGES`)."""

    head: SimpleNamespace
    day: date | None
    events: list[dict[str, Any]]
    ledger: list[dict[str, Any]]
    messages: list[dict[str, Any]]


def timeline_rows(
    conn: Any, invoice: str, as_of: date | None = None, mark: str = "?"
) -> TimelineRows | None:
    """The rows of the invoice with this number, or None when there is none; the day is
    `as_of`, else the latest run's (read only then).  `conn` is a DBAPI connection whose
    parameter mark is `mark`."""
    reader = _Reader(conn, mark)
    exprs = ", ".join(f"{expr} AS {name}" for expr, name, _ in HEAD)
    found = reader.rows(
        f"SELECT {exprs} FROM invoice i JOIN customer c ON c.id = i.customer_id "
        "LEFT JOIN dunning_state d ON d.invoice_id = i.id WHERE i.external_id = ?",
        [invoice],
        [t for _, _, t in HEAD],
    )
    if not found:
        return None
    head = SimpleNamespace(**dict(zip((n for _, n, _ in HEAD), found[0], strict=True)))
    return TimelineRows(
        head,
        as_of or books_date_sql(reader),
        reader.lines("event", EVENTS, head.id, "occurred_on, id"),
        reader.lines("ledger", LEDGER, head.id, "booked_on, id"),
        reader.lines("outbox", MESSAGES, head.id, "id"),
    )
