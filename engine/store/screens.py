"""What the TUI's screens read: the queue, its filters, the dashboard, an invoice's header.

Part of the store layer (`engine/store/`): the screens call these functions and build no
SQL themselves.  Everything here is read-only: every write the UI makes goes through the
engine's own functions (`approvals.decide`, `store.invoices.record_event`,
`runner.run`).  The reads are shaped for a big book:

* the queue is read one page at a time by *keyset* (`WHERE (sort, id) > (last
  seen) ORDER BY sort, id LIMIT n`), so the hundredth page costs what the first
  one does, unlike `OFFSET`, which walks every row it skips;
* the count of matching invoices is a separate query the queue screen runs once
  per filter change in a background worker, never per key press;
* the dashboard's aggregates are one grouped query each, also run in a worker.

The row shape of the queue is the engine's `timeline.invoice_row`, so the
screen shows what `mahnwerk invoices --json` shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, Select, and_, func, literal, or_, select, tuple_

from mahnwerk.dsl.ir import Terminal
from mahnwerk.engine.importer import CellError
from mahnwerk.engine.importer import parse_amount as import_amount
from mahnwerk.engine.models import APPROVAL, CUST, DS, EVENT, INV, LEDGER, OUTBOX, RUN
from mahnwerk.engine.store.invoices import _base, invoice_row
from mahnwerk.errors import MahnwerkError

TERMINAL_STATES = tuple(t.value for t in Terminal)
PAGE_SIZE = 50

AGING = ("not due", "1–30", "31–60", "61–90", "over 90")
"""Aging buckets by days past the due date, as accountants draw them."""


class FilterError(MahnwerkError, ValueError):
    """A filter value the operator typed that cannot be used (named in the message)."""


# ---------------------------------------------------------------------------
# The queue
# ---------------------------------------------------------------------------

SORTS: dict[str, Any] = {
    "entry": None,  # the order invoices were imported in: the primary key
    "number": INV.c.external_id,  # unique index
    "customer": INV.c.customer_id,  # index
    "due date": INV.c.due_date,  # index (due_date, id), migration 0005
    "amount": INV.c.amount,  # index (amount, id), migration 0005
}
"""Sort columns the queue offers; every page is keyed by (column, invoice id).

