"""The screens' tables: Textual's `DataTable`, with a cheaper first paint.

Painting a table renders every visible cell once.  Textual does that through Rich's
whole layout pipeline (a `Styled` around a `Padding` around the cell, each rendered
to lines, cropped and padded twice): about half a millisecond per cell on a loaded
machine, so the queue's first page (34 rows × 11 columns) took ~200 ms of CPU to paint
and Today's list ~55 ms — the largest part of opening either screen.

`Table` renders the common cell — one line of `Text` that fits its column, left,
right or default justified — straight to the same segments: the text's own
justification and spans (`Text.render`), the padding, and the table's styles laid
on as `Styled` lays them.  Anything else (a wider text that must be cropped, several
lines, tabs, centred text, labels, headers, fixed rows) goes the general way.
`tests/tui/test_table.py` compares both ways cell by cell.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable

_NULL = Style.null()
_JOIN = Text("\n")
"""What Rich joins a text's lines with (`Text.__rich_console__`): it turns the text's own
style into a span, so a text without spans keeps its style."""


class Table(DataTable):
    """A `DataTable` whose plain one-line cells are rendered without Rich's layout."""

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        lines = None
        if row_index >= 0 and column_index >= 0 and not (self.fixed_rows or self.fixed_columns):
            row_key = self._row_locations.get_key(row_index)
            column_key = self._column_locations.get_key(column_index)
            key = (
                row_key,
                column_key,
                base_style,
                cursor,
                hover,
                self._show_hover_cursor,
                self._update_count,
                self._pseudo_class_state,
            )  # as `DataTable` keys it
            if key in self._cell_render_cache:
                return self._cell_render_cache[key]
            if self.rows[row_key].height == 1:
                lines = self._one_line(row_index, column_index, base_style, width, cursor, hover)
            if lines is not None:
                self._cell_render_cache[key] = lines
        if lines is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        return lines

    def _one_line(
        self, row_index: int, column_index: int, base_style: Style, width: int, cursor: bool,
        hover: bool,
    ) -> list[list[Segment]] | None:  # fmt: skip
        """The cell's segments as `DataTable._render_cell` makes them, or None when the
        cell is not a plain one-line text that fits."""
        cell = self._get_row_renderables(row_index).cells[column_index]
        pad = self.cell_padding
        inner = width - 2 * pad
        if not isinstance(cell, Text) or inner < 1 or "\n" in cell.plain or "\t" in cell.plain:
            return None
        console = self.app.console
        options = self.app.console_options
        justify = cell.justify or options.justify or "default"
        overflow = cell.overflow or options.overflow or "fold"
        if cell_len(cell.plain) > inner or justify not in ("default", "left", "right"):
            return None
        line = cell.copy()
        if justify == "left":
            line.truncate(inner, overflow=overflow, pad=True)
        elif justify == "right":
            line.rstrip()
            line.pad_left(inner - cell_len(line.plain))
        segments = [Segment(" " * pad, _NULL)] if pad else []
        if line.spans:
            segments.extend(_JOIN.join([line]).render(console))
        else:  # what the join and render come to, without building a text for it
            segments.append(
                Segment(line.plain, console.get_style(line.style) if line.style else None)
            )
        if (used := cell_len(line.plain)) < inner:
            segments.append(Segment(" " * (inner - used), _NULL))
        if pad:
            segments.append(Segment(" " * pad, _NULL))
        component_style, post_style = self._get_styles_to_render_cell(
            False, False, False, hover, cursor, self.show_cursor, self._show_hover_cursor,
            self.cursor_foreground_priority == "css", self.cursor_background_priority == "css",
        )  # fmt: skip
        pre = console.get_style(
            base_style + Style.from_meta({"row": row_index, "column": column_index})
            + component_style
        )  # fmt: skip
        return [
            list(Segment.apply_style(segments, style=pre, post_style=console.get_style(post_style)))
        ]
