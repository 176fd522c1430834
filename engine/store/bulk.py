"""Many rows written through the DBAPI directly: the run's inserts and updates per batch.

Why: SQLAlchemy's executemany handles every parameter of every row in Python (compiling
the statement's bind names, typing and processing each value one by one); on the daily run
over a million invoices that was about 30 % of the time (issue 21).  Here the statement is
built once per table and column set, and each row is one tuple:

* SQLite — one `executemany` on the `sqlite3` cursor.  Values go through the columns' own
  SQLAlchemy bind processors, so the stored text is exactly what an ORM write stores
  (dates, UTC instants without offset, money as REAL, booleans as 0/1).
* PostgreSQL — `COPY … FROM STDIN` (psycopg) for inserts; for an insert that must skip
  conflicts (the outbox's idempotency key) and for updates, the rows are copied into a
  temporary table first and applied by one `INSERT … SELECT … ON CONFLICT DO NOTHING` or
  one `UPDATE … FROM`.

Both run in the caller's transaction (the SQLAlchemy connection's DBAPI connection).
A column left out of the rows gets its Python-side default as SQLAlchemy would give it
(a scalar; a callable default is not supported and raises), else the server default.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, Table, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY

Processor = Callable[[Any], Any] | None
CHUNK = 500  # ids per IN (...) on SQLite


def id_chunks(conn: Connection, ids: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    """`ids` in pieces for `among`: on PostgreSQL all in one (one array parameter: one round
    trip per query and batch, not four), elsewhere `size` at a time."""
    if conn.dialect.name == "postgresql":
        if ids:
            yield ids
        return
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def among(conn: Connection, column: Column[Any], ids: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN ids`; on PostgreSQL `column = ANY(:array)`, one parameter: an IN list of
    2,000 parameters is rendered and planned anew for every batch (four times the wall and
    client CPU of the array, measured on the workers' lock query)."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam("ids", list(ids), type_=ARRAY(column.type), unique=True))
    return column.in_(ids)


def also(conn: Connection, column: Column[Any], ids: Sequence[Any]) -> tuple[Any, ...]:
    """On PostgreSQL `(among(column, ids),)`, else `()`: the same ids on a joined table's key.
    With 2,000 ids on one side of a join only, PostgreSQL hashed the whole other table (a
    parallel seq scan of `invoice` per batch: 110-140 ms against 23-39 ms with the ids on
    both sides, measured at 300k invoices); SQLite's small chunks are looked up one by one."""
    return (among(conn, column, ids),) if conn.dialect.name == "postgresql" else ()


@dataclass(frozen=True)
class _Shape:
    """One table's column set: names, processors and the defaults filled in."""

    names: tuple[str, ...]
    given: tuple[str, ...]
    processors: tuple[Processor, ...]
    defaults: dict[str, Any]

    def tuples(self, rows: Sequence[dict[str, Any]]) -> list[Sequence[Any]]:
        """Each row's values in `names` order, through their processors: the values read
        in one C call per row, and each column that has a processor mapped as a whole."""
        fill = self.defaults
        read = _getter(self.names)
        values = list(map(read, rows if not fill else [fill | row for row in rows]))
        return by_column(values, self.processors)


def by_column(rows: list[tuple[Any, ...]], processors: Sequence[Any]) -> list[tuple[Any, ...]]:
    """`rows` with column i mapped through `processors[i]` (None: as it is), a column at a
    time and each distinct value once (`once_per_value`): the bulk writer's and the audit
    seal's reads share it."""
    processed = [(i, once_per_value(p)) for i, p in enumerate(processors) if p]
    if not processed or not rows:
        return rows
    columns = list(zip(*rows, strict=True))
    for i, process in processed:
        columns[i] = tuple(map(process, columns[i]))
    return list(zip(*columns, strict=True))


def _getter(keys: Sequence[Any]) -> Callable[[Any], tuple[Any, ...]]:
    """`itemgetter(*keys)`, always returning a tuple (also for one key)."""
    if len(keys) == 1:
        key = keys[0]
        return lambda row: (row[key],)
    return itemgetter(*keys)


def once_per_value(process: Processor) -> Processor:
    """`process`, remembering its answers for one batch: a batch's rows share their day,
    their `recorded_at` instant and most of their states, and converting an aware instant
    to SQLite's text is dearer than looking it up.  (Also for reading: `engine/audit.py`.)"""
    if process is None:
        return None
    seen: dict[Any, Any] = {}

    def once(value: Any) -> Any:
        try:
            return seen[value]
        except KeyError:
            out = seen[value] = process(value)
            return out
        except TypeError:  # unhashable: convert every time
            return process(value)

    return once


