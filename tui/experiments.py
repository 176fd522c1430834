"""The experiments: each champion/challenger test, and the report of the one chosen.

What `mahnwerk experiment report NAME` prints, read in the terminal: the table per arm
and segment (`ExperimentReport.table`), the 30-day cure rate per segment drawn as bars
from the same figures as the PNG (`experiment_report.chart`), and the difference with
its interval, the sample size still needed and the recommendation (`verdict_lines`).
The report is made as of the last run (as the command's default), or the business date
before the first run. Reading only: starting, promoting and stopping stay commands of
a manager (`mahnwerk experiment start/promote/stop`).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Header, Static

from mahnwerk.engine.store.experiments import Listed, listed
from mahnwerk.tui.base import BookScreen, KeysFooter, money
from mahnwerk.tui.table import Table

BAR = 40
"""Characters of a bar at 100 %."""
MONEY_COLUMNS = ("collected EUR", "cost EUR", "fees+interest EUR")
SHORT = {"invoices": "inv.", "cured 30d %": "30d %", "cured 60d %": "60d %",
         "days due to cash": "days to cash", "fees+interest EUR": "fees+int. EUR",
         "disputes": "disp.", "handovers": "handed"}  # fmt: skip
"""The report's column heads, short enough for the whole table in 120 columns."""
NONE_YET = (
    "No experiment yet: a manager starts one with `mahnwerk experiment start NAME "
    "--champion POLICY --challenger FILE --share 10%`."
)


def bars(chart: Any) -> Text:
    """The chart's categories as pairs of bars: champion (█) over challenger (▓)."""
    out = Text()
    width = max((len(c) for c in chart.categories), default=0)
    for category, champion, challenger in zip(
        chart.categories, chart.values, chart.line, strict=True
    ):
        for label, value, mark, style in (
            (category, champion, "█", "cyan"),
            ("", challenger, "▓", "magenta"),
        ):
            out.append(f"{label:<{width}}  ")
            out.append(mark * round(BAR * value / 100), style=style)
            out.append(f" {value:.1f} %\n")
    out.append(f"█ {chart.bar_label}   ", style="cyan")
    out.append(f"▓ {chart.line_label}", style="magenta")
    return out


class ExperimentScreen(BookScreen):
    BINDINGS = [Binding("g", "reload", "Refresh"), Binding("enter", "open", "Report")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("[b]Experiments[/b] (champion/challenger), newest first", id="exp-head")
        yield Table(id="experiments", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="exp-report-box"):
            yield Static("", id="exp-title")
            yield Table(id="exp-report", cursor_type="row", zebra_stripes=True)
            yield Static("", id="exp-bars")
            yield Static("", id="exp-verdict")
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one("#experiments", DataTable)
        for head in ("name", "status", "started", "champion", "share", "customers"):
            table.add_column(head, key=head)
        self.chosen: str | None = None
        self.reload()

    def action_reload(self) -> None:
        self.reload()

    def action_open(self) -> None:
        """The report of the experiment under the cursor."""
        table = self.query_one("#experiments", DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            self.chosen = str(key)
            self.reload()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "experiments":
            self.action_open()

    def reload(self) -> None:
        self.load(self.chosen)

    @work(thread=True, exclusive=True, group="experiments")
    def load(self, chosen: str | None) -> None:
        from mahnwerk.engine.experiment_report import chart, report

        found = listed(self.ctx.engine)
        name = chosen if any(e.name == chosen for e in found) else None
        name = name or (found[0].name if found else None)
        rep = drawn = None
        if name is not None:
            rep = report(self.ctx.engine, name, self.ctx.last_run or self.ctx.today)
            drawn = chart(rep, "en") if rep.outcomes else None
        self.app.call_from_thread(self.show, found, rep, drawn)

    def show(self, found: list[Listed], rep: Any, drawn: Any) -> None:
        table = self.query_one("#experiments", DataTable)
        table.clear()
        for e in found:
            table.add_row(e.name, e.status, f"{e.started_on:%d.%m.%Y}", e.champion, e.share,
                          f"{e.customers:,}", key=e.name)  # fmt: skip
        title = self.query_one("#exp-title", Static)
        if rep is None:
            title.update(NONE_YET)
            self.painted()
            return
        self.chosen = rep.name
        table.move_cursor(row=table.get_row_index(rep.name))
        title.update(
            f"[b]{rep.name}[/b] ({rep.status}) as of {rep.as_of:%d.%m.%Y}: champion "
            f"{rep.champion}, challenger {rep.challenger}; customers "
            + ", ".join(f"{arm} {n:,}" for arm, n in sorted(rep.customers.items()))
        )
        self._table(rep.table())
        self.query_one("#exp-bars", Static).update(
            Text.assemble((f"{drawn.title}\n", "bold"), bars(drawn)) if drawn else ""
        )
        self.query_one("#exp-verdict", Static).update(
            "\n".join([*rep.verdict_lines(), *(f"· {n}" for n in rep.notes)])
        )
        self.painted()

    def _table(self, report: Any) -> None:
        shown = self.query_one("#exp-report", DataTable)
        shown.clear(columns=True)
        for head in report.columns:
            shown.add_column(SHORT.get(head, head), key=head)
        for row in report.rows:
            shown.add_row(*(
                "–" if v is None else money(v) if head in MONEY_COLUMNS else str(v)
                for head, v in zip(report.columns, row, strict=True)
            ))  # fmt: skip
