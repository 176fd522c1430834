"""What the demo (`engine/demo`) writes into its fresh database and reads back: the
generated customers and invoices booked day by day, a dunning state a transfer covers,
and the figures of the summary a finance manager sees after the run.

Part of the store layer (`engine/store/`).  The demo's payments and events go in
through `store/inbox`, as any import's do.  Which transfers and events a day brings is
the plan's (`engine/demo_plan`), what a covering transfer pays is `engine/demo`'s.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select

from mahnwerk.engine import models as m

_CHUNK = 500


def add_customers(engine: Engine, customers: list[dict[str, Any]]) -> dict[str, int]:
    """Store the generated customers in one transaction; every customer's id by number."""
    cust_t = m.Customer.__table__
    with engine.begin() as conn:
        conn.execute(insert(cust_t), customers)
        return dict(conn.execute(select(cust_t.c.external_id, cust_t.c.id)).all())


def add_invoices(conn: Connection, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Store a day's invoices; their ids by number (read back 500 at a time)."""
    inv_t = m.Invoice.__table__
    conn.execute(insert(inv_t), rows)
    ext = [i["external_id"] for i in rows]
    ids: dict[str, int] = {}
    for chunk in range(0, len(ext), _CHUNK):
        ids.update(
            conn.execute(
                select(inv_t.c.external_id, inv_t.c.id).where(
                    inv_t.c.external_id.in_(ext[chunk : chunk + _CHUNK])
                )
            ).all()
        )
    return ids


def dunning_state(conn: Connection, invoice_id: int) -> Any:
    """An invoice's dunning state row, or None (no run has taken it up)."""
    ds = m.DunningState.__table__
    return conn.execute(select(ds).where(ds.c.invoice_id == invoice_id)).first()


def summary_figures(engine: Engine) -> dict[str, Any]:
    """The book's figures as stored: per segment and state the count and open balance,
    ledger sums per kind, messages per channel, approvals waiting and per status, the sum
    of the payments applied and the number not applied.  Read in one connection."""
    ds, led, out, appr, pay = (
        m.DunningState.__table__,
        m.Ledger.__table__,
        m.Outbox.__table__,
        m.Approval.__table__,
        m.Payment.__table__,
    )
    with engine.connect() as conn:
        states = conn.execute(
            select(
                ds.c.segment,
                ds.c.state,
                func.count(),
                func.sum(ds.c.principal_open + ds.c.fees_open + ds.c.interest_open),
            ).group_by(ds.c.segment, ds.c.state)
        ).all()
        charges = dict(
            conn.execute(select(led.c.kind, func.sum(led.c.amount)).group_by(led.c.kind)).all()
        )
        channels = dict(
            conn.execute(select(out.c.channel, func.count()).group_by(out.c.channel)).all()
        )
        waiting = conn.execute(
            select(func.count()).select_from(appr).where(appr.c.status == "pending")
        ).scalar_one()
        decided = dict(
            conn.execute(select(appr.c.status, func.count()).group_by(appr.c.status)).all()
        )
        collected = conn.execute(
            select(func.sum(pay.c.amount)).where(pay.c.applied.is_(True))
        ).scalar()
        unmatched = conn.execute(
            select(func.count()).select_from(pay).where(pay.c.applied.is_(False))
        ).scalar_one()
    return {
        "states": states,
        "charges": charges,
        "channels": channels,
        "waiting": waiting,
        "decided": decided,
        "collected": collected,
        "unmatched": unmatched,
    }
