"""An operator's named queue filters (`state=mahnung_2 amount>=100`, sorted by balance).

Kept per operator in `saved_filter`; saving under a name that exists replaces it.  A
person's filters are theirs: on PostgreSQL another login may read but not change them
(row-level security, and `FilterRefused` here first).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.exc import ProgrammingError

from mahnwerk.engine.store.saved_filters import replace_filter, saved_filters
from mahnwerk.errors import MahnwerkError

__all__ = ["FilterRefused", "save_filter", "saved_filters"]

INSUFFICIENT_PRIVILEGE = "42501"  # PostgreSQL's SQLSTATE, row-level security's too


class FilterRefused(MahnwerkError, PermissionError):
    """A saved filter is its owner's: nobody else's login may change it."""


def _owner_check(operator: str) -> Callable[[str | None], None]:
    """On PostgreSQL the login proves a person (`person.db_role`): refuse, before writing,
    to save under another person's name; row-level security refuses it too (`OWN_ROWS`
    in `engine.store.grants`), this only says so plainly."""

    def check(me: str | None) -> None:
        if me is not None and me != operator:
            raise FilterRefused(
                f"the saved filters of {operator} are theirs: you are {me}; "
                "save it under your own name; nothing was changed"
            )

    return check


def save_filter(
    engine: Engine, operator: str, name: str, line: str, sort: str, descending: bool
) -> None:
    name = name.strip()
    if not name:
        raise ValueError("a saved filter needs a name")
    values = {"line": line, "sort": sort, "descending": descending}
    try:
        replace_filter(engine, operator, name, values, _owner_check(operator))
    except ProgrammingError as exc:
        if getattr(exc.orig, "sqlstate", None) != INSUFFICIENT_PRIVILEGE:
            raise
        raise FilterRefused(
            f"the database refused to save filter {name!r} for {operator}: a login may "
            "change only its own person's saved filters; nothing was changed"
        ) from exc
