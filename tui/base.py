"""What every screen shares: the operator's context and fresh data on return.

The context carries the database, the operator's name (written into the audit
log by every decision) and the business date; the clock is passed in, never
read deep inside, so tests and snapshots are reproducible.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine
from textual._context import NoActiveAppError
from textual.app import ComposeResult
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

NARROW = 100
"""Terminals narrower than this get the compact footer (80×24 is the smallest supported)."""


class KeysFooter(Footer):
    """The footer of every screen; when compact (below `NARROW` columns) it leaves out the
    keys a screen lists in `NARROW_HIDE`, so the others fit 80 columns instead of running
    off the edge.  The keys left out still work, and `?` lists every one of them.

    It is also cheaper to show than Textual's own: opening a screen sends the footer
    several "bindings changed" signals (mount, focus, the screen's first resume), and
    Textual's footer rebuilds all its keys on each, every key styled twice over (its
    `compact` starts True, then is bound to the footer's).  That was about a third of
    the time it took to open Today.  Here the keys are rebuilt only when what they show
    changed, and each key is created with the footer's `compact` already set.
    """

    _shown: tuple | None = None
    """What the keys on the footer show (`_keys_shown`), when they were last composed."""

    def _keys_shown(self) -> tuple:
        """Everything `compose` reads: the keys, their labels and state, the layout."""
        return (
            self._bindings_ready,
            self.compact,
            self.show_command_palette,
            tuple(
                (b.key, b.action, b.description, enabled, tooltip, b.group)
                for (_node, b, enabled, tooltip) in self.screen.active_bindings.values()
                if b.show or b.key == self.app.COMMAND_PALETTE_BINDING
            ),
        )

    async def recompose(self) -> None:
        if self.is_attached and self._keys_shown() == self._shown:
            return  # the same keys: nothing to rebuild
        await super().recompose()

    def compose(self) -> ComposeResult:
        self._shown = self._keys_shown()
        hide = getattr(self.screen, "NARROW_HIDE", ()) if self.compact else ()
        for widget in super().compose():  # a key group's keys come through here too
            if isinstance(widget, FooterKey):
                if widget.action in hide:
                    continue
                # as Textual sets it, minus the restyling: bound to the footer's, except
                # the command palette's key, which keeps its default (True)
                compact = self.compact or widget.has_class("-command-palette")
                widget.set_reactive(FooterKey.compact, compact)
                widget.set_class(compact, "-compact", update=False)
            yield widget


@dataclass
class Context:
    engine: Engine
    operator: str
    today: date
    clock: Callable[[], datetime]
    last_run: date | None = None
    four_eyes_above: Decimal = Decimal("500.00")
    """Write-offs of a larger balance need a second person (`--four-eyes-write-off`)."""
    role: str = "admin"
    """The proven operator's role; each screen action's role is in `engine.roles`."""

    def now(self) -> datetime:
        return self.clock()


class BookScreen(Screen):
    """A screen of the book; `reload` runs when it is shown again after a change elsewhere."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.asked_at = time.perf_counter()  # opening counts from here
        # Styled as it is mounted, with the stylesheet as it is now.  Without this, Textual
        # re-applies the whole stylesheet to every screen's every widget on the first switch
        # to a screen (`App._init_mode`): a fifth of the time it took to open Today.
        with contextlib.suppress(NoActiveAppError):
            self._css_update_count = self.app._css_update_count
        self.latencies: list[float] = []
        """Milliseconds from asking for the screen (or a page) to it painted (bench/)."""

    def painted(self) -> None:
        """Note when what was asked for is on screen: after the compositor's next frame."""
        if self.asked_at:
            asked, self.asked_at = self.asked_at, 0.0
            self.call_after_refresh(
                lambda: self.latencies.append((time.perf_counter() - asked) * 1000)
            )

    @property
    def ctx(self) -> Context:
        return self.app.ctx  # type: ignore[attr-defined]

    def on_resize(self) -> None:
        """Below 100 columns the footer closes up, so every key of the screen stays on it,
        and the screen gets the class `-narrow` for its narrow layout (`mahnwerk.tcss`)."""
        narrow = self.app.size.width < NARROW
        self.set_class(narrow, "-narrow")
        for footer in self.query(Footer):
            if footer.compact != narrow and isinstance(footer, KeysFooter):
                footer.call_later(footer.recompose)  # the keys it leaves out change
            footer.compact = narrow
            footer.show_command_palette = not narrow

    def on_screen_suspend(self) -> None:
        self._hidden = True

    def on_screen_resume(self) -> None:
        """Read again when shown after another screen was on top.  Not on the first showing:
        the screen read when mounted, and Textual posts two resumes on a mode's first switch,
        the second of which read the whole screen again (~35 ms of CPU for Today at 1M).
        (That second read used to hide a lost first frame in a terminal: `MahnwerkApp.
        _display`.)"""
        if getattr(self, "_hidden", False):
            self.reload()
        self._hidden = False

    def reload(self) -> None:
        """Read the database again (override); keep the cursor where it was."""

    def permits(self, action: str) -> bool:
        """Whether the operator's role allows `action` of this screen (`engine.roles.
        SCREEN_ACTIONS`, key "Screen.action"); if not, say which role it needs.

        `MahnwerkApp.run_action` asks this before every key's action; a flow that one
        key opens for several kinds of work (Today's Enter) asks it per kind."""
        from mahnwerk.engine.roles import SCREEN_ACTIONS, may

        key = f"{type(self).__name__}.{action}"
        need = SCREEN_ACTIONS.get(key)
        if need is not None and may(self.ctx.role, need):
            return True
        self.notify(
            f"{key} needs the role {need or '(none declared)'}; you are {self.ctx.operator} "
            f"with the role {self.ctx.role}. An admin can change it "
            f"(mahnwerk users role NAME {need or 'ROLE'}).",
            title="Not allowed",
            severity="error",
        )
        return False

    async def ask(self, dialog: ModalScreen) -> Any:
        """Show a dialog and wait for its answer — unless one is already open.

        A second dialog is never stacked on the first (two "Run the engine?" on
        top of each other): the request is dropped and None comes back.  The app
        counts the open question itself: a dialog just answered may still be on
        screen for a frame while the next question of the same flow is asked.
        """
        app = self.app
        if getattr(app, "asking", False):
            return None
        app.asking = True
        try:
            return await app.push_screen_wait(dialog)
        finally:
            # The answer comes while the dialog is still being taken off the screen; a
            # next dialog pushed now would be taken off with it.  Wait until it is gone.
            for _ in range(100):
                if dialog not in app.screen_stack:
                    break
                await asyncio.sleep(0.01)
            app.asking = False


def money(value: Decimal | str | int | None) -> str:
    """An amount as operators read it: 1,234.56 (always two decimals)."""
    if value is None:
        return "-"
    return f"{Decimal(value):,.2f}"
