"""What the CSV importers read and write (`engine/importer`, `import_checks`,
`import_claims`, `accounting/opos`): the rows already stored by external id, the
customer and invoice numbers a file may name, and the bulk writes of a checked file.

Part of the store layer (`engine/store/`).  The writes run inside the importer's own
transaction (the caller's connection), so a file is imported whole or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, select, update

from mahnwerk.engine.models import Customer, DunningState, Invoice


def existing(conn: Connection, table: Table, columns: Iterable[str]) -> dict[str, dict[str, Any]]:
    """All rows of `table` by external id, in one query (fast even for 100k rows)."""
    names = ["id", "external_id", *columns]
    rows = conn.execute(select(*(table.c[n] for n in names))).all()
    return {row[1]: dict(zip(names, row, strict=True)) for row in rows}


def customer_ids(conn: Connection) -> dict[str, int]:
    """Customer number → id for every customer, in one query."""
    return {no: id_ for no, id_ in conn.execute(select(Customer.external_id, Customer.id)).all()}


def invoices_in_dunning(conn: Connection) -> set[int]:
    """The ids of the invoices a run has taken up (they have a dunning state)."""
    return set(conn.execute(select(DunningState.invoice_id)).scalars().all())


def invoice_keys(conn: Connection) -> dict[str, Any]:
    """Every invoice by number: its id, customer id and currency."""
    invoices = select(Invoice.external_id, Invoice.id, Invoice.customer_id, Invoice.currency)
    return {r.external_id: r for r in conn.execute(invoices).all()}


def write_rows(
    conn: Connection, table: Table, inserts: list[dict[str, Any]], updates: list[dict[str, Any]]
) -> None:
    """Bulk statements, so 100k rows take seconds, not minutes."""
    if inserts:
        # Bulk writes need the same keys in every row.
        keys = sorted({k for values in inserts for k in values})
        if conn.dialect.name == "postgresql":
            _copy_rows(conn, table, keys, inserts)
        else:
            conn.execute(insert(table), [{k: v.get(k) for k in keys} for v in inserts])
    if updates:
        keys = sorted({k for values in updates for k in values} - {"id"})
        stmt = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({k: bindparam(f"b_{k}") for k in keys})
        )
        conn.execute(stmt, [{f"b_{k}": v[k] for k in ("id", *keys)} for v in updates])


def _copy_rows(conn: Connection, table: Table, keys: list[str], rows: list[dict[str, Any]]) -> None:
    """PostgreSQL's COPY, in the same transaction: about five times faster than executemany."""
    quote = conn.dialect.identifier_preparer
    columns = ", ".join(quote.quote(k) for k in keys)
    sql = f"COPY {quote.format_table(table)} ({columns}) FROM STDIN"
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row([row.get(k) for k in keys])
