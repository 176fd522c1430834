"""Run the engine for a date from the UI, watch it, then see what changed.

The run is the engine's own (`runner.run`), in a background thread with its
progress callback driving the bar; afterwards the screen lists the moves per
edge of the graph with the rule behind them, and the first events written.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.widgets import DataTable, Header, Input, Label, ProgressBar, Static

from mahnwerk.engine.customer_view import short_rule
from mahnwerk.engine.policies import PolicySet
from mahnwerk.engine.runner import RunStats, run
from mahnwerk.engine.store.screens import last_run_id, run_changes
from mahnwerk.tui.base import BookScreen, KeysFooter
from mahnwerk.tui.columns import Column, cells, fit
from mahnwerk.tui.dates import DateError, parse_day
from mahnwerk.tui.dialogs import ConfirmDialog
from mahnwerk.tui.table import Table

MOVE_COLUMNS = (
    Column("from", "from", 16, 1),
    Column("to", "to", 16, 1),
    Column("invoices", "invoices", 9, 1),
    Column("rule", "rule", None, 2, least=20),
)
"""A move's count comes before its rule, so a long policy path never pushes it off."""

EVENT_COLUMNS = (
    Column("invoice", "invoice", 12, 1),
    Column("what", "what", 16, 1),
    Column("from", "from", 12, 3),
    Column("to", "to", 12, 2),
    Column("message", "message", None, 2, least=20),
    Column("rule", "rule", 32, 4),
)
"""At 80 columns the rule goes first (it is in the invoice's story), then the old state."""


class DateField(Input):
    """The run date: Enter asks at once, and keys typed right after it answer the question.

    Enter is a binding of `Input`, which the app runs only once the key has come back up
    to it; a `y` typed right after Enter was by then in this field's own queue and was
    typed into the date ("2024-06-10y", refused) instead of answering "Run the engine?".
    So Enter is handled here, and the keys after it are held until the question is up
    (`ConfirmDialog.typed_ahead`), or typed into the field when it is not asked (a date
    that is no date).  A key this field gets without having the cursor goes on to the
    widget that has it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.holding = False
        self.held: list[events.Key] = []

    async def _on_key(self, event: events.Key) -> None:
        focused = self.app.focused
        if self.holding or (focused is not None and focused is not self):
            event.prevent_default()  # not Input's own handler: it would type it here
            event.stop()
            key = events.Key(event.key, event.character)
            if self.holding:
                self.held.append(key)
            else:
                focused.post_message(key)  # type: ignore[union-attr]
        elif event.key == "enter" and isinstance(self.screen, RunScreen):
            event.prevent_default()
            event.stop()
            self.holding = True
            self.screen.action_run()

    def hand_over(self) -> list[events.Key]:
        """The keys typed since Enter, for the question they answer."""
        self.holding = False
        held, self.held = self.held, []
        return held

    def release(self) -> None:
        """No question comes: the keys typed since Enter go into the field after all."""
        for key in self.hand_over():
            self.post_message(key)


class RunScreen(BookScreen):
    BINDINGS = [
        Binding("ctrl+r", "run", "Run", priority=True),
        Binding("escape", "leave_field", "Leave the date field", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.running = False
        self.changes: dict = {"moves": [], "events": []}

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="run-bar"):
            yield Label("Run the engine for ")
            yield DateField(self.ctx.today.isoformat(), id="run-date", placeholder="YYYY-MM-DD")
            yield Label(" (Enter or ctrl+r; Esc leaves)")
        yield ProgressBar(id="run-progress", total=100, show_eta=False)
        yield Static("", id="run-summary")
        yield Static("[b]Moves[/b]", classes="section")
        yield Table(id="moves", cursor_type="row", zebra_stripes=True)
        yield Static("[b]First events of the run[/b]", classes="section")
        yield Table(id="run-events", cursor_type="row", zebra_stripes=True)
        yield KeysFooter()

    def on_mount(self) -> None:
        self.show_changes()
        self.query_one("#run-date", Input).focus()

    def on_resize(self) -> None:
        self.show_changes()

    def action_leave_field(self) -> None:
        """Esc: out of the date field, so the number keys switch screens again."""
        self.query_one("#moves", DataTable).focus()

    def on_screen_resume(self) -> None:
        """Back on this screen: the cursor is in the date field again (not in the table a
        finished run left it in), so a date typed now is typed there."""
        super().on_screen_resume()
        if not self.running:
            self.query_one("#run-date", DateField).focus()

    def action_run(self) -> None:
        field = self.query_one("#run-date", DateField)
        if isinstance(self.app.screen, ModalScreen):
            field.release()
            return  # a confirmation is open already: never a second one on top
        if self.running:
            field.release()
            self.notify("A run is already going.", timeout=2)
            return
        try:
            day = parse_day(field.value.strip(), self.ctx.today, "run date")
        except DateError as exc:
            field.release()
            self.notify(str(exc), severity="error")
            return
        self.confirm_and_run(day)

    @work(group="run-confirm")  # never cancelled while its dialog is open
    async def confirm_and_run(self, day: date) -> None:
        field = self.query_one("#run-date", DateField)
        try:
            go = await self.ask(
                ConfirmDialog(
                    f"Run the engine for {day.isoformat()}?",
                    "Every invoice due on or before that date moves on: letters and e-mails "
                    f"are queued, fees and interest booked. Started by {self.ctx.operator}.",
                    typed_ahead=field.hand_over,
                )
            )
        finally:
            field.release()  # no question was asked (one was open already): type them in
        if not go:
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
        self.changes = changes
        self.show_changes()
        self.query_one("#moves", DataTable).focus()  # what the operator reads next

    def show_changes(self) -> None:
        """The moves and first events of the last run, in the columns the width allows."""
        room = self.size.width or self.app.size.width
        moves = self.query_one("#moves", DataTable)
        keys = fit(moves, MOVE_COLUMNS, room)
        for src, dst, rule, n in self.changes["moves"]:
            row = {"from": src, "to": dst, "rule": short_rule(rule),
                   "invoices": Text(f"{n:,}", justify="right")}  # fmt: skip
            moves.add_row(*cells(row, keys))
        events = self.query_one("#run-events", DataTable)
        keys = fit(events, EVENT_COLUMNS, room)
        for e in self.changes["events"]:
            row = {"invoice": e["external_id"], "what": e["kind"], "from": e["state_from"] or "",
                   "to": e["state_to"] or "", "rule": short_rule(e["rule"]),
                   "message": e["message"] or ""}  # fmt: skip
            events.add_row(*cells(row, keys))
