"""The court payment order (C3, §§ 688 ff. ZPO) as a table, and limitation (C4) around it.

The procedure is a small state machine kept on the record (`court_stage`). Its moves are
one table, `PROCEDURE`: what moves it (a policy step, a recorded event, a deadline that
passed) and from which stages to which. Events are recorded as they happened, so they move
the procedure from any stage; deadlines only from the stage they belong to. The deadlines
themselves are the second table, `DEADLINES`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from mahnwerk.dsl import ir, statute
from mahnwerk.engine.state import Task
from mahnwerk.engine.step.facts import Facts

#: C3: the debtor may object within two weeks of service (§ 692 ZPO).
OBJECTION_PERIOD = timedelta(days=statute.OBJECTION_PERIOD_DAYS)


class CourtStage(StrEnum):
    """Where a claim stands in the court payment procedure (stored as its value)."""

    APPLIED = "applied"  # a person applied for the payment order (§ 688 ZPO)
    SERVED = "served"  # the order reached the debtor: two weeks to object (§ 692)
    OBJECTED = "objected"  # the debtor objected: the claim is disputed (§ 694, C1)
    ENFORCEMENT_DUE = "enforcement_due"  # no objection: apply for enforcement (§ 699)
    ENFORCEMENT = "enforcement"  # the enforcement order was applied for
    LAPSED = "lapsed"  # six months without an enforcement order (§ 701)


class Move(StrEnum):
    """What moves the procedure besides the recorded events."""

    ORDER_APPLIED = "the policy's `court order` step, decided by a person"
    OBJECTION_PERIOD_OVER = "two weeks after service without an objection"
    LAPSE = "six months after service without an enforcement order"


ANY = None
"""As the source of a move: from whatever stage the procedure is in."""

#: trigger -> (the stages it moves from, or ANY; the stage it moves to)
PROCEDURE: dict[Move | ir.EventKind, tuple[frozenset[CourtStage] | None, CourtStage]] = {
    Move.ORDER_APPLIED: (ANY, CourtStage.APPLIED),
    ir.EventKind.COURT_ORDER_SERVED: (ANY, CourtStage.SERVED),
    ir.EventKind.OBJECTION_FILED: (ANY, CourtStage.OBJECTED),
    ir.EventKind.ENFORCEMENT_APPLIED: (ANY, CourtStage.ENFORCEMENT),
    Move.OBJECTION_PERIOD_OVER: (frozenset({CourtStage.SERVED}), CourtStage.ENFORCEMENT_DUE),
    Move.LAPSE: (frozenset({CourtStage.ENFORCEMENT_DUE}), CourtStage.LAPSED),
}


def moved(stage: str | None, trigger: Move | ir.EventKind) -> str | None:
    """The stage `trigger` moves the procedure to from `stage`, or None if it does not apply."""
    sources, target = PROCEDURE[trigger]
    if sources is not ANY and stage not in sources:
        return None
    return target.value


class Court(Facts):
    """The payment order's deadlines and the limitation they suspend."""

    def court_deadline(self) -> date | None:
        """The next day a court deadline moves the procedure, or None."""
        if self.r.court_served_on is None:
            return None
        deadline = DEADLINES.get(CourtStage(self.r.court_stage)) if self.r.court_stage else None
        return deadline[1](self) if deadline else None

    def objection_period_over(self) -> date:
        assert self.r.court_served_on is not None
        return self.r.court_served_on + OBJECTION_PERIOD + timedelta(days=1)

    def court_lapse(self) -> date:
        from mahnwerk.engine.limitation import add_months

        assert self.r.court_served_on is not None
        return add_months(self.r.court_served_on, statute.COURT_ORDER_LAPSE_MONTHS)

    def court_deadlines(self) -> None:
        """§ 692: two weeks to object; § 699: then the enforcement order; § 701: lapse."""
        while self.r.court_served_on is not None and self.r.court_stage:
            deadline = DEADLINES.get(CourtStage(self.r.court_stage))
            if deadline is None:
                return
            move, day_of, consequence = deadline
            day = day_of(self)
            if self.today < day:
                return
            self.r = self.r.evolve(court_stage=moved(self.r.court_stage, move))
            consequence(self, day)

    def _enforcement_due(self, day: date) -> None:
        self.actions.append(
            Task(
                "enforcement_order",
                day,
                "engine",
                f"no objection within two weeks: apply for the enforcement order "
                f"(§ 699 ZPO) before {self.court_lapse()} (§ 701 ZPO)",
            )
        )

    def _lapsed(self, day: date) -> None:
        self.note(
            day,
            "no enforcement order applied for within six months of service: the payment "
            "order lapsed (§ 701 ZPO); limitation runs again six months later (§ 204 Abs. 2)",
        )
        self.relimit()

    def relimit(self) -> None:
        """C4: limitation from the due date, the last part payment and a court procedure."""
        from mahnwerk.engine import limitation as lim

        r = self.r
        events: list[Any] = []
        if r.limitation_restart_on is not None:
            events.append(lim.Restart(r.limitation_restart_on, "part payment"))
        if r.court_served_on is not None:
            ended = self.court_lapse() if r.court_stage == CourtStage.LAPSED else None
            events.append(lim.court_procedure(r.court_served_on, ended))
        self.r = r.evolve(time_barred_from=lim.time_barred_from(self.inv.due_date, events))


Deadline = tuple[Move, Callable[[Court], date], Callable[[Court, date], None]]

#: stage -> (the move its deadline makes, the deadline's day, what follows on that day)
DEADLINES: dict[CourtStage, Deadline] = {
    CourtStage.SERVED: (
        Move.OBJECTION_PERIOD_OVER,
        Court.objection_period_over,
        Court._enforcement_due,
    ),
    CourtStage.ENFORCEMENT_DUE: (Move.LAPSE, Court.court_lapse, Court._lapsed),
}
