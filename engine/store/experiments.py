"""The experiments as the TUI lists them, and what an experiment's report reads.

Part of the store layer (`engine/store/`): the list of champion/challenger tests, newest
first, and the arms' invoices with their payments, charges, messages, disputes and
handovers (`engine/experiment_report.py` weighs them); and the engine's own reads and
writes of the experiment tables (`engine/experiments.py`): the running experiments and
their assignments, enrolment, the wake-up of an arm's invoices, the end.  The rules —
the keyed draw, the strata, never switching a customer — stay in `engine/experiments`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, or_, select, update

from mahnwerk.engine.models import (
    ASSIGNMENT,
    CUST,
    DS,
    EVENT,
    EXPERIMENT,
    INV,
    LEDGER,
    OUTBOX,
    PAY,
    PV,
)


@dataclass(frozen=True)
class Listed:
    name: str
    status: str
    started_on: date
    champion: str
    share: str
    customers: int


def listed(engine: Engine) -> list[Listed]:
    """Every experiment, the newest first, with how many customers it enrolled."""
    enrolled = (
        select(ASSIGNMENT.c.experiment_id, func.count().label("n"))
        .group_by(ASSIGNMENT.c.experiment_id)
        .subquery()
    )
    with engine.connect() as conn:
        rows = conn.execute(
            select(EXPERIMENT, enrolled.c.n)
            .outerjoin(enrolled, enrolled.c.experiment_id == EXPERIMENT.c.id)
            .order_by(EXPERIMENT.c.started_on.desc(), EXPERIMENT.c.id.desc())
        ).all()
    return [
        Listed(r.name, r.status, r.started_on, r.champion_name,
               f"{100 * r.share:.0f} %", r.n or 0)
        for r in rows
    ]  # fmt: skip


def started_by(engine: Engine, day: date) -> list[str]:
    """The names of the experiments started by `day`, in the order they started."""
    with engine.connect() as conn:
        return conn.execute(
            select(EXPERIMENT.c.name)
            .where(EXPERIMENT.c.started_on <= day)
            .order_by(EXPERIMENT.c.started_on, EXPERIMENT.c.id)
        ).scalars().all()  # fmt: skip


def version_labels(conn: Connection, version_ids: list[int]) -> dict[int, str]:
    """`name version N` of each policy version id."""
    return {
        r.id: f"{r.name} version {r.version}"
        for r in conn.execute(select(PV).where(PV.c.id.in_(version_ids)))
    }


def enrolled_by_arm(conn: Connection, experiment_id: int) -> dict[str, int]:
    """How many customers the experiment put into each arm."""
    return dict(
        conn.execute(
            select(ASSIGNMENT.c.arm, func.count())
            .where(ASSIGNMENT.c.experiment_id == experiment_id)
            .group_by(ASSIGNMENT.c.arm)
        ).all()
    )


def reminded_invoices(
    conn: Connection, experiment_id: int, started_on: date, as_of: date
) -> list[Any]:
    """The enrolled customers' invoices whose first reminder went out from the experiment's
    start to `as_of`, with their arm, segment, state and customer number, by invoice id."""
    return conn.execute(
        select(INV.c.id, INV.c.due_date, DS.c.entered_on, DS.c.state,
               DS.c.first_reminder_on, ASSIGNMENT.c.arm, ASSIGNMENT.c.segment,
               CUST.c.external_id)
        .join(ASSIGNMENT, ASSIGNMENT.c.customer_id == INV.c.customer_id)
        .join(CUST, CUST.c.id == INV.c.customer_id)
        .join(DS, DS.c.invoice_id == INV.c.id)
        .where(ASSIGNMENT.c.experiment_id == experiment_id,
               DS.c.first_reminder_on >= started_on,
               DS.c.first_reminder_on <= as_of)
        .order_by(INV.c.id)
    ).all()  # fmt: skip


@dataclass
class InvoiceFigures:
    """Per invoice id, what an experiment's report weighs (absent: none)."""

    collected: dict[int, Decimal] = field(default_factory=dict)  # payments applied
    last_paid: dict[int, date] = field(default_factory=dict)  # the last applied payment's day
    charged: dict[int, Decimal] = field(default_factory=dict)  # the ledger's `charges` kinds
    messages: list[tuple[int, str, int]] = field(default_factory=list)  # id, channel, count
    disputed: set[int] = field(default_factory=set)
    handed: set[int] = field(default_factory=set)


