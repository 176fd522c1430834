"""The dashboard: where the book stands, at a glance, for the business date."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Static

from mahnwerk.tui.base import BookScreen, money
from mahnwerk.tui.data import Dashboard, dashboard


class DashboardScreen(BookScreen):
    BINDINGS = [Binding("g", "reload", "Refresh")]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="dash-top"):
            yield Static("loading …", id="tiles")
            with Vertical(id="aging-box"):
                yield Static("[b]Aging of open balances[/b] (days past due)")
                yield DataTable(id="aging", cursor_type="row", zebra_stripes=True)
        yield Static("[b]Invoices and open balance per segment and state[/b]")
        yield DataTable(id="states", cursor_type="row", zebra_stripes=True)
        yield Footer()

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
