"""What an event does to an invoice: one handler per event kind, in one table.

The law's part of an event comes first and holds whatever the policy says — a dispute
stops escalation (C1), an insolvency stops everything (C5), a death notice pauses (C6), a
payment is allocated by § 367 BGB (A8) — then the policy's own rules for the event (a
`on promise_made` edge, a `pause`/`resume` handler).  `EVENT_HANDLERS` maps each event kind
to its handler; a handler returns True when the policy's rules apply after it.  A new event
kind is one row and one function here (and its name in `dsl/ir.py`'s `EventKind`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from mahnwerk.dsl import ir, statute
from mahnwerk.dsl.compile import Rule
from mahnwerk.dsl.events import BY_KIND
from mahnwerk.dsl.expr import EvalError, evaluate
from mahnwerk.engine import law, skonto
from mahnwerk.engine.state import ZERO, Charge, Event, Task
from mahnwerk.engine.step.actions import Actions
from mahnwerk.engine.step.court import OBJECTION_PERIOD, moved
from mahnwerk.engine.step.facts import where

#: C6: a death notice pauses everything for at least six weeks.
DEATH_PAUSE = timedelta(weeks=statute.DEATH_PAUSE_WEEKS)


class Events(Actions):
    """Events applied in date order, between the time rules (see `Timing.advance`)."""

    def apply_event(self, event: Event) -> None:
        """One event: its handler from `EVENT_HANDLERS`, then the policy's rules for it."""
        day = max(event.on, self.r.entered_on or event.on)
        task = BY_KIND[event.kind].task
        if task is not None:  # the event asks a person to act (`dsl/events.py`)
            self.actions.append(Task(task, day, "engine", event.note or BY_KIND[event.kind].help))
        handler = EVENT_HANDLERS.get(event.kind)
        if handler is None or handler(self, event, day):
            self.apply_rules_for(event, day)

    def floor_from(self, day: date) -> dict[str, Any]:
        """Changes that let no time rule take effect before `day` (see `effective`)."""
        r = self.r
        if r.pause_reason is not None or day <= (r.entered_on or day):
            return {}  # a running pause keeps its own end; nothing to hold back
        floor = day - timedelta(days=1)
        if r.paused_until is not None and r.paused_until >= floor:
            return {}
        return {"paused_until": floor}

    def _handler_rule(self, kind: ir.EventKind) -> Rule | None:
        for rule in self.rules(self.r.state):
            if rule.event is kind:
                return rule
        return None

    def apply_rules_for(self, event: Event, day: date) -> None:
        """State-specific event edges first, then the policy-wide handler."""
        for rule in self.rules(self.r.state):
            if rule.event is not event.kind:
                continue
            if rule.kind in ("ladder", "transition") and self.holds(rule.guard, day, event):
                self.enter(rule.target, day, rule, f"on {event.kind.value}")
                return
        handler = next((h for h in self.policy.handlers if h.event is event.kind), None)
        if handler is None:
            return
        at = where(handler.span)
        if handler.action is ir.HandlerAction.PAUSE:
            until = None
            if handler.until is not None:
                try:
                    until = evaluate(
                        handler.until, self.facts(day, event), self.calendar.add_business_days
                    )
                except EvalError as exc:
                    self.note(day, f"pause without end: {exc}", at)
            self.r = self.r.evolve(pause_reason=event.kind.value, paused_until=until)
            self.note(
                day, f"paused on {event.kind.value}" + (f" until {until}" if until else ""), at
            )
        elif handler.action is ir.HandlerAction.RESUME:
            if self.r.pause_reason is not None:
                self.r = self.r.evolve(
                    pause_reason=None,
                    paused_until=day - timedelta(days=1)
                    if day > (self.r.entered_on or day)
                    else None,
                )
                self.note(day, f"resumed on {event.kind.value}", at)
        elif handler.action in (ir.HandlerAction.STOP, ir.HandlerAction.GOTO) and handler.target:
            if handler.target != self.r.state:
                rule = self._handler_rule(event.kind)
                self.enter(handler.target, day, rule, f"on {event.kind.value}")

    def apply_payment(self, event: Event, day: date) -> None:
        """§ 367 BGB: a payment pays costs, then interest, then principal."""
        amount = event.amount or ZERO
        credited = event.on
        self.book_interest(credited, "engine")
        used = skonto.use_terms(self, event)  # a discount earned is booked before allocating
        r = self.r
        if r.plan_active:
            r = r.evolve(plan_paid=r.plan_paid + amount)
        split = law.allocate(amount, r.fees_open, r.interest_open, r.principal_open)
        self.actions.append(
            Charge("payment", -amount, credited, None, note=f"Zahlung {event.ref or ''}".strip())
        )
        self.r = r.evolve(
            fees_open=r.fees_open - split.costs,
            interest_open=r.interest_open - split.interest,
            principal_open=r.principal_open - split.principal,
            add_ons_paid=r.add_ons_paid + split.costs + split.interest,
            # A6: another principal from the day of the credit: a new run of periods
            interest_run_from=r.interest_run_from if split.principal == 0 else None,
        )
        if split.excess > 0:
            self.actions.append(
                Charge(
                    "credit", split.excess, credited, None, note="Überzahlung: Guthaben des Kunden"
                )
            )
        if self.r.balance > 0 and split.principal + split.interest + split.costs > 0:
            # C4: a part payment acknowledges the claim: limitation restarts (§ 212 BGB).
            self.r = self.r.evolve(limitation_restart_on=credited)
            self.relimit()
        if self.r.balance <= 0:
            self.enter(
                ir.Terminal.PAID.value,
                day,
                self._handler_rule(ir.EventKind.PAYMENT_FULL),
                "paid in full",
            )
            return
        if used is not None and used.late and skonto.pursue_deduction(self, used, event, day):
            return  # issue 19: a Skonto deducted too late is pursued by the policy's rule
        partial = Event(ir.EventKind.PAYMENT_PARTIAL, event.on, amount, ref=event.ref)
        self.apply_rules_for(partial, day)


