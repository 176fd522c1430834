"""An operator's named queue filters (`state=mahnung_2 amount>=100`, sorted by balance).

Kept per operator in `saved_filter`; saving under a name that exists replaces it.
"""

from __future__ import annotations

from sqlalchemy import Engine, delete, insert, select

from mahnwerk.engine.models import SAVED_FILTER


def save_filter(
    engine: Engine, operator: str, name: str, line: str, sort: str, descending: bool
) -> None:
    name = name.strip()
    if not name:
        raise ValueError("a saved filter needs a name")
    with engine.begin() as conn:
        conn.execute(
            delete(SAVED_FILTER).where(
                SAVED_FILTER.c.operator == operator, SAVED_FILTER.c.name == name
            )
        )
        conn.execute(
            insert(SAVED_FILTER).values(
                operator=operator, name=name, line=line, sort=sort, descending=descending
            )
        )


def saved_filters(engine: Engine, operator: str) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(SAVED_FILTER)
            .where(SAVED_FILTER.c.operator == operator)
            .order_by(SAVED_FILTER.c.name)
        ).all()
    return [dict(r._mapping) for r in rows]
