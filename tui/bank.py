"""Bank: the statement lines no rule could match, waiting for a person.

`mahnwerk import bank` books every credit it can match as a payment; the rest
lands here — credits whose payer or invoice is unclear, and returned direct
debits or reversals that someone has to look at.  Each row says why the matcher
gave up, so the operator can decide from the list.  The decisions themselves are
the bank module's (`engine.bank.assign` / `dismiss`, the same functions
`mahnwerk bank assign|dismiss` calls): an assigned credit becomes ordinary
payment rows that the next run applies, a dismissed entry books nothing and
keeps the reason.  Both are irreversible, so both ask for a confirmation and
are written under the operator's name.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Header, Label, Static

from mahnwerk.engine.bank import AssignError, assign, dismiss, entry, list_queue
from mahnwerk.engine.store.invoices import known_invoices
from mahnwerk.engine.store.screens import FilterError, parse_amount
from mahnwerk.tui.base import BookScreen, KeysFooter, money
from mahnwerk.tui.columns import Column, amount_width, cells, fit
from mahnwerk.tui.dialogs import ConfirmDialog, Field, FormDialog
from mahnwerk.tui.table import Table

SHOWN = 200
"""Oldest waiting entries shown at once; decide those and the next ones appear."""

ROW_HEIGHT = 2
"""Two lines a row: payer over IBAN, and room for the remittance text and the reason."""

COLUMNS = (
    Column("id", "#", 3, 7),
    Column("booked", "booked", 10, 4),
    Column("amount", "amount", 12, 1),  # as wide as the widest amount on screen
    Column("kind", "what", 8, 3),
    Column("payer", "payer / IBAN", 22, 2),
    Column("remittance", "remittance", 18, 6),
    Column("why", "why not matched", None, 5, least=20),
)
"""By rank: at 80 columns the amount, payer, kind, day and why stay; the remittance text
and the entry's number give way (both are in the detail below the list)."""


