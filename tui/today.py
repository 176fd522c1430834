"""Today: everything that waits for a person, in one list — the operators' first screen.

Calls (with the number and the script's points; Enter, then one key for the
outcome), approvals, write-offs to confirm, tasks, unmatched bank credits,
bounced messages and promises due today (`engine.worklist`).  Enter opens each
line where it is handled; done items leave the list.  The header says how many of
each kind wait, and warns when the last run is older than the schedule.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from rich.markup import escape
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Header, Label, Static

from mahnwerk.engine.operator_events import (
    AlreadyDecided,
    OperatorError,
    WriteOffRequest,
    decide_write_off,
    finish_item,
)
from mahnwerk.engine.worklist import Item, Today, today, waiting
from mahnwerk.tui.actions import record_action
from mahnwerk.tui.base import BookScreen, KeysFooter, money
from mahnwerk.tui.dialogs import PickDialog
from mahnwerk.tui.table import Table

KIND_LABEL = {
    "call": "call",
    "approval": "approve",
    "write_off": "write-off",
    "task": "task",
    "bank": "bank",
    "bounce": "bounce",
    "promise": "promise",
}

CALL_OUTCOMES = {
    "r": ("reached", "conversation"),
    "p": ("promise", "promise"),
    "d": ("dispute", "dispute"),
    "n": ("no answer", "no_answer"),
    "w": ("wrong number", "wrong_number"),
}
"""One key per call outcome, each recorded as its event (`actions.FORMS`)."""

TEMPLATES = Path(__file__).parents[1] / "engine" / "comms" / "templates"

SHOWN = 25
"""Lines of each kind on the list, oldest first; done ones make room for the next.  The
header counts all that wait.  A table line costs the screen a few hundred microseconds
to lay out: at a hundred of each kind, Today took half a second to open on a big book."""


def call_script(template: str) -> list[str]:
    """The points of a call template (its `- …` lines), for reading out on the phone."""
    for path in sorted(TEMPLATES.glob(f"{template}.de.call*.j2")):
        return [
            re.sub(r"\s+", " ", _JINJA.sub("…", line.strip()[2:])).strip()
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip().startswith("- ")
        ]
    return []


_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}")
"""Template expressions: on the phone the operator reads the invoice from the screen."""


class CallDialog(ModalScreen[str | None]):
    """One call: number, script, and one key for the outcome."""

    BINDINGS = [
        *(Binding(k, f"answer('{k}')", label) for k, (label, _a) in CALL_OUTCOMES.items()),
        Binding("escape", "answer('')", "Later"),
    ]

    def __init__(self, item: Item) -> None:
        super().__init__()
        self.item = item

    def compose(self) -> ComposeResult:
        d = self.item.detail
        script = call_script(d.get("template", ""))
        with Vertical(id="dialog", classes="call"):
            yield Label(f"Call {self.item.customer_name} ({self.item.customer})", id="question")
            yield Static(
                f"[b]☎ {escape(d.get('phone') or 'no number on file')}[/b]"
                f"  {escape(d.get('city') or '')}  invoice {self.item.invoice}\n"
                + "\n".join(f"• {escape(x)}" for x in script[:5]),
                id="detail",
            )
            yield Static(
                "   ".join(f"[b]{k}[/b] {label}" for k, (label, _a) in CALL_OUTCOMES.items())
                + "   [b]Esc[/b] later",
                classes="hint",
            )

    def action_answer(self, key: str) -> None:
        self.dismiss(key or None)


class TodayScreen(BookScreen):
    BINDINGS = [
        Binding("enter", "open", "Open / handle", show=False),  # the table's Enter does it
        Binding("x", "done", "Done"),
        Binding("c", "customer", "Customer"),
        Binding("g", "reload", "Refresh", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.data: Today | None = None
        self.waiting: dict[str, int] | None = None
        """How many of each kind wait in all (`worklist.waiting`, counted in the background)."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="today-status")
        yield Table(id="today", cursor_type="row", zebra_stripes=True)
        yield Static("", id="today-detail")
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one("#today", DataTable)
        for key, label in (("kind", "what"), ("due", "due"), ("invoice", "invoice"),
                           ("amount", "EUR"), ("customer", "customer"),
                           ("text", "to do")):  # fmt: skip
            table.add_column(label, key=key)
        table.focus()
        self.reload()
        self.painted()

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        data = today(self.ctx.engine, self.ctx.today, SHOWN)
        self.data = data
        table = self.query_one("#today", DataTable)
        keep = self.current()
        old_row = table.cursor_row
        table.clear()
        for i in data.items:
            amount = Text(money(i.amount), justify="right") if i.amount is not None else ""
            due = f"{i.due:%d.%m.}" if i.due else ""
            row = (KIND_LABEL[i.kind], due, i.invoice, amount, i.customer_name[:16], i.what)
            # Text, not str: a str cell is parsed as markup each time the table lays it out
            table.add_row(*(c if isinstance(c, Text) else Text(c) for c in row),
                          key=f"{i.kind}:{i.ref}")  # fmt: skip
        keys = [f"{i.kind}:{i.ref}" for i in data.items]
        if keep is not None and f"{keep.kind}:{keep.ref}" in keys:
            table.move_cursor(row=keys.index(f"{keep.kind}:{keep.ref}"))
        elif keys:
            table.move_cursor(row=min(max(old_row, 0), len(keys) - 1))
        self.show_status()
        self.show_detail()
        self.count_waiting()

    @work(thread=True, exclusive=True, group="today-counts")
    def count_waiting(self) -> None:
        counted = waiting(self.ctx.engine, self.ctx.today)
        self.app.call_from_thread(self._counted, counted)

    def _counted(self, counted: dict[str, int]) -> None:
        self.waiting = counted
        self.show_status()

    def show_status(self) -> None:
        """The counts: all that wait when counted, else the lines on the list so far."""
        assert self.data is not None
        counted = self.waiting
        if counted is None:
            counts = "  ".join(
                f"{KIND_LABEL[k]} {n}{'+' if n >= SHOWN else ''}"
                for k, n in self.data.counts.items()
            )
        else:
            counts = "  ".join(f"{KIND_LABEL[k]} {n:,}" for k, n in counted.items())
        more = counted is not None and sum(counted.values()) > len(self.data.items)
        waiting = f"waiting: {counts or 'nothing'}"
        lines = (  # the first that fits one line: a second line would move the list down
            f"[b]Today {self.ctx.today:%d.%m.%Y}[/b] · {waiting}"
            + (f" (oldest {SHOWN} of each listed)" if more else ""),
            f"[b]Today[/b] · {waiting}"  # the date is in the header line too
            + (f" (oldest {SHOWN} each listed)" if more else ""),
            f"[b]Today[/b] · {waiting}",
        )
        room = self.app.size.width - 2  # the status line's padding
        self.query_one("#today-status", Static).update(
            next((line for line in lines if Text.from_markup(line).cell_len <= room), lines[-1])
        )

    def current(self) -> Item | None:
        table = self.query_one("#today", DataTable)
        if self.data is None or not table.row_count or table.cursor_row >= len(self.data.items):
            return None
        return self.data.items[table.cursor_row]

    def on_data_table_row_highlighted(self) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        item = self.current()
        box = self.query_one("#today-detail", Static)
        if item is None:
            box.update("Nothing waits for a person today.")
            return
        hint = {
            "call": "Enter: call, then one key for the outcome",
            "approval": "Enter: decide on the Approvals screen",
            "write_off": "Enter: confirm or turn down (a second person)",
            "task": "Enter: open the invoice · x: done",
            "bank": "Enter: assign or dismiss on the Bank screen",
            "bounce": "Enter: open the invoice · x: done",
            "promise": "Enter: open the invoice (payment or promise broken)",
        }[item.kind]
        box.update(
            f"[b]{escape(item.customer_name)}[/b] {escape(item.customer)} {escape(item.invoice)}"
            f"\n{escape(item.what)}\n{hint}"
        )

    def on_data_table_row_selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        item = self.current()
        if item is None or isinstance(self.app.screen, ModalScreen) or self.app.asking:
            return  # a dialog of this flow is open (or about to be): never a second one
        if item.kind == "call":
            if self.permits("call"):
                self.make_call(item)
        elif item.kind == "approval":
            self.app.action_goto("approvals")
            self.app.call_after_refresh(self._select_approval, item.ref)
        elif item.kind == "bank":
            self.app.action_goto("bank")
        elif item.kind == "write_off":
            if self.permits("decide_write_off"):
                self.decide_write_off(item)
        else:
            from mahnwerk.tui.invoice import InvoiceScreen

            self.app.push_screen(InvoiceScreen(item.invoice))

    def _select_approval(self, approval_id: int) -> None:
        select = getattr(self.app.screen, "select", None)
        if select is not None:
            select(approval_id)

    def action_customer(self) -> None:
        item = self.current()
        if item is not None and item.customer:
            from mahnwerk.tui.customer import CustomerScreen

            self.app.push_screen(CustomerScreen(item.customer))

    def action_done(self) -> None:
        item = self.current()
        if item is None or item.kind not in ("task", "bounce", "promise"):
            self.notify("x marks a task, a bounce or a promise done; the others are decided "
                        "where Enter takes you.", timeout=4)  # fmt: skip
            return
        self._finish(item, "done")

    def _finish(self, item: Item, outcome: str) -> bool:
        try:
            finish_item(self.ctx.engine, item.kind, item.ref, outcome, self.ctx.operator,
                        self.ctx.now(), note=item.what[:200])  # fmt: skip
        except AlreadyDecided as exc:
            self.notify(escape(str(exc)), severity="warning", timeout=8)
            self.reload()
            return False
        self.reload()
        return True

    @work(group="today-action")  # never cancelled while its dialog is open
    async def make_call(self, item: Item) -> None:
        key = await self.ask(CallDialog(item))
        if not key:
            return
        label, action = CALL_OUTCOMES[key]
        if await record_action(self, action, [item.invoice], detail=f"call outcome: {label}"):
            self._finish(item, label)

    @work(group="today-action")  # never cancelled while its dialog is open
    async def decide_write_off(self, item: Item) -> None:
        d = item.detail
        request = WriteOffRequest(item.ref, item.invoice, Decimal(d["balance"]), d["reason"],
                                  d["requested_by"], item.due)  # fmt: skip
        answer = await self.ask(
            PickDialog(f"Write-off of {item.invoice} ({d['balance']} EUR)",
                       [("yes", "Confirm: the next run books it off"), ("no", "Turn it down")],
                       f"asked by {d['requested_by']}: {d['reason']}")
        )  # fmt: skip
        if answer is None:
            return
        try:
            said = decide_write_off(self.ctx.engine, request, self.ctx.operator, answer == "yes",
                                    self.ctx.now())  # fmt: skip
        except (AlreadyDecided, OperatorError) as exc:
            self.notify(escape(str(exc)), severity="warning", timeout=8)
        else:
            self.notify(said)
        self.reload()