# The handlers: one function per event kind ------------------------------------------------

Handler = Callable[[Events, Event, date], bool]
"""(run, event, day) -> whether the policy's rules for the event apply after it."""

POLICY_RULES_FOLLOW = True
DONE = False


def _payment(run: Events, event: Event, day: date) -> bool:
    run.apply_payment(event, day)  # applies the partial-payment rules itself
    return DONE


def _sets(flag: str) -> Handler:
    """A handler that sets `flag` (a dispute, a hold): nothing escalates while it is set."""

    def handler(run: Events, event: Event, day: date) -> bool:
        run.r = run.r.evolve(**{flag: True})
        return POLICY_RULES_FOLLOW

    return handler


def _lifts(flag: str) -> Handler:
    """A handler that lifts `flag`.  C1: nothing that would have happened while it was set
    happens after it, back-dated: the ladder goes on from the day it was lifted."""

    def handler(run: Events, event: Event, day: date) -> bool:
        run.r = run.r.evolve(**{flag: False}, **run.floor_from(day))
        return POLICY_RULES_FOLLOW

    return handler


def _promise(run: Events, event: Event, day: date) -> bool:
    most = statute.PROMISES_THAT_PAUSE
    if run.r.promises >= most:
        run.note(day, f"promise {run.r.promises + 1} noted; at most {most} pause (D6)")
        return DONE
    run.r = run.r.evolve(promises=run.r.promises + 1)
    return POLICY_RULES_FOLLOW


def _plan_agreed(run: Events, event: Event, day: date) -> bool:
    run.r = run.r.evolve(plan_active=True, plan=tuple(event.instalments), plan_paid=ZERO)
    return POLICY_RULES_FOLLOW


def _plan_ended(run: Events, event: Event, day: date) -> bool:
    run.r = run.r.evolve(plan_active=False, plan=(), plan_paid=ZERO)
    return POLICY_RULES_FOLLOW


def _insolvency(run: Events, event: Event, day: date) -> bool:
    # §§ 87, 89 InsO: stop everything, whatever the policy says.
    run.actions.append(Task("file_claim", day, "engine", "InsO § 174"))
    run.enter(
        ir.Terminal.INSOLVENT.value,
        day,
        run._handler_rule(event.kind),
        "insolvency proceedings opened",
    )
    return DONE


def _court_order_served(run: Events, event: Event, day: date) -> bool:
    run.r = run.r.evolve(court_stage=moved(run.r.court_stage, event.kind), court_served_on=day)
    run.relimit()
    run.note(
        day,
        f"payment order served: limitation suspended (§ 204 Abs. 1 Nr. 3 BGB); "
        f"objection possible until {day + OBJECTION_PERIOD} (§ 692 ZPO)",
    )
    return DONE


def _objection_filed(run: Events, event: Event, day: date) -> bool:
    run.r = run.r.evolve(court_stage=moved(run.r.court_stage, event.kind), disputed=True)
    run.actions.append(
        Task("court_objection", day, "engine", "§ 694 ZPO: decide on contested proceedings")
    )
    run.note(day, "the debtor objected to the payment order: treated as disputed (C1)")
    return DONE


def _enforcement_applied(run: Events, event: Event, day: date) -> bool:
    run.r = run.r.evolve(court_stage=moved(run.r.court_stage, event.kind))
    run.note(day, "enforcement order applied for (§ 699 ZPO)")
    return DONE


def _death_notice(run: Events, event: Event, day: date) -> bool:
    run.r = run.r.evolve(pause_reason="death notice (C6)", paused_until=day + DEATH_PAUSE)
    return DONE


def _write_off(run: Events, event: Event, day: date) -> bool:
    run.enter(
        ir.Terminal.WRITTEN_OFF.value,
        day,
        run._handler_rule(event.kind),
        event.note or "written off",
    )
    return DONE


#: event kind -> its handler.  Kinds not listed (a conversation, a broken promise, a failed
#: delivery) have no legal effect of their own: only the policy's rules for them apply.
EVENT_HANDLERS: dict[ir.EventKind, Handler] = {
    ir.EventKind.PAYMENT_FULL: _payment,
    ir.EventKind.PAYMENT_PARTIAL: _payment,
    ir.EventKind.DISPUTE_OPENED: _sets("disputed"),
    ir.EventKind.DISPUTE_RESOLVED: _lifts("disputed"),
    ir.EventKind.HOLD: _sets("held"),
    ir.EventKind.RELEASE: _lifts("held"),
    ir.EventKind.PROMISE_MADE: _promise,
    ir.EventKind.PLAN_AGREED: _plan_agreed,
    ir.EventKind.INSTALMENT_MISSED: _plan_ended,
    ir.EventKind.PLAN_COMPLETED: _plan_ended,
    ir.EventKind.INSOLVENCY: _insolvency,
    ir.EventKind.COURT_ORDER_SERVED: _court_order_served,
    ir.EventKind.OBJECTION_FILED: _objection_filed,
    ir.EventKind.ENFORCEMENT_APPLIED: _enforcement_applied,
    ir.EventKind.DEATH_NOTICE: _death_notice,
    ir.EventKind.WRITE_OFF: _write_off,
}
