"""One invoice's whole story: the customer, the money, every event and message, what next.

Each line of the timeline names the rule behind it (`policies/x.mahn:49`, the
file as it was deployed); the highlighted line is shown in full below the table
and `l` opens the policy text at that line.  Above the story stands what the
engine does next and when.  Every operator action (`tui.actions.FORMS`) is put
into the engine's inbox under the operator's name; until the next run applies it
it is listed as waiting and `u` withdraws it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Header, Static

from mahnwerk.engine.customer_view import next_step, short_rule, waiting_events
from mahnwerk.engine.store.invoices import NotFound, timeline
from mahnwerk.engine.store.screens import customer_of
from mahnwerk.tui.actions import record_action, record_write_off, undo
from mahnwerk.tui.base import BookScreen, KeysFooter, money
from mahnwerk.tui.table import Table

ACTION_KEYS = (
    ("p", "payment", "Payment"),
    ("o", "promise", "Promise"),
    ("b", "broken", "Promise broken"),
    ("d", "dispute", "Dispute"),
    ("e", "resolved", "Dispute resolved"),
    ("i", "plan", "Payment plan"),
    ("t", "conversation", "Conversation"),
    ("h", "hold", "Hold"),
    ("r", "release", "Release"),
    ("n", "note", "Note"),
)
"""The keys of the operator actions, on the invoice and (for the marked invoices) the
customer screen alike."""


class InvoiceScreen(BookScreen):
    BINDINGS = [
        Binding("escape,backspace", "app.pop_screen", "Back"),
        *(Binding(k, f"act('{a}')", t, show=k in "pon") for k, a, t in ACTION_KEYS),
        Binding("w", "write_off", "Write off", show=False),
        Binding("u", "undo", "Undo"),
        Binding("c", "customer", "Customer"),
        Binding("l", "policy_line", "Policy line"),
        Binding("g", "reload", "Refresh", show=False),
    ]

    def __init__(self, invoice: str) -> None:
        super().__init__()
        self.invoice = invoice
        self.data: dict = {}
        self.lines: list[tuple[str, str, str, str, str]] = []
        self.waiting: list[dict] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="invoice-head"):
            yield Static("", id="customer")
            yield Static("", id="amounts")
        yield Static("", id="next-step")
        yield Static("", id="waiting")
        yield Table(id="timeline", cursor_type="row", zebra_stripes=True)
        yield Static("", id="line-detail")
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one("#timeline", DataTable)
        for key, label in (("date", "date"), ("what", "what"), ("detail", "detail"),
                           ("rule", "rule"), ("by", "by")):  # fmt: skip
            table.add_column(label, key=key)
        table.focus()
        self.reload()

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        try:
            data = timeline(self.ctx.engine, self.invoice, self.ctx.today)
        except NotFound as exc:
            self.notify(str(exc), severity="error")
            self.app.pop_screen()
            return
        self.data = data
        head = data["invoice"]
        cust = customer_of(self.ctx.engine, self.invoice)
        self.sub_title = f"invoice {self.invoice}"
        contact = [
            cust.get("phone") and f"☎ {cust['phone']}",
            cust.get("email") or "",
            " ".join(str(p) for p in (cust.get("postal_code"), cust.get("city")) if p),
        ]
        self.query_one("#customer", Static).update(
            f"[b]{escape(head['customer_name'])}[/b] ({head['customer']}, {cust.get('type', '?')})"
            "\n"
            + "\n".join(escape(x) for x in contact if x)
            + ("\n[red]vulnerable[/red]" if cust.get("vulnerable") else "")
            + (f"\nno {escape(cust['opted_out'])}" if cust.get("opted_out") else "")
        )
        self.query_one("#amounts", Static).update(self._amounts(head))
        self.query_one("#next-step", Static).update(
            f"[b]Next:[/b] {escape(next_step(self.ctx.engine, self.invoice, self.ctx.today))}"
        )
        self.waiting = waiting_events(self.ctx.engine, self.invoice)
        self.query_one("#waiting", Static).update(
            "Waiting for the next run (u: undo): "
            + "; ".join(
                escape(
                    f"{w['kind']} {w['date']} by {w['actor']}"
                    + "".join(f" {k}={v}" for k, v in w["payload"].items())
                )
                for w in self.waiting
            )  # fmt: skip
            if self.waiting
            else ""
        )
        self.fill_timeline(data)

    def _amounts(self, head: dict) -> str:
        def total(kinds: tuple[str, ...]) -> Decimal:
            found = (Decimal(x["amount"]) for x in self.data["ledger"] if x["kind"] in kinds)
            return sum(found, Decimal(0))

        days = (self.ctx.today - date.fromisoformat(head["due_date"])).days
        flags = [
            f
            for f, on_ in (
                ("HELD", head["held"]),
                ("DISPUTED", head["disputed"]),
                (f"paused: {head['paused']}", head["paused"]),
                (f"time-barred since {head.get('time_barred_since')}", head.get("time_barred")),
            )
            if on_
        ]
        return (
            f"[b]{self.invoice}[/b] {money(head['amount'])} EUR due {head['due_date']}"
            + (f" ({days}d over)" if days > 0 else "")
            + f"\nfees {money(total(('fee', 'lump_sum')))} interest {money(total(('interest',)))}"
            + f" paid {money(-total(('payment',)))}"
            + f"\n[b]open {money(head['balance'])} EUR[/b]"
            + f"\n{head['segment'] or '-'} / [b]{head['state']}[/b]"
            + (f" since {head['entered_on']}" if head["entered_on"] else "")
            + (f"\n[red]{escape('  '.join(flags))}[/red]" if flags else "")
        )

    def fill_timeline(self, data: dict) -> None:
        lines: list[tuple[str, int, tuple[str, str, str, str, str]]] = []
        for e in data["events"]:
            move = f"{e['from']} → {e['to']}  " if e["from"] and e["to"] else ""
            lines.append((e["date"], 0, (e["date"], e["kind"], move + e["message"],
                                         e["rule"] or "", e["actor"])))  # fmt: skip
        for m in data["messages"]:
            status = m["status"] + (f" {m['sent_at'][:10]}" if m.get("sent_at") else "")
            lines.append((m["not_before"][:10], 2, (m["not_before"][:10],
                          f"{m['channel']} message", f"{m['template']} ({status})",
                          m["rule"] or "", "")))  # fmt: skip
        self.lines = [line for _, _, line in sorted(lines, key=lambda x: (x[0], x[1]))]
        table = self.query_one("#timeline", DataTable)
        cursor = table.cursor_row
        table.clear()
        for n, (day, what, detail, rule, by) in enumerate(self.lines):
            table.add_row(day, what, Text(detail[:48]), short_rule(rule), by, key=str(n))
        if self.lines:
            table.move_cursor(row=min(max(cursor, 0), len(self.lines) - 1))
        self.show_line()

    @on(DataTable.RowHighlighted, "#timeline")
    def show_line(self) -> None:
        """The highlighted line in full: what, why, the rule and who (nothing cut)."""
        table = self.query_one("#timeline", DataTable)
        box = self.query_one("#line-detail", Static)
        if not self.lines or table.cursor_row >= len(self.lines):
            box.update("")
            return
        day, what, detail, rule, by = self.lines[table.cursor_row]
        box.update(
            f"[b]{day} {escape(what)}[/b]" + (f" by {escape(by)}" if by else "")
            + f"\n{escape(detail)}"
            + (f"\nrule [b]{escape(short_rule(rule))}[/b] (l: open the policy there)"
               if rule else "")
        )  # fmt: skip

    # -- actions ---------------------------------------------------------------

    @work(group="invoice-action")  # never cancelled while its dialog is open
    async def action_act(self, action: str) -> None:
        await record_action(
            self, action, [self.invoice],
            detail=f"open balance {money(self.data['invoice']['balance'])} EUR",
        )  # fmt: skip

    @work(group="invoice-action")  # never cancelled while its dialog is open
    async def action_write_off(self) -> None:
        await record_write_off(self, self.invoice, Decimal(self.data["invoice"]["balance"]))

    @work(group="invoice-action")  # never cancelled while its dialog is open
    async def action_undo(self) -> None:
        await undo(self, [w | {"invoice": self.invoice} for w in self.waiting])

    def action_customer(self) -> None:
        from mahnwerk.tui.customer import CustomerScreen

        self.app.push_screen(CustomerScreen(self.data["invoice"]["customer"]))

    def action_policy_line(self) -> None:
        table = self.query_one("#timeline", DataTable)
        rule = self.lines[table.cursor_row][3] if self.lines else ""
        from mahnwerk.tui.policy_text import open_policy_line

        open_policy_line(self, rule)
