"""Table columns that give way by priority on a narrow terminal, amounts never cut.

A screen declares its columns once — key, label, width, rank — and `fit` picks
those that fit the terminal's width: rank 1 is kept longest; a column of width
None takes the room that is left (at least `least` cells), so a reason or a
message reads as far as the screen allows instead of being cut at a fixed
width.  The columns shown keep their declared order.  Amounts get a fixed width
wide enough for the biggest figure and a high rank, so they are never cut.

Rows are built as `{key: cell}`; `cells` lays a row out for the columns on
screen, so a screen rebuilds its table on a resize without knowing which
columns went.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from textual.widgets import DataTable

PADDING = 2
"""A DataTable cell's padding, one each side (`cell_padding=1`)."""

SCROLLBAR = 2
"""Room kept for the table's vertical scrollbar."""


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int | None  # None: takes the room the others leave
    rank: int  # 1 is kept longest
    least: int = 16  # a flexible column's minimum


def visible(
    columns: Sequence[Column], room: int, widths: dict[str, int] | None = None
) -> list[tuple[Column, int]]:
    """The columns that fit `room` cells, each with its width; in declared order.

    `widths` overrides declared widths with what the data needs (the widest amount)."""
    room -= SCROLLBAR
    widths = widths or {}
    chosen: dict[str, int] = {}
    used = 0
    for col in sorted(columns, key=lambda c: c.rank):
        width = widths.get(col.key, col.width)
        need = (width or col.least) + PADDING
        if used + need > room and chosen:
            continue
        chosen[col.key] = width or col.least
        used += need
    flexible = [c for c in columns if widths.get(c.key, c.width) is None and c.key in chosen]
    if flexible:  # the room left is shared by the flexible columns
        extra = max(0, room - used) // len(flexible)
        for col in flexible:
            chosen[col.key] += extra
    return [(c, chosen[c.key]) for c in columns if c.key in chosen]


def fit(
    table: DataTable, columns: Sequence[Column], room: int, widths: dict[str, int] | None = None
) -> list[str]:
    """Lay `table` out for `room` cells (its rows go); return the keys of the columns shown."""
    shown = visible(columns, room, widths)
    keys = [c.key for c, _ in shown]
    if [str(k.value) for k in table.columns] == keys and all(
        table.columns[c.key].width == w for c, w in shown
    ):
        table.clear()
        return keys
    table.clear(columns=True)
    for col, width in shown:
        table.add_column(col.label, key=col.key, width=width)
    return keys


def amount_width(amounts: Sequence[str], label: str) -> int:
    """The width that shows every amount (and the column's label) in full."""
    return max([len(label), *(len(a) for a in amounts)])


def cells(row: dict[str, Any], keys: Sequence[str]) -> list[Any]:
    """A row's cells for the columns on screen."""
    return [row[k] for k in keys]
