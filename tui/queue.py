"""The queue: every invoice, filtered and sorted, one page at a time.

A page is read by key (`data.queue_page`), never by offset, so paging through
a million invoices costs the same on the last page as on the first; the
count of matching invoices runs once per filter change, in the background.
"""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Input, Static

from mahnwerk.engine.store.screens import (
    FILTER_SYNTAX,
    INDEXED_SORTS,
    PAGE_SIZE,
    TERMINAL_STATES,
    FilterError,
    Page,
    QueueFilter,
    queue_count,
    queue_page,
)
from mahnwerk.tui.base import BookScreen, KeysFooter, money
from mahnwerk.tui.dialogs import Field, FormDialog, PickDialog
from mahnwerk.tui.table import Table

COLUMNS = (
    ("invoice", "invoice"),
    ("balance", "balance"),
    ("state", "state"),
    ("flags", "flags"),
    ("customer_name", "name"),
    ("city", "city"),
    ("overdue", "days"),
    ("due_date", "due"),
    ("customer", "customer"),
    ("amount", "amount"),
    ("segment", "segment"),
)
"""In order of priority: on a narrow terminal the columns on the right go first, the
amounts are never cut."""

SORT_MENU = (
    ("due date", "due date (oldest first)"),
    ("amount", "amount"),
    ("customer", "customer"),
    ("number", "invoice number"),
    ("entry", "order of import"),
)

PAGE = Binding.Group("Page")
SORT = Binding.Group("Sort")
FILTER = Binding.Group("Filter")
"""Keys that belong together share one label in the footer (`n p Page`, not `n Next page
p Prev page`): a shorter footer, which at 80 columns leaves out only `NARROW_HIDE`."""


