"""Charts a finance manager puts on a slide: one look, German or English, 1600 × 900.

Every chart says what it shows (a title and the period or day it covers), in which unit
(`T€`, `Tage`, `%`), in the reader's language and number format (`1.234,5` in German),
in the product's colours.  Bars that stand for less than their label says (a month cut
short by the report's day) are hatched and marked "(Teil)"/"(partial)"; long labels are
drawn as horizontal bars instead of rotated text, so they never overlap.  Written as PNG
(1600 × 900 px) and SVG, or as a page of a PDF report pack.

Built on matplotlib's object API with the Agg backend (no display, no global state).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from babel.numbers import format_decimal

#: The product's colours: ink, the main bar colour, a second series, marks.
INK, MAIN, SECOND, MARK, GRID = "#1f2a36", "#2f6f9f", "#e0a030", "#b03a2e", "#d9dee4"
SIZE_INCHES, DPI = (16.0, 9.0), 100  # 1600 × 900 px
LOCALES = {"de": "de_DE", "en": "en_GB"}
PARTIAL = {"de": "Teil", "en": "partial"}
#: Characters of category labels a vertical chart has room for, side by side (at 1600 px);
#: more make the chart horizontal, so labels never overlap.
LABEL_ROOM = 140


@dataclass(frozen=True, slots=True)
class Chart:
    """What to draw: one series of bars, optionally an interval and a second series."""

    title: str
    subtitle: str  # the period or day covered, and what a total includes
    unit: str  # the value axis' label, e.g. "T€", "Tage", "%"
    categories: Sequence[str]
    values: Sequence[float | Decimal | None]
    lang: str = "de"
    partial: frozenset[int] = frozenset()  # indexes of categories that cover less
    low: Sequence[float] | None = None  # an interval per bar (e.g. 10 %)
    high: Sequence[float] | None = None
    line: Sequence[float] | None = None  # a second series drawn as markers
    line_label: str = ""
    bar_label: str = ""
    notes: list[str] = field(default_factory=list)


def number(value: float, lang: str, places: int = 1) -> str:
    return format_decimal(round(value, places), format=f"#,##0.{'0' * places}",
                          locale=LOCALES.get(lang, "de_DE"))


def figure(chart: Chart):  # type: ignore[no-untyped-def]
    """The matplotlib Figure of `chart` (tests read its texts; `save` writes it)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    fig = Figure(figsize=SIZE_INCHES, dpi=DPI)
    ax = fig.add_axes((0.09, 0.14, 0.86, 0.68))
    fig.text(0.09, 0.93, chart.title, fontsize=26, color=INK, weight="bold")
    fig.text(0.09, 0.875, chart.subtitle, fontsize=16, color="#55606b")
    labels = [
        f"{c} ({PARTIAL[chart.lang]})" if i in chart.partial else str(c)
        for i, c in enumerate(chart.categories)
    ]
    values = [float(v) if v is not None else 0.0 for v in chart.values]
    widest = max((len(str(c)) for c in chart.categories), default=0)
    horizontal = widest * len(labels) > LABEL_ROOM
    if horizontal:  # room on the left for the labels
        ax.set_position((0.08 + 0.0075 * min(widest, 40), 0.14, 0.6, 0.68))
    positions = list(range(len(labels)))
    draw = ax.barh if horizontal else ax.bar
    bars = draw(positions, values, color=MAIN, label=chart.bar_label or None)
    for i in chart.partial:
        bars[i].set_hatch("//")
        bars[i].set_alpha(0.55)
    value_axis = ax.xaxis if horizontal else ax.yaxis
    places = 0 if max((abs(v) for v in values), default=0) >= 100 else 1
    value_axis.set_major_formatter(FuncFormatter(lambda v, _: number(v, chart.lang, places)))
    if chart.low is not None and chart.high is not None:
        # Drawn around the interval's own middle: an expected value (a mean) may lie
        # outside its 10-90 % interval when the money comes in a few large payments.
        mid = [(lo + hi) / 2 for lo, hi in zip(chart.low, chart.high, strict=True)]
        err = [(hi - lo) / 2 for lo, hi in zip(chart.low, chart.high, strict=True)]
        (ax.errorbar(mid, positions, xerr=err, fmt="none", ecolor=INK, capsize=6)
         if horizontal else
         ax.errorbar(positions, mid, yerr=err, fmt="none", ecolor=INK, capsize=6))
    if chart.line is not None:
        (ax.plot(chart.line, positions, "D", color=MARK, label=chart.line_label)
         if horizontal else
         ax.plot(positions, chart.line, "D", color=MARK, markersize=9, label=chart.line_label))
    if horizontal:
        ax.set_yticks(positions, labels, fontsize=14)
        ax.invert_yaxis()
        ax.set_xlabel(chart.unit, fontsize=16, color=INK)
    else:
        ax.set_xticks(positions, labels, fontsize=14 if len(labels) <= 8 else 11)
        ax.set_ylabel(chart.unit, fontsize=16, color=INK)
    ax.tick_params(axis="both", labelsize=13, colors=INK)
    ax.grid(axis="x" if horizontal else "y", color=GRID)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if chart.line_label or chart.bar_label:
        ax.legend(fontsize=13, frameon=False, loc="upper right")
    notes = chart.notes[:3]
    for k, note in enumerate(notes):  # one line each, top down, so none runs off the slide
        fig.text(0.09, 0.02 + 0.028 * (len(notes) - 1 - k), note, fontsize=12, color="#55606b")
    return fig


def save(chart: Chart, path: str | Path) -> list[Path]:
    """PNG (1600 × 900) and SVG beside it; returns both paths."""
    path = Path(path)
    fig = figure(chart)
    png, svg = path.with_suffix(".png"), path.with_suffix(".svg")
    fig.savefig(png, dpi=DPI)
    fig.savefig(svg)
    return [png, svg]
