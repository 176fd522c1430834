"""The command line's one error boundary: no traceback reaches a user.

Every command runs inside `MahnwerkGroup.invoke`.  A `MahnwerkError` (the base of every
expected failure) prints `error: <what> — <what to do>` and ends with its exit code (1, or 2
for usage).  Errors raised by the libraries below us for reasons a person can fix — a file
that cannot be read, a database file that is not one or sits in a read-only folder, a CSV
field beyond the csv module's limit — are translated by the table `FOREIGN` into the same
form.  Anything else is a bug in mahnwerk: it is reported as one line saying so, and only
`--debug` (or `MAHNWERK_DEBUG=1`) shows the traceback.
"""

from __future__ import annotations

import csv
import os
import sys
import traceback
from collections.abc import Callable

import typer
import typer.core
from typer.exceptions import Abort, Exit, TyperException

from mahnwerk.errors import EXIT_ERROR, MahnwerkError

DEBUG_ENV = "MAHNWERK_DEBUG"

Translation = tuple[str, str]
"""(what went wrong, what to do) for an error raised below mahnwerk."""


def _os_error(exc: BaseException) -> Translation:
    assert isinstance(exc, OSError)
    name = exc.filename or "a file"
    reason = exc.strerror or str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"{name}: no such file or folder", "check the path"
    if isinstance(exc, PermissionError):
        return f"{name}: permission denied", "check the file's and its folder's permissions"
    if isinstance(exc, IsADirectoryError):
        return f"{name}: is a folder, not a file", "give the path of a file"
    return f"{name}: {reason}", "check the path, the disk space and the permissions"


def _unicode_error(exc: BaseException) -> Translation:
    assert isinstance(exc, UnicodeDecodeError)
    return (
        f"a file is not readable text ({exc.encoding} byte {exc.start}: {exc.reason})",
        "save it as UTF-8",
    )


def _csv_error(exc: BaseException) -> Translation:
    return f"a CSV file cannot be read: {exc}", "check the file is a CSV export (; or , separated)"


_SQLITE_REASONS: tuple[tuple[str, Translation], ...] = (
    (
        "file is not a database",
        ("the database file is not an SQLite database", "check --db or $MAHNWERK_DB"),
    ),
    (
        "readonly database",
        (
            "the database cannot be written (read-only file or folder)",
            "give mahnwerk write access to the file and its folder, or copy it elsewhere",
        ),
    ),
    (
        "unable to open database file",
        ("the database file cannot be opened", "check the path and the folder's permissions"),
    ),
    (
        "database is locked",
        (
            "the database is busy: another mahnwerk command is writing to it",
            "wait until it has finished and try again",
        ),
    ),
)


_opened: list[str] = []
"""The database this command opened (`note_database`), so a database error can name it."""


def note_database(where: str) -> None:
    """Remember which database the running command uses, for the error message."""
    _opened[:] = [where]


def database_problem(exc: BaseException) -> Translation:
    text = str(getattr(exc, "orig", None) or exc)
    where = f"{_opened[0]}: " if _opened else ""
    for needle, (what, todo) in _SQLITE_REASONS:
        if needle in text:
            return f"{where}{what}", todo
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return f"{where}the database refused the command: {first}", "check --db and that it is up"


def _sqlalchemy_error_type() -> type[BaseException]:
    from sqlalchemy.exc import SQLAlchemyError

    return SQLAlchemyError


FOREIGN: tuple[tuple[Callable[[], type[BaseException]], Callable[..., Translation]], ...] = (
    (lambda: UnicodeDecodeError, _unicode_error),
    (lambda: OSError, _os_error),
    (lambda: csv.Error, _csv_error),
    (_sqlalchemy_error_type, database_problem),
)
"""Errors from below mahnwerk that a person can fix, each with its translation."""


def translate(exc: BaseException) -> Translation | None:
    """`(what, what to do)` for a foreign error a person can fix, else None (a bug)."""
    for kind, render in FOREIGN:
        if isinstance(exc, kind()):
            return render(exc)
    return None


def debug_wanted() -> bool:
    return os.environ.get(DEBUG_ENV, "").strip() not in ("", "0") or "--debug" in sys.argv


def report(exc: BaseException, debug: bool) -> int:
    """Print `exc` for a person; return the exit code."""
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, MahnwerkError):
        typer.echo(exc.cli_text(), err=True)
        return exc.exit_code
    known = translate(exc)
    if known is not None:
        what, todo = known
        typer.echo(f"error: {what} — {todo}", err=True)
        return EXIT_ERROR
    typer.echo(
        f"error: unexpected failure ({type(exc).__name__}: {exc}) — this is a bug in mahnwerk; "
        "run the command again with --debug and report the traceback",
        err=True,
    )
    return EXIT_ERROR


class MahnwerkGroup(typer.core.TyperGroup):
    """The top-level group: every subcommand runs inside the error boundary."""

    def invoke(self, ctx: typer.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except (Exit, TyperException, Abort, SystemExit):
            raise  # usage errors (exit 2), help, and deliberate exits keep their meaning
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise Exit(130) from None
        except Exception as exc:  # noqa: BLE001 - this is the boundary
            debug = bool((ctx.obj or {}).get("debug")) if isinstance(ctx.obj, dict) else False
            code = report(exc, debug or debug_wanted())
            raise Exit(code) from None


__all__ = [
    "DEBUG_ENV",
    "FOREIGN",
    "MahnwerkGroup",
    "database_problem",
    "note_database",
    "report",
    "translate",
]
