"""Every file in `broken/` holds one mistake a real policy author makes.

Each file starts with one or more lines

    # expect: LINE:COL CODE message-substring

and the checker must report exactly those errors — at that line and column,
with that code, with that text in the message — no more and no fewer.  The
command line must refuse the file the way an author sees it: exit code 1,
`file:line:col: error: ...`, the offending source line and a caret under it.
Warnings are not part of the contract here (a broken file may also leave a
ladder unused, say); every file carries the usual event rules so it has none
of the "say what happens on insolvency" kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mahnwerk.cli import app
from mahnwerk.dsl.compile import check_file

BROKEN = Path(__file__).parent / "broken"
SUFFIXES = {".mahn", ".yaml", ".yml"}
FILES = sorted(p for p in BROKEN.iterdir() if p.suffix in SUFFIXES)
EXPECT = re.compile(r"#\s*expect:\s*(\d+):(\d+)\s+([EWL]\d{3})\s+(.+?)\s*$")

#: The checks the broken files must exercise between them (see `dsl/compile.py`).
CODES_COVERED = {
    "E001",  # syntax
    "E002",  # a value that cannot exist (date, time of day)
    "E010",  # unknown event
    "E011",  # a setting or limit given twice
    "E012",  # a required setting missing
    "E020",  # duplicate names
    "E021",  # unknown state / ladder / target
    "E022",  # no default segment
    "E023",  # a segment after the default
    "E024",  # unreachable state
    "E025",  # state with no way out
    "E026",  # cycle of time triggers
    "E027",  # triggers firing together with nothing to order them
    "E028",  # a segment an earlier segment shadows (it can never match)
    "E029",  # a condition that can never hold
    "E030",  # type errors in conditions
    "E031",  # unknown fact
    "E032",  # currency mismatch
    "E034",  # a discount offer that ends before its state is entered (issue 19)
    "E037",  # two guards on one state that can both hold, with no priority
    "E038",  # a residual asked for in the next letter, but the policy sends none
    "L001",  # fee above the cap
    "L002",  # lump sum for consumers
    "L003",  # interest above the statutory rate
    "L004",  # letters too close together
    "L005",  # fee without a letter
    "L006",  # fee before the due date
    "L007",  # court / bureau / handover without approval
    "L009",  # a residual tolerance above cents (issue 11)
}


@dataclass(frozen=True)
class Expected:
    line: int
    col: int
    code: str
    text: str

    def matches(self, d) -> bool:
        return (d.span.line, d.span.col, d.code) == (self.line, self.col, self.code) and (
            self.text in d.message
        )

    def __str__(self) -> str:
        return f"{self.line}:{self.col} {self.code} {self.text}"


def expectations(path: Path) -> list[Expected]:
    """The `# expect:` lines at the top of `path` (stops at the first other line)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = EXPECT.match(line)
        if not m:
            break
        out.append(Expected(int(m[1]), int(m[2]), m[3], m[4]))
    return out


def _show(diagnostics) -> str:
    return "\n".join(f"  {d.span.line}:{d.span.col} {d.code} {d.message}" for d in diagnostics)


def test_the_folder_holds_at_least_24_broken_policies_in_both_forms():
    assert len(FILES) >= 24
    assert {p.suffix for p in FILES} >= {".mahn", ".yaml"}


def test_the_broken_policies_exercise_every_check():
    codes = {e.code for p in FILES for e in expectations(p)}
    assert CODES_COVERED <= codes, f"no broken policy for {sorted(CODES_COVERED - codes)}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_checker_reports_exactly_the_expected_errors(path: Path):
    expected = expectations(path)
    assert expected, f"{path.name} has no `# expect: LINE:COL CODE text` line"
    errors = [d for d in check_file(path) if d.severity == "error"]
    unmatched = list(errors)
    missing = []
    for exp in expected:
        hit = next((d for d in unmatched if exp.matches(d)), None)
        if hit is None:
            missing.append(exp)
        else:
            unmatched.remove(hit)
    assert not missing and not unmatched, (
        f"{path.name}\nmissing:\n"
        + "\n".join(f"  {e}" for e in missing)
        + f"\nunexpected:\n{_show(unmatched)}\nall errors:\n{_show(errors)}"
    )


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_policy_check_refuses_the_file_and_points_at_the_mistake(path: Path):
    result = CliRunner().invoke(app, ["policy", "check", str(path)])
    assert result.exit_code == 1, result.output
    source_lines = path.read_text(encoding="utf-8").splitlines()
    printed = result.stderr.splitlines()
    for exp in expectations(path):
        head = f"{path}:{exp.line}:{exp.col}: error: "
        at = next((i for i, line in enumerate(printed) if line.startswith(head)), None)
        assert at is not None, f"no line starting {head!r} in:\n{result.stderr}"
        assert f"[{exp.code}]" in printed[at]
        src = source_lines[exp.line - 1].expandtabs(1)
        assert printed[at + 1] == f"    {src}"
        caret = printed[at + 2]
        assert caret.startswith(" " * (4 + exp.col - 1) + "^"), caret
        assert set(caret.strip()) == {"^"}
    assert f"{path}: {len(expectations(path))} error(s)" in result.stderr
    assert "ok" not in result.stdout
