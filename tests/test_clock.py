"""The wall clock is read in one place, `app/clock.py`; everything else receives the moment.

A module that reads the clock itself cannot be run on another day by a test or a drill, and
its results change with the hour it runs — the engine's step would no longer be a function
of (state, event, now).  This walks every module of the product and fails on a call of
`datetime.now`, `datetime.utcnow`, `datetime.today`, `date.today` or `time.time` outside
`app/clock.py` (durations use `time.monotonic`/`perf_counter`, which are allowed).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "dsl", "engine", "tui", "service", "portal")
CLOCK = ROOT / "app" / "clock.py"
READS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"),
         ("date", "today"), ("time", "time")}  # fmt: skip


def _reads(path: Path) -> list[str]:
    """`file:line: owner.name()` for each wall-clock read in the module at `path`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
        if (name, node.func.attr) in READS:
            where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
            found.append(f"{where}:{node.lineno}: {name}.{node.func.attr}()")
    return found


def test_only_app_clock_reads_the_wall_clock() -> None:
    modules = [
        p
        for package in PACKAGES
        for p in (ROOT / package).rglob("*.py")
        if "migrations" not in p.parts and p != CLOCK
    ]
    assert len(modules) > 100
    assert [hit for p in modules for hit in _reads(p)] == []


def test_the_scan_sees_a_clock_read(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("import datetime\nx = datetime.datetime.now()\ny = date.today()\n")
    assert _reads(probe) == ["probe.py:2: datetime.now()", "probe.py:3: date.today()"]
