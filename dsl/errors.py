"""Errors and warnings that point at the policy author's own text.

Every problem found while reading or checking a policy becomes a `Diagnostic`
carrying the file, line and column of the offending text.  Readers and the
checker collect diagnostics instead of stopping at the first one, so a finance
manager sees every mistake of a file in one go; `PolicyError` is raised once,
at the end, with all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mahnwerk.errors import MahnwerkError


@dataclass(frozen=True, slots=True)
class Span:
    """Where a piece of policy text lives: 1-based line and column, end exclusive."""

    path: str
    line: int
    col: int
    end_line: int | None = None
    end_col: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


NOWHERE = Span("<builtin>", 0, 0)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    severity: str  # "error" | "warning"
    span: Span
    message: str
    hint: str | None = None
    code: str = "E000"

    def render(self, source: str | None = None) -> str:
        """`file:line:col: error: message`, then the source line and a caret."""
        head = f"{self.span}: {self.severity}: {self.message} [{self.code}]"
        lines = [head]
        text = source if source is not None else _read_source(self.span.path)
        if text is not None and self.span.line > 0:
            src_lines = text.splitlines()
            if self.span.line <= len(src_lines):
                src = src_lines[self.span.line - 1].expandtabs(1)
                lines.append(f"    {src}")
                width = 1
                if self.span.end_line == self.span.line and self.span.end_col:
                    width = max(1, self.span.end_col - self.span.col)
                width = min(width, max(1, len(src) - self.span.col + 1))
                lines.append("    " + " " * (self.span.col - 1) + "^" * width)
        if self.hint:
            lines.append(f"    hint: {self.hint}")
        return "\n".join(lines)


def _read_source(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None


class PolicyError(MahnwerkError):
    """A policy that cannot be compiled, with every error found in it."""

    def __init__(self, diagnostics: list[Diagnostic], source: str | None = None):
        self.diagnostics = [d for d in diagnostics if d.severity == "error"]
        self.warnings = [d for d in diagnostics if d.severity == "warning"]
        self.source = source
        super().__init__(self.render())

    def render(self) -> str:
        return "\n".join(d.render(self.source) for d in self.diagnostics)

    def cli_text(self) -> str:
        """Each diagnostic as `file:line:col: error: …` with the line and a caret."""
        return self.render()


class Collector:
    """Gathers diagnostics for one file; `raise_if_errors` raises them all at once."""

    def __init__(self, path: str, source: str | None = None):
        self.path = path
        self.source = source
        self.items: list[Diagnostic] = []

    def error(self, span: Span, message: str, hint: str | None = None, code: str = "E000") -> None:
        self.items.append(Diagnostic("error", span, message, hint, code))

    def warning(
        self, span: Span, message: str, hint: str | None = None, code: str = "W000"
    ) -> None:
        self.items.append(Diagnostic("warning", span, message, hint, code))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "warning"]

    def raise_if_errors(self) -> None:
        if self.errors:
            ordered = sorted(self.items, key=lambda d: (d.span.line, d.span.col))
            raise PolicyError(ordered, self.source)