class QueueScreen(BookScreen):
    NARROW_HIDE = ("load_filter", "save_filter", "find_customer")
    AUTO_FOCUS = "#queue"
    """The table, not the filter line above it (Textual's default, the first focusable):
    the filter field takes the letter keys, so its focus for a frame rebuilt the footer
    twice, without and with them."""
    BINDINGS = [
        Binding("enter", "open", "Open", show=False),
        Binding("n", "next_page", "Next page", group=PAGE),
        Binding("p", "previous_page", "Prev page", group=PAGE),
        Binding("home", "first_page", "First page", show=False),
        Binding("s", "sort", "Sort", group=SORT),
        Binding("r", "reverse", "Reverse", group=SORT),
        Binding("f,slash", "filters", "Filter", group=FILTER),
        Binding("x", "clear_filters", "Clear", group=FILTER),
        Binding("a", "show_all", "Open/all"),
        Binding("e", "export", "Export"),
        Binding("w", "save_filter", "Save filter", show=False),
        Binding("l", "load_filter", "Saved filters"),
        Binding("c", "customer", "Customer", show=False),
        Binding("escape", "to_table", "To table", show=False),
    ]

    def __init__(self, filters: QueueFilter | None = None) -> None:
        super().__init__()
        self.filters = filters or QueueFilter()
        self.starts: list[tuple[Any, int] | None] = [None]  # key before each visited page
        self.page: Page = Page([])
        self.total: int | None = None
        self.loading = False
        self.keep_cursor: int | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(self.filters.line(), placeholder=FILTER_SYNTAX, id="filter")
        yield Static("", id="queue-status")
        yield Table(id="queue", cursor_type="row", zebra_stripes=True)
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one("#queue", DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        table.focus()
        self.apply()

    # -- loading ---------------------------------------------------------------

    def apply(self) -> None:
        """A new filter or sort: back to the first page, count again."""
        self.asked_at = self.asked_at or time.perf_counter()
        self.starts = [None]
        self.total = None
        self.load_page()
        self.count()

    def reload(self) -> None:
        """Read the same page again (someone changed something); the cursor stays."""
        self.keep_cursor = self.query_one("#queue", DataTable).cursor_row
        self.load_page()
        self.count()

    def load_page(self) -> None:
        self.loading = True
        self._load_page(self.filters, self.starts[-1])

    @work(thread=True, exclusive=True, group="queue-page")
    def _load_page(self, filters: QueueFilter, after: tuple[Any, int] | None) -> None:
        page = queue_page(self.ctx.engine, filters, self.ctx.today, after)
        self.app.call_from_thread(self.show_page, page, filters, after)

    @work(thread=True, exclusive=True, group="queue-count")
    def count(self) -> None:
        filters = self.filters
        total = queue_count(self.ctx.engine, filters, self.ctx.today)
        if filters == self.filters:
            self.app.call_from_thread(self.show_count, total)

    def show_page(self, page: Page, filters: QueueFilter | None = None, after: Any = None) -> None:
        if filters is not None and (filters, after) != (self.filters, self.starts[-1]):
            return  # an answer to a question no longer asked (the sort changed meanwhile)
        self.loading = False
        self.page = page
        table = self.query_one("#queue", DataTable)
        table.clear()
        today = self.ctx.today
        from datetime import date

        for row in page.rows:
            days = (today - date.fromisoformat(row["due_date"])).days
            closed = row["state"] in TERMINAL_STATES
            flags = " ".join(f for f in ("held", "disputed") if row[f]) or (
                "paused" if row["paused"] else ""
            )
            table.add_row(
                row["invoice"],
                Text(money(row["balance"]), justify="right"),
                row["state"],
                flags,
                row["customer_name"][:20],
                row["city"][:14],
                Text(str(days) if days > 0 and not closed else "-", justify="right"),
                row["due_date"],
                row["customer"],
                Text(money(row["amount"]), justify="right"),
                row["segment"] or "-",
                key=row["invoice"],
            )
        if self.keep_cursor is not None and page.rows:
            table.move_cursor(row=min(self.keep_cursor, len(page.rows) - 1))
        self.keep_cursor = None
        self.show_status()
        if self.asked_at:
            self.call_after_refresh(self._painted, self.asked_at)
            self.asked_at = 0.0

    def _painted(self, asked_at: float) -> None:
        self.latencies.append((time.perf_counter() - asked_at) * 1000)

    def show_count(self, total: int) -> None:
        self.total = total
        self.show_status()

    def show_status(self) -> None:
        first = (len(self.starts) - 1) * PAGE_SIZE
        shown = len(self.page.rows)
        of = "counting …" if self.total is None else f"{self.total:,}"
        arrow = "↓" if self.filters.descending else "↑"
        slow = "" if self.filters.sort in INDEXED_SORTS else "  (no index: slow on a big book)"
        active = self.filters.line()
        scope = {"open": "open invoices", "all": "all invoices", "closed": "closed invoices"}
        self.query_one("#queue-status", Static).update(
            f"{scope.get(self.filters.show, self.filters.show)} · "
            f"{first + 1 if shown else 0:,}–{first + shown:,} of {of} · "
            f"by {self.filters.sort} {arrow}{slow}" + (f" · {active}" if active else "")
        )

    # -- actions ---------------------------------------------------------------

    def action_next_page(self) -> None:
        if self.loading:  # a slow sort still reading: the page's keys are not known yet
            return
        if not self.page.more or not self.page.keys:
            self.notify("This is the last page.", timeout=2)
            return  # (no figure either: nothing is read or painted)
        self.asked_at = time.perf_counter()
        self.starts.append(self.page.keys[-1])
        self.load_page()

    def action_previous_page(self) -> None:
        if self.loading:
            return
        if len(self.starts) == 1:
            self.notify("This is the first page.", timeout=2)
            return
        self.asked_at = time.perf_counter()
        self.starts.pop()
        self.load_page()

    def action_first_page(self) -> None:
        self.asked_at = time.perf_counter()
        self.starts = [None]
        self.load_page()

    @work(group="queue-dialog")  # never cancelled while its dialog is open
    async def action_sort(self) -> None:
        chosen = await self.ask(
            PickDialog("Sort the queue by", [(k, label) for k, label in SORT_MENU],
                       f"now: {self.filters.sort} (r reverses)")
        )  # fmt: skip
        if chosen:
            self.filters = self.filters.with_(sort=chosen)
            self.apply()

    def action_show_all(self) -> None:
        cycle = {"open": "all", "all": "closed", "closed": "open"}
        self.filters = self.filters.with_(show=cycle.get(self.filters.show, "open"))
        self.query_one("#filter", Input).value = self.filters.line()
        self.apply()

    @work(group="queue-dialog")  # never cancelled while its dialog is open
    async def action_export(self) -> None:
        from pathlib import Path

        from mahnwerk.tui.export import export

        name = f"mahnwerk-queue-{self.ctx.today:%Y-%m-%d}.csv"
        form = await self.ask(
            FormDialog("Export the current filter", [Field("path", "File (.csv or .xlsx)", name)],
                       lambda v: None if v["path"].strip().lower().endswith((".csv", ".xlsx"))
                       else ("path", "the file name must end in .csv or .xlsx"),
                       detail=f"{self.filters.show} invoices {self.filters.line()}".strip()
                       + "\nCSV: ; separated, decimal comma, UTF-8 (Excel opens it)")
        )  # fmt: skip
        if form is None:
            return
        path = Path(form["path"].strip()).expanduser()
        try:
            n = export(self.ctx.engine, self.filters, self.ctx.today, path)
        except (OSError, ValueError) as exc:
            self.notify(f"not exported: {exc}", severity="error", timeout=8)
            return
        self.notify(f"{n:,} invoices written to {path}")

    @work(group="queue-dialog")  # never cancelled while its dialog is open
    async def action_save_filter(self) -> None:
        from mahnwerk.engine.saved_filters import FilterRefused, save_filter

        form = await self.ask(
            FormDialog("Save this filter", [Field("name", "Name", "", "e.g. big court cases")],
                       lambda v: None if v["name"].strip() else ("name", "a name, please"),
                       detail=f"{self.filters.line() or '(open invoices)'}, "
                       f"by {self.filters.sort}")
        )  # fmt: skip
        if form is not None:
            try:
                save_filter(self.ctx.engine, self.ctx.operator, form["name"],
                            self.filters.line(), self.filters.sort,
                            self.filters.descending)  # fmt: skip
            except FilterRefused as exc:
                self.notify(f"not saved: {exc}", severity="error", timeout=8)
                return
            self.notify(f"filter {form['name'].strip()!r} saved (l lists them)")

    @work(group="queue-dialog")  # never cancelled while its dialog is open
    async def action_load_filter(self) -> None:
        from mahnwerk.engine.saved_filters import saved_filters

        kept = {f["name"]: f for f in saved_filters(self.ctx.engine, self.ctx.operator)}
        if not kept:
            self.notify("no saved filters yet: set a filter, then w saves it")
            return
        chosen = await self.ask(
            PickDialog("Saved filters", [(n, f"{n}: {f['line'] or '(open invoices)'}")
                                         for n, f in kept.items()])
        )  # fmt: skip
        if chosen:
            f = kept[chosen]
            self.show_filter(QueueFilter.parse(f["line"], f["sort"], f["descending"]))

    def show_filter(self, filters: QueueFilter) -> None:
        """Show the queue narrowed to `filters` (the dashboard's rows open it this way)."""
        self.filters = filters
        if not self.is_mounted:  # first visit: `on_mount` reads these filters
            return
        self.query_one("#filter", Input).value = filters.line()
        self.apply()

    def action_customer(self) -> None:
        table = self.query_one("#queue", DataTable)
        if table.row_count:
            from mahnwerk.engine.customer_view import customer_of_invoice
            from mahnwerk.tui.customer import CustomerScreen

            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
            self.app.push_screen(
                CustomerScreen(customer_of_invoice(self.ctx.engine, str(key.value)))
            )

    def action_reverse(self) -> None:
        self.filters = self.filters.with_(descending=not self.filters.descending)
        self.apply()

    def action_filters(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_to_table(self) -> None:
        self.query_one("#queue", DataTable).focus()

    def action_clear_filters(self) -> None:
        self.query_one("#filter", Input).value = ""
        self.filters = QueueFilter(sort=self.filters.sort, descending=self.filters.descending,
                                   show=self.filters.show)  # fmt: skip
        self.apply()

    @on(Input.Submitted, "#filter")
    def filter_submitted(self, event: Input.Submitted) -> None:
        try:
            candidate = QueueFilter.parse(event.value, self.filters.sort, self.filters.descending)
            if "show=" not in event.value:
                candidate = candidate.with_(show=self.filters.show)
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
