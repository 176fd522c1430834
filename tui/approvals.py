"""Approvals: escalations waiting for people, with what will happen and why.

The decision itself is the engine's (`approvals.decide`): it records the
operator's vote in the audit log, counts four eyes and refuses the same person
twice.  This screen shows who approved first, lets the operator decide one
escalation or a marked selection, and asks for a comment and a confirmation
before anything is written.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Static

from mahnwerk.engine.approvals import ApprovalError, PendingApproval, decide, pending
from mahnwerk.engine.customer_view import short_rule
from mahnwerk.engine.identity import same_person
from mahnwerk.engine.worklist import approval_context, decided_by
from mahnwerk.tui.base import BookScreen, KeysFooter, money
from mahnwerk.tui.dialogs import ConfirmDialog, Field, FormDialog
from mahnwerk.tui.table import Table

SHOWN = 200
"""Oldest escalations shown at once; decide those and the next ones appear."""


class ApprovalsScreen(BookScreen):
    BINDINGS = [
        Binding("a", "decide(True)", "Approve"),
        Binding("r", "decide(False)", "Reject"),
        Binding("space", "mark", "Mark"),
        Binding("m", "mark_all", "Mark all"),
        Binding("o", "open", "Open invoice"),
        Binding("g", "reload", "Refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[int, PendingApproval] = {}
        self.marked: set[int] = set()
        self.context: dict[int, tuple[str, str]] = {}
        self.order: list[int] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="approvals-status")
        yield Table(id="approvals", cursor_type="row", zebra_stripes=True)
        yield Static("", id="approval-detail")
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one("#approvals", DataTable)
        for key, label in (
            ("mark", "✓"),
            ("id", "#"),
            ("invoice", "invoice"),
            ("balance", "balance"),
            ("customer", "customer"),
            ("target", "will move to"),
            ("needs", "needs"),
            ("by", "approved by"),
            ("since", "waiting since"),
            ("paused", "now"),
        ):
            table.add_column(label, key=key)
        table.focus()
        self.reload()

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Read again; the cursor stays on the escalation it was on (or the next one)."""
        items = pending(self.ctx.engine, limit=SHOWN)
        keep = self.current()
        old_at = self.order.index(keep.id) if keep is not None and keep.id in self.order else 0
        self.items = {i.id: i for i in items}
        self.order = [i.id for i in items]
        self.context = approval_context(self.ctx.engine, self.order)
        self.marked &= set(self.items)
        table = self.query_one("#approvals", DataTable)
        table.clear()
        for i in items:
            name, paused = self.context.get(i.id, ("", ""))
            table.add_row(
                "✓" if i.id in self.marked else "",
                str(i.id),
                i.invoice,
                Text(money(i.balance), justify="right"),
                name[:22],
                i.target,
                f"{len(i.approved_by)}/{i.required}",
                ", ".join(i.approved_by) or "-",
                i.requested_on.isoformat(),
                Text(paused[:24], style="bold red") if paused else "",
                key=str(i.id),
            )
        if getattr(self, "wanted", None) in self.items:  # opened from the Today screen
            keep = self.items[self.wanted]
            self.wanted = None
        if items:
            if keep is not None and keep.id in self.items:
                table.move_cursor(row=self.order.index(keep.id))
            else:  # it was decided: the one that took its place
                table.move_cursor(row=min(old_at, len(items) - 1))
        self.show_status()
        self.show_detail()

    def select(self, approval_id: int) -> None:
        """Put the cursor on one escalation (the Today screen opens it here)."""
        self.wanted = approval_id
        if approval_id in self.order:
            self.query_one("#approvals", DataTable).move_cursor(row=self.order.index(approval_id))
            self.wanted = None

    def show_status(self) -> None:
        n = len(self.items)
        more = f" (the oldest {SHOWN} shown)" if n == SHOWN else ""
        self.query_one("#approvals-status", Static).update(
            f"{n:,} escalation(s) waiting{more} · you are [b]{self.ctx.operator}[/b]"
            + (f" · {len(self.marked)} marked (space: mark, m: all)" if self.marked else "")
        )

    def current(self) -> PendingApproval | None:
        table = self.query_one("#approvals", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return self.items.get(int(str(key.value)))

    @on(DataTable.RowHighlighted, "#approvals")
    def show_detail(self) -> None:
        item = self.current()
        box = self.query_one("#approval-detail", Static)
        if item is None:
            box.update("Nothing waits for a decision.")
            return
        first = (
            f"approved first by [b]{', '.join(item.approved_by)}[/b]; needs a different person"
            if item.approved_by
            else "nobody has approved yet"
        )
        mine = (
            "  [red]you have already approved this one[/red]"
            if any(same_person(self.ctx.operator, who) for who in item.approved_by)
            else ""
        )
        name, paused = self.context.get(item.id, ("", ""))
        box.update(
            f"[b]#{item.id} {item.invoice}[/b] {name}  open {money(item.balance)} EUR  "
            f"waiting since {item.requested_on.isoformat()}\n"
            f"What will happen: {item.summary} → [b]{item.target}[/b]\n"
            f"Why: rule [b]{short_rule(item.rule)}[/b]"
            + (f"  [red]now: {paused}[/red]" if paused else "")
            + "\n"
            f"Four eyes: {len(item.approved_by)} of {item.required} approval(s); {first}{mine}"
        )

    def action_mark(self) -> None:
        item = self.current()
        if item is None:
            return
        self.marked ^= {item.id}
        table = self.query_one("#approvals", DataTable)
        table.update_cell(str(item.id), "mark", "✓" if item.id in self.marked else "")
        table.action_cursor_down()
        self.show_status()

    def action_mark_all(self) -> None:
        self.marked = set() if self.marked == set(self.items) else set(self.items)
        self.reload()

    def action_open(self) -> None:
        item = self.current()
        if item is not None:
            from mahnwerk.tui.invoice import InvoiceScreen

            self.app.push_screen(InvoiceScreen(item.invoice))

    @on(DataTable.RowSelected, "#approvals")
    def selected(self) -> None:
        self.action_open()

    @work(group="decide")  # never cancelled while its dialog is open
    async def action_decide(self, approve: bool) -> None:
        chosen = sorted(self.marked) if self.marked else []
        if not chosen and (item := self.current()) is not None:
            chosen = [item.id]
        if not chosen:
            self.notify("Nothing to decide.", timeout=2)
            return
        verb = "approve" if approve else "reject"
        what = "\n".join(
            f"#{i} {self.items[i].invoice}: {self.items[i].summary} → {self.items[i].target}"
            for i in chosen[:8]
        ) + (f"\n… and {len(chosen) - 8} more" if len(chosen) > 8 else "")
        form = await self.ask(
            FormDialog(
                f"{verb.capitalize()} {len(chosen)} escalation(s) as {self.ctx.operator}",
                [Field("comment", "Comment (written into the audit log)", "", "why")],
                None if approve else _reason_needed,
                detail=what,
            )
        )
        if form is None:
            return
        consequence = (
            "The next run carries out each approved step."
            if approve
            else "Each invoice goes on hold until someone releases it."
        )
        if not await self.ask(
            ConfirmDialog(
                f"{verb.capitalize()} {len(chosen)} escalation(s) as {self.ctx.operator}?",
                f"{what}\n\n{consequence}",
            )
        ):
            return
        now = self.ctx.now()
        done, refused = [], []
        for aid in chosen:
            try:
                done.append(
                    decide(
                        self.ctx.engine,
                        aid,
                        self.ctx.operator,
                        approve,
                        now,
                        self.ctx.today,
                        form["comment"].strip(),
                    )
                )
            except ApprovalError as exc:
                who = decided_by(self.ctx.engine, aid) if "already" in str(exc) else ""
                refused.append(f"{exc}" + (f" ({who})" if who else ""))
        self.marked.clear()
        if done:
            self.notify("\n".join(done[:5]) + (f"\n… {len(done)} in all" if len(done) > 5 else ""))
        if refused:
            self.notify("\n".join(refused[:5]), severity="error", timeout=10)
        self.reload()


def _reason_needed(values: dict[str, str]) -> str | None:
    return None if values["comment"].strip() else "A rejection needs a reason for the audit log."
