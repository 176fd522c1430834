"""One invoice's whole story: the customer, the money, every event and message.

Each line of the timeline names the rule behind it, so an operator can answer
"why did this customer get a letter?" without opening the policy.  The actions
(payment, dispute, promise, hold) are put into the engine's inbox with
`queries.record_event`, under the operator's name; the next run applies them,
and until then they are listed as waiting.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Static

from mahnwerk.engine.queries import NotFound, record_event, timeline
from mahnwerk.tui.base import BookScreen, money
from mahnwerk.tui.data import FilterError, customer_of, parse_amount, waiting_inbox
from mahnwerk.tui.dialogs import ConfirmDialog, Field, FormDialog


class InvoiceScreen(BookScreen):
    BINDINGS = [
        Binding("escape,backspace", "app.pop_screen", "Back"),
        Binding("p", "payment", "Payment"),
        Binding("d", "dispute", "Dispute"),
        Binding("o", "promise", "Promise"),
        Binding("h", "hold", "Hold"),
        Binding("g", "reload", "Refresh"),
    ]

    def __init__(self, invoice: str) -> None:
        super().__init__()
        self.invoice = invoice
        self.data: dict = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="invoice-head"):
            yield Static("", id="customer")
            yield Static("", id="amounts")
        yield Static("", id="waiting")
        yield DataTable(id="timeline", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#timeline", DataTable)
        for key, label, width in (
            ("date", "date", 10),
            ("what", "what", 18),
            ("detail", "detail", 56),
            ("rule", "rule", 20),
            ("by", "by", 8),
        ):
            table.add_column(label, key=key, width=width)
        table.focus()
        self.reload()

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        try:
            data = timeline(self.ctx.engine, self.invoice)
        except NotFound as exc:
            self.notify(str(exc), severity="error")
            self.app.pop_screen()
            return
        self.data = data
        head = data["invoice"]
        cust = customer_of(self.ctx.engine, self.invoice)
        self.sub_title = f"invoice {self.invoice}"
        self.query_one("#customer", Static).update(
            f"[b]{head['customer_name']}[/b]  ({head['customer']}, {cust.get('type', '?')})\n"
            + "\n".join(
                x
                for x in (
                    cust.get("email") or "",
                    " ".join(str(p) for p in (cust.get("postal_code"), cust.get("city")) if p),
                    f"language {cust.get('language', '-')}"
                    + (", vulnerable" if cust.get("vulnerable") else "")
                    + (f", no {cust['opted_out']}" if cust.get("opted_out") else ""),
                )
                if x
            )
        )
        fees = sum(
            (Decimal(x["amount"]) for x in data["ledger"] if x["kind"] in ("fee", "lump_sum")),
            Decimal(0),
        )
        interest = sum(
            (Decimal(x["amount"]) for x in data["ledger"] if x["kind"] == "interest"), Decimal(0)
        )
        paid = -sum(
            (Decimal(x["amount"]) for x in data["ledger"] if x["kind"] == "payment"), Decimal(0)
        )
        days = (self.ctx.today - date.fromisoformat(head["due_date"])).days
        flags = [
            f
            for f, on_ in (
                ("HELD", head["held"]),
                ("DISPUTED", head["disputed"]),
                (f"paused: {head['paused']}", head["paused"]),
            )
            if on_
        ]
        self.query_one("#amounts", Static).update(
            f"[b]{self.invoice}[/b]  amount {money(head['amount'])} EUR, due {head['due_date']}"
            + (f" ({days} days overdue)" if days > 0 else "")
            + f"\nfees {money(fees)}  interest {money(interest)}  paid {money(paid)}"
            + f"\n[b]open {money(head['balance'])} EUR[/b]"
            + f"\n{head['segment'] or '-'} / [b]{head['state']}[/b]"
            + (f" since {head['entered_on']}" if head["entered_on"] else "")
            + (f", next check {head['next_check_on']}" if head["next_check_on"] else "")
            + (f"\n[red]{'  '.join(flags)}[/red]" if flags else "")
        )
        waiting = waiting_inbox(self.ctx.engine, self.invoice)
        self.query_one("#waiting", Static).update(
            "Waiting for the next run: "
            + "; ".join(
                f"{w['kind']} on {w['date']} by {w['actor']}"
                + "".join(f" {k}={v}" for k, v in w["payload"].items())
                for w in waiting
            )
            if waiting
            else ""
        )
        self.fill_timeline(data)

    def fill_timeline(self, data: dict) -> None:
        lines: list[tuple[str, int, tuple]] = []
        for e in data["events"]:
            move = f"{e['from']} → {e['to']}  " if e["from"] and e["to"] else ""
            lines.append(
                (e["date"], 0, (e["kind"], move + e["message"], e["rule"] or "", e["actor"]))
            )
        for m in data["messages"]:
            lines.append(
                (
                    m["not_before"][:10],
                    2,
                    (
                        f"{m['channel']} message",
                        f"{m['template']} ({m['status']})",
                        m["rule"] or "",
                        "",
                    ),
                )
            )
        table = self.query_one("#timeline", DataTable)
        table.clear()
        for n, (day, _, (what, detail, rule, by)) in enumerate(
            sorted(lines, key=lambda x: (x[0], x[1]))
        ):
            table.add_row(day, what, Text(detail), rule, by, key=str(n))

    # -- actions ---------------------------------------------------------------

    def _record(self, kind: str, on: date, payload: dict) -> None:
        try:
            record_event(
                self.ctx.engine, self.invoice, kind, on, self.ctx.operator, self.ctx.now(), payload
            )
        except NotFound as exc:
            self.notify(str(exc), severity="error")
            return
        self.notify(f"recorded {kind} for {self.invoice} on {on}; the next run applies it")
        self.reload()

    def _day(self, text: str, what: str) -> date:
        try:
            return date.fromisoformat(text.strip())
        except ValueError:
            raise FilterError(
                f"{what} {text!r} is not a date; write YYYY-MM-DD, e.g. 2026-03-31"
            ) from None

    def _check(self, checks: dict[str, str]):
        """A validator for a form: each field name → 'date' or 'amount'."""

        def validate(values: dict[str, str]) -> str | None:
            try:
                for name, kind in checks.items():
                    if kind == "date":
                        self._day(values[name], name)
                    elif kind == "amount":
                        if parse_amount(values[name], name) <= 0:
                            return "a payment must be positive"
            except FilterError as exc:
                return str(exc)
            return None

        return validate

    @work(exclusive=True, group="invoice-action")
    async def action_payment(self) -> None:
        form = await self.app.push_screen_wait(
            FormDialog(
                f"Payment on {self.invoice}",
                [
                    Field("amount", "Amount (EUR)", "", "e.g. 119.00 or 119,00"),
                    Field("on", "Received on", self.ctx.today.isoformat()),
                ],
                self._check({"amount": "amount", "on": "date"}),
                detail=f"open balance {money(self.data['invoice']['balance'])} EUR",
            )
        )
        if form is None:
            return
        amount = parse_amount(form["amount"], "amount").quantize(Decimal("0.01"))
        on = self._day(form["on"], "received on")
        if await self.app.push_screen_wait(
            ConfirmDialog(
                f"Record a payment of {money(amount)} EUR on {self.invoice}?",
                f"received {on.isoformat()}, entered by {self.ctx.operator}; the next run "
                "allocates it to costs, interest and principal (§ 367 BGB)",
            )
        ):
            self._record("payment_partial", on, {"amount": str(amount)})

    @work(exclusive=True, group="invoice-action")
    async def action_dispute(self) -> None:
        form = await self.app.push_screen_wait(
            FormDialog(
                f"Dispute on {self.invoice}",
                [
                    Field("note", "What the customer disputes", "", "e.g. goods damaged"),
                    Field("on", "Disputed on", self.ctx.today.isoformat()),
                ],
                self._check({"on": "date"}),
                detail="Escalation stops while the claim is disputed.",
            )
        )
        if form is not None:
            self._record(
                "dispute_opened", self._day(form["on"], "on"), {"note": form["note"].strip()}
            )

    @work(exclusive=True, group="invoice-action")
    async def action_promise(self) -> None:
        form = await self.app.push_screen_wait(
            FormDialog(
                f"Promise to pay on {self.invoice}",
                [
                    Field("until", "Promised payment date", "", "YYYY-MM-DD"),
                    Field("on", "Promised on", self.ctx.today.isoformat()),
                ],
                self._check({"until": "date", "on": "date"}),
                detail="Dunning pauses until the promised date.",
            )
        )
        if form is not None:
            until = self._day(form["until"], "until")
            self._record(
                "promise_made",
                self._day(form["on"], "on"),
                {"promised_date": until.isoformat()},
            )

    @work(exclusive=True, group="invoice-action")
    async def action_hold(self) -> None:
        form = await self.app.push_screen_wait(
            FormDialog(
                f"Hold {self.invoice}",
                [
                    Field("note", "Why", "", "e.g. customer called, check with sales"),
                    Field("on", "From", self.ctx.today.isoformat()),
                ],
                self._check({"on": "date"}),
                detail="Nothing goes out until the hold is released.",
            )
        )
        if form is not None:
            self._record("hold", self._day(form["on"], "on"), {"note": form["note"].strip()})
