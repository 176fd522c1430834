"""The deployed policies: each segment's ladder drawn as a graph; and a reviewed deploy.

The drawing is `dsl.render.to_text`, the same one `mahnwerk policy graph`
prints: states with what they do, arrows with the trigger in the policy's own
words.  `e` adds the policy-wide event rules (disputes, promises, holds);
`f` switches to the Mermaid or Graphviz source of the same graph.  Below 100
columns the segment list sits above the graph, so the graph keeps the width.

`d` deploys a policy file as `mahnwerk policy deploy` does: the preview of
`engine.deploy_review` (invoices that move or would strand, messages the next
run would queue, missing templates, the diff) comes first, computed in a
worker because it steps every open invoice; a deploy the preview refuses cannot
be confirmed; only a "yes" on the preview deploys (`policies.deploy(...,
reviewed=True)`), under the operator's name in the log.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Header, Label, OptionList, Static
from textual.widgets.option_list import Option

from mahnwerk.dsl.render import RENDERERS
from mahnwerk.engine.customer_view import short_rule
from mahnwerk.engine.policies import PolicySet, deploy
from mahnwerk.errors import MahnwerkError
from mahnwerk.tui.base import BookScreen, KeysFooter
from mahnwerk.tui.dialogs import Field, FormDialog

_RULE_AT = re.compile(r"\[([^\]\s]+:\d+)\]")
"""`[/abs/path/policy.mahn:41]` in the drawing: shortened as the story shows rules."""


class PolicyScreen(BookScreen):
    BINDINGS = [
        Binding("e", "events", "Event rules"),
        Binding("f", "format", "Text/Mermaid/dot"),
        Binding("d", "deploy", "Deploy…"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.graphs: dict[str, object] = {}
        self.labels: dict[str, str] = {}
        self.with_handlers = False
        self.format = "text"
        self.current: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="policy-body"):
            yield OptionList(id="segments")
            with VerticalScroll(id="graph-box"):
                yield Static("", id="graph")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#segments", OptionList).focus()

    def reload(self) -> None:
        options = self.query_one("#segments", OptionList)
        options.clear_options()
        try:
            policies = PolicySet.load(self.ctx.engine)
        except LookupError as exc:
            self.query_one("#graph", Static).update(escape(str(exc)))
            return
        self.graphs.clear()
        for d in policies.deployments:
            p = d.compiled.policy
            for segment, graph in d.compiled.graphs.items():
                key = f"{d.version_id}:{segment}"
                self.graphs[key] = graph
                self.labels[key] = f"{p.name} v{p.version}" + (
                    f" (for {d.applies_text})" if d.applies_text else ""
                )
                options.add_option(Option(f"{p.name} v{p.version} · {segment}", id=key))
        if self.graphs:
            keep = self.current if self.current in self.graphs else next(iter(self.graphs))
            options.highlighted = list(self.graphs).index(keep)
            self.draw(keep)

    @on(OptionList.OptionHighlighted, "#segments")
    def highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id:
            self.draw(event.option.id)

    def draw(self, key: str) -> None:
        self.current = key
        draw = RENDERERS[self.format]
        text = draw(self.graphs[key], with_handlers=self.with_handlers)  # type: ignore[arg-type]
        if self.format == "text":
            text = _RULE_AT.sub(lambda m: f"[{short_rule(m.group(1))}]", text)
        self.query_one("#graph", Static).update(
            f"[b]{escape(self.labels[key])}[/b]\n" + text.replace("[", r"\[")
        )

    def action_format(self) -> None:
        """Mermaid and dot are there to copy into documentation and tickets."""
        names = list(RENDERERS)
        self.format = names[(names.index(self.format) + 1) % len(names)]
        if self.current:
            self.draw(self.current)

    def action_events(self) -> None:
        self.with_handlers = not self.with_handlers
        if self.current:
            self.draw(self.current)

    # -- deploy ------------------------------------------------------------------

    @work(group="policy-deploy")  # never cancelled while its dialogs are open
    async def action_deploy(self) -> None:
        form = await self.ask(
            FormDialog(
                f"Deploy a policy as {escape(self.ctx.operator)}",
                [
                    Field("file", "Policy file (.mahn or .yaml)", "", "policies/de_b2c.mahn"),
                    Field(
                        "for", "For which customers (empty: all)", "", 'e.g. customer.type == "B2B"'
                    ),  # fmt: skip
                ],
                _readable_file,
                detail=f"The preview counts the open invoices as of {self.ctx.today:%d.%m.%Y}.",
            )
        )
        if form is None:
            return
        path, applies_to = form["file"].strip(), form["for"].strip() or None
        review = await self.review(path, applies_to, self.ctx.today)
        if review is None:
            return
        text, refused = review
        if not await self.ask(DeployPreview(path, text, refused)) or refused:
            self.notify("Nothing deployed.", timeout=3)
            return
        try:
            _id, said = deploy(self.ctx.engine, path, self.ctx.now(), applies_to, reviewed=True)
        except (MahnwerkError, OSError, ValueError) as exc:
            self.notify(f"Not deployed: {escape(str(exc))}", severity="error", timeout=10)
            return
        self.notify(escape(said), timeout=6)
        self.reload()

    async def review(self, path: str, applies_to: str | None, day: date) -> tuple | None:
        """The deploy preview, computed in a thread (it steps every open invoice)."""
        from mahnwerk.engine.deploy_review import preview_text

        worker = self.run_worker(
            lambda: preview_text(self.ctx.engine, path, day, applies_to),
            thread=True,
            group="policy-review",
            exit_on_error=False,
        )
        await worker.wait()
        if worker.error is not None:
            self.notify(f"No preview: {escape(str(worker.error))}", severity="error", timeout=10)
            return None
        return worker.result


def _readable_file(values: dict[str, str]) -> tuple[str, str] | None:
    name = values["file"].strip()
    if not name:
        return "file", "Name the policy file to deploy."
    if not Path(name).is_file():
        return "file", f"No file {escape(name)} (relative to {escape(str(Path.cwd()))})."
    return None


class DeployPreview(ModalScreen[bool]):
    """What the deploy will do; `y` deploys, anything else does not (a refused one: Esc only)."""

    BINDINGS = [
        Binding("y", "answer(True)", "Deploy"),
        Binding("n,escape", "answer(False)", "Cancel"),
    ]

    def __init__(self, path: str, text: str, refused: bool) -> None:
        super().__init__()
        self.path, self.text, self.refused = path, text, refused

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="policy-text" + (" confirm" if self.refused else "")):
            yield Label(
                f"Deploy refused: {escape(self.path)}" if self.refused
                else f"Deploy {escape(self.path)}?",
                id="question",
            )  # fmt: skip
            with VerticalScroll(id="preview-scroll"):
                yield Static(escape(self.text), id="deploy-preview")
            yield Static(
                "Refused (see above): nothing can be deployed.   Esc: back"
                if self.refused
                else "y: deploy   n / Esc: cancel   ↑↓ PgUp PgDn: read on",
                classes="warning" if self.refused else "hint",
            )

    def on_mount(self) -> None:
        self.query_one("#preview-scroll", VerticalScroll).focus()

    def action_answer(self, value: bool) -> None:
        self.dismiss(value and not self.refused)
