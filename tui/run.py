"""Run the engine for a date from the UI, watch it, then see what changed.

The run is the engine's own (`runner.run`), in a background thread with its
progress callback driving the bar; afterwards the screen lists the moves per
edge of the graph with the rule behind them, and the first events written.
"""

from __future__ import annotations

from datetime import date

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Header, Input, Label, ProgressBar, Static

from mahnwerk.engine.policies import PolicySet
from mahnwerk.engine.runner import RunStats, run
from mahnwerk.tui.base import BookScreen
from mahnwerk.tui.data import last_run_id, run_changes
from mahnwerk.tui.dates import DateError, parse_day
from mahnwerk.tui.dialogs import ConfirmDialog


class RunScreen(BookScreen):
    BINDINGS = [
        Binding("ctrl+r", "run", "Run", priority=True),
        Binding("escape", "leave_field", "Leave the date field", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.running = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="run-bar"):
            yield Label("Run the engine for ")
            yield Input(self.ctx.today.isoformat(), id="run-date", placeholder="YYYY-MM-DD")
            yield Label(" (Enter or ctrl+r; Esc leaves)")
        yield ProgressBar(id="run-progress", total=100, show_eta=False)
        yield Static("", id="run-summary")
        yield Static("[b]Moves[/b]", classes="section")
        yield DataTable(id="moves", cursor_type="row", zebra_stripes=True)
        yield Static("[b]First events of the run[/b]", classes="section")
        yield DataTable(id="run-events", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        moves = self.query_one("#moves", DataTable)
        for label in ("from", "to", "rule", "invoices"):
            moves.add_column(label, key=label)
        events = self.query_one("#run-events", DataTable)
        for label in ("invoice", "what", "from", "to", "rule", "message"):
            events.add_column(label, key=label)
        self.query_one("#run-date", Input).focus()

    def action_leave_field(self) -> None:
        """Esc: out of the date field, so the number keys switch screens again."""
        self.query_one("#moves", DataTable).focus()

    @on(Input.Submitted, "#run-date")
    def submitted(self) -> None:
        self.action_run()

    def action_run(self) -> None:
        if isinstance(self.app.screen, ModalScreen):
            return  # a confirmation is open already: never a second one on top
        if self.running:
            self.notify("A run is already going.", timeout=2)
            return
        text = self.query_one("#run-date", Input).value.strip()
        try:
            day = parse_day(text, self.ctx.today, "run date")
        except DateError as exc:
            self.notify(str(exc), severity="error")
            return
        self.confirm_and_run(day)

    @work(group="run-confirm")  # never cancelled while its dialog is open
    async def confirm_and_run(self, day: date) -> None:
        if not await self.ask(
            ConfirmDialog(
                f"Run the engine for {day.isoformat()}?",
                "Every invoice due on or before that date moves on: letters and e-mails are "
                f"queued, fees and interest booked. Started by {self.ctx.operator}.",
            )
        ):
            return
        try:
            policies = PolicySet.load(self.ctx.engine)
        except LookupError as exc:
            self.notify(str(exc), severity="error")
            return
        self.running = True
        self.query_one("#run-summary", Static).update(f"running for {day.isoformat()} …")
        self.execute(day, policies)

    @work(thread=True, exclusive=True, group="run")
    def execute(self, day: date, policies: PolicySet) -> None:
        before = last_run_id(self.ctx.engine)
        bar = self.query_one("#run-progress", ProgressBar)

        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(bar.update, total=total, progress=done)

        try:
            stats = run(self.ctx.engine, day, policies, self.ctx.now(), progress=progress)
        except Exception as exc:  # the run is one transaction per batch; say what failed
            self.app.call_from_thread(self.failed, exc)
            return
        changes = run_changes(self.ctx.engine, before)
        self.app.call_from_thread(self.finished, stats, changes)

    def failed(self, exc: Exception) -> None:
        self.running = False
        self.query_one("#run-summary", Static).update(f"[red]the run failed: {exc}[/red]")

    def finished(self, stats: RunStats, changes: dict) -> None:
        self.running = False
        d = stats.as_dict()
        bar = self.query_one("#run-progress", ProgressBar)
        bar.update(total=max(d["checked"], 1), progress=max(d["checked"], 1))
        messages = ", ".join(f"{k} {v}" for k, v in sorted(d["messages"].items())) or "none"
        charges = ", ".join(f"{k} {v}" for k, v in sorted(d["charges"].items())) or "none"
        self.query_one("#run-summary", Static).update(
            f"[b]{d['as_of']}[/b]: {d['new_invoices']} new, {d['checked']} checked, "
            f"{d['transitions']} transitions, {d['approvals']} approvals requested\n"
            f"messages queued: {messages}\ncharges booked: {charges}\n"
            f"payments applied {d['payments_applied']} ({d['payments_unmatched']} unmatched), "
            f"events applied {d['events_applied']}"
        )
        moves = self.query_one("#moves", DataTable)
        moves.clear()
        for src, dst, rule, n in changes["moves"]:
            moves.add_row(src, dst, rule or "", f"{n:,}")
        moves.focus()  # what the operator reads next
        events = self.query_one("#run-events", DataTable)
        events.clear()
        for e in changes["events"]:
            events.add_row(
                e["external_id"],
                e["kind"],
                e["state_from"] or "",
                e["state_to"] or "",
                e["rule"] or "",
                (e["message"] or "")[:60],
            )