Each follows an index (the key and the invoice id), so a page costs the same on
any book size.
"""

INDEXED_SORTS = ("entry", "number", "customer", "due date", "amount")


@dataclass(frozen=True)
class QueueFilter:
    """What the operator narrowed the queue to; empty fields filter nothing."""

    state: str = ""
    segment: str = ""
    customer: str = ""
    min_amount: str = ""
    max_amount: str = ""
    min_days_overdue: str = ""
    text: str = ""
    show: str = "open"  # open | all | closed (paid, written off, handed over, insolvent)
    sort: str = "due date"
    descending: bool = False

    def with_(self, **changes: Any) -> QueueFilter:
        return replace(self, **changes)

    @classmethod
    def parse(cls, line: str, sort: str = "due date", descending: bool = False) -> QueueFilter:
        """The filter line as an operator types it (`FILTER_SYNTAX`); bad parts raise.

        `state=mahnung_1 amount>=100 overdue>=30 müller` keeps invoices in
        `mahnung_1` of at least 100 EUR, 30 or more days overdue, whose number or
        customer matches "müller".
        """
        values: dict[str, str] = {}
        words = []
        for part in line.split():
            m = _FILTER_PART.fullmatch(part)
            if m is None:
                if "=" in part or part.startswith((">", "<")):
                    raise FilterError(f"cannot read {part!r}; write e.g. {FILTER_SYNTAX}")
                words.append(part)
                continue
            key, op, value = m.group(1).lower(), m.group(2), m.group(3)
            field_name = _FILTER_FIELDS.get((key, op))
            if field_name is None:
                raise FilterError(f"cannot read {part!r}; write e.g. {FILTER_SYNTAX}")
            values[field_name] = value
        found = cls(text=" ".join(words), sort=sort, descending=descending, **values)
        found.conditions(date(2000, 1, 1))  # refuse malformed values now, not at the query
        return found

    def line(self) -> str:
        """The filter line that `parse` reads back into these filters."""
        parts = [
            f"{key}{op}{getattr(self, name)}"
            for (key, op), name in _FILTER_FIELDS.items()
            if getattr(self, name).strip()
            and key != "days"
            and (key, getattr(self, name)) != ("show", "open")  # the default goes without saying
        ]
        return " ".join(parts + ([self.text] if self.text.strip() else []))

    def conditions(self, today: date) -> list[Any]:
        """SQL conditions for these filters; a malformed value raises `FilterError`."""
        out: list[Any] = []
        show = self.show.strip() or "open"
        if show not in ("open", "all", "closed"):
            raise FilterError(f"show={show!r}: write show=open, show=all or show=closed")
        if show == "open":
            out.append(or_(DS.c.state.is_(None), DS.c.state.not_in(TERMINAL_STATES)))
        elif show == "closed":
            out.append(DS.c.state.in_(TERMINAL_STATES))
        if self.state.strip():
            states = [s.strip() for s in self.state.split(",") if s.strip()]
            named = [s for s in states if s != "new"]
            parts = [DS.c.state.in_(named)] if named else []
            if "new" in states:
                parts.append(DS.c.state.is_(None))
            out.append(or_(*parts))
        if self.segment.strip():
            out.append(DS.c.segment == self.segment.strip())
        if self.customer.strip():
            out.append(CUST.c.external_id == self.customer.strip())
        if self.min_amount.strip():
            out.append(INV.c.amount >= parse_amount(self.min_amount, "minimum amount"))
        if self.max_amount.strip():
            out.append(INV.c.amount <= parse_amount(self.max_amount, "maximum amount"))
        if self.min_days_overdue.strip():
            try:
                days = int(self.min_days_overdue.strip())
            except ValueError:
                raise FilterError(
                    f"days overdue {self.min_days_overdue!r} is not a whole number; write e.g. 30"
                ) from None
            out.append(INV.c.due_date <= today - timedelta(days=days))
        if self.text.strip():
            like = f"%{self.text.strip().lower()}%"
            out.append(
                or_(
                    func.lower(INV.c.external_id).like(like),
                    func.lower(CUST.c.name).like(like),
                    func.lower(CUST.c.external_id).like(like),
                )
            )
        return out


FILTER_SYNTAX = (
    "state=mahnung_1,new  segment=default  customer=K-100  amount>=100  amount<=500  "
    "overdue>=30  show=all  words to search"
)
_FILTER_PART = re.compile(r"([A-Za-z]+)(>=|<=|=)(\S+)")
_FILTER_FIELDS = {
    ("state", "="): "state",
    ("segment", "="): "segment",
    ("customer", "="): "customer",
    ("amount", ">="): "min_amount",
    ("amount", "<="): "max_amount",
    ("overdue", ">="): "min_days_overdue",
    ("days", ">="): "min_days_overdue",
    ("show", "="): "show",
}


def parse_amount(text: str, what: str) -> Decimal:
    """An amount as the importer reads it (`1.234,56` or `1234.56`), or a `FilterError`."""
    try:
        return import_amount(text)
    except CellError as exc:
        raise FilterError(f"{what}: {exc.message}; {exc.hint}") from None


@dataclass
class Page:
    """One screenful of the queue and the keys to move from it."""

    rows: list[dict[str, Any]]
    keys: list[tuple[Any, int]] = field(default_factory=list)
    more: bool = False


def _sort_expr(sort: str) -> Any:
    if sort not in SORTS:
        raise FilterError(f"unknown sort {sort!r}; one of {', '.join(SORTS)}")
    return SORTS[sort]


def queue_page(
    engine: Engine,
    filters: QueueFilter,
    today: date,
    after: tuple[Any, int] | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    """The `size` invoices following the key `after` (None: the first page)."""
    query, keyed = page_query(filters, today, after)
    with engine.connect() as conn:
        rows = conn.execute(query.limit(size + 1)).all()
    more = len(rows) > size
    rows = rows[:size]
    return Page(
        [invoice_row(r, today) | {"city": r.city or ""} for r in rows],
        [(r.sort_key if keyed else r.iid, r.iid) for r in rows],
        more,
    )


def page_query(
    filters: QueueFilter, today: date, after: tuple[Any, int] | None = None
) -> tuple[Select, bool]:
    """The query of the page after the key `after`, and whether it is keyed by a sort column
    (else by the invoice id alone); `queue_page` limits it to a page."""
    expr = _sort_expr(filters.sort)
    # Filtered by one named state, walk that state's part of an index of `dunning_state`
    # instead of sorting every invoice in the state: `(state, invoice_id)` for the entry
    # order, `(state, invoice_due_date, invoice_id)` for the due date (migration 0024).
    states = [s.strip() for s in filters.state.split(",") if s.strip()]
    one_state = len(states) == 1 and states != ["new"]
    ident = DS.c.invoice_id if one_state else INV.c.id
    if one_state and filters.sort == "due date":
        expr = DS.c.invoice_due_date
    query = _base().add_columns(ident.label("iid"), CUST.c.city)
    if expr is not None:
        query = query.add_columns(expr.label("sort_key"))
    conditions = filters.conditions(today)
    if after is not None:
        key, iid = after
        cmp = (lambda a, b: a < b) if filters.descending else (lambda a, b: a > b)
        if expr is None:
            conditions.append(cmp(ident, iid))
        else:
            conditions.append(cmp(tuple_(expr, ident), tuple_(literal(key), literal(iid))))
    if conditions:
        query = query.where(and_(*conditions))
    order = [ident] if expr is None else [expr, ident]
    query = query.order_by(*(c.desc() if filters.descending else c for c in order))
    return query, expr is not None


def queue_count(engine: Engine, filters: QueueFilter, today: date) -> int:
    """How many invoices match; joins only what the filters need."""
    conditions = filters.conditions(today)
    query = select(func.count()).select_from(INV)
    needs_cust = bool(filters.customer.strip() or filters.text.strip())
    needs_ds = bool(filters.state.strip() or filters.segment.strip() or filters.show != "all")
    if needs_cust:
        query = query.join(CUST, CUST.c.id == INV.c.customer_id)
    if needs_ds:
        query = query.outerjoin(DS, DS.c.invoice_id == INV.c.id)
    if conditions:
        query = query.where(and_(*conditions))
    with engine.connect() as conn:
        return conn.execute(query).scalar_one()


# ---------------------------------------------------------------------------
# The dashboard
# ---------------------------------------------------------------------------


@dataclass
class Dashboard:
    by_state: list[tuple[str, str, int, Decimal]]  # segment, state, invoices, open balance
    aging: dict[str, tuple[int, Decimal]]
    approvals_waiting: int
    messages_waiting: int
    collected_week: Decimal
    week_from: date


def dashboard(engine: Engine, today: date) -> Dashboard:
    """Invoices and money per state and segment, aging, and what waits for people.

    The sums come from the book summary the database keeps (engine/store/book_summary.py): a
    few thousand rows, however many invoices are open."""
    from mahnwerk.engine.store.book_summary import totals

    days = [today - timedelta(days=n) for n in (0, 30, 60, 90)]
    monday = today - timedelta(days=today.weekday())
    with engine.connect() as conn:
        rows = totals(conn)
        approvals = conn.execute(
            select(func.count()).select_from(APPROVAL).where(APPROVAL.c.status == "pending")
        ).scalar_one()
        messages = conn.execute(
            select(func.count()).select_from(OUTBOX).where(OUTBOX.c.status == "queued")
        ).scalar_one()
        paid = conn.execute(
            select(func.sum(LEDGER.c.amount)).where(
                LEDGER.c.kind == "payment", LEDGER.c.booked_on.between(monday, today)
            )
        ).scalar()
    states: dict[tuple[str, str], tuple[int, Decimal]] = {}
    aging = {name: (0, Decimal("0.00")) for name in AGING}
    for t in rows:
        key = ("-", "new") if t.is_new else (t.segment, t.state)
        n, total = states.get(key, (0, Decimal("0.00")))
        states[key] = (n + t.invoices, total + t.balance)
        if t.is_new or t.state in TERMINAL_STATES:
            continue
        bucket = AGING[next((b for b, day in enumerate(days) if t.due_date >= day), 4)]
        n, total = aging[bucket]
        aging[bucket] = (n + t.invoices, total + t.balance)
    new = states.pop(("-", "new"), None)
    by_state = [(seg, state, n, total) for (seg, state), (n, total) in sorted(states.items())]
    if new is not None and new[0]:
        by_state.insert(0, ("-", "new", *new))
    return Dashboard(by_state, aging, approvals, messages, -Decimal(paid or 0), monday)


# ---------------------------------------------------------------------------
# One invoice
# ---------------------------------------------------------------------------


def customer_of(engine: Engine, invoice: str) -> dict[str, Any]:
    """The debtor of an invoice, for the detail screen's header."""
    with engine.connect() as conn:
        row = conn.execute(
            select(CUST, INV.c.currency, INV.c.issue_date)
            .join(INV, INV.c.customer_id == CUST.c.id)
            .where(INV.c.external_id == invoice)
        ).first()
    if row is None:
        return {}
    return dict(row._mapping)


