"""What a wheel would hold: every package and data file of the source tree.

The editable install that development and CI use finds a subpackage through the
`package-dir` mapping even when `packages` forgets it, so a forgotten one (the step's own
package was) only breaks a real installation — `pip install mahnwerk` on a server.  This
reads pyproject.toml the way setuptools does and compares it with the tree.
"""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def _package_dirs() -> dict[str, Path]:
    """Every importable package name of the source tree and its folder."""
    found = {}
    for name, folder in _setuptools()["package-dir"].items():
        for init in (ROOT / folder).rglob("__init__.py"):
            if "__pycache__" in init.parts or ".venv" in init.parts:
                continue
            rel = init.parent.relative_to(ROOT / folder)
            found[".".join([name, *rel.parts])] = init.parent
    return found


def test_every_package_of_the_tree_is_listed() -> None:
    listed = set(_setuptools()["packages"])
    missing = sorted(set(_package_dirs()) - listed)
    assert not missing, f"pyproject.toml [tool.setuptools] packages lacks {missing}"


def test_every_data_file_is_package_data() -> None:
    """Templates, grammars, migrations, styles: a wheel without them fails at run time."""
    patterns = _setuptools()["package-data"]
    dirs = _package_dirs()
    unshipped = []
    for name, folder in dirs.items():
        for path in folder.rglob("*"):
            if not path.is_file() or path.suffix in {".py", ".pyc"} or "__pycache__" in path.parts:
                continue
            # The file belongs to the innermost package that contains it.
            owner = max((n for n, d in dirs.items() if d in path.parents), key=len)
            if owner != name:
                continue
            rel = path.relative_to(folder).as_posix()
            if not any(fnmatch.fnmatch(rel, p) for p in patterns.get(name, [])):
                unshipped.append(f"{name}: {rel}")
    assert not unshipped, f"not in [tool.setuptools.package-data]: {unshipped}"
