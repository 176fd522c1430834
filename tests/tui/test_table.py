"""`tui.table.Table` paints its cells exactly as Textual's `DataTable` does.

Every cell of a table holding the kinds of cells the screens use (plain strings, right
and left justified amounts, styled texts with and without spans, wide characters,
trailing spaces, empty cells, texts wider than their column) is rendered both ways, in
each cursor and hover state, and the segments compared after merging equal neighbours
(as `DataTable` does before painting).
"""

from __future__ import annotations

import asyncio

from rich.segment import Segment
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from mahnwerk.tui.table import Table

CELLS = [
    "R2026006512",
    "",
    "  trailing spaces   ",
    "Bäckerei Größer GmbH",
    "☎ +49 40 555 0300",
    "漢字のお客様",
    "[b]markup[/b] stays literal",
    Text("1,234.56", justify="right"),
    Text("-", justify="right"),
    Text("left", justify="left"),
    Text("centred", justify="center"),
    Text("bold red", style="bold red"),
    Text.assemble(("Anna ", "bold"), ("Schmidt", "italic green"), " K-200"),
    Text("x" * 80),  # wider than its column: cropped the general way
    Text("two\nlines"),
    Text("tab\there"),
]


class _Tables(App[None]):
    def compose(self) -> ComposeResult:
        yield Table(id="fast", zebra_stripes=True)


def _simple(lines: list[list[Segment]]) -> list[list[tuple[str, object]]]:
    return [[(s.text, s.style) for s in Segment.simplify(line) if s.text] for line in lines]


def test_every_cell_is_painted_as_datatable_paints_it():
    async def run() -> int:
        app = _Tables()
        async with app.run_test(size=(200, 30)) as pilot:
            table = app.query_one(Table)
            for i in range(4):
                table.add_column(f"c{i}", width=[12, 20, 3, 30][i])
            for n in range(0, len(CELLS), 2):
                for shift in range(4):
                    row = [CELLS[(n + shift + k) % len(CELLS)] for k in range(4)]
                    table.add_row(*row)
            await pilot.pause()
            styles = [table.rich_style, table.rich_style + table.get_component_rich_style(
                "datatable--even-row")]  # fmt: skip
            compared = 0
            for row in range(table.row_count):
                for col in range(4):
                    width = table.ordered_columns[col].get_render_width(table)
                    for base in styles:
                        for cursor, hover in ((False, False), (True, False), (False, True)):
                            table._cell_render_cache.clear()
                            fast = table._render_cell(row, col, base, width, cursor, hover)
                            table._cell_render_cache.clear()
                            slow = DataTable._render_cell(table, row, col, base, width, cursor,
                                                          hover)  # fmt: skip
                            assert _simple(fast) == _simple(slow), (row, col, cursor, hover)
                            compared += 1
            return compared

    rows = len(CELLS) // 2 * 4
    assert asyncio.run(run()) == rows * 4 * 2 * 3  # cells × styles × cursor states


def test_a_plain_cell_takes_the_short_way():
    """The comparison above would pass trivially if every cell went the general way."""

    async def run() -> tuple[object, object]:
        app = _Tables()
        async with app.run_test(size=(80, 10)) as pilot:
            table = app.query_one(Table)
            table.add_column("a", width=10)
            table.add_row(Text("12.00", justify="right"))
            table.add_row(Text("two\nlines"))
            await pilot.pause()
            width = table.ordered_columns[0].get_render_width(table)
            return (
                table._one_line(0, 0, table.rich_style, width, False, False),
                table._one_line(1, 0, table.rich_style, width, False, False),
            )

    plain, multi = asyncio.run(run())
    assert plain is not None and multi is None