# ---------------------------------------------------------------------------
# A run
# ---------------------------------------------------------------------------


def last_run_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.coalesce(func.max(RUN.c.id), 0))).scalar_one()


def run_changes(engine: Engine, after_run: int, limit: int = 200) -> dict[str, Any]:
    """What the runs after `after_run` did: moves per edge, and the first moved invoices."""
    moved = (
        select(EVENT.c.state_from, EVENT.c.state_to, EVENT.c.rule, func.count().label("n"))
        .where(EVENT.c.run_id > after_run, EVENT.c.state_to.is_not(None))
        .where(EVENT.c.state_from.is_not(None), EVENT.c.state_from != EVENT.c.state_to)
        .group_by(EVENT.c.state_from, EVENT.c.state_to, EVENT.c.rule)
        .order_by(func.count().desc(), EVENT.c.state_from, EVENT.c.state_to)
    )
    sample = (
        select(
            INV.c.external_id,
            EVENT.c.state_from,
            EVENT.c.state_to,
            EVENT.c.kind,
            EVENT.c.rule,
            EVENT.c.message,
        )
        .join(INV, INV.c.id == EVENT.c.invoice_id)
        .where(EVENT.c.run_id > after_run)
        .order_by(EVENT.c.id)
        .limit(limit)
    )
    with engine.connect() as conn:
        return {
            "moves": [tuple(r) for r in conn.execute(moved)],
            "events": [dict(r._mapping) for r in conn.execute(sample)],
        }
