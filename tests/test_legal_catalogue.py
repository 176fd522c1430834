"""The project's legal catalogue (`docs/legal-rules.md`) stays true to the repository.

The catalogue tells a reader which code enforces each rule and which tests prove it; a
renamed module or a deleted scenario file would silently make it lie.  These checks fail
then, and they fail when a rule of the catalogue has no row in the scenario index of
`features/README.md`.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "docs" / "legal-rules.md"
SCENARIO_INDEX = ROOT / "features" / "README.md"

#: A path the catalogue names: backticked, with a folder, ending in a file or a slash.
PATH = re.compile(r"`((?:app|dsl|engine|tui|service|tests|features|policies|docs)/[\w./-]*)`")
RULE = re.compile(r"^\*\*([A-E]\d{1,2}) — ", re.MULTILINE)


def _rules(text: str) -> list[str]:
    return RULE.findall(text)


def test_the_catalogue_names_every_rule_once_in_order() -> None:
    rules = _rules(CATALOGUE.read_text(encoding="utf-8"))
    expected = (
        [f"A{i}" for i in range(1, 10)]
        + [f"B{i}" for i in range(1, 4)]
        + [f"C{i}" for i in range(1, 9)]
        + [f"D{i}" for i in range(1, 11)]
        + [f"E{i}" for i in range(1, 4)]
    )
    assert rules == expected


def test_every_file_the_catalogue_names_exists() -> None:
    named = set(PATH.findall(CATALOGUE.read_text(encoding="utf-8")))
    assert len(named) > 30, "the catalogue should point at code and tests"
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert missing == []


def test_every_rule_has_a_row_in_the_scenario_index() -> None:
    index = SCENARIO_INDEX.read_text(encoding="utf-8")
    rows = {m.group(1) for m in re.finditer(r"^\| ([A-E]\d{1,2}) ", index, re.MULTILINE)}
    missing = [r for r in _rules(CATALOGUE.read_text(encoding="utf-8")) if r not in rows]
    assert missing == []


def test_the_scenario_files_of_the_index_exist() -> None:
    index = SCENARIO_INDEX.read_text(encoding="utf-8")
    named = set(re.findall(r"`(\w+\.feature)`", index))
    assert named, "the index names its feature files"
    assert sorted(n for n in named if not (ROOT / "features" / n).exists()) == []
