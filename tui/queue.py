"""The queue: every invoice, filtered and sorted, one page at a time.

A page is read by key (`data.queue_page`), never by offset, so paging through
a million invoices costs the same on the last page as on the first; the
count of matching invoices runs once per filter change, in the background.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Input, Static

from mahnwerk.tui.base import BookScreen, money
from mahnwerk.tui.data import (
    INDEXED_SORTS,
    PAGE_SIZE,
    SORTS,
    FilterError,
    Page,
    QueueFilter,
    queue_count,
    queue_page,
)

FILTERS = (
    ("state", "state"),
    ("segment", "segment"),
    ("customer", "customer"),
    ("min_amount", "amount ≥"),
    ("max_amount", "amount ≤"),
    ("min_days_overdue", "days late ≥"),
    ("text", "search"),
)

COLUMNS = (
    ("invoice", "invoice"),
    ("customer", "customer"),
    ("customer_name", "name"),
    ("amount", "amount"),
    ("balance", "balance"),
    ("due_date", "due"),
    ("overdue", "days"),
    ("segment", "segment"),
    ("state", "state"),
    ("flags", "flags"),
)


class QueueScreen(BookScreen):
    BINDINGS = [
        Binding("enter", "open", "Open", show=False),
        Binding("n", "next_page", "Next page"),
        Binding("p", "previous_page", "Prev page"),
        Binding("home", "first_page", "First page", show=False),
        Binding("s", "sort", "Sort"),
        Binding("r", "reverse", "Reverse"),
        Binding("f", "filters", "Filters"),
        Binding("slash", "search", "Search"),
        Binding("x", "clear_filters", "Clear"),
        Binding("escape", "to_table", "To table", show=False),
    ]

    def __init__(self, filters: QueueFilter | None = None) -> None:
        super().__init__()
        self.filters = filters or QueueFilter()
        self.starts: list[tuple[Any, int] | None] = [None]  # key before each visited page
        self.page: Page = Page([])
        self.total: int | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="filters"):
            for name, label in FILTERS:
                yield Input(
                    getattr(self.filters, name), placeholder=label, id=f"f-{name}", classes=name
                )
        yield Static("", id="queue-status")
        yield DataTable(id="queue", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#queue", DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        table.focus()
        self.apply()

    # -- loading ---------------------------------------------------------------

    def apply(self) -> None:
        """A new filter or sort: back to the first page, count again."""
        self.starts = [None]
        self.total = None
        self.load_page()
        self.count()

    def reload(self) -> None:
        self.load_page()
        self.count()

    @work(thread=True, exclusive=True, group="queue-page")
    def load_page(self) -> None:
        page = queue_page(self.ctx.engine, self.filters, self.ctx.today, self.starts[-1])
        self.app.call_from_thread(self.show_page, page)

    @work(thread=True, exclusive=True, group="queue-count")
    def count(self) -> None:
        total = queue_count(self.ctx.engine, self.filters, self.ctx.today)
        self.app.call_from_thread(self.show_count, total)

    def show_page(self, page: Page) -> None:
        self.page = page
        table = self.query_one("#queue", DataTable)
        table.clear()
        today = self.ctx.today
        from datetime import date

        for row in page.rows:
            days = (today - date.fromisoformat(row["due_date"])).days
            flags = " ".join(
                f
                for f, on_ in (
                    ("held", row["held"]),
                    ("disputed", row["disputed"]),
                    ("paused", row["paused"]),
                )
                if on_
            )
            table.add_row(
                row["invoice"],
                row["customer"],
                row["customer_name"][:24],
                Text(money(row["amount"]), justify="right"),
                Text(money(row["balance"]), justify="right"),
                row["due_date"],
                Text(str(days) if days > 0 else "-", justify="right"),
                row["segment"] or "-",
                row["state"],
                flags,
                key=row["invoice"],
            )
        self.show_status()

    def show_count(self, total: int) -> None:
        self.total = total
        self.show_status()

    def show_status(self) -> None:
        first = (len(self.starts) - 1) * PAGE_SIZE
        shown = len(self.page.rows)
        of = "counting …" if self.total is None else f"{self.total:,}"
        arrow = "↓" if self.filters.descending else "↑"
        slow = "" if self.filters.sort in INDEXED_SORTS else "  (no index: slow on a big book)"
        active = [
            f"{label}={getattr(self.filters, name)}"
            for name, label in FILTERS
            if getattr(self.filters, name).strip()
        ]
        self.query_one("#queue-status", Static).update(
            f"page {len(self.starts)} · rows {first + 1 if shown else 0:,}–{first + shown:,} "
            f"of {of} · sorted by {self.filters.sort} {arrow}{slow}"
            + (f" · filters: {', '.join(active)}" if active else "")
        )

    # -- actions ---------------------------------------------------------------

    def action_next_page(self) -> None:
        if not self.page.more or not self.page.keys:
            self.notify("This is the last page.", timeout=2)
            return
        self.starts.append(self.page.keys[-1])
        self.load_page()

    def action_previous_page(self) -> None:
        if len(self.starts) == 1:
            self.notify("This is the first page.", timeout=2)
            return
        self.starts.pop()
        self.load_page()

    def action_first_page(self) -> None:
        self.starts = [None]
        self.load_page()

    def action_sort(self) -> None:
        names = list(SORTS)
        self.filters = self.filters.with_(
            sort=names[(names.index(self.filters.sort) + 1) % len(names)]
        )
        self.apply()

    def action_reverse(self) -> None:
        self.filters = self.filters.with_(descending=not self.filters.descending)
        self.apply()

    def action_filters(self) -> None:
        self.query_one("#f-state", Input).focus()

    def action_search(self) -> None:
        self.query_one("#f-text", Input).focus()

    def action_to_table(self) -> None:
        self.query_one("#queue", DataTable).focus()

    def action_clear_filters(self) -> None:
        for name, _ in FILTERS:
            self.query_one(f"#f-{name}", Input).value = ""
        self.filters = QueueFilter(sort=self.filters.sort, descending=self.filters.descending)
        self.apply()

    @on(Input.Submitted)
    def filter_submitted(self, event: Input.Submitted) -> None:
        values = {name: self.query_one(f"#f-{name}", Input).value for name, _ in FILTERS}
        candidate = self.filters.with_(**values)
        try:
            candidate.conditions(self.ctx.today)
        except FilterError as exc:
            self.notify(str(exc), severity="error", timeout=6)
            return
        self.filters = candidate
        self.query_one("#queue", DataTable).focus()
        self.apply()

    @on(DataTable.RowSelected, "#queue")
    def row_selected(self, event: DataTable.RowSelected) -> None:
        self.open_invoice(str(event.row_key.value))

    def action_open(self) -> None:
        table = self.query_one("#queue", DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
            self.open_invoice(str(key.value))

    def open_invoice(self, invoice: str) -> None:
        from mahnwerk.tui.invoice import InvoiceScreen

        self.app.push_screen(InvoiceScreen(invoice))
