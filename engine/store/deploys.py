"""What a deploy's review reads (`engine/deploy_review`): the active version of a policy
name, and in one transaction every open invoice's record with its customer and the
languages of the customers the new deployment would serve.

Part of the store layer (`engine/store/`).  Read only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from mahnwerk.dsl import ir
from mahnwerk.engine.models import CUST, DS, PV
from mahnwerk.engine.store.records import record_select


def active_version(engine: Engine, name: str) -> Any:
    """The active version's row of the policy `name`; None if none is active."""
    with engine.connect() as conn:
        return conn.execute(select(PV).where(PV.c.name == name, PV.c.active.is_(True))).first()


def review_book(
    engine: Engine, serves: Callable[[Any], bool]
) -> tuple[set[str], list[Any], dict[int, Any]]:
    """The languages of the customers `serves` accepts, every open invoice's record row
    (by invoice id) and those invoices' customers as the run reads them."""
    from mahnwerk.engine.store.run import customers as _customers

    with engine.connect() as conn:
        languages = _languages(conn, serves)
        rows = conn.execute(
            record_select()
            .where(DS.c.state.not_in(sorted(ir.TERMINAL_NAMES)))
            .order_by(DS.c.invoice_id)
        ).all()
        customers = _customers(conn, {r.customer_id for r in rows})
    return languages, rows, customers


def _languages(conn: Connection, serves: Callable[[Any], bool]) -> set[str]:
    """Each language (unset: `de`) of which `serves` accepts at least one customer."""
    from mahnwerk.engine.store.run import customers as _customers

    out: set[str] = set()
    for language in conn.execute(select(func.coalesce(CUST.c.language, "de")).distinct()):
        ids = conn.execute(
            select(CUST.c.id).where(func.coalesce(CUST.c.language, "de") == language[0])
        ).scalars()
        for customer in _customers(conn, list(ids)).values():
            if serves(customer):
                out.add(language[0])
                break
    return out
