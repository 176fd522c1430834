"""The screens the operators' UI offers, in one list.

Each entry names a screen class, the key that opens it and a line for the help
and the command palette; the app builds its modes, navigation keys and palette
commands from this list.  Adding a screen is one new module with a `BookScreen`
subclass plus one `register` call — the bank queue (`tui/bank.py`) came in this way:

    register(ScreenEntry("bank", "Bank", "6", BankScreen,
                         "Unmatched payments: assign, dismiss"))

Entries are kept in the order they were registered, which is the order of the
help screen and of the palette.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual.screen import Screen


@dataclass(frozen=True)
class ScreenEntry:
    name: str  # the mode name, also used by `app.goto(name)`
    title: str
    key: str  # a key that opens it from anywhere (not while typing in a field)
    factory: Callable[[], Screen]
    description: str = ""


SCREENS: list[ScreenEntry] = []


def register(entry: ScreenEntry) -> ScreenEntry:
    """Add a screen; a second entry with the same name or key is refused."""
    for other in SCREENS:
        if other.name == entry.name or other.key == entry.key:
            raise ValueError(
                f"screen {entry.name!r} (key {entry.key!r}) clashes with {other.name!r} "
                f"(key {other.key!r}); choose another name and key"
            )
    SCREENS.append(entry)
    return entry


_BUILTIN_DONE = False


def builtin() -> None:
    """Put the standard screens first (once); imported late so their modules may use this one."""
    global _BUILTIN_DONE
    if _BUILTIN_DONE:
        return
    _BUILTIN_DONE = True
    from mahnwerk.tui.approvals import ApprovalsScreen
    from mahnwerk.tui.dashboard import DashboardScreen
    from mahnwerk.tui.policy import PolicyScreen
    from mahnwerk.tui.queue import QueueScreen
    from mahnwerk.tui.run import RunScreen

    for n, entry in enumerate(
        (
            ScreenEntry("dashboard", "Dashboard", "1", DashboardScreen, "States, money, aging"),
            ScreenEntry("queue", "Queue", "2", QueueScreen, "All invoices, filtered and sorted"),
            ScreenEntry(
                "approvals", "Approvals", "3", ApprovalsScreen, "Escalations waiting for a decision"
            ),
            ScreenEntry("policy", "Policy", "4", PolicyScreen, "Each segment's ladder as a graph"),
            ScreenEntry("run", "Run", "5", RunScreen, "Run the engine for a date"),
        )
    ):
        register(entry)  # refuses a clash with a screen registered earlier
        SCREENS.insert(n, SCREENS.pop())  # the standard screens come first