_SHAPES: dict[tuple[str, str, tuple[str, ...], bool], _Shape] = {}


def _shape(conn: Connection, table: Table, given: tuple[str, ...], fill: bool = True) -> _Shape:
    """`given`'s statement shape; `fill`: with the defaults of the columns not given (an
    insert), else only `given` (an update)."""
    key = (conn.dialect.name, table.name, given, fill)
    shape = _SHAPES.get(key)
    if shape is None:
        defaults: dict[str, Any] = {}
        for column in table.c if fill else ():
            if column.name in given or column.default is None:
                continue
            if not column.default.is_scalar:
                raise ValueError(f"{table.name}.{column.name}: a callable default; give it")
            defaults[column.name] = column.default.arg
        names = given + tuple(defaults)
        processors = tuple(table.c[n].type._cached_bind_processor(conn.dialect) for n in names)
        shape = _SHAPES[key] = _Shape(names, given, processors, defaults)
    return shape


def _dbapi(conn: Connection) -> Any:
    return conn.connection.dbapi_connection


def insert_rows(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], skip_conflicts: bool = False
) -> None:
    """INSERT `rows` (dicts of column values, all with the same keys) into `table`."""
    if not rows:
        return
    shape = _shape(conn, table, tuple(rows[0]))
    values = shape.tuples(rows)
    cols = ", ".join(shape.names)
    if conn.dialect.name == "postgresql":
        if not skip_conflicts:
            _copy(conn, table.name, shape.names, values)
            return
        temp = _temp_table(conn, table, shape.names)
        _copy(conn, temp, shape.names, values)
        conn.exec_driver_sql(
            f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM {temp} ON CONFLICT DO NOTHING"
        )
        return
    marks = ", ".join("?" * len(shape.names))
    conflict = " ON CONFLICT DO NOTHING" if skip_conflicts else ""
    cursor = _dbapi(conn).cursor()
    try:
        cursor.executemany(f"INSERT INTO {table.name} ({cols}) VALUES ({marks}){conflict}", values)
    finally:
        cursor.close()


def update_rows(conn: Connection, table: Table, key: str, rows: Sequence[dict[str, Any]]) -> None:
    """UPDATE `table` row by row: each dict holds `key` and the columns to set."""
    if not rows:
        return
    shape = _shape(conn, table, tuple(rows[0]), fill=False)
    values = shape.tuples(rows)
    setting = [n for n in shape.names if n != key]
    if conn.dialect.name == "postgresql":
        temp = _temp_table(conn, table, shape.names)
        _copy(conn, temp, shape.names, values)
        sets = ", ".join(f"{n} = u.{n}" for n in setting)
        conn.exec_driver_sql(
            f"UPDATE {table.name} t SET {sets} FROM {temp} u WHERE t.{key} = u.{key}"
        )
        return
    order = [shape.names.index(n) for n in (*setting, key)]
    sets = ", ".join(f"{n} = ?" for n in setting)
    cursor = _dbapi(conn).cursor()
    try:
        cursor.executemany(
            f"UPDATE {table.name} SET {sets} WHERE {key} = ?",
            list(map(_getter(order), values)),
        )
    finally:
        cursor.close()


def update_by_shape(
    conn: Connection, table: Table, key: str, rows: Sequence[dict[str, Any]]
) -> None:
    """`update_rows` for rows that set different columns: one executemany per column set,
    in the order each set first appears (on SQLite, where a statement that sets only what
    changed is cheaper than one that sets every column)."""
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        shapes.setdefault(tuple(row), []).append(row)
    for same in shapes.values():
        update_rows(conn, table, key, same)


def _copy(conn: Connection, table: str, names: Sequence[str], values: list[tuple]) -> None:
    cursor = _dbapi(conn).cursor()
    try:
        with cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
    finally:
        cursor.close()


def _temp_table(conn: Connection, table: Table, names: Sequence[str]) -> str:
    """An empty temporary table with `names` typed as in `table` (rows gone at commit).

    One round trip: both statements in one simple query (no parameters).  DELETE, not
    TRUNCATE: the table is empty at every transaction's start (ON COMMIT DELETE ROWS), so
    this only matters for a second use in one transaction, and a TRUNCATE gave the table a
    new file on the server each time."""
    temp = f"bulk_{table.name}_{zlib.crc32(' '.join(names).encode()):08x}"
    cursor = _dbapi(conn).cursor()
    try:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {temp} ON COMMIT DELETE ROWS AS "
            f"SELECT {', '.join(names)} FROM {table.name} WITH NO DATA; DELETE FROM {temp}"
        )
    finally:
        cursor.close()
    return temp
