"""The dashboard: where the book stands, at a glance, for the business date."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Header, Static

from mahnwerk.engine.store.screens import TERMINAL_STATES, Dashboard, dashboard
from mahnwerk.tui.base import BookScreen, KeysFooter, money
from mahnwerk.tui.table import Table


class DashboardScreen(BookScreen):
    BINDINGS = [Binding("g", "reload", "Refresh"), Binding("enter", "open", "Open in queue")]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="dash-top"):
            yield Static("loading …", id="tiles")
            with Vertical(id="aging-box"):
                yield Static("[b]Aging of open balances[/b] (days past due)")
                yield Table(id="aging", cursor_type="row", zebra_stripes=True)
        yield Static("[b]Invoices and open balance per segment and state[/b]")
        yield Table(id="states", cursor_type="row", zebra_stripes=True)
        yield KeysFooter()

    def on_mount(self) -> None:
        aging = self.query_one("#aging", DataTable)
        aging.add_column("bucket", key="bucket")
        aging.add_column("invoices", key="n")
        aging.add_column("EUR", key="eur")
        states = self.query_one("#states", DataTable)
        states.add_column("segment", key="segment")
        states.add_column("state", key="state")
        states.add_column("invoices", key="n")
        states.add_column("open EUR", key="eur")
        self.reload()

    def action_reload(self) -> None:
        self.reload()

    def action_open(self) -> None:
        """The row under the cursor, as a filtered queue (state and segment, or an age)."""
        from mahnwerk.engine.store.screens import QueueFilter

        table = self.focused if isinstance(self.focused, DataTable) else None
        if table is None or not table.row_count:
            return
        key = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        if table.id == "states":
            seg, state = key.split("/", 1)
            show = "all" if state in TERMINAL_STATES else "open"
            filters = QueueFilter(state=state, segment="" if seg == "-" else seg, show=show)
        else:
            days = {"1–30": "1", "31–60": "31", "61–90": "61", "over 90": "91"}.get(key, "")
            filters = QueueFilter(min_days_overdue=days)
        self.app.action_goto("queue")
        self.app.call_after_refresh(lambda: self.app.screen.show_filter(filters))

    def on_data_table_row_selected(self) -> None:
        self.action_open()

    def reload(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="dashboard")
    def load(self) -> None:
        data = dashboard(self.ctx.engine, self.ctx.today)
        self.app.call_from_thread(self.show, data)

    def show(self, data: Dashboard) -> None:
        self.query_one("#tiles", Static).update(
            "\n".join(
                [
                    f"[b]as of {self.ctx.today.isoformat()}[/b]",
                    "",
                    f"Approvals waiting      [b]{data.approvals_waiting:>10,}[/b]",
                    f"Messages to send       [b]{data.messages_waiting:>10,}[/b]",
                    f"Collected this week    [b]{money(data.collected_week):>10}[/b] EUR",
                    f"  (since {data.week_from.isoformat()})",
                    "",
                    f"Open invoices          [b]{sum(n for n, _ in data.aging.values()):>10,}[/b]",
                    f"Open balance           [b]"
                    f"{money(sum(v for _, v in data.aging.values())):>10}[/b] EUR",
                    "  (dunned invoices; paid, written-off,",
                    "   handed-over, insolvent and new left out)",
                ]
            )
        )
        aging = self.query_one("#aging", DataTable)
        aging.clear()
        for name, (n, total) in data.aging.items():
            aging.add_row(name, _right(f"{n:,}"), _right(money(total)), key=name)
        states = self.query_one("#states", DataTable)
        states.clear()
        for seg, state, n, total in data.by_state:
            states.add_row(seg, state, _right(f"{n:,}"), _right(money(total)), key=f"{seg}/{state}")


def _right(text: str) -> Text:
    return Text(text, justify="right")