def invoice_figures(
    conn: Connection, ids: list[int], charges: tuple[str, ...], dispute_kind: str
) -> InvoiceFigures:
    """`InvoiceFigures` of these invoices, read 500 ids per `IN (…)`."""
    out = InvoiceFigures()
    for at in range(0, len(ids), 500):
        part = ids[at : at + 500]
        out.collected |= _sums(conn, PAY, part, PAY.c.applied.is_(True))
        out.last_paid |= dict(
            conn.execute(
                select(PAY.c.invoice_id, func.max(PAY.c.booked_on))
                .where(PAY.c.invoice_id.in_(part), PAY.c.applied.is_(True))
                .group_by(PAY.c.invoice_id)
            ).all()
        )
        out.charged |= _sums(conn, LEDGER, part, LEDGER.c.kind.in_(charges))
        out.messages += [
            tuple(r)
            for r in conn.execute(
                select(OUTBOX.c.invoice_id, OUTBOX.c.channel, func.count())
                .where(OUTBOX.c.invoice_id.in_(part), OUTBOX.c.status != "cancelled")
                .group_by(OUTBOX.c.invoice_id, OUTBOX.c.channel)
            )
        ]
        out.disputed |= _flagged(conn, part, dispute_kind)
        out.handed |= _flagged(conn, part, "task_handover")
    return out


def _sums(conn: Connection, table: Any, ids: list[int], where: Any) -> dict[int, Decimal]:
    rows = conn.execute(
        select(table.c.invoice_id, func.sum(table.c.amount))
        .where(table.c.invoice_id.in_(ids), where)
        .group_by(table.c.invoice_id)
    )
    return {i: Decimal(a) for i, a in rows}


def _flagged(conn: Connection, ids: list[int], kind: str) -> set[int]:
    rows = conn.execute(
        select(EVENT.c.invoice_id).where(EVENT.c.invoice_id.in_(ids), EVENT.c.kind == kind)
    )
    return {r[0] for r in rows}


# ---------------------------------------------------------------------------
# The engine's reads and writes of the experiment tables (`engine/experiments.py`)
# ---------------------------------------------------------------------------


def running(conn: Connection) -> list[Any]:
    """The running experiments' rows."""
    return list(conn.execute(select(EXPERIMENT).where(EXPERIMENT.c.status == "running")))


def assignments(conn: Connection, experiment_ids: list[int]) -> list[Any]:
    """The assignments of these experiments: `experiment_id`, `arm` and the customer's
    number (`external_id`)."""
    return list(
        conn.execute(
            select(ASSIGNMENT.c.experiment_id, ASSIGNMENT.c.arm, CUST.c.external_id)
            .join(CUST, CUST.c.id == ASSIGNMENT.c.customer_id)
            .where(ASSIGNMENT.c.experiment_id.in_(experiment_ids))
        )
    )


def add_assignments(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Customers enrolled in an arm (`experiment_id`, `customer_id`, `arm`, `segment`,
    `assigned_on`), in one statement; a recorded assignment is never rewritten."""
    conn.execute(insert(ASSIGNMENT), rows)


def named(conn: Connection, name: str) -> Any:
    """The experiment called `name`, or None."""
    return conn.execute(select(EXPERIMENT).where(EXPERIMENT.c.name == name)).first()


def name_taken(conn: Connection, name: str) -> bool:
    """Whether an experiment is called `name` already."""
    return bool(conn.execute(select(EXPERIMENT.c.id).where(EXPERIMENT.c.name == name)).first())


def names(conn: Connection) -> list[str]:
    """Every experiment's name, oldest first."""
    return conn.execute(select(EXPERIMENT.c.name).order_by(EXPERIMENT.c.id)).scalars().all()


def add_experiment(conn: Connection, **values: Any) -> int:
    """A new experiment row, the columns as given; its id."""
    return conn.execute(insert(EXPERIMENT).values(**values)).inserted_primary_key[0]


def customer_ids(conn: Connection) -> list[int]:
    """The ids of every customer."""
    return conn.execute(select(CUST.c.id)).scalars().all()


def wake_arm(
    conn: Connection, experiment_id: int, arm: str, day: date, terminal: list[str]
) -> None:
    """The open invoices of an arm's customers (not in a `terminal` state) are looked at
    by the next run: next check `day` at the latest."""
    members = select(ASSIGNMENT.c.customer_id).where(
        ASSIGNMENT.c.experiment_id == experiment_id, ASSIGNMENT.c.arm == arm
    )
    invoices = select(INV.c.id).where(INV.c.customer_id.in_(members))
    conn.execute(
        update(DS)
        .where(DS.c.invoice_id.in_(invoices), DS.c.state.not_in(terminal),
               or_(DS.c.next_check_on.is_(None), DS.c.next_check_on > day))
        .values(next_check_on=day)
    )  # fmt: skip


def end(conn: Connection, experiment_id: int, status: str, now: datetime, actor: str) -> None:
    """The experiment ends with `status` (stopped, promoted), by `actor` at `now`."""
    conn.execute(
        update(EXPERIMENT).where(EXPERIMENT.c.id == experiment_id)
        .values(status=status, ended_at=now, ended_by=actor)
    )  # fmt: skip
