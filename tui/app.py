"""`mahnwerk tui`: the operators' terminal UI.

One app, one mode per registered screen (`registry.SCREENS`), so each screen
keeps its place while the operator switches between them with the number keys;
the invoice detail is pushed on top of whichever screen opened it.  The command
palette (ctrl+p) lists every screen and the current screen's actions by name.

Safe keys: a screen key never fires while a text field has the cursor or a dialog
is open, so typing never lands on another screen.  Two operators at once: the app
polls a cheap fingerprint of the database (`worklist.change_stamp`) every
`POLL_SECONDS` and the screen on view reads again when it moved, keeping its cursor.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import date, datetime
from decimal import Decimal

from rich.console import RenderableType
from sqlalchemy import Engine
from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.containers import Container
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Input, Label, OptionList, ProgressBar

from mahnwerk.engine.identity import person
from mahnwerk.engine.worklist import change_stamp, stale_run
from mahnwerk.tui import registry
from mahnwerk.tui.bank import BankScreen
from mahnwerk.tui.base import BookScreen, Context
from mahnwerk.tui.dialogs import HelpScreen
from mahnwerk.tui.experiments import ExperimentScreen
from mahnwerk.tui.today import TodayScreen

registry.register(
    registry.ScreenEntry("bank", "Bank", "6", BankScreen, "Unmatched payments: assign, dismiss")
)  # after the standard screens (`registry.builtin` puts those first)
registry.register(
    registry.ScreenEntry("today", "Today", "0", TodayScreen, "Everything waiting for a person")
)
registry.register(
    registry.ScreenEntry(
        "experiments",
        "Experiments",
        "7",
        ExperimentScreen,
        "Champion/challenger test reports",
    )  # fmt: skip
)

POLL_SECONDS = 2.0
"""How often each open UI asks whether someone else changed something (a few cheap maxima)."""


class MahnwerkApp(App[None]):
    CSS_PATH = "mahnwerk.tcss"
    TITLE = "mahnwerk"
    BINDINGS = [
        Binding("question_mark", "help", "Help"),
        Binding("ctrl+f", "find_customer", "Find customer"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        engine: Engine,
        operator: str,
        today: date,
        clock: Callable[[], datetime],
        start: str = "today",
        last_run: date | None = None,
        poll: float = POLL_SECONDS,
        four_eyes_above: Decimal = Decimal("500.00"),
        role: str = "admin",
    ) -> None:
        """`operator` and `role` are the proven identity (`mahnwerk tui` proves the login);
        each screen action checks its role in `engine.roles.SCREEN_ACTIONS`."""
        super().__init__()
        # D8: the name every decision is written under; IdentityError (a ValueError) for
        # an empty, invisible or machine name
        operator = person(operator, "pass --operator NAME or set MAHNWERK_OPERATOR")
        self.ctx = Context(engine, operator, today, clock, last_run, four_eyes_above, role)
        registry.builtin()
        self.start = start
        self.poll = poll
        self.stamp: tuple | None = None
        self.asking = False  # a screen's dialog flow is waiting for an answer (`BookScreen.ask`)
        self.switching = False  # a screen key's switch is under way: keys typed now wait
        self.typed = 0  # keys typed so far: the order of the ones held during a switch
        self.held: list[events.Key] = []
        self.lost_frame = False  # a frame dropped in a batch of updates (`_display`)
        stale = stale_run(last_run, today) if last_run is not None else ""
        self.sub_title = f"{operator} · as of {today:%d.%m.%Y}" + (
            f" · ⚠ {stale}: run the engine (5)" if stale else ""
        )
        for entry in registry.SCREENS:
            self.add_mode(entry.name, entry.factory)
            self.bind(entry.key, f"goto('{entry.name}')", description=entry.title, show=False)

    def on_mount(self) -> None:
        if self.poll:  # before the first screen reads: a change from then on is seen
            self.stamp = change_stamp(self.ctx.engine)
        self.switch_mode(self.start)
        self.call_after_refresh(self._warm_styles)
        if self.poll:
            self.set_interval(self.poll, self.check_changes)

    def _display(self, screen: Screen, renderable: RenderableType | None) -> None:
        """Note a frame that Textual drops because a batch of updates is open.

        Textual (8.2.8) renders a frame while a batch is open and throws it away — yet the
        screen counts it as shown, so the next frames carry only what changed since.  Its
        start-up is such a batch: the first screen's first, full frame was lost, and the
        terminal showed the changes after it (the header, the status line, the footer) on
        an otherwise blank screen until something laid the screen out again: Today without
        its list for a frame or two — in a real terminal only, the pilot draws no frames
        (the tmux Monday test met it once Today stopped reading the database twice)."""
        if renderable is not None and self._batch_count and not self.is_headless:
            self.lost_frame = True
        super()._display(screen, renderable)

    def _end_batch(self) -> None:
        """At the end of a batch that dropped a frame, paint the whole screen as it is now
        (as Textual's own screenshot renders it: `refresh()` repaints only what changed)."""
        super()._end_batch()
        if self.lost_frame and not self._batch_count:
            self.lost_frame = False
            screen = self.screen
            whole = screen._compositor.render_update(
                full=True, screen_stack=self._background_screens
            )
            self._display(screen, whole)

    @work(thread=True, exclusive=True, group="poll")
    def check_changes(self) -> None:
        try:
            stamp = change_stamp(self.ctx.engine)
        except Exception:  # a locked or restarting database: try again at the next tick
            return
        if self.stamp is not None and stamp != self.stamp:
            self.call_from_thread(self.refresh_view)
        self.stamp = stamp

    def refresh_view(self) -> None:
        """Someone changed the book: the screen on view reads again (not under a dialog)."""
        if isinstance(self.screen, BookScreen):
            self.screen.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("goto", "find_customer", "help") and (
            isinstance(self.focused, Input) or isinstance(self.screen, ModalScreen)
        ):
            return False  # typing stays in the field; a dialog is answered first
        return True

    async def run_action(self, action, default_namespace=None, namespaces=None) -> bool:  # type: ignore[no-untyped-def, override]
        """Every screen action checks the role `engine.roles.SCREEN_ACTIONS` gives it.

        A refused action says which role it needs and does nothing; an action of a screen
        that the table does not know is refused too (deny by default)."""
        target, name, _ = self._parse_action(
            action, self if default_namespace is None else default_namespace, namespaces
        )
        if isinstance(target, BookScreen) and not target.permits(name):
            return True  # refused, and said so
        return await super().run_action(action, default_namespace, namespaces)

    def action_find_customer(self) -> None:
        from mahnwerk.tui.customer import CustomerSearch

        if isinstance(self.screen, BookScreen):
            self.run_worker(CustomerSearch.run(self.screen), group="invoice-action")

    async def _warm_styles(self) -> None:
        """Mount one of each widget type the other screens use, hidden, and drop them.

        Textual reads a widget type's default CSS the first time one is
        mounted; doing that once at start-up, while the operator reads the
        first screen, keeps it out of the first switch to the queue (and others).
        """
        box = Container(Input(), OptionList(), ProgressBar(), Label(), Button(), classes="warm-up")
        box.display = False
        await self.screen.mount(box)
        await box.remove()

    async def on_event(self, event: events.Event) -> None:
        """Keys as typed: numbered, marked with the screen they were typed on, and held while
        a screen switch is under way (`action_goto`), to reach the new screen after it."""
        if isinstance(event, events.Key) and not event.is_forwarded:
            self.typed += 1
            event.typed = (self.typed, self.screen)  # type: ignore[attr-defined]
            if self.switching:
                self.held.append(event)
                return
        await super().on_event(event)

    async def _on_key(self, event: events.Key) -> None:
        """A key that no widget took, back at the app: a screen key (`2`) — unless the
        screen changed since it was typed.

        Keys reach the app first and are handed on to the focused widget's own queue;
        the screen keys run only when a key comes back up unused.  So `5` typed quickly
        followed by `2024-06-10` sends all of them to the old screen's table before `5`
        has switched to the run screen: without this, the date's `2` came back to
        switch to the queue, and the other keys were lost.  A key typed for a screen
        that is no longer shown goes to the one that is (where the cursor now is)."""
        typed = getattr(event, "typed", None)
        if self.switching or (typed is not None and typed[1] is not self.screen):
            event.prevent_default()  # not `App._on_key`, which Textual calls after this one
            self.held.append(event)
            if not self.switching:
                self.release_held()

    def release_held(self) -> None:
        """The keys held during a switch, in the order typed, to the screen now shown."""
        self.switching = False
        held, self.held = sorted(self.held, key=lambda e: getattr(e, "typed", (0,))[0]), []
        for old in held:
            self.post_message(events.Key(old.key, old.character))

    def action_goto(self, name: str) -> None:
        if self.current_mode != name:
            self.switching = True  # until the new screen is up with its cursor placed
            self.run_worker(self._switched(self.switch_mode(name)), group="switch")
        else:
            while len(self.screen_stack) > 1:  # back to the screen itself
                self.pop_screen()

    async def _switched(self, mounted: Awaitable[object]) -> None:
        try:
            await mounted
        finally:  # after what the new screen does on being shown (its cursor placed)
            self.screen.call_later(self.release_held)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        own = {
            x.action if isinstance(x, Binding) else x[1]
            for x in getattr(type(self.screen), "BINDINGS", [])
        }
        keys = []
        seen = set()
        for active in self.screen.active_bindings.values():
            b = active.binding
            if b.action not in own or not b.description or b.action in seen:
                continue  # the screen's own keys; the widgets' cursor keys go without saying
            seen.add(b.action)
            keys.append((self.get_key_display(b), b.description))
        screens = [(e.key, e.title, e.description) for e in registry.SCREENS]
        self.push_screen(HelpScreen(screens, keys))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for entry in registry.SCREENS:
            yield SystemCommand(
                f"Go to {entry.title}",
                f"{entry.description} (key {entry.key})",
                lambda name=entry.name: self.action_goto(name),
            )
        for _key, active in screen.active_bindings.items():
            b = active.binding
            if b.description and active.node is screen and b.show:
                yield SystemCommand(
                    b.description,
                    f"on this screen (key {self.get_key_display(b)})",
                    lambda b=b: self.run_action(b.action, screen),
                )
        yield SystemCommand("Help", "Keys and screens (key ?)", self.action_help)
        yield from super().get_system_commands(screen)
