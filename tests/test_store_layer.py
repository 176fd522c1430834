"""One store layer (issue 21): nothing outside `engine/store/` builds SQL.

A module builds SQL here when it imports one of SQLAlchemy's (or SQLModel's) statement
builders — `select`, `insert`, `update`, `delete`, `text` — or runs a statement itself
(`.execute(…)`, `.exec(…)`, `.exec_driver_sql(…)`, `.executemany(…)` on anything but
`self`).  Read from the syntax tree, not by grepping, so a word in a docstring does not
count and an aliased import (`from sqlalchemy import select as s`) does.

Counted are the package's own folders as pyproject.toml maps them; not counted are the
store layer itself and the Alembic migrations (schema changes are SQL by nature).  Tests,
features and benches are not the package.

What has not moved yet is listed in `NOT_MOVED`, grouped by why.  The list only shrinks:
a module that appears outside it fails the first test, and a listed module that no
longer builds SQL fails the second (take it off the list).
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILDERS = frozenset({"select", "insert", "update", "delete", "text"})
RUNNERS = frozenset({"execute", "exec", "exec_driver_sql", "executemany"})
SQL_LIBRARIES = frozenset({"sqlalchemy", "sqlmodel"})

NOT_MOVED: dict[str, tuple[str, ...]] = {
    # The tables themselves: `text(...)` as a column's server default is schema, not a query.
    "table definitions": (
        "engine/model_types.py",
        "engine/models.py",
        "engine/models_comms.py",
    ),
}


def sql_built(source: str) -> list[str]:
    """What in `source` builds or runs SQL (empty: nothing), each as `line: what`."""
    tree = ast.parse(source)
    found: list[str] = []
    modules: set[str] = set()  # names bound to sqlalchemy / sqlmodel (`import sqlalchemy as sa`)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {
                a.asname or a.name for a in node.names if a.name.split(".")[0] in SQL_LIBRARIES
            }
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in SQL_LIBRARIES:
                found += [
                    f"{node.lineno}: imports {a.name}" for a in node.names if a.name in BUILDERS
                ]
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner, name = node.func.value, node.func.attr
        if name in RUNNERS and not (isinstance(owner, ast.Name) and owner.id == "self"):
            found.append(f"{node.lineno}: .{name}(…)")
        elif name in BUILDERS and isinstance(owner, ast.Name) and owner.id in modules:
            found.append(f"{node.lineno}: {owner.id}.{name}(…)")
    return sorted(found, key=lambda s: int(s.split(":")[0]))


def _package_modules() -> list[Path]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    folders = sorted({ROOT / d for d in config["tool"]["setuptools"]["package-dir"].values()})
    return sorted(
        path
        for folder in folders
        for path in folder.rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts
    )


def _in_store(rel: str) -> bool:
    return rel.startswith("engine/store/")


def _building() -> dict[str, list[str]]:
    out = {}
    for path in _package_modules():
        rel = path.relative_to(ROOT).as_posix()
        if not _in_store(rel) and (hits := sql_built(path.read_text(encoding="utf-8"))):
            out[rel] = hits
    return out


ALLOWED = {module for modules in NOT_MOVED.values() for module in modules}


def test_no_module_outside_the_store_layer_builds_sql():
    strays = {m: hits for m, hits in _building().items() if m not in ALLOWED}
    assert strays == {}, (
        "these modules build SQL outside engine/store/: move the queries into the store "
        f"layer and call them from there: {strays}"
    )


def test_the_allow_list_only_lists_what_still_builds_sql():
    building = _building()
    moved = sorted(m for m in ALLOWED if m not in building)
    assert moved == [], f"these no longer build SQL: take them off NOT_MOVED: {moved}"


def test_the_allow_list_names_each_module_once_and_none_of_the_store():
    listed = [module for modules in NOT_MOVED.values() for module in modules]
    assert len(listed) == len(set(listed))
    assert not any(_in_store(m) for m in listed)
    assert all((ROOT / m).is_file() for m in listed)


def test_the_store_layer_is_where_the_queries_are():
    store = {p.name for p in (ROOT / "engine" / "store").glob("*.py")}
    assert {"records.py", "invoices.py", "screens.py"} <= store
    screens = (ROOT / "engine" / "store" / "screens.py").read_text(encoding="utf-8")
    assert sql_built(screens)  # the check sees the store's own SQL, so it would see a stray


@pytest.mark.parametrize(
    "source",
    [
        "from sqlalchemy import select\n",
        "from sqlalchemy import select as s\n",
        "from sqlmodel import select\n",
        "from sqlalchemy.dialects.postgresql import insert\n",
        "import sqlalchemy as sa\nq = sa.text('select 1')\n",
        "def f(session):\n    return session.exec(q)\n",
        "def f(conn):\n    conn.execute('SELECT 1')\n",
        "def f(raw):\n    raw.cursor().executemany('INSERT', rows)\n",
    ],
)
def test_the_check_sees_sql_built_in_any_of_its_forms(source):
    assert sql_built(source)


@pytest.mark.parametrize(
    "source",
    [
        '"""We select the rows and execute the run."""\n',
        "from sqlalchemy import Engine, func\n",
        "class Screen:\n    def go(self):\n        self.execute(1)\n",
        "from mahnwerk.engine.store.screens import queue_page\n",
    ],
)
def test_the_check_leaves_what_builds_no_sql(source):
    assert sql_built(source) == []
