"""The customer at a glance, and the search that finds one.

Everything an operator wants before picking up the phone: every invoice with
balance and state, the total owed, contacts (phone, e-mail, address, language,
opt-outs), segment and risk score with its reasons, promises and plans, notes and
the message history.  Invoices can be marked (space) and one action recorded for
all marked invoices at once — a promise covering four open invoices is one form.
"""

from __future__ import annotations

from decimal import Decimal

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Header, Static

from mahnwerk.dsl.ir import TERMINAL_NAMES
from mahnwerk.engine.customer_view import CustomerView, customer_view, find_customers
from mahnwerk.engine.store.invoices import NotFound
from mahnwerk.tui.actions import record_action, undo
from mahnwerk.tui.base import BookScreen, KeysFooter, money
from mahnwerk.tui.dialogs import Field, FormDialog, PickDialog
from mahnwerk.tui.invoice import ACTION_KEYS
from mahnwerk.tui.table import Table


class CustomerScreen(BookScreen):
    BINDINGS = [
        Binding("escape,backspace", "app.pop_screen", "Back"),
        Binding("space", "mark", "Mark"),
        Binding("m", "mark_open", "Mark open"),
        *(Binding(k, f"act('{a}')", t, show=k in "on") for k, a, t in ACTION_KEYS),
        Binding("u", "undo", "Undo"),
        Binding("g", "reload", "Refresh", show=False),
    ]

    def __init__(self, customer: str) -> None:
        super().__init__()
        self.customer = customer
        self.view: CustomerView | None = None
        self.marked: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="customer-head"):
            yield Static("", id="cust-contact")
            yield Static("", id="cust-money")
        yield Table(id="cust-invoices", cursor_type="row", zebra_stripes=True)
        yield Static("", id="cust-notes")
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one("#cust-invoices", DataTable)
        for key, label in (("mark", "✓"), ("invoice", "invoice"), ("balance", "balance"),
                           ("due", "due"), ("state", "state"), ("flags", "flags")):  # fmt: skip
            table.add_column(label, key=key)
        table.focus()
        self.reload()
        self.painted()

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        try:
            view = customer_view(self.ctx.engine, self.customer, self.ctx.today)
        except NotFound as exc:
            self.notify(str(exc), severity="error")
            self.app.pop_screen()
            return
        self.view = view
        c = view.customer
        self.sub_title = f"customer {self.customer}"
        self.query_one("#cust-contact", Static).update(_contact(c))
        self.query_one("#cust-money", Static).update(_money(view))
        table = self.query_one("#cust-invoices", DataTable)
        current = self.current()
        table.clear()
        self.marked &= {i["invoice"] for i in view.invoices}
        for i in view.invoices:
            flags = " ".join(
                f for f, on_ in (("held", i["held"]), ("disputed", i["disputed"]),
                                 (f"paused {i['paused'] or ''}".strip(), i["paused"]),
                                 ("plan", i["plan"]), ("time-barred", i["time_barred"])) if on_
            )  # fmt: skip
            table.add_row("✓" if i["invoice"] in self.marked else "", i["invoice"],
                          Text(money(i["balance"]), justify="right"), i["due_date"], i["state"],
                          flags, key=i["invoice"])  # fmt: skip
        keys = [i["invoice"] for i in view.invoices]
        if current in keys:
            table.move_cursor(row=keys.index(current))
        lines = [
            f"[b]waiting[/b] {escape(w['invoice'])} {w['kind']} by {escape(w['actor'])}"
            for w in view.waiting
        ]
        lines += [
            f"{n['occurred_on']:%d.%m.} {escape(n['external_id'])} {escape(n['actor'])}: "
            f"{escape(n['message'])}"
            for n in view.notes[:4]
        ]
        lines += [
            f"{m['not_before']:%d.%m.} {m['channel']} {m['template']} [b]{m['status']}[/b]"
            + (f" {m['sent_at']:%d.%m.}" if m["sent_at"] else "")
            for m in view.messages[:4]
        ]
        self.query_one("#cust-notes", Static).update("\n".join(lines) or "no notes, no messages")

    def current(self) -> str | None:
        table = self.query_one("#cust-invoices", DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def chosen(self) -> list[str]:
        if self.marked:
            return [i["invoice"] for i in self.view.invoices if i["invoice"] in self.marked]
        current = self.current()
        return [current] if current else []

    def action_mark(self) -> None:
        current = self.current()
        if current is None:
            return
        self.marked ^= {current}
        table = self.query_one("#cust-invoices", DataTable)
        table.update_cell(current, "mark", "✓" if current in self.marked else "")
        table.action_cursor_down()

    def action_mark_open(self) -> None:
        open_ = {i["invoice"] for i in self.view.invoices if i["state"] not in TERMINAL_NAMES}
        self.marked = set() if self.marked == open_ else open_
        self.reload()

    @on(DataTable.RowSelected, "#cust-invoices")
    def open_invoice(self, event: DataTable.RowSelected) -> None:
        from mahnwerk.tui.invoice import InvoiceScreen

        self.app.push_screen(InvoiceScreen(str(event.row_key.value)))

    @work(group="invoice-action")  # never cancelled while its dialog is open
    async def action_act(self, action: str) -> None:
        chosen = self.chosen()
        total = sum(
            (Decimal(i["balance"]) for i in self.view.invoices if i["invoice"] in chosen),
            Decimal(0),
        )
        if await record_action(self, action, chosen, detail=f"together {money(total)} EUR open"):
            self.marked.clear()
            self.reload()

    @work(group="invoice-action")  # never cancelled while its dialog is open
    async def action_undo(self) -> None:
        await undo(self, self.view.waiting if self.view else [])


def _contact(c: dict) -> str:
    address = ", ".join(
        x for x in (c.get("street"), " ".join(y for y in (c.get("postal_code"), c.get("city"))
                                               if y)) if x
    )  # fmt: skip
    lines = [
        f"[b]{escape(c['name'])}[/b] ({escape(c['external_id'])}, {c['type']})",
        f"☎ {escape(c['phone'] or 'no phone on file')}",
        escape(c["email"] or "no e-mail on file"),
        escape(address or "no address on file"),
        f"language {c['language']}"
        + (f", no {escape(c['opted_out'])}" if c.get("opted_out") else "")
        + (", [red]vulnerable[/red]" if c.get("vulnerable") else ""),
    ]
    if c.get("insolvent_since"):
        lines.append(f"[red]insolvent since {c['insolvent_since']}[/red]")
    if c.get("deceased_since"):
        lines.append(f"[red]deceased ({c['deceased_since']})[/red]")
    return "\n".join(lines)


def _money(view: CustomerView) -> str:
    open_ = [i for i in view.invoices if i["state"] not in TERMINAL_NAMES]
    segments = sorted({i["segment"] for i in open_ if i["segment"]})
    score = view.customer.get("risk_score")
    reasons = "; ".join(
        str(r.get("reason", r)) if isinstance(r, dict) else str(r) for r in view.risk_reasons[:3]
    )
    promises = [i["invoice"] for i in open_ if (i["paused"] or "").startswith("promise")]
    plans = [i["invoice"] for i in open_ if i["plan"]]
    return "\n".join(
        [
            f"[b]owes {money(view.total_open)} EUR[/b] on {len(open_)} open invoice(s)",
            f"segment {', '.join(segments) or '-'}",
            f"risk {score if score is not None else '-'}"
            + (f": {escape(reasons)}" if reasons else ""),
            "promises: " + (", ".join(promises) or "none"),
            "plans: " + (", ".join(plans) or "none"),
        ]
    )


class CustomerSearch:
    """Find a customer by number or name and open them (namesakes told apart by city)."""

    @staticmethod
    async def run(screen: BookScreen) -> None:
        form = await screen.ask(
            FormDialog("Find a customer", [Field("text", "Customer number or name", "", "K-1001")])
        )
        if form is None or not form["text"].strip():
            return
        hits = find_customers(screen.ctx.engine, form["text"])
        if not hits:
            screen.notify(f"no customer matches {form['text']!r}", severity="warning")
            return
        if len(hits) == 1:
            screen.app.push_screen(CustomerScreen(hits[0]["customer"]))
            return
        chosen = await screen.ask(
            PickDialog(
                f"{len(hits)} customers match {form['text']!r}",
                [
                    (h["customer"], f"{h['name'][:26]:<26} {h['city'][:18]:<18} {h['customer']:<10}"
                                    f" {money(h['open_balance']):>11}")
                    for h in hits
                ],
                "name, city, customer number, open balance",
            )
        )  # fmt: skip
        if chosen:
            screen.app.push_screen(CustomerScreen(chosen))
