"""No function in `engine/` over 60 lines (the style guide; issue 21).

The last seventeen were split in issue 21's third session, so the list of exceptions this
test used to carry is gone: any function or method over the limit fails it, named by its
file.  Migrations are not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).parents[2] / "engine"
LIMIT = 60


def function_lengths(root: Path = ENGINE) -> dict[str, int]:
    """Every function and method under `root` (migrations aside): name → lines."""
    out: dict[str, int] = {}
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.relative_to(root).parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        _walk(tree, path.relative_to(root).as_posix() + "::", out)
    return out


def _walk(node: ast.AST, prefix: str, out: dict[str, int]) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            name = prefix + child.name
            out[name] = max(out.get(name, 0), child.end_lineno - child.lineno + 1)
            _walk(child, name + ".", out)
        elif isinstance(child, ast.ClassDef):
            _walk(child, prefix + child.name + ".", out)
        else:
            _walk(child, prefix, out)


def test_no_function_over_the_limit() -> None:
    long = {where: k for where, k in function_lengths().items() if k > LIMIT}
    assert not long, f"functions over {LIMIT} lines: split them into named steps: {long}"


def test_the_counter_sees_methods_and_nested_functions(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(LIMIT))
    (tmp_path / "m.py").write_text(
        f"class A:\n  def long(self):\n{body}\n\ndef short():\n    return 1\n", encoding="utf-8"
    )
    found = function_lengths(tmp_path)
    assert found["m.py::A.long"] == LIMIT + 1
    assert found["m.py::short"] == 2
