"""The policy text behind a rule, opened at its line: `l` on any line of a story.

The text is the one stored with the deployed version (`policy_version.source`),
not the file on disk today, so what the operator reads is what the engine ran.
"""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from mahnwerk.engine.customer_view import policy_text, short_rule


class PolicyTextScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,l", "close", "Close")]

    def __init__(self, rule: str, path: str, source: str, line: int) -> None:
        super().__init__()
        self.rule, self.path, self.source, self.line = rule, path, source, line

    def compose(self) -> ComposeResult:
        rows = []
        for n, text in enumerate(self.source.splitlines(), start=1):
            mark = "▶" if n == self.line else " "
            body = f"{mark}{n:4} {escape(text)}"
            rows.append(f"[reverse]{body}[/reverse]" if n == self.line else body)
        with Vertical(id="dialog", classes="policy-text"):
            yield Label(f"{short_rule(self.rule)} — as deployed", id="question")
            with VerticalScroll(id="policy-scroll"):
                yield Static("\n".join(rows), id="policy-source")
            yield Static("Esc: back", classes="hint")

    def on_mount(self) -> None:
        scroll = self.query_one("#policy-scroll", VerticalScroll)
        self.call_after_refresh(scroll.scroll_to, 0, max(self.line - 4, 0), animate=False)

    def action_close(self) -> None:
        self.dismiss(None)


def open_policy_line(screen, rule: str) -> None:
    """Open the policy text at the rule's line, or say why there is none."""
    found = policy_text(screen.ctx.engine, rule) if rule else None
    if found is None:
        screen.notify(
            f"no policy line behind this entry ({rule or 'no rule'}): it is the engine's own"
            " or a person's act",
            timeout=4,
        )
        return
    path, source, line = found
    if not isinstance(screen.app.screen, ModalScreen):
        screen.app.push_screen(PolicyTextScreen(rule, path, source, line))
