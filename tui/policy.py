"""The deployed policies: each segment's ladder drawn as a graph in the terminal.

The drawing is `dsl.render.to_text`, the same one `mahnwerk policy graph`
prints: states with what they do, arrows with the trigger in the policy's own
words.  `e` adds the policy-wide event rules (disputes, promises, holds);
`f` switches to the Mermaid or Graphviz source of the same graph.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from mahnwerk.dsl.render import RENDERERS
from mahnwerk.engine.policies import PolicySet
from mahnwerk.tui.base import BookScreen


class PolicyScreen(BookScreen):
    BINDINGS = [
        Binding("e", "events", "Event rules"),
        Binding("f", "format", "Text/Mermaid/dot"),
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
        with Horizontal():
            yield OptionList(id="segments")
            with VerticalScroll(id="graph-box"):
                yield Static("", id="graph")
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#segments", OptionList).focus()

    def reload(self) -> None:
        options = self.query_one("#segments", OptionList)
        options.clear_options()
        try:
            policies = PolicySet.load(self.ctx.engine)
        except LookupError as exc:
            self.query_one("#graph", Static).update(str(exc))
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
            options.highlighted = 0
            self.draw(next(iter(self.graphs)))

    @on(OptionList.OptionHighlighted, "#segments")
    def highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id:
            self.draw(event.option.id)

    def draw(self, key: str) -> None:
        self.current = key
        draw = RENDERERS[self.format]
        text = draw(self.graphs[key], with_handlers=self.with_handlers)  # type: ignore[arg-type]
        self.query_one("#graph", Static).update(
            f"[b]{self.labels[key]}[/b]\n" + text.replace("[", r"\[")
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
