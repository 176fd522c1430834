"""What `mahnwerk analyse` reads and writes (`engine/analyse`): the customers by
number, the stored behaviour table it replaces whole with each customer's risk score
and days late, and one customer's stored behaviour for `analyse --explain`.

Part of the store layer (`engine/store/`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, bindparam, delete, insert, select, update

from mahnwerk.engine.models import BEHAVIOUR, CUST


def customer_ids(engine: Engine) -> dict[str, int]:
    """Every customer's row id by customer number."""
    with engine.connect() as conn:
        return dict(conn.execute(select(CUST.c.external_id, CUST.c.id)).all())


def replace_behaviour(
    engine: Engine, behaviour_rows: list[dict[str, Any]], customer_rows: list[dict[str, Any]]
) -> None:
    """The behaviour table replaced by `behaviour_rows`, and each customer's `b_risk` and
    `b_late` stored as its risk score and average days late (by `b_id`), in one
    transaction."""
    with engine.begin() as conn:
        conn.execute(delete(BEHAVIOUR))
        if behaviour_rows:
            conn.execute(insert(BEHAVIOUR), behaviour_rows)
            conn.execute(
                update(CUST)
                .where(CUST.c.id == bindparam("b_id"))
                .values(risk_score=bindparam("b_risk"), avg_days_late=bindparam("b_late")),
                customer_rows,
            )


def stored_behaviour(engine: Engine, customer: str) -> Any:
    """The stored behaviour row of a customer number with its risk score and average
    days late; None when there is none."""
    with engine.connect() as conn:
        return conn.execute(
            select(BEHAVIOUR, CUST.c.risk_score, CUST.c.avg_days_late)
            .join(CUST, CUST.c.id == BEHAVIOUR.c.customer_id)
            .where(CUST.c.external_id == customer)
        ).first()
