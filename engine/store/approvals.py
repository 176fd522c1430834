"""The approvals of escalations and their decisions (`approval`, `approval_decision`),
as `engine/approvals` reads and writes them.

Part of the store layer (`engine/store/`).  Four eyes stay where they were: a decision
is one transaction `engine/approvals` opens, in which `locked_approval` holds the
approval row (`FOR UPDATE` on PostgreSQL) while the rule there compares the new
approver with the earlier ones, and `add_decision` lets the unique key refuse the same
person twice (`IntegrityError`, which the rule turns into its message).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from mahnwerk.engine.models import APPROVAL, DECISION, DS, EVENT, INV


def pending_rows(engine: Engine, limit: int | None) -> tuple[list[Any], dict[int, list[str]]]:
    """The pending approvals, oldest first (at most `limit`), each with its invoice's
    number and open balance; and who approved each of them so far, by approval id."""
    with engine.connect() as conn:
        query = (
            select(
                APPROVAL,
                INV.c.external_id,
                (DS.c.principal_open + DS.c.fees_open + DS.c.interest_open).label("balance"),
            )
            .join(INV, INV.c.id == APPROVAL.c.invoice_id)
            .join(DS, DS.c.invoice_id == APPROVAL.c.invoice_id)
            .where(APPROVAL.c.status == "pending")
            .order_by(APPROVAL.c.requested_on, APPROVAL.c.id)
        )
        if limit:
            query = query.limit(limit)
        rows = conn.execute(query).all()
        ids = [r.id for r in rows]
        by: dict[int, list[str]] = {}
        for i in range(0, len(ids), 500):
            for aid, who in conn.execute(
                select(DECISION.c.approval_id, DECISION.c.approver).where(
                    DECISION.c.approval_id.in_(ids[i : i + 500]), DECISION.c.decision == "approve"
                )
            ):
                by.setdefault(aid, []).append(who)
    return rows, by


def pending_count(engine: Engine) -> int:
    """How many approvals are pending."""
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(APPROVAL).where(APPROVAL.c.status == "pending")
        ).scalar_one()


def locked_approval(conn: Connection, approval_id: int) -> Any:
    """The approval row, locked until the transaction ends (None: no such approval)."""
    return conn.execute(
        select(APPROVAL).where(APPROVAL.c.id == approval_id).with_for_update()
    ).first()


def approvers(conn: Connection, approval_id: int) -> list[str]:
    """Everyone who decided the approval so far, as their names were stored."""
    return list(
        conn.execute(select(DECISION.c.approver).where(DECISION.c.approval_id == approval_id))
        .scalars()
        .all()
    )


def add_decision(
    conn: Connection, approval_id: int, approver: str, decision: str, comment: str, now: datetime
) -> None:
    """One person's decision; raises `IntegrityError` if that name decided already."""
    conn.execute(
        insert(DECISION).values(
            approval_id=approval_id,
            approver=approver,
            decision=decision,
            comment=comment,
            decided_at=now,
        )
    )


def log_event(conn: Connection, **values: Any) -> None:
    """One entry in the event log (append-only), the columns as given."""
    conn.execute(insert(EVENT).values(**values))


def settle(
    conn: Connection, approval_id: int, invoice_id: int, status: str, now: datetime, **record: Any
) -> None:
    """Closes the approval with `status` and releases its invoice's record (no approval
    pending) with `record`'s changes."""
    conn.execute(
        update(APPROVAL).where(APPROVAL.c.id == approval_id).values(status=status, decided_at=now)
    )
    conn.execute(
        update(DS)
        .where(DS.c.invoice_id == invoice_id)
        .values(pending_approval=None, pending_approval_id=None, **record)
    )
