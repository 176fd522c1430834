"""The wall clock, read here and nowhere else.

Everything below the command line and the service takes the moment it works at as an
argument (`now`, `as_of`): the engine's step is a pure function of (state, event, now), and
tests and drills run any day they like.  A command that needs the present asks `now()`;
tests that move the command line's clock patch `mahnwerk.cli._now`, which asks this.
`tests/test_clock.py` fails when another module reads the wall clock itself.
"""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The present moment, timezone-aware (UTC)."""
    return datetime.now(UTC)
