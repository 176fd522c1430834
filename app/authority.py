"""Every command proves who runs it and checks the role `engine.roles.COMMANDS` gives it.

`guard(app)` runs once, after every command is registered: it walks the typer tree and
wraps each command's function, so the check cannot be forgotten in a command and no
command needs its own code for it. Before the command runs, the wrapper

1. opens the store of `--db` and proves the caller (`service.identity.acting`: the OS
   user on SQLite, the database login on PostgreSQL; see README, "Who is acting");
2. checks `--by`, where the command has it: it is only a label and must name the proven
   person (a forged `--by` is refused naming who you are, before anything changes);
3. checks the role, refusing with the role needed and the one held;
4. passes the proven name on as `by`, so the log carries who acted, never a typed name.

A command missing from the table is refused (deny by default), and a test walks the
table against the command tree (tests/engine/test_roles_table.py).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import typer
from typer.models import CommandInfo

from mahnwerk.engine.roles import ANYONE, COMMANDS, role_of
from mahnwerk.errors import MahnwerkError


def _name(info: CommandInfo) -> str:
    return info.name or info.callback.__name__.replace("_", "-")  # typer's own rule


def commands(app: typer.Typer, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, CommandInfo]]:
    """Every leaf command of `app` with its words, e.g. ("event dispute", info)."""
    for info in app.registered_commands:
        yield " ".join((*prefix, _name(info))), info
    for group in app.registered_groups:
        if group.typer_instance is not None and group.name:
            yield from commands(group.typer_instance, (*prefix, group.name))


def _guarded(path: str, role: str, callback: Callable[..., Any]) -> Callable[..., Any]:
    by = inspect.signature(callback).parameters.get("by")
    unset = by.default if by is not None else None  # a default label is not a claim

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        from mahnwerk.options import open_engine
        from mahnwerk.service.identity import acting

        try:
            engine = open_engine(kwargs.get("db"))
        except MahnwerkError:
            # no usable store: the command checks its own arguments first (a malformed
            # date is exit 2 before the store is touched), then meets the same error
            return callback(*args, **kwargs)
        try:
            label = kwargs.get("by")
            me = acting(engine, None if label == unset else label, role, f"mahnwerk {path}")
        finally:
            engine.dispose()
        if "by" in kwargs:
            kwargs["by"] = me.name
        return callback(*args, **kwargs)

    run.__mahnwerk_role__ = role  # type: ignore[attr-defined]
    return run


def guard(app: typer.Typer) -> None:
    """Wrap every command of `app` in its identity and role check (idempotent)."""
    missing = [path for path, _ in commands(app) if path not in COMMANDS]
    if missing:
        raise LookupError(
            f"commands without a role in mahnwerk.engine.roles.COMMANDS: {', '.join(missing)}; "
            "add each there"
        )
    for path, info in commands(app):
        if info.callback is None or hasattr(info.callback, "__mahnwerk_role__"):
            continue
        role = role_of(COMMANDS, path, "the command")
        if role == ANYONE:
            info.callback.__mahnwerk_role__ = ANYONE  # type: ignore[attr-defined]
            continue
        info.callback = _guarded(path, role, info.callback)


__all__ = ["commands", "guard"]
