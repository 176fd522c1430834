"""What the command modules of `mahnwerk` share: errors to stderr, dates and JSON
arguments read from the command line, and the wall clock.

The clock is read in one place, `mahnwerk.cli._now` (tests that move the command
line's day patch it); `_now` here asks it at call time.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from mahnwerk.errors import UsageError


def _now():
    """The command line's wall clock: `mahnwerk.cli._now`, looked up when called."""
    from mahnwerk import cli

    return cli._now()


def _err(text: str) -> None:
    typer.echo(text, err=True)


def _json_arg(value: str, option: str) -> dict:
    """`--customer`/`--invoice`: a .json file or JSON text; either way a dict."""
    path = Path(value)
    text = path.read_text(encoding="utf-8") if path.is_file() else value
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{option} {value!r}: neither a JSON file nor JSON text ({exc})",
            hint='write e.g. \'{"type": "B2C"}\' or the name of a .json file',
        ) from None
    if not isinstance(data, dict):
        raise UsageError(f"{option} {value!r}: a JSON object {{...}} is needed")
    return data


def _date(value: str, what: str = "date"):
    from datetime import date

    try:
        return date.fromisoformat(value)
    except ValueError:
        _err(f"error: {what} {value!r} is not a date; write YYYY-MM-DD, e.g. 2026-03-31")
        raise typer.Exit(2) from None
