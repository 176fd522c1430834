"""The queue's keyset paging and the dashboard's figures, against the engine's own lists.

Paging by key must show every invoice exactly once, in order, whichever sort
and direction; the count must match; the dashboard must add up to what
`queries.list_invoices` reports invoice by invoice.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select, update
from tui_book import AS_OF, build_book

from mahnwerk.engine.models import INV
from mahnwerk.engine.store.invoices import list_invoices
from mahnwerk.engine.store.screens import (
    AGING,
    SORTS,
    FilterError,
    QueueFilter,
    dashboard,
    page_query,
    queue_count,
    queue_page,
)


def every_page(engine: Engine, filters: QueueFilter, size: int = 3) -> list[dict]:
    rows, after = [], None
    while True:
        page = queue_page(engine, filters, AS_OF, after, size)
        rows += page.rows
        if not page.more:
            return rows
        after = page.keys[-1]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("sort", list(SORTS))
def test_paging_by_key_shows_every_invoice_once_in_order(book: Engine, sort, descending):
    everything = list_invoices(book, limit=1000)
    rows = every_page(book, QueueFilter(sort=sort, descending=descending, show="all"))
    assert sorted(r["invoice"] for r in rows) == sorted(r["invoice"] for r in everything)
    assert len(rows) == len(everything) == 20
    field = {"number": "invoice", "due date": "due_date", "customer": "customer"}.get(sort)
    if sort == "amount":
        values = [Decimal(r["amount"]) for r in rows]
    elif field:
        values = [r[field] for r in rows]
    else:  # entry order: as the engine lists them
        values = [[r["invoice"] for r in everything].index(r["invoice"]) for r in rows]
    assert values == sorted(values, reverse=descending)


def test_filters_and_counts_agree_with_the_engine(book: Engine):
    everything = list_invoices(book, limit=1000)
    cases = {
        "state=mahnung_2": lambda r: r["state"] == "mahnung_2",
        "state=mahnung_1,erinnerung": lambda r: r["state"] in ("mahnung_1", "erinnerung"),
        "segment=business": lambda r: r["segment"] == "business",
        "customer=K-200": lambda r: r["customer"] == "K-200",
        "amount>=500 amount<=1.500,00": lambda r: 500 <= Decimal(r["amount"]) <= 1500,
        "overdue>=60": lambda r: date.fromisoformat(r["due_date"]) <= AS_OF - timedelta(60),
        "weiß": lambda r: "weiß" in r["customer_name"].lower(),
        "re-100": lambda r: r["invoice"].startswith("RE-100"),
    }
    for line, keep in cases.items():
        filters = QueueFilter.parse(line + " show=all", sort="entry")
        expected = [r["invoice"] for r in everything if keep(r)]
        assert [r["invoice"] for r in every_page(book, filters)] == expected, line
        assert queue_count(book, filters, AS_OF) == len(expected), line


@pytest.mark.parametrize("descending", [False, True])
def test_one_state_by_due_date_pages_in_order_and_follows_a_corrected_due_date(
    book: Engine, descending
):
    """Filtered by one state, the queue reads a state's invoices in due-date order from an
    index of its own (migration 0024); the pages must be what sorting them shows."""

    def expected() -> list[str]:
        everything = list_invoices(book, limit=1000)
        entry = [r["invoice"] for r in everything]
        rows = [r for r in everything if r["state"] == "mahnung_2"]
        rows.sort(key=lambda r: (r["due_date"], entry.index(r["invoice"])), reverse=descending)
        return [r["invoice"] for r in rows]

    filters = QueueFilter.parse("state=mahnung_2", descending=descending)
    shown = [r["invoice"] for r in every_page(book, filters, size=2)]
    assert shown == expected() and len(shown) == 5
    # two invoices on one due date: the invoice id breaks the tie, across a page's edge
    first, second = shown[1], shown[2]
    with book.begin() as conn:
        day = conn.execute(select(INV.c.due_date).where(INV.c.external_id == first)).scalar_one()
        conn.execute(update(INV).where(INV.c.external_id == second).values(due_date=day))
    shown = [r["invoice"] for r in every_page(book, filters, size=2)]
    assert shown == expected()
    assert [r["due_date"] for r in every_page(book, filters, size=2)][1:3] == [day.isoformat()] * 2


def test_one_state_by_due_date_walks_its_index_without_sorting(tmp_path):  # type: ignore[no-untyped-def]
    """The plan SQLite makes for a state's pages (first, next, previous): a search of the
    index `(state, invoice_due_date, invoice_id)`, no temporary B-tree for the order."""
    engine = build_book(f"sqlite:///{tmp_path / 'book.db'}")
    try:
        for descending in (False, True):
            filters = QueueFilter.parse("state=mahnung_2", descending=descending)
            for after in (None, (AS_OF, 7)):
                query, _keyed = page_query(filters, AS_OF, after)
                sql = str(query.limit(51).compile(engine, compile_kwargs={"literal_binds": True}))
                with engine.connect() as conn:
                    plan = [r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
                assert plan[0].startswith(
                    "SEARCH dunning_state USING INDEX ix_dunning_state_state_due (state=?"
                ), plan
                assert not any("TEMP B-TREE" in step for step in plan), plan
    finally:
        engine.dispose()


def test_the_queue_opens_on_open_invoices_and_says_so_in_its_line(book: Engine):
    """The queue used to open on every invoice, paid ones first (issue 14)."""
    everything = list_invoices(book, limit=1000)
    paid = [r["invoice"] for r in everything if r["state"] == "paid"]
    assert paid == ["RE-2010"]
    default = every_page(book, QueueFilter())
    assert [r["invoice"] for r in default] == sorted(
        (r["invoice"] for r in everything if r["state"] != "paid"),
        key=lambda i: next((r["due_date"], r["invoice"]) for r in everything if r["invoice"] == i),
    )  # open invoices, oldest due date first
    assert queue_count(book, QueueFilter(), AS_OF) == 19
    closed = QueueFilter.parse("show=closed")
    assert [r["invoice"] for r in every_page(book, closed)] == ["RE-2010"]
    assert closed.line() == "show=closed" and QueueFilter().line() == ""
    with pytest.raises(FilterError, match="show=open, show=all or show=closed"):
        QueueFilter.parse("show=everything")


def test_the_filter_line_is_read_back_and_refuses_what_it_cannot_read():
    f = QueueFilter.parse("state=mahnung_1 amount>=100 overdue>=30 müller")
    assert (f.state, f.min_amount, f.min_days_overdue, f.text) == (
        "mahnung_1",
        "100",
        "30",
        "müller",
    )
    assert QueueFilter.parse(f.line()) == f
    for bad, says in (
        ("amount>=zehn", "not an amount"),
        ("overdue>=viele", "not a whole number"),
        ("farbe=rot", "cannot read 'farbe=rot'"),
    ):
        with pytest.raises(FilterError, match=says):
            QueueFilter.parse(bad)


def test_dashboard_adds_up_to_the_invoices(book: Engine):
    everything = list_invoices(book, limit=1000)
    d = dashboard(book, AS_OF)
    per_state: dict[tuple[str, str], list[Decimal]] = {}
    for r in everything:
        per_state.setdefault((r["segment"], r["state"]), []).append(Decimal(r["balance"]))
    assert {(s, st): (n, b) for s, st, n, b in d.by_state} == {
        k: (len(v), sum(v)) for k, v in per_state.items()
    }
    open_rows = [r for r in everything if r["state"] != "paid"]
    assert sum(n for n, _ in d.aging.values()) == len(open_rows) == 19
    assert list(d.aging) == list(AGING)
    not_due = [r for r in open_rows if date.fromisoformat(r["due_date"]) >= AS_OF]
    assert d.aging["not due"] == (len(not_due), sum(Decimal(r["balance"]) for r in not_due))
    assert d.approvals_waiting == 9
    assert d.collected_week == Decimal("200.00")  # RE-2011, paid on Monday the as-of date
    assert d.week_from == AS_OF
