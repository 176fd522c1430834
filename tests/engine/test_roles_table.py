"""The role table (`engine.roles`) covers every command, endpoint and screen action, and
the command line holds a person to it: a viewer is refused every command above viewer
with the role named, a forged `--by` is refused naming who you are, nothing changes."""

from __future__ import annotations

import inspect
import sqlite3
from pathlib import Path

import pytest
import typer.main
from fastapi import APIRouter, Depends
from typer.testing import CliRunner

from mahnwerk.authority import commands
from mahnwerk.cli import app
from mahnwerk.engine.roles import ANYONE, COMMANDS, ENDPOINTS, ROLES, SCREEN_ACTIONS
from mahnwerk.service.admin import router as admin_router
from mahnwerk.service.data import router as data_router
from mahnwerk.service.deps import caller, declare_roles, operation
from mahnwerk.service.identity import os_user
from mahnwerk.service.work import router as work_router

ROUTERS = (data_router, work_router, admin_router)
DATA = Path(__file__).parents[1] / "data"


def _leaves(command, prefix: tuple[str, ...] = ()):
    subs = getattr(command, "commands", None)
    if not subs:
        yield " ".join(prefix), command
        return
    for name, sub in subs.items():
        yield from _leaves(sub, (*prefix, name))


LEAVES = dict(_leaves(typer.main.get_command(app)))


def test_every_command_has_a_role_and_the_table_names_no_missing_command():
    assert set(LEAVES) == set(COMMANDS), (
        f"without a role: {sorted(set(LEAVES) - set(COMMANDS))}; "
        f"in the table but no command: {sorted(set(COMMANDS) - set(LEAVES))}"
    )
    assert set(COMMANDS.values()) <= {*ROLES, ANYONE}
    for path, info in commands(app):
        assert getattr(info.callback, "__mahnwerk_role__", None) == COMMANDS[path], path
        if COMMANDS[path] != ANYONE:  # the store the caller is proven against
            assert "db" in inspect.signature(info.callback).parameters, path


def test_every_endpoint_has_its_role_from_the_table():
    seen = {
        operation(method, route.path)
        for router in ROUTERS
        for route in router.routes
        for method in route.methods
    }
    assert seen == set(ENDPOINTS)
    declare_roles(ROUTERS)  # what create_app does
    for router in ROUTERS:
        for route in router.routes:
            role = ENDPOINTS[operation(next(iter(route.methods)), route.path)]
            checks = any(d.call is caller for d in route.dependant.dependencies)
            assert checks == (role != ANYONE), route.path
            assert (role in route.description) or role == ANYONE, route.description


def test_an_endpoint_without_a_role_stops_the_app_from_starting():
    extra = APIRouter()

    @extra.post("/something-new")
    def something_new(_=Depends(caller)) -> dict[str, str]:  # type: ignore[no-untyped-def]
        return {}

    with pytest.raises(LookupError, match="'POST /something-new' has no role"):
        declare_roles((extra,))


def test_every_screen_action_has_a_role():
    from mahnwerk.tui import app as tui_app  # noqa: F401 - registers the bank and today screens
    from mahnwerk.tui import customer, invoice, registry  # noqa: F401
    from mahnwerk.tui.base import BookScreen

    registry.builtin()

    def subclasses(cls):  # type: ignore[no-untyped-def]
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    declared = set()
    for screen in subclasses(BookScreen):
        for name, _ in inspect.getmembers(screen, inspect.isfunction):
            if name.startswith("action_") and not hasattr(BookScreen, name):
                declared.add(f"{screen.__name__}.{name[7:]}")
    assert declared, "no screen actions found"
    assert declared <= set(SCREEN_ACTIONS), sorted(declared - set(SCREEN_ACTIONS))
    assert set(SCREEN_ACTIONS.values()) <= set(ROLES)


# --- a person held to the table --------------------------------------------------------


def _cli(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args), env={"MAHNWERK_OPERATOR": ""})
    assert result.exit_code == code, (args, result.output)
    return result.output


def _dump(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


def _sample(param) -> list[str]:  # type: ignore[no-untyped-def]
    """A value click accepts for a required parameter (the role check comes first)."""
    value = "1" if param.type_descriptor.annotation is int else "2024-05-01"  # type: ignore[attr-defined]
    if param.param_type_name == "argument":
        return [value]
    return [param.opts[0], value]


@pytest.fixture(scope="module")
def viewer_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A book where the OS user running the tests is registered as a viewer."""
    db = tmp_path_factory.mktemp("roles") / "book.db"
    url = f"sqlite:///{db}"
    _cli("init", "--db", url)
    _cli("import", "customers", str(DATA / "kunden_cp1252.csv"), "--db", url)
    _cli("import", "invoices", str(DATA / "rechnungen_cp1252.csv"), "--db", url)
    _cli("users", "add", "chef", "--role", "admin", "--os-user", os_user(), "--db", url)
    _cli("users", "add", "ben", "--role", "approver", "--os-user", "mw-nobody", "--db", url)
    assert "chef now has the role viewer" in _cli("users", "role", "chef", "viewer", "--db", url)
    return db


ABOVE_VIEWER = sorted(path for path, role in COMMANDS.items() if role not in (ANYONE, "viewer"))


@pytest.mark.parametrize("path", ABOVE_VIEWER)
def test_a_viewer_is_refused_every_command_above_viewer_and_nothing_changes(viewer_book, path):
    command = LEAVES[path]
    args = [*path.split()]
    for param in command.params:
        if param.required:
            args += _sample(param)
    before = _dump(viewer_book)
    out = _cli(*args, "--db", f"sqlite:///{viewer_book}", code=1)
    role = COMMANDS[path]
    said = f"mahnwerk {path} needs the role {role}; chef (os-user {os_user()}) has the role viewer"
    assert said in out, out
    assert _dump(viewer_book) == before


FORGED = [
    ("event", "dispute", "RE-2024-0001"),
    ("event", "payment", "RE-2024-0001", "10.00"),
    ("import", "events", str(DATA / "kunden_cp1252.csv")),
    ("import", "bank", str(DATA / "kunden_cp1252.csv")),
    ("bank", "assign", "1", "RE-2024-0001"),
    ("bank", "dismiss", "1", "--reason", "x"),
    ("customer", "erase", "10001"),
    ("approvals", "approve", "1"),
]


@pytest.fixture(scope="module")
def own_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A book in single-user mode: the OS user acts with every role under its own name."""
    db = tmp_path_factory.mktemp("single") / "book.db"
    url = f"sqlite:///{db}"
    _cli("init", "--db", url)
    _cli("import", "customers", str(DATA / "kunden_cp1252.csv"), "--db", url)
    _cli("import", "invoices", str(DATA / "rechnungen_cp1252.csv"), "--db", url)
    return db


@pytest.mark.parametrize("args", FORGED, ids=[" ".join(a[:2]) for a in FORGED])
def test_a_forged_by_is_refused_naming_who_you_are(own_book: Path, args):
    before = _dump(own_book)
    out = _cli(*args, "--by", "ben", "--db", f"sqlite:///{own_book}", code=1)
    me = os_user()
    assert f"--by ben is not who you are: you are {me} (os-user {me}, single-user mode)" in out
    assert _dump(own_book) == before
