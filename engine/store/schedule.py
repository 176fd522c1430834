"""The job schedule (`schedule_job`) and what `service/scheduler` reads of the run log.

Part of the store layer (`engine/store/`).  The rules stay in the scheduler: when a
job is due, the lease's length, the advisory-lock key of a job in a schema.  Here are
the rows and the locks: the newest run's day, a job's row (made once), its SQLite
lease taken by a conditional update and given back, the result written when it ends,
and PostgreSQL's session advisory locks on the caller's connection.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, text, update

from mahnwerk.engine.models import RUN
from mahnwerk.service.tables import JOB


def last_run(engine: Engine) -> date | None:
    """The business day of the newest run (whoever started it), or None."""
    with engine.connect() as conn:
        return conn.execute(select(func.max(RUN.c.as_of))).scalar()


def current_schema(conn: Connection) -> str:
    return conn.execute(text("SELECT current_schema()")).scalar_one()


def try_advisory_lock(conn: Connection, key: int) -> bool | None:
    """PostgreSQL: take the session advisory lock `key` if free (the caller commits)."""
    return conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()


def advisory_unlock(conn: Connection, key: int) -> None:
    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})


def take_lease(conn: Connection, job: str, now: datetime, until: datetime, runner: str) -> int:
    """Lease the job's row to `runner` until `until` if nobody holds it at `now`; rows won."""
    return conn.execute(
        update(JOB)
        .where(JOB.c.name == job, (JOB.c.lease_until.is_(None)) | (JOB.c.lease_until < now))
        .values(lease_until=until, runner=runner)
    ).rowcount


def give_back_lease(conn: Connection, job: str) -> None:
    conn.execute(update(JOB).where(JOB.c.name == job).values(lease_until=None))


def has_job(engine: Engine, job: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(JOB.c.name).where(JOB.c.name == job)).first() is not None


def add_job(conn: Connection, job: str) -> None:
    """The job's row, never run (`IntegrityError` if another process made it first)."""
    conn.execute(insert(JOB).values(name=job, last_result="", runs=0))


def job(engine: Engine, name: str) -> Any | None:
    with engine.connect() as conn:
        return conn.execute(select(JOB).where(JOB.c.name == name)).first()


def finished(conn: Connection, job: str, **values: Any) -> None:
    """Write what the job's last run did (`values`) and count one run more."""
    conn.execute(update(JOB).where(JOB.c.name == job).values(**values, runs=JOB.c.runs + 1))
