"""No module of mahnwerk over 600 lines (issue 21): small modules named for what they hold.

A module past 600 lines has become a room every change passes through; split it along its
seams (~400 lines each) and keep its import path by re-exporting from the old name.  Counted
are the package's own folders as pyproject.toml maps them (`package-dir`), so a new
subpackage is counted without touching this test.  Not counted: the Alembic migrations
(one generated file per schema change, never edited afterwards).  There is no other
generated Python in the package; tests, features and benches are not the package.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 600


def _package_dirs() -> list[Path]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return sorted({ROOT / d for d in config["tool"]["setuptools"]["package-dir"].values()})


def _modules() -> list[Path]:
    return sorted(
        path
        for folder in _package_dirs()
        for path in folder.rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts
    )


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_the_count_sees_the_whole_package():
    names = {p.relative_to(ROOT).as_posix() for p in _modules()}
    assert {"app/cli.py", "dsl/compile.py", "engine/runner.py", "tui/app.py"} <= names
    assert not any("/migrations/" in n for n in names)
    assert len(names) > 150


def test_no_module_of_the_package_is_over_600_lines():
    over = [
        f"{path.relative_to(ROOT)}: {n} lines"
        for path in _modules()
        if (n := _lines(path)) > LIMIT
    ]
    assert over == [], f"over {LIMIT} lines, split along their seams:\n" + "\n".join(over)
