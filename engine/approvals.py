"""Four-eyes approvals of escalations.

A step that needs approval does not happen: the engine files an approval and
the invoice waits.  People decide here.  A rule may require two different
approvers; the same person can never count twice (the database enforces it
with a unique key too).  An approved step is carried out by the next run; a
rejected one leaves the invoice on hold until a person releases it, so a
"no" is never silently retried the next morning.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from mahnwerk.engine.identity import IdentityError, identity_key, person
from mahnwerk.engine.store import approvals as store
from mahnwerk.errors import MahnwerkError


class ApprovalError(MahnwerkError):
    """A decision that cannot be taken (unknown id, already decided, same person twice)."""


@dataclass(frozen=True)
class PendingApproval:
    id: int
    invoice: str
    target: str
    required: int
    approved_by: tuple[str, ...]
    summary: str
    rule: str
    requested_on: date
    balance: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "invoice": self.invoice,
            "target_state": self.target,
            "required": self.required,
            "approved_by": list(self.approved_by),
            "summary": self.summary,
            "rule": self.rule,
            "requested_on": self.requested_on.isoformat(),
            "balance": str(self.balance),
        }


def pending(engine: Engine, limit: int | None = None) -> list[PendingApproval]:
    rows, by = store.pending_rows(engine, limit)
    return [
        PendingApproval(
            r.id,
            r.external_id,
            r.target_state,
            r.required,
            tuple(by.get(r.id, [])),
            r.summary,
            r.rule,
            r.requested_on,
            Decimal(r.balance or 0),
        )
        for r in rows
    ]


def decide(
    engine: Engine,
    approval_id: int,
    approver: str,
    approve: bool,
    now: datetime,
    today: date,
    comment: str = "",
) -> str:
    """Record one person's decision; return what it did.

    D8: the same person never counts twice, however the name is typed (`identity.person`
    refuses machine names, `identity_key` compares `A.Operator` and `a.operator` as one).
    The approval row is locked while deciding, so two variants of one name sent at the
    same moment cannot both pass the check (PostgreSQL; SQLite serialises writers).
    """
    try:
        approver = person(approver)
    except IdentityError as exc:
        raise ApprovalError(str(exc)) from None
    with engine.begin() as conn:
        row, before = _open_approval(conn, approval_id)
        _record_decision(conn, approval_id, approver, approve, comment, now, before)
        log = {
            "invoice_id": row.invoice_id,
            "occurred_on": today,
            "recorded_at": now,
            "actor": approver,
            "rule": row.rule,
            "state_to": row.target_state,
            "payload": json.dumps({"approval_id": approval_id, "comment": comment}),
        }
        if not approve:
            _settle(conn, row, "rejected", now, held=True, next_check_on=None, pause_reason=None)
            message = f"rejected by {approver}: {comment}".strip(": ")
            store.log_event(conn, kind="approval_rejected", message=message, **log)
            return f"approval {approval_id} rejected by {approver}; the invoice is on hold"
        approvals = len(before) + 1
        message = f"approved by {approver} ({approvals}/{row.required}) {comment}".strip()
        store.log_event(conn, kind="approval_given", message=message, **log)
        if approvals < row.required:
            return (
                f"approval {approval_id}: {approver} approved ({approvals} of "
                f"{row.required}); waiting for another person"
            )
        _settle(conn, row, "approved", now, approved_target=row.target_state,
                approved_on=today, next_check_on=today)  # fmt: skip
    return f"approval {approval_id} approved; the next run moves the invoice to {row.target_state}"


def _open_approval(conn: Any, approval_id: int) -> tuple[Any, list[str]]:
    """The pending approval, locked while deciding, and who has decided it so far."""
    row = store.locked_approval(conn, approval_id)
    if row is None:
        raise ApprovalError(f"no approval {approval_id}")
    if row.status != "pending":
        raise ApprovalError(f"approval {approval_id} is already {row.status}")
    return row, store.approvers(conn, approval_id)


def _record_decision(
    conn: Any,
    approval_id: int,
    approver: str,
    approve: bool,
    comment: str,
    now: datetime,
    before: list[str],
) -> None:
    """Store the decision, unless this person (however the name is typed) decided already."""
    earlier = next((b for b in before if identity_key(b) == identity_key(approver)), None)
    if earlier is not None:
        raise ApprovalError(
            f"{approver} has already decided approval {approval_id}"
            + (f" (as {earlier!r})" if earlier != approver else "")
            + "; a second approval must come from a different person"
        )
    try:
        decision = "approve" if approve else "reject"
        store.add_decision(conn, approval_id, approver, decision, comment, now)
    except IntegrityError:
        raise ApprovalError(f"{approver} has already decided approval {approval_id}") from None


def _settle(conn: Any, row: Any, status: str, now: datetime, **record: Any) -> None:
    """Close an approval and release its invoice's record with `record`'s changes."""
    store.settle(conn, row.id, row.invoice_id, status, now, **record)


def demo_review(engine: Engine, operators: tuple[str, ...], now: datetime) -> None:
    """The demo's operators: approve what waited at least three days, one person at a time."""
    today = now.date()
    if not store.pending_count(engine):
        return
    for item in pending(engine):
        if (today - item.requested_on).days < 3:
            continue
        for who in operators[: item.required]:
            # Every tenth escalation is turned down, as a real reviewer would.
            approve = item.id % 10 != 0
            decide(
                engine,
                item.id,
                who,
                approve,
                now,
                today,
                "" if approve else "Kunde hat Ratenzahlung angefragt",
            )
            if not approve:
                break
