"""The tables of the operators' day (work done, saved filters) and of
champion/challenger experiments.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Final

from sqlalchemy import (
    CheckConstraint,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from mahnwerk.engine.model_types import AwareDateTime, _default, one_of

# ---------------------------------------------------------------------------
# The operators' day (issue 14): what people finished, and the filters they keep
# ---------------------------------------------------------------------------


class WorkDone(SQLModel, table=True):
    """One item of the operators' worklist that a person finished: a call made, a task done,
    a write-off request confirmed or turned down.

    The unique key makes the first person's word final: a second operator who
    acts on the same item is told who decided it and when.
    """

    __tablename__ = "work_done"
    __table_args__ = (UniqueConstraint("item_kind", "item_id"),)

    id: int | None = Field(default=None, primary_key=True)
    item_kind: str = Field(sa_type=String)  # call | task | write_off
    item_id: int
    outcome: str = Field(sa_type=String)
    note: str = Field(default="", sa_type=Text, sa_column_kwargs=_default("''"))
    actor: str = Field(sa_type=String)
    done_at: datetime = Field(sa_type=AwareDateTime)


class SavedFilter(SQLModel, table=True):
    """A queue filter an operator named and keeps (`state=mahnung_2 amount>=100`)."""

    __tablename__ = "saved_filter"
    __table_args__ = (UniqueConstraint("operator", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    operator: str = Field(sa_type=String)
    name: str = Field(sa_type=String)
    line: str = Field(default="", sa_type=Text, sa_column_kwargs=_default("''"))
    sort: str = Field(default="entry", sa_type=String, sa_column_kwargs=_default("'entry'"))
    descending: bool = Field(default=False, sa_column_kwargs=_default("false"))


# ---------------------------------------------------------------------------
# Champion/challenger experiments (issue 18)
# ---------------------------------------------------------------------------

EXPERIMENT_STATUSES: Final = ("running", "promoted", "stopped")
ARMS: Final = ("champion", "challenger")


class Experiment(SQLModel, table=True):
    """A challenger policy dunning a random share of the champion's customers.

    `key` is the secret of the keyed hash that assigns customers, so the assignment is
    random, reproducible, and cannot be steered by choosing customer numbers.  The
    challenger is a stored, inactive `policy_version` until it is promoted.
    """

    __tablename__ = "experiment"
    __table_args__ = (
        UniqueConstraint("name"),
        CheckConstraint(one_of("status", EXPERIMENT_STATUSES), name="status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String)
    champion_name: str = Field(sa_type=String)  # the deployed policy the arm follows
    champion_version_id: int = Field(foreign_key="policy_version.id")  # at the start
    challenger_version_id: int = Field(foreign_key="policy_version.id")
    share: Decimal = Field(sa_type=Numeric(6, 4))  # of the eligible customers, 0 < share < 1
    applies_to: str | None = Field(default=None, sa_type=Text)  # --for
    until_on: date | None = None  # last day customers are enrolled
    until_customers: int | None = None  # enrolment stops at this many customers
    key: str = Field(sa_type=String(64))
    started_on: date
    started_at: datetime = Field(sa_type=AwareDateTime)
    actor: str = Field(sa_type=String)
    status: str = Field(default="running", sa_type=String, sa_column_kwargs=_default("'running'"))
    ended_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    ended_by: str | None = Field(default=None, sa_type=String)


class ExperimentAssignment(SQLModel, table=True):
    """Which arm a customer is in: written once, never changed (the primary key)."""

    __tablename__ = "experiment_assignment"
    __table_args__ = (CheckConstraint(one_of("arm", ARMS), name="arm"),)

    experiment_id: int = Field(
        primary_key=True, foreign_key="experiment.id", sa_column_kwargs={"autoincrement": False}
    )
    customer_id: int = Field(
        primary_key=True,
        foreign_key="customer.id",
        index=True,
        sa_column_kwargs={"autoincrement": False},
    )
    arm: str = Field(sa_type=String)
    segment: str = Field(sa_type=String)  # the stratum: the champion's segment at assignment
    assigned_on: date