class BankScreen(BookScreen):
    DEFAULT_CSS = """
    #bank-status {
        height: 1;
        padding: 0 1;
        background: $boost;
    }
    #bank-detail {
        height: auto;
        max-height: 8;
        padding: 0 1;
        border-top: solid $primary;
    }
    """

    BINDINGS = [
        Binding("a", "assign", "Assign to invoices"),
        Binding("d", "dismiss_entry", "Dismiss"),
        Binding("g", "reload", "Refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[int, dict[str, Any]] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="bank-status")
        yield Table(id="bank", cursor_type="row", zebra_stripes=True)
        yield Static("", id="bank-detail")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#bank", DataTable).focus()
        self.reload()

    def on_resize(self) -> None:
        self.reload()

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        rows = list_queue(self.ctx.engine, limit=SHOWN)
        self.items = {r["id"]: r for r in rows}
        table = self.query_one("#bank", DataTable)
        cursor = table.cursor_row
        amounts = [money(r["amount"]) for r in rows]
        keys = fit(table, COLUMNS, self.size.width or self.app.size.width,
                   {"amount": amount_width(amounts, "amount")})  # fmt: skip
        for r in rows:
            review = r["status"] == "review"
            currency = "" if r["currency"] == "EUR" else f"\n{r['currency']}"
            row = {
                "id": str(r["id"]),
                "booked": r["booked_on"],
                "amount": Text(money(r["amount"]) + currency, justify="right"),
                "kind": Text(f"{r['kind']}\nreview", style="bold yellow") if review else r["kind"],
                "payer": f"{r['payer'] or '?'}\n{r['iban'] or '-'}",
                "remittance": r["remittance"] or "-",
                "why": r["note"],
            }
            table.add_row(*cells(row, keys), key=str(r["id"]), height=ROW_HEIGHT)
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1))
        self.show_status()
        self.show_detail()

    def show_status(self) -> None:
        review = sum(1 for r in self.items.values() if r["status"] == "review")
        credits = len(self.items) - review
        more = f" (the oldest {SHOWN} shown)" if len(self.items) == SHOWN else ""
        self.query_one("#bank-status", Static).update(
            f"{credits} unmatched credit(s), {review} return(s)/reversal(s) to review{more}"
            f" · you are [b]{escape(self.ctx.operator)}[/b]"
        )

    def current(self) -> dict[str, Any] | None:
        table = self.query_one("#bank", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return self.items.get(int(str(key.value)))

    @on(DataTable.RowHighlighted, "#bank")
    def show_detail(self) -> None:
        r = self.current()
        box = self.query_one("#bank-detail", Static)
        if r is None:
            box.update("Nothing waits: every imported credit is matched or decided.")
            return
        box.update(_summary(r) + "\n" + _hint(r))

    @on(DataTable.RowSelected, "#bank")
    def selected(self) -> None:
        r = self.current()
        if r is None:
            return
        try:
            detail = entry(self.ctx.engine, r["id"])
        except AssignError as exc:  # decided elsewhere since the list was read
            self.notify(str(exc), severity="error", timeout=10)
            self.reload()
            return
        self.app.push_screen(BankEntryDialog(detail))

    @work(group="bank-decide")  # never cancelled while its dialog is open
    async def action_assign(self) -> None:
        r = self.current()
        if r is None:
            self.notify("Nothing to assign.", timeout=2)
            return
        if r["status"] != "unmatched":
            self.notify(
                f"Bank entry {r['id']} is a {r['kind']}, not a payment: check it, "
                "then dismiss it (d).",
                severity="warning",
                timeout=8,
            )
            return
        form = await self.ask(
            FormDialog(
                f"Assign bank entry #{r['id']} as {escape(self.ctx.operator)}",
                [
                    Field("invoices", "Invoice number(s), separated by spaces", "", "R2026000105"),
                    Field(
                        "amounts",
                        "Amount per invoice, same order (empty: oldest due first)",
                        "",
                        "e.g. 30,00 15,00",
                    ),
                ],
                self._check_assignment(r),
                detail=_summary(r),
            )
        )
        if form is None:
            return
        numbers = _numbers(form["invoices"])
        amounts = _amounts(form["amounts"]) or None
        split = (
            ", ".join(f"{money(a)} to {escape(n)}" for n, a in zip(numbers, amounts, strict=True))
            if amounts
            else f"{escape(', '.join(numbers))} (each up to its balance, oldest due first)"
        )
        if not await self.ask(
            ConfirmDialog(
                f"Assign {money(r['amount'])} {r['currency']} to {escape(', '.join(numbers))} "
                f"as {escape(self.ctx.operator)}?",
                f"{_summary(r)}\n\nBooks: {split}\nThe next run applies the payment(s).",
            )
        ):
            return
        try:
            done = assign(
                self.ctx.engine,
                r["id"],
                numbers,
                actor=self.ctx.operator,
                now=self.ctx.now(),
                amounts=amounts,
            )
        except AssignError as exc:
            self.notify(f"Not assigned: {escape(str(exc))}", severity="error", timeout=10)
        else:
            booked = ", ".join(f"{money(a.amount)} to {a.number}" for a in done)
            self.notify(f"Bank entry {r['id']}: {booked}; the next run applies it.")
        self.reload()

    @work(group="bank-decide")  # never cancelled while its dialog is open
    async def action_dismiss_entry(self) -> None:
        r = self.current()
        if r is None:
            self.notify("Nothing to dismiss.", timeout=2)
            return
        form = await self.ask(
            FormDialog(
                f"Dismiss bank entry #{r['id']} as {escape(self.ctx.operator)}",
                [Field("reason", "Reason (kept with the entry)", "", "e.g. refund from supplier")],
                _reason_needed,
                detail=_summary(r),
            )
        )
        if form is None:
            return
        reason = form["reason"].strip()
        if not await self.ask(
            ConfirmDialog(
                f"Dismiss bank entry #{r['id']} ({money(r['amount'])} {r['currency']}) "
                f"as {escape(self.ctx.operator)}?",
                f"{_summary(r)}\n\nReason: {escape(reason)}\n"
                "It leaves the queue and books nothing on any invoice.",
            )
        ):
            return
        try:
            dismiss(
                self.ctx.engine, r["id"], actor=self.ctx.operator, reason=reason, now=self.ctx.now()
            )
        except AssignError as exc:
            self.notify(f"Not dismissed: {escape(str(exc))}", severity="error", timeout=10)
        else:
            self.notify(f"Bank entry {r['id']}: dismissed.")
        self.reload()

    def _check_assignment(self, r: dict[str, Any]):
        """The form's check: numbers that exist, amounts that read and add up.

        The bank module checks all of it again when it books; checking here
        keeps the dialog open so the operator can correct a typo.
        """
        total = Decimal(r["amount"])

        def check(values: dict[str, str]) -> str | None:
            numbers = _numbers(values["invoices"])
            if not numbers:
                return "Name at least one invoice number."
            if len(set(numbers)) != len(numbers):
                return "Name each invoice once."
            known = known_invoices(self.ctx.engine, numbers)
            unknown = [n for n in numbers if n not in known]
            if unknown:
                return f"No invoice {escape(', '.join(unknown))}: check the number."
            try:
                amounts = _amounts(values["amounts"])
            except FilterError as exc:
                return str(exc)
            if amounts:
                if len(amounts) != len(numbers):
                    return f"Give one amount per invoice ({len(numbers)}), or none."
                if any(a <= 0 for a in amounts) or sum(amounts, Decimal(0)) != total:
                    return f"The amounts must be positive and add up to {money(total)}."
            return None

        return check


class BankEntryDialog(ModalScreen[None]):
    """Enter on a row: everything the statement said about the entry, and what became of it."""

    DEFAULT_CSS = """
    BankEntryDialog {
        align: center middle;
    }
    """
    BINDINGS = [Binding("escape,enter,q", "close", "Close")]

    def __init__(self, detail: dict[str, Any]) -> None:
        super().__init__()
        self.detail = detail

    def compose(self) -> ComposeResult:
        d = self.detail
        customer = f"{d['customer']} {d['customer_name']}" if d["customer"] else "-"
        lines = [
            f"[b]booked[/b]      {d['booked_on']}",
            f"[b]amount[/b]      {money(d['amount'])} {d['currency']}  ({d['kind']})",
            f"[b]status[/b]      {d['status']}",
            f"[b]payer[/b]       {escape(d['payer'] or '?')}",
            f"[b]IBAN[/b]        {d['iban'] or '-'}",
            f"[b]remittance[/b]  {escape(d['remittance'] or '-')}",
            f"[b]customer[/b]    {escape(customer)}",
            f"[b]statement[/b]   {escape(d['file'])}" + (f":{d['line']}" if d["line"] else ""),
            "",
            f"[b]why[/b]  {escape(d['note'] or '-')}",
        ]
        if d.get("decided_by"):
            lines.append(f"[b]decided by[/b]  {escape(d['decided_by'])}")
        for p in d.get("payments", []):
            state = "applied" if p["applied"] else "for the next run"
            lines.append(f"  payment {money(p['amount'])} to {p['invoice']} ({state})")
        with Vertical(id="dialog"):
            yield Label(f"Bank entry #{d['id']}", id="question")
            yield Static("\n".join(lines), id="bank-entry")
            yield Static("a: assign · d: dismiss (on the list)   Esc: close", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)


def _summary(r: dict[str, Any]) -> str:
    kind = "" if r["kind"] == "credit" else f" — {r['kind']}, to review"
    return (
        f"[b]#{r['id']}[/b] {r['booked_on']}  [b]{money(r['amount'])} {r['currency']}[/b]{kind}"
        f"  from {escape(r['payer'] or '?')} {r['iban'] or ''}\n"
        f"Remittance: {escape(r['remittance'] or '-')}\n"
        f"Why: {escape(r['note'] or '-')}"
    )


def _hint(r: dict[str, Any]) -> str:
    if r["status"] == "review":
        return "Not a payment: check the invoice it concerns, then d dismisses it with a reason."
    return "a: assign to invoices · d: dismiss (not a customer's payment) · Enter: detail"


def _numbers(text: str) -> list[str]:
    return [n for n in re.split(r"[\s,;]+", text.strip()) if n]


def _amounts(text: str) -> list[Decimal]:
    """Amounts as operators type them (`30,00` or `30.00`), separated by spaces or `;`."""
    return [
        parse_amount(part, "amount").quantize(Decimal("0.01"))
        for part in re.split(r"[\s;]+", text.strip())
        if part
    ]


def _reason_needed(values: dict[str, str]) -> str | None:
    return None if values["reason"].strip() else "Dismissing needs a reason (kept with the entry)."
