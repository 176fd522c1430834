"""Reading an imported CSV file into rows: the encoding, the separator, the header
mapped to canonical columns, and the errors and results of an import.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mahnwerk.engine import limits
from mahnwerk.engine.import_columns import COLUMNS, ColumnSpec, Kind, _norm_header
from mahnwerk.errors import MahnwerkError


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in one cell (or row, or the whole file when `column` is empty)."""

    path: str
    line: int
    column: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = self.path
        if self.line:
            where += f":{self.line}" + (f":{self.column}" if self.column else "")
        return f"{where}: {self.message}" + (f" — {self.hint}" if self.hint else "")


class ImportFailed(MahnwerkError):
    """The file was not imported; `errors` lists every problem found, in file order."""

    def __init__(self, path: str, errors: Iterable[RowError]) -> None:
        self.path = path
        self.errors: list[RowError] = sorted(errors, key=lambda e: e.line)
        super().__init__(
            "\n".join(str(e) for e in self.errors)
            + f"\n{path}: {len(self.errors)} error(s); nothing was imported"
        )


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did.  Re-importing the same file gives inserted == updated == 0."""

    kind: Kind
    path: str
    inserted: int
    updated: int
    unchanged: int
    ignored_columns: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = (
            f"{self.path}: {self.kind}: {self.inserted} inserted, "
            f"{self.updated} updated, {self.unchanged} unchanged"
        )
        if self.ignored_columns:
            text += f" (ignored columns: {', '.join(self.ignored_columns)})"
        return text


@dataclass(slots=True)
class Row:
    """One data row: its line in the file and its cells by canonical column."""

    line: int
    cells: dict[str, str]


@dataclass(slots=True)
class CsvTable:
    """A decoded, split CSV file with its header mapped to canonical columns."""

    path: str
    header_line: int
    columns: dict[str, str]  # canonical name → header as written in the file
    rows: list[Row] = field(default_factory=list)
    ignored: tuple[str, ...] = ()


def decode(data: bytes) -> str:
    """UTF-8 (BOM or not), UTF-16 with BOM, else Windows-1252 — what Excel and DATEV write."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def _sniff_delimiter(header: str) -> str:
    counts = {sep: header.count(sep) for sep in (";", ",", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ";"


def read_table(
    path: Path,
    kind: str,
    display: str | None = None,
    columns: tuple[ColumnSpec, ...] | None = None,
) -> CsvTable:
    """Decode and split `path`, map its header; raise `ImportFailed` for file-level problems.

    `columns` lets another import (events) use the same reading rules with its own columns.
    """
    name = display or str(path)
    lines = _lines(name, path)
    first = 0
    delimiter: str | None = None
    if lines and (m := re.fullmatch(r'"?sep=(.)"?[;,]*', lines[0].strip())):
        delimiter, first = m.group(1), 1
    while first < len(lines) and not lines[first].strip(" ;,\t"):
        first += 1
    if first >= len(lines):
        hint = "export with a header line and at least one row"
        raise _whole_file(name, 1, "file is empty", hint)
    delimiter = delimiter or _sniff_delimiter(lines[first])

    reader = csv.reader(io.StringIO("\n".join(lines[first:])), delimiter=delimiter)
    header_line = first + 1
    try:
        return _rows(name, kind, reader, header_line, columns)
    except csv.Error as exc:  # the header line itself
        raise ImportFailed(name, [_long_cell(name, header_line, str(exc))]) from None


def _whole_file(name: str, line: int, message: str, hint: str = "") -> ImportFailed:
    return ImportFailed(name, [RowError(name, line, "", message, hint)])


def _lines(name: str, path: Path) -> list[str]:
    """The file's text lines, within the size limit and in an encoding a CSV export uses."""
    try:
        size = path.stat().st_size
        if size > limits.CSV_FILE_BYTES:
            raise _whole_file(
                name,
                0,
                f"the file is {size / limits.MiB:.1f} MB, more than the "
                f"limit of {limits.size(limits.CSV_FILE_BYTES)} for one import",
                "split it into several files and import them one after another",
            )
        data = path.read_bytes()
    except OSError as exc:
        raise _whole_file(name, 0, f"cannot read file: {exc.strerror}") from exc
    try:
        text = decode(data)
    except UnicodeDecodeError:
        raise _whole_file(
            name,
            1,
            "file is neither UTF-8 nor Windows-1252 text",
            "export it again as CSV (UTF-8 or Windows-1252)",
        ) from None
    # Only real line breaks: a cell may hold U+2028 or a form feed without ending the line.
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _long_cell(name: str, line: int, detail: str = "") -> RowError:
    """A cell longer than `limits.CSV_CELL_CHARS`: mostly a quote that never closes."""
    return RowError(
        name,
        line,
        "",
        f"a cell longer than {limits.size(limits.CSV_CELL_CHARS)} characters, the limit for "
        "one cell" + (f" ({detail})" if detail and "field limit" not in detail else ""),
        'a quote (") that opens a cell and never closes swallows the rest of the file: '
        "check the quotes around this line",
    )


def _rows(
    name: str,
    kind: str,
    reader: Any,
    header_line: int,
    columns: tuple[ColumnSpec, ...] | None,
) -> CsvTable:
    header = next(reader)
    specs = columns if columns is not None else COLUMNS[kind]  # type: ignore[index]
    table, errors = _map_header(name, kind, header, header_line, specs)
    if errors:
        raise ImportFailed(name, errors)
    index = {canonical: header.index(written) for canonical, written in table.columns.items()}
    width = len(header)
    names = list(index)
    positions = list(index.values())
    previous = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # a cell beyond the csv module's own limit (131,072)
            errors.append(_long_cell(name, header_line + previous, str(exc)))
            raise ImportFailed(name, errors) from None
        line = header_line + previous  # line where this record starts
        previous = reader.line_num
        if not "".join(cells).strip():
            continue
        extra = (
            [i for i in range(width, len(cells)) if cells[i].strip()] if len(cells) > width else []
        )
        if extra:
            errors.append(
                RowError(
                    name,
                    line,
                    f"column {extra[0] + 1}",
                    f"{len(cells)} values but the header has {width} columns",
                    "check the separator and quotes (an amount like 1234,56 in a comma-separated "
                    "file must be in quotes)",
                )
            )
            continue
        if len(cells) < width:
            cells += [""] * (width - len(cells))
        if any(len(c) > limits.CSV_CELL_CHARS for c in cells):
            errors.append(_long_cell(name, line))
            continue
        table.rows.append(
            Row(line, dict(zip(names, [cells[i].strip() for i in positions], strict=True)))
        )
    if errors:
        raise ImportFailed(name, errors)
    return table


def _map_header(
    name: str, kind: str, header: list[str], line: int, specs: tuple[ColumnSpec, ...]
) -> tuple[CsvTable, list[RowError]]:
    aliases = {
        _norm_header(alias): spec.name for spec in specs for alias in (spec.name, *spec.aliases)
    }
    columns: dict[str, str] = {}
    ignored: list[str] = []
    errors: list[RowError] = []
    for written in header:
        written_clean = written.strip().lstrip("\ufeff")
        if not written_clean:
            continue
        canonical = aliases.get(_norm_header(written_clean))
        if canonical is None:
            ignored.append(written_clean)
        elif canonical in columns:
            errors.append(
                RowError(
                    name,
                    line,
                    written_clean,
                    f"column means {canonical}, like column {columns[canonical]!r}",
                    "keep one of the two columns",
                )
            )
        else:
            columns[canonical] = written
    for spec in specs:
        if spec.required and spec.name not in columns:
            known = ", ".join(spec.aliases[:3])
            errors.append(
                RowError(
                    name,
                    line,
                    spec.name,
                    "required column is missing",
                    f"add a column {spec.name!r}" + (f" (or {known})" if known else ""),
                )
            )
    if kind == "payments" and not {"invoice_id", "reference"} & columns.keys():
        errors.append(
            RowError(
                name,
                line,
                "invoice_id",
                "neither an invoice_id nor a reference column",
                "add invoice_id (Rechnungsnummer) or reference (Verwendungszweck)",
            )
        )
    return CsvTable(name, line, columns, ignored=tuple(ignored)), errors
