"""The deployed policy versions (`policy_version`) as `engine/policies` reads and writes
them, and the hand-over of a version's invoices to the next.

Part of the store layer (`engine/store/`).  A deploy is one transaction that
`engine/policies` opens; these functions work in its connection.  The rules — one
active version per name, a changed text needs a new version number, what strands an
invoice — stay in `engine/policies`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select, update

from mahnwerk.engine.models import DS, PV


def versions(conn: Connection) -> list[Any]:
    """Every stored policy version, oldest first (source, path, `active`, `applies_to`,
    priority)."""
    return conn.execute(select(PV).order_by(PV.c.id)).all()


def active_version(conn: Connection, name: str) -> Any:
    """The active version of policy `name`, or None."""
    return conn.execute(select(PV).where(PV.c.name == name, PV.c.active.is_(True))).first()


def stored_version(conn: Connection, name: str, version: Any) -> Any:
    """Version `version` of policy `name` as stored (active or not), or None."""
    return conn.execute(select(PV).where(PV.c.name == name, PV.c.version == version)).first()


def retire(conn: Connection, version_id: int) -> None:
    """The version is no longer active."""
    conn.execute(update(PV).where(PV.c.id == version_id).values(active=False))


def retarget(conn: Connection, version_id: int, applies_to: str | None, priority: int) -> None:
    """Whom the version applies to and its priority."""
    conn.execute(
        update(PV).where(PV.c.id == version_id).values(applies_to=applies_to, priority=priority)
    )


def highest_priority(conn: Connection) -> int:
    """The highest priority of any stored version (0: none stored)."""
    return conn.execute(select(func.coalesce(func.max(PV.c.priority), 0))).scalar_one()


def reactivate(
    conn: Connection, version_id: int, applies_to: str | None, priority: int, path: str
) -> None:
    """A stored version becomes active again, for `applies_to` at `priority`."""
    conn.execute(
        update(PV)
        .where(PV.c.id == version_id)
        .values(active=True, applies_to=applies_to, priority=priority, path=path)
    )


def add_version(conn: Connection, **values: Any) -> int:
    """A new version row, the columns as given; its id."""
    return conn.execute(insert(PV).values(**values)).inserted_primary_key[0]


def take_over(conn: Connection, old_id: int, new_id: int, today: date, terminal: list[str]) -> int:
    """Moves the old version's invoices to the new one and has the next run look at every
    one of them not in a `terminal` state (next check today at the latest); how many
    moved."""
    moved = conn.execute(
        update(DS).where(DS.c.policy_version_id == old_id).values(policy_version_id=new_id)
    ).rowcount
    conn.execute(
        update(DS)
        .where(
            DS.c.policy_version_id == new_id,
            DS.c.state.not_in(terminal),
            or_(DS.c.next_check_on.is_(None), DS.c.next_check_on > today),
        )
        .values(next_check_on=today)
    )
    return moved


def version(conn: Connection, version_id: int) -> Any:
    """The stored version `version_id` (it must exist)."""
    return conn.execute(select(PV).where(PV.c.id == version_id)).one()
