"""The experiments as the TUI lists them: each champion/challenger test, newest first.

Part of the store layer (`engine/store/`); the engine's own reads and writes of the
experiment tables (`engine/experiments.py`) are to join it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, func, select

from mahnwerk.engine.models import ASSIGNMENT, EXPERIMENT


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
