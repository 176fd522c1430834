"""The engine's core step: a pure function of (record, facts, events, today, policy).

    step(record, invoice, customer, events, today, compiled) -> Outcome(record, actions)

No clock, no database, no network: the runner loads due invoices, calls
`step`, and writes each outcome in one transaction.  Everything hard —
catch-up, idempotency, the legal rules — is testable here with plain values.

How time is handled (catch-up)
------------------------------
A rule's *effective date* is the latest of the date its trigger names
(`7d after due`, `14d in erinnerung`), the day the invoice entered its current
state, the end of a pause (or of a dispute or hold), the end of the A9 grace for
payments in transit (three TARGET2 days after the due date) and, for a step that
posts a letter, the policy's gap after the last letter (D4, at least 7 days).
The step replays, in date order,
every event and every rule whose effective date is not after `today`.  Silent
transitions take effect on their own effective dates, and interest runs by
date, so interest comes out to the cent as if the engine had run every day.
A letter that is not sent never happened: a level that speaks to the customer
takes effect on the day its message goes out — the run's day when a run
catches up missed days — after every event up to that day; a run moves an
invoice at most one such level, and the next one is timed from it (its
`after 14d in …` and the letter gap D4).  A pre-due note whose date passed
during an outage is passed silently, never sent late.  An invoice
the engine sees for the first time starts on that day: rules whose dates have
already passed all become effective that day and the most advanced one wins,
so an invoice imported 20 days overdue gets the reminder due now, not a
"payment due soon" note after the fact.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from mahnwerk.dsl import ir
from mahnwerk.dsl.compile import CompiledPolicy, Rule
from mahnwerk.dsl.expr import EvalError, Money, evaluate, refs
from mahnwerk.dsl.segments import select_segment
from mahnwerk.engine import fees, law, residual, segment_moves
from mahnwerk.engine.state import (
    ZERO,
    ApprovalRequest,
    Charge,
    Customer,
    Event,
    Invoice,
    Message,
    Note,
    Outcome,
    Record,
    Task,
    Transition,
    cents,
)

#: Facts that change by themselves from day to day: a guard over them is re-checked daily.
DAILY_FACTS = {
    "today",
    "invoice.days_overdue",
    "invoice.balance",
    "invoice.interest",
    "customer.open_balance",
}
#: How many promises to pay pause dunning (D6); later ones are noted but do not pause.
MAX_PROMISES = 2
#: C6: a death notice pauses everything for at least six weeks.
DEATH_PAUSE = timedelta(weeks=6)
#: D6: an instalment counts as missed five business days after its due day.
PLAN_GRACE_BUSINESS_DAYS = 5
#: Letters count as received this many days after posting (a common Zugangsfiktion).
LETTER_DELIVERY_DAYS = 3
#: A9: escalation after the due date waits this many TARGET2 business days for payments in
#: transit (a transfer ordered on the due date may be credited days later).
PAYMENT_GRACE_TARGET2_DAYS = 3
#: D4: at least this long between two letters about one invoice, whatever the policy says.
MIN_LETTER_GAP = timedelta(days=7)
#: C3: the debtor may object to a court payment order within two weeks of service (§ 692
#: ZPO); the enforcement order may be applied for after that (§ 699).
OBJECTION_PERIOD = timedelta(days=14)
#: C3: a payment order lapses if no enforcement order is applied for within six months of
#: service (§ 701 ZPO).
COURT_ORDER_LAPSE_MONTHS = 6

_PAYMENT_KINDS = {ir.EventKind.PAYMENT_FULL, ir.EventKind.PAYMENT_PARTIAL}
_ESCALATING = (ir.Fee, ir.LumpSum, ir.Handover, ir.CourtOrder, ir.CreditReport)
_ADVERSE = (ir.Handover, ir.CourtOrder, ir.CreditReport)


def where(span: Any) -> str:
    """`path:line` of a policy element, for the audit trail."""
    return f"{span.path}:{span.line}" if getattr(span, "line", 0) else "engine"


class _Run:
    """The mutable scratchpad of one `step` call; never escapes it."""

    def __init__(
        self,
        record: Record,
        invoice: Invoice,
        customer: Customer,
        compiled: CompiledPolicy,
        today: date,
    ):
        self.r = record
        self.inv = invoice
        self.cust = customer
        self.cp = compiled
        self.policy = compiled.policy
        self.today = today
        self.actions: list[Any] = []
        self.calendar = law.Calendar.for_customer(compiled.policy.calendar, customer)
        self.waits_for_event = False
        #: the day this step entered a state that speaks to the customer (catch-up: one level)
        self.spoke_on: date | None = None

    # facts -------------------------------------------------------------------
    def money(self, amount: Decimal) -> Money:
        return Money(amount, self.inv.currency)

    def facts(self, day: date, event: Event | None = None) -> dict[str, Any]:
        r, inv, c = self.r, self.inv, self.cust
        interest = r.interest_open + self.unbooked_interest(day)
        balance = r.principal_open + r.fees_open + interest
        facts: dict[str, Any] = {
            **c.facts(),
            "customer.open_balance": self.money(c.open_balance),
            "invoice.id": inv.id,
            "invoice.amount": self.money(inv.amount),
            "invoice.balance": self.money(balance),
            "invoice.principal": self.money(r.principal_open),
            "invoice.fees": self.money(r.fees_open),
            "invoice.interest": self.money(interest),
            "invoice.issue_date": inv.issue_date,
            "invoice.due_date": inv.due_date,
            "invoice.days_overdue": Decimal(max(0, (day - inv.due_date).days)),
            "invoice.disputed": r.disputed,
            "invoice.currency": inv.currency,
            "invoice.promises": Decimal(r.promises),
            "invoice.time_barred": bool(r.time_barred_from and day >= r.time_barred_from),
            "today": day,
        }
        if event is not None:
            facts["event.date"] = event.on
            if event.promised_date is not None:
                facts["event.promised_date"] = event.promised_date
            if event.amount is not None:
                facts["event.amount"] = self.money(event.amount)
        return facts

    def holds(self, expr: Any, day: date, event: Event | None = None) -> bool:
        if expr is None:
            return True
        try:
            return bool(evaluate(expr, self.facts(day, event), self.calendar.add_business_days))
        except EvalError as exc:
            self.note(day, f"condition not evaluable, treated as false: {exc}")
            return False

    def quietly(self, expr: Any, day: date) -> bool:
        """`holds` for a look ahead: an unevaluable condition is false, and leaves no note."""
        if expr is None:
            return True
        try:
            return bool(evaluate(expr, self.facts(day), self.calendar.add_business_days))
        except EvalError:
            return False

    # audit helpers -------------------------------------------------------------
    def note(self, day: date, text: str, rule: str | None = None) -> None:
        self.actions.append(Note(day, text, rule))

    # interest ------------------------------------------------------------------
    def accrual(self, day: date) -> tuple[law.InterestLine, ...]:
        """Interest lines for the days after `interest_to` up to the day before `day` (A6).

        Lines continue the current run (see `law.interest_lines`), so the interest owed
        never depends on how often, or on which days, the engine books it."""
        return law.accrued(self.r, self.cust.is_consumer, self.inv.goods_or_services, day)

    def unbooked_interest(self, day: date) -> Decimal:
        """Interest owed for the days after `interest_to` up to the day before `day`."""
        return law.unbooked_interest(self.r, self.cust.is_consumer, self.inv.goods_or_services, day)

    def book_interest(self, day: date, rule: str | None) -> None:
        """Book interest up to and including the day before `day` (A6).

        Default interest is owed from `default_since` even while the policy does not
        claim it yet; it is computed period by period on the principal actually open
        (A8: payments reduce it) and kept as `interest_deferred`, so a later
        `interest statutory` claims exactly what accrued — not today's principal
        multiplied back to the start of default.  Each booking adds the difference per
        period, so each period is rounded once, whenever the engine books.
        """
        r = self.r
        if r.default_since is None or self.cust.vulnerable:
            return  # D5: no interest accrues for a vulnerable customer
        start = max(r.default_since, (r.interest_to or date.min) + timedelta(days=1))
        end = day - timedelta(days=1)
        if end < start:
            return
        if r.principal_open <= 0:
            self.r = r.evolve(interest_to=end, interest_run_from=None)
            return
        lines = self.accrual(day)
        run_from = r.interest_run_from if r.interest_run_from is not None else start
        if not r.interest_active:
            deferred = list(r.interest_deferred)
            for line in lines:
                joins = deferred and deferred[-1][1] + timedelta(days=1) == line.start
                if line.continues and joins:
                    first, _, principal, amount = deferred.pop()
                    deferred.append((first, line.end, principal, amount + line.amount))
                else:
                    deferred.append((line.start, line.end, line.principal, line.amount))
            self.r = r.evolve(
                interest_deferred=tuple(deferred), interest_to=end, interest_run_from=run_from
            )
            return
        booked = ZERO
        for line in lines:
            if line.amount <= 0:
                continue
            booked += line.amount
            self.actions.append(
                Charge(
                    "interest",
                    line.amount,
                    day,
                    r.interest_rule or rule,  # E3: the policy line that claims interest
                    period_from=line.start,
                    period_to=line.end,
                    rate=line.rate,
                    provisional=line.provisional,
                    note=f"Verzugszinsen {(line.end - line.start).days + 1} T. à {line.rate} %"
                    + (" (vorläufig)" if line.provisional else ""),
                )
            )
        self.r = self.r.evolve(
            interest_open=self.r.interest_open + booked, interest_to=end, interest_run_from=run_from
        )

    # ---------------------------------------------------------------------------
    def pause_active(self, day: date) -> bool:
        r = self.r
        return r.pause_reason is not None and (r.paused_until is None or day <= r.paused_until)

    def blocked(self, day: date) -> str | None:
        """Why no time rule may move the invoice on `day`, or None."""
        r = self.r
        if r.held:
            return "on hold"
        if r.pending_approval:
            return f"waiting for approval of {r.pending_approval}"
        if r.disputed:
            return "disputed (C1: no escalation until the dispute is resolved)"
        if self.pause_active(day):
            return f"paused: {r.pause_reason}"
        return None

    def rules(self, state: str) -> list[Rule]:
        return self.cp.rules_from(self.r.segment or "", state)

    def ladder_state(self, name: str) -> ir.State | None:
        g = self.cp.graphs[self.r.segment]
        return g.nodes[name].get("state") if name in g else None

    # time --------------------------------------------------------------------
    def fire_date(self, rule: Rule) -> date | None:
        t = rule.trigger
        if not isinstance(t, ir.TimeTrigger):
            return None
        if t.anchor is ir.Anchor.STATE:
            base = self.r.entered_on
        elif t.anchor is ir.Anchor.DUE:
            base = self.inv.due_date
        else:
            base = self.inv.issue_date
        if base is None:
            return None
        if t.offset.business:
            return self.calendar.add_business_days(base, t.offset.days)
        return base + timedelta(days=t.offset.days)

    def effective(self, fire: date, rule: Rule | None = None) -> date:
        r = self.r
        floor = r.entered_on or fire
        if r.approved_on is not None:
            floor = max(floor, r.approved_on)  # an approved step happens when it is approved
        if r.paused_until is not None and r.pause_reason is None:
            floor = max(floor, r.paused_until + timedelta(days=1))
        if fire > self.inv.due_date:
            # A9: nothing escalates while a payment made on time may still be in transit.
            floor = max(floor, self.grace_over())
        if rule is not None and r.last_letter_on is not None and self.sends_letter(rule.target):
            # D4: the policy's gap between two letters about one invoice, at least 7 days.
            floor = max(floor, r.last_letter_on + self.letter_gap())
        if rule is not None and self.spoke_on is not None and self.speaks(rule.target):
            # Catch-up moves at most one level that speaks to the customer per run.
            floor = max(floor, self.today + timedelta(days=1))
        return max(fire, floor)

    def taking_day(self, day: date, rule: Rule) -> date:
        """The day a rule due on `day` is carried out in this run.

        A letter that is not sent never happened: a level that speaks to the customer
        takes effect on the day its message goes out — the run's day when a run catches up
        missed days — so its fee, its place in the letter gap (D4) and the next level's
        timing all start from the letter, not from a day nobody was written to.  Silent
        levels keep their own dates (interest runs by date anyway).
        """
        if not self.speaks(rule.target) or self.expired(day):
            return day
        return max(day, self.today)

    def expired(self, day: date) -> bool:
        """Whether a message meant for `day` lost its purpose by the run's day.

        A note before the due date ("payment due soon") is pointless once the due date has
        passed: caught up after it, its level is passed silently, never sent late."""
        return day <= self.inv.due_date < self.today

    def grace_over(self) -> date:
        """A9: the first day escalation may act on a payment that has not arrived.

        The policy's `payment grace` (business days count TARGET2 days), else three TARGET2
        days."""
        from mahnwerk.engine.calendar import payment_grace_end

        grace = self.policy.limits.payment_grace
        if grace is not None and not grace.business:
            return self.inv.due_date + timedelta(days=grace.days + 1)
        days = grace.days if grace is not None else PAYMENT_GRACE_TARGET2_DAYS
        return payment_grace_end(self.inv.due_date, days) + timedelta(days=1)

    def letter_gap(self) -> timedelta:
        gap = self.policy.limits.letter_gap
        days = timedelta(days=gap.days) if gap is not None and not gap.business else None
        if gap is not None and gap.business:
            days = timedelta(days=-(-gap.days * 7 // 5))  # business days as calendar days
        return max(days or MIN_LETTER_GAP, MIN_LETTER_GAP)

    def speaks(self, target: str) -> bool:
        """Whether entering `target` sends the customer a message (a dunning level)."""
        state = self.ladder_state(target)
        return state is not None and any(isinstance(a, ir.Send) for a in state.actions)

    def sends_letter(self, target: str) -> bool:
        """Whether entering `target` posts a letter (opted-out channels fall back to one)."""
        state = self.ladder_state(target)
        if state is None:
            return False
        return any(
            isinstance(a, ir.Send)
            and (a.channel is ir.Channel.LETTER or a.channel.value in self.cust.opted_out)
            for a in state.actions
        )

    def time_candidates(self) -> list[tuple[date, Rule]]:
        """Time rules from the current state by effective date, highest priority first."""
        found = []
        for rule in self.rules(self.r.state):
            if rule.kind not in ("ladder", "transition"):
                continue
            fire = self.fire_date(rule)
            if fire is not None:
                found.append((self.effective(fire, rule), -rule.priority, rule))
        found.sort(key=lambda item: item[:2])
        return [(day, rule) for day, _, rule in found]

    # the main loop -------------------------------------------------------------
    def advance(self, events: list[Event]) -> None:
        pending = sorted(events, key=lambda e: e.on)
        recheck: date | None = None
        for _ in range(10_000):  # a bound far above any real ladder; cycles are refused at compile
            if self.terminal():
                break
            self.resume_if_pause_over()
            candidates = self.time_candidates()
            time_day = self.taking_day(*candidates[0]) if candidates else None
            plan_event = self.plan_event()
            if plan_event is not None and plan_event.on <= self.today:
                pending.append(plan_event)
                pending.sort(key=lambda e: e.on)
            event_day = pending[0].on if pending else None
            if event_day is not None and (
                time_day is None or event_day <= time_day or self.blocked(time_day)
            ):
                self.apply_event(pending.pop(0))
                continue
            if time_day is None or time_day > self.today or self.blocked(time_day):
                break
            taken, recheck = self.take_first(candidates)
            if not taken:
                break
        self.court_deadlines()
        if self.terminal():
            self.after_close(pending)
        # Events dated after today are not ours to apply yet (the runner passes only due ones).
        self.r = self.r.evolve(next_check_on=self.next_check(recheck))

    def after_close(self, events: list[Event]) -> None:
        """Events for an invoice already closed: money is never dropped, it becomes a credit."""
        for event in events:
            if event.kind in _PAYMENT_KINDS and event.amount:
                self.actions.append(
                    Charge(
                        "payment",
                        -event.amount,
                        event.on,
                        None,
                        note=f"Zahlung {event.ref or ''} nach Abschluss".strip(),
                    )
                )
                self.actions.append(
                    Charge(
                        "credit",
                        event.amount,
                        event.on,
                        None,
                        note=f"Guthaben: Rechnung ist bereits {self.r.state}",
                    )
                )
            else:
                self.note(event.on, f"{event.kind.value} ignored: the invoice is {self.r.state}")

    def plan_check_day(self) -> tuple[date, Decimal] | None:
        """The first day an unpaid instalment counts as missed, with what must be paid by then.

        D6: each instalment has a grace of five business days.
        """
        r = self.r
        if not r.plan_active or not r.plan:
            return None
        owed = ZERO
        for due, amount in sorted(r.plan):
            owed += amount
            if r.plan_paid < owed:
                grace_end = self.calendar.add_business_days(due, PLAN_GRACE_BUSINESS_DAYS)
                return grace_end + timedelta(days=1), owed
        return None

    def plan_event(self) -> Event | None:
        """A missed instalment or a completed plan, as the event it is."""
        r = self.r
        if not r.plan_active or not r.plan:
            return None
        check = self.plan_check_day()
        if check is None:
            last = max(day for day, _ in r.plan)
            return Event(
                ir.EventKind.PLAN_COMPLETED,
                max(last, r.entered_on or last),
                note="all instalments paid",
            )
        day, owed = check
        return Event(
            ir.EventKind.INSTALMENT_MISSED,
            day,
            note=f"{owed} due by then under the plan, {r.plan_paid} paid",
        )

    def take_first(self, candidates: list[tuple[date, Rule]]) -> tuple[bool, date | None]:
        """Take the first rule due by today whose guard holds.

        If none holds, say when to look again: tomorrow if a guard reads facts that
        change by themselves (balance with interest, days overdue), else the next
        rule's date, else only when an event arrives.
        """
        daily = False
        later: date | None = None
        for due, rule in candidates:
            if due > self.today:
                later = later or due
                continue
            day = self.taking_day(due, rule)
            if self.blocked(day):
                continue
            if self.try_rule(rule, day):
                return True, None
            daily = daily or bool(refs(rule.guard) & DAILY_FACTS)
        if daily:
            return False, self.today + timedelta(days=1)
        self.waits_for_event = later is None
        return False, later

    def terminal(self) -> bool:
        return self.r.state in ir.TERMINAL_NAMES

    def resume_if_pause_over(self) -> None:
        r = self.r
        if (
            r.pause_reason is not None
            and r.paused_until is not None
            and self.today > r.paused_until
        ):
            self.note(r.paused_until + timedelta(days=1), f"pause over ({r.pause_reason})")
            self.r = r.evolve(pause_reason=None)

    def next_check(self, guard_blocked: date | None) -> date | None:
        court = self.court_deadline()
        ladder = self.next_ladder_check(guard_blocked)
        if court is None or self.terminal():
            return ladder
        return court if ladder is None else min(court, ladder)

    # C3: the court payment order's deadlines ------------------------------------
    def court_deadline(self) -> date | None:
        r = self.r
        if r.court_served_on is None:
            return None
        if r.court_stage == "served":
            return r.court_served_on + OBJECTION_PERIOD + timedelta(days=1)
        if r.court_stage == "enforcement_due":
            return self.court_lapse()
        return None

    def court_lapse(self) -> date:
        from mahnwerk.engine.limitation import add_months

        assert self.r.court_served_on is not None
        return add_months(self.r.court_served_on, COURT_ORDER_LAPSE_MONTHS)

    def court_deadlines(self) -> None:
        """§ 692: two weeks to object; § 699: then the enforcement order; § 701: lapse."""
        r = self.r
        if r.court_served_on is None:
            return
        if r.court_stage == "served":
            open_from = r.court_served_on + OBJECTION_PERIOD + timedelta(days=1)
            if self.today >= open_from:
                self.actions.append(
                    Task(
                        "enforcement_order",
                        open_from,
                        "engine",
                        f"no objection within two weeks: apply for the enforcement order "
                        f"(§ 699 ZPO) before {self.court_lapse()} (§ 701 ZPO)",
                    )
                )
                self.r = r = r.evolve(court_stage="enforcement_due")
        if r.court_stage == "enforcement_due" and self.today >= self.court_lapse():
            lapse = self.court_lapse()
            self.r = r.evolve(court_stage="lapsed")
            self.note(
                lapse,
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
            ended = self.court_lapse() if r.court_stage == "lapsed" else None
            events.append(lim.court_procedure(r.court_served_on, ended))
        self.r = r.evolve(time_barred_from=lim.time_barred_from(self.inv.due_date, events))

    def next_ladder_check(self, guard_blocked: date | None) -> date | None:
        if self.terminal() or self.r.pending_approval or self.r.held or self.r.disputed:
            return None
        plan = self.plan_check_day()
        if plan is not None:
            return max(plan[0], self.today + timedelta(days=1))
        if self.r.pause_reason is not None:
            return self.r.paused_until + timedelta(days=1) if self.r.paused_until else None
        if guard_blocked is not None:
            return guard_blocked
        if self.waits_for_event:
            return None
        upcoming = [day for day, _ in self.time_candidates() if day > self.today]
        return min(upcoming) if upcoming else None

    # rules ---------------------------------------------------------------------
    def try_rule(self, rule: Rule, day: date) -> bool:
        """Take `rule` on `day` if its guard holds; False if it is blocked."""
        if not self.holds(rule.guard, day):
            return False
        if self.settle_residual(day):
            return True
        minimum = self.policy.limits.minimum_balance
        balance = self.r.balance + self.unbooked_interest(day)
        if minimum is not None and balance < minimum.amount and self.r.written_reminders >= 1:
            # C7: a balance below the minimum gets one reminder and no escalation.
            self.note(
                day,
                f"balance {cents(balance)} below the minimum {minimum}: no escalation",
                where(self.policy.limits.span),
            )
            self.r = self.r.evolve(pause_reason="below minimum balance", paused_until=None)
            return True
        handover_floor = self.policy.limits.minimum_handover
        target = self.ladder_state(rule.target)
        if (
            handover_floor is not None
            and target is not None
            and any(isinstance(a, (ir.Handover, ir.CourtOrder)) for a in target.actions)
            and self.r.principal_open < handover_floor.amount
        ):
            # D10: no collection agency and no court for a small principal, whatever the ladder.
            self.note(
                day,
                f"principal {cents(self.r.principal_open)} below {handover_floor}: "
                f"no handover or court step (D10); a person decides",
                where(self.policy.limits.span),
            )
            self.r = self.r.evolve(
                pause_reason="below minimum for handover (D10)", paused_until=None
            )
            return True
        return self.enter(rule.target, day, rule, f"{_describe(rule)}")

    def settle_residual(self, day: date) -> bool:
        """Issue 11: cents left after the invoice's amount was paid never escalate.

        Asked before every step the ladder would take: within the policy's tolerance
        (`engine/residual.py`) the residual is written off and the invoice is paid, or it is
        parked, to be asked for in the customer's next letter.  True: the step is replaced.
        """
        found = residual.residual(
            self.r, self.unbooked_interest(day), self.policy.limits, self.inv.currency
        )
        if found is None:
            return False
        if not found.written_off:
            if self.r.pause_reason != residual.PARKED:
                self.note(day, found.reason(), found.at)
                self.r = self.r.evolve(pause_reason=residual.PARKED, paused_until=None)
            return True
        self.book_interest(day, found.at)
        amount = self.r.balance
        note = "Ausbuchung Restbetrag (Zinsen, Kosten)"
        self.actions.append(Charge("write_off", -amount, day, found.at, note=note))
        self.r = self.r.evolve(principal_open=ZERO, fees_open=ZERO, interest_open=ZERO)
        self.note(day, found.reason(), found.at)
        why = f"paid; residual {amount} written off"
        self.enter(ir.Terminal.PAID.value, day, None, why, at=found.at)
        return True

    def enter(
        self, target: str, day: date, rule: Rule | None, why: str, at: str | None = None
    ) -> bool:
        """Move into `target` on `day` and carry out its entry actions (`at`: the line that
        decided it, when that is no ladder rule)."""
        source = self.r.state
        rule_at = at or (where(rule.span) if rule else "engine")
        state = self.ladder_state(target)
        if state is not None and self.r.approved_target != target:
            needed = self.approvers_needed(state, day)
            if needed:
                self.book_interest(day, rule_at)
                summary = f"{source} -> {target}: " + ", ".join(
                    _action_words(a) for a in state.actions if not isinstance(a, ir.Approval)
                )
                self.actions.append(ApprovalRequest(target, needed, summary, rule_at, day))
                self.r = self.r.evolve(pending_approval=target)
                return True
        self.actions.append(Transition(source, target, day, rule_at, why))
        self.r = self.r.evolve(
            state=target,
            entered_on=day,
            approved_target=None,
            approved_on=None,
            pending_approval=None,
        )
        if state is not None:
            self.carry_out(state, day, rule_at)
        elif target in ir.TERMINAL_NAMES:
            self.finish(target, day, rule_at)
        return True

    def approvers_needed(self, state: ir.State, day: date) -> int:
        needed = 0
        for action in state.actions:
            if isinstance(action, ir.Approval):
                needed = action.approvers if self.holds(action.when, day) else action.otherwise
        if self.cust.vulnerable and any(isinstance(a, _ESCALATING) for a in state.actions):
            needed = max(needed, 1)  # D5: nothing beyond reminders without a person
        if any(isinstance(a, _ADVERSE) for a in state.actions):
            # C3, E3 (GDPR Art. 22): a handover, a report or a court order is a person's
            # decision; the compiler refuses such a state without approval (L007), and the
            # engine holds to it even for a policy compiled before that check existed.
            needed = max(needed, 1)
        return needed

    def carry_out(self, state: ir.State, day: date, rule_at: str) -> None:
        """A state's entry actions, in the IR's canonical order."""
        self.book_interest(day, rule_at)
        sends = [a for a in state.actions if isinstance(a, ir.Send) and not self.repeated(a, day)]
        if sends and self.expired(day):
            self.note(
                day,
                f"{state.name}: not sent, its purpose expired — the due date "
                f"{self.inv.due_date} passed before it could go out",
                rule_at,
            )
            sends = []
        letter = False
        offers = tuple(
            _action_words(a)
            for a in state.actions
            if isinstance(a, ir.Offer) and self.holds(a.when, day)
        )
        segment = self.policy.segment(self.r.segment) if self.r.segment else None
        announces = self.announcements(state.name, day) if sends else ()
        for send in sends:
            channel = send.channel.value
            if channel in self.cust.opted_out:
                self.note(
                    day, f"{channel} opted out (D7): sent as a letter instead", where(send.span)
                )
                channel = ir.Channel.LETTER.value
            letter = letter or channel == ir.Channel.LETTER.value
            self.actions.append(
                Message(
                    channel,
                    send.template,
                    day,
                    state.name,
                    where(send.span),
                    tone=segment.tone if segment else None,
                    language=(
                        segment.language
                        if segment and segment.language
                        else self.cust.language or self.policy.language
                    ),
                    offers=offers,
                    announces=announces,
                )
            )
        if sends:
            self.spoke_on = day
            self.after_reminder(day, letter, announces)
        fee_lines = [a for a in state.actions if isinstance(a, ir.Fee)]  # B1: one fee a letter
        for action in state.actions:
            at = where(action.span)
            if isinstance(action, ir.Fee):
                if action is fee_lines[0] and not self.repeated(action, day, state):
                    self.charge_fee(fee_lines, day, at, letter)
            elif isinstance(action, ir.LumpSum):
                self.charge_lump_sum(day, at)
            elif isinstance(action, ir.Interest):
                if self.cust.vulnerable:
                    self.note(day, "no interest claimed from a vulnerable customer (D5)", at)
                    continue
                self.book_interest(day, at)  # what accrued unclaimed so far, on the real principal
                self.claim_interest(action, day, at)
            elif isinstance(action, ir.StopCredit):
                self.r = self.r.evolve(credit_stopped=True)
                self.actions.append(Task("stop_credit", day, at, self.cust.id))
            elif isinstance(action, ir.Notify):
                self.actions.append(Task("notify", day, at, action.team))
            elif isinstance(action, ir.CreditReport):
                self.credit_report(action, day, at)
            elif isinstance(action, ir.CourtOrder):
                if self.r.time_barred_from and day >= self.r.time_barred_from:
                    self.note(day, "claim time-barred (§§ 195, 199 BGB): no court order", at)
                elif self.inv.currency != "EUR":
                    self.note(
                        day,
                        f"a court payment order only for a fixed sum in euros (§ 688 ZPO); "
                        f"this claim is in {self.inv.currency}: a person decides",
                        at,
                    )
                else:
                    self.actions.append(
                        Task("court_order", day, at, f"{cents(self.r.balance)} EUR (§ 688 ZPO)")
                    )
                    self.r = self.r.evolve(court_stage="applied")
            elif isinstance(action, ir.Handover):
                self.actions.append(Task("handover", day, at, self.handover_brief(action, day)))
        self.r = self.r.evolve(last_contact_on=day if sends else self.r.last_contact_on)
        # `auto` rules (handover, write off) complete the state right away.
        for rule in self.rules(state.name):
            if rule.kind == "auto":
                self.enter(rule.target, day, rule, "the step is done")
                break

    def claim_interest(self, action: ir.Interest, day: date, at: str) -> None:
        """`interest statutory` (or `base + N`): claim what accrued so far, line by line."""
        claimed = ZERO
        points = law.points(self.cust.is_consumer, self.inv.goods_or_services, None)
        for start, end, principal, amount in self.r.interest_deferred:
            if amount <= 0:
                continue
            claimed += amount
            # A5: the same computation again (cached) for its rate and whether a base rate
            # it used is still provisional; a deferred entry is one period, so one rate
            same = law.interest(principal, start, end, self.cust.is_consumer, points)
            self.actions.append(
                Charge(
                    "interest",
                    amount,
                    day,
                    at,
                    period_from=start,
                    period_to=end,
                    rate=same.rate,
                    provisional=same.provisional,
                    note=f"Verzugszinsen {start}–{end} auf {principal}",
                )
            )
        new_points = None if action.statutory else action.points
        changes: dict[str, Any] = {}
        if law.points(self.cust.is_consumer, self.inv.goods_or_services, new_points) != points:
            changes["interest_run_from"] = None  # another surcharge: another rate, a new run
        self.r = self.r.evolve(
            interest_rule=at,
            interest_active=True,
            interest_points=new_points,
            interest_open=self.r.interest_open + claimed,
            interest_deferred=(),
            **changes,
        )

    def repeated(self, action: Any, day: date, state: ir.State | None = None) -> bool:
        """After a segment change: a letter already sent, or a fee level already charged."""
        if isinstance(action, ir.Send):
            why = segment_moves.repeated_send(self.r, action.template)
        else:
            assert state is not None
            ladder = self.policy.ladder(self.r.ladder or "")
            why = segment_moves.repeated_fee(self.r, ladder, state)
        if why:
            self.note(day, why, where(action.span))
        return why is not None

    def announcements(self, state: str, day: date) -> tuple[str, ...]:
        """D9: the steps ahead that a letter sent from `state` may announce (engine/announce)."""
        from mahnwerk.engine.announce import announcements

        return announcements(self, state, day)

    def handover_brief(self, action: ir.Handover, day: date) -> str:
        """What the agency is told: the claim and the most it may add (B2, A7).

        An undisputed claim's collection costs are capped by the RVG (a 0.9 fee plus 20 %
        expenses, at most 20 EUR); a lump sum already charged under § 288 Abs. 5 BGB is
        credited against them, so the debtor never pays both.
        """
        from mahnwerk.engine.fees import FeeTableError, collection_costs, costs_after_lump_sum

        r = self.r
        text = f"{action.agency}: claim {cents(r.principal_open)} {self.inv.currency}"
        try:
            costs = collection_costs(r.principal_open, day)
        except (FeeTableError, ValueError) as exc:
            return f"{text}; collection costs not computable: {exc}"
        text += (
            f"; recoverable collection costs at most {costs.total} EUR (RVG {costs.factor} fee "
            f"{costs.fee} + expenses {costs.expenses}, B2)"
        )
        if r.lump_sum_charged:
            rest = costs_after_lump_sum(fees.LUMP_SUM, costs.total)
            text += f"; the {fees.LUMP_SUM} EUR lump sum is credited: at most {rest} EUR more (A7)"
        return text

    def after_reminder(self, day: date, letter: bool, announces: tuple[str, ...] = ()) -> None:
        """A reminder went out after the due date: it may start default (§ 286 Abs. 1 BGB)."""
        r = self.r
        if day <= self.inv.due_date:
            return
        received = day + timedelta(days=LETTER_DELIVERY_DAYS if letter else 0)
        changes: dict[str, Any] = {"written_reminders": r.written_reminders + 1}
        if r.first_reminder_on is None:
            changes["first_reminder_on"] = received
        if "credit_report" in announces and r.report_notice_on is None:
            changes["report_notice_on"] = received  # C2: the debtor is told, in writing
        if letter:
            changes["last_letter_on"] = day
        default = law.default_by_reminder(received)
        if r.default_since is None or default < r.default_since:
            changes["default_since"] = default
        self.r = r.evolve(**changes)

    def charge_fee(self, lines: list[ir.Fee], day: date, at: str, letter: bool) -> None:
        """The letter's dunning fee: all its fee lines together, decided by `fees.dunning_fee`.

        B1 holds per letter: a consumer pays at most 2.50 EUR for one letter however many
        `fee` lines the state has (the checker refuses a second line, L010; a policy compiled
        before that check is still capped here).  D10 counts the policy's own fees charged so
        far (paid or not), never interest or the statutory lump sum.
        """
        r = self.r
        if self.cust.vulnerable:
            self.note(day, "no fees for a vulnerable customer (D5)", at)
            return
        requested = sum((line.amount.amount for line in lines), ZERO)
        cap = self.policy.limits.fee_cap
        if cap is not None and requested > cap.amount:
            self.note(day, f"fee limited to the policy's {cap} per letter", at)
            requested = cap.amount
        share = self.policy.limits.fee_share
        # a letter after which default only starts is the one that creates it (§ 286 Abs. 1)
        in_default = r.default_since is not None and day >= r.default_since
        decision = fees.dunning_fee(
            requested=requested,
            channel=ir.Channel.LETTER if letter else ir.Channel.EMAIL,
            reminder_creates_default=letter and not in_default and r.default_since is not None,
            in_default=in_default,
            consumer=self.cust.is_consumer,
            principal=self.inv.amount,
            fees_so_far=r.fees_charged_sum,
            share_percent=share if share is not None else fees.DEFAULT_FEE_SHARE,
        )
        if decision.amount <= 0:
            self.note(day, f"no fee: {decision.reason}", at)
            return
        if decision.amount < requested:
            self.note(day, f"fee {decision.amount} of {requested}: {decision.reason}", at)
        self.actions.append(Charge("fee", decision.amount, day, at, note="Mahngebühr"))
        self.r = r.evolve(
            fees_open=r.fees_open + decision.amount,
            fees_charged_sum=r.fees_charged_sum + decision.amount,
        )

    def charge_lump_sum(self, day: date, at: str) -> None:
        """§ 288 Abs. 5 BGB by `fees.lump_sum_decision`; statutory, so outside the D10 share."""
        r = self.r
        decision = fees.lump_sum_decision(
            consumer=self.cust.is_consumer,
            in_default=r.default_since is not None and day >= r.default_since,
            already_charged=r.lump_sum_charged,
            payment_for_goods_or_services=self.inv.goods_or_services,
        )
        if decision.amount <= 0:
            if not r.lump_sum_charged:
                self.note(day, decision.reason, at)
            return
        self.actions.append(
            Charge("lump_sum", decision.amount, day, at, note="Pauschale § 288 Abs. 5 BGB")
        )
        self.r = r.evolve(fees_open=r.fees_open + decision.amount, lump_sum_charged=True)

    def credit_report(self, action: ir.CreditReport, day: date, at: str) -> None:
        r = self.r
        problems = law.credit_report_problems(
            written_reminders=r.written_reminders,
            first_reminder_on=r.first_reminder_on,
            disputed=r.disputed,
            on=day,
            notice_on=r.report_notice_on,
        )
        if problems:
            self.note(day, "no credit-bureau report (§ 31 BDSG): " + "; ".join(problems), at)
            return
        self.actions.append(Task("credit_report", day, at, action.bureau))

    def finish(self, terminal: str, day: date, at: str) -> None:
        r = self.r
        if terminal == ir.Terminal.WRITTEN_OFF.value and r.balance > 0:
            self.book_interest(day, at)
            amount = self.r.balance
            self.actions.append(Charge("write_off", -amount, day, at, note="Ausbuchung"))
            self.r = self.r.evolve(principal_open=ZERO, fees_open=ZERO, interest_open=ZERO)
        self.r = self.r.evolve(next_check_on=None, pause_reason=None)

    # events --------------------------------------------------------------------
    def apply_event(self, event: Event) -> None:
        day = max(event.on, self.r.entered_on or event.on)
        kind = event.kind
        if kind in _PAYMENT_KINDS:
            self.apply_payment(event, day)
            return
        r = self.r
        if kind is ir.EventKind.DISPUTE_OPENED:
            self.r = r.evolve(disputed=True)
        elif kind is ir.EventKind.DISPUTE_RESOLVED:
            # C1: nothing that would have happened during the dispute happens after it,
            # back-dated: the ladder goes on from the day the dispute was resolved.
            self.r = r.evolve(disputed=False, **self.floor_from(day))
        elif kind is ir.EventKind.HOLD:
            self.r = r.evolve(held=True)
        elif kind is ir.EventKind.RELEASE:
            self.r = r.evolve(held=False, **self.floor_from(day))
        elif kind is ir.EventKind.PROMISE_MADE:
            if r.promises >= MAX_PROMISES:
                self.note(day, f"promise {r.promises + 1} noted; at most {MAX_PROMISES} pause (D6)")
                return
            self.r = r.evolve(promises=r.promises + 1)
        elif kind is ir.EventKind.PLAN_AGREED:
            self.r = r.evolve(plan_active=True, plan=tuple(event.instalments), plan_paid=ZERO)
        elif kind in (ir.EventKind.INSTALMENT_MISSED, ir.EventKind.PLAN_COMPLETED):
            self.r = r.evolve(plan_active=False, plan=(), plan_paid=ZERO)
        elif kind is ir.EventKind.INSOLVENCY:
            # §§ 87, 89 InsO: stop everything, whatever the policy says.
            self.actions.append(Task("file_claim", day, "engine", "InsO § 174"))
            self.enter(
                ir.Terminal.INSOLVENT.value,
                day,
                self._handler_rule(kind),
                "insolvency proceedings opened",
            )
            return
        elif kind is ir.EventKind.COURT_ORDER_SERVED:
            self.r = r.evolve(court_stage="served", court_served_on=day)
            self.relimit()
            self.note(
                day,
                f"payment order served: limitation suspended (§ 204 Abs. 1 Nr. 3 BGB); "
                f"objection possible until {day + OBJECTION_PERIOD} (§ 692 ZPO)",
            )
            return
        elif kind is ir.EventKind.OBJECTION_FILED:
            self.r = r.evolve(court_stage="objected", disputed=True)
            self.actions.append(
                Task("court_objection", day, "engine", "§ 694 ZPO: decide on contested proceedings")
            )
            self.note(day, "the debtor objected to the payment order: treated as disputed (C1)")
            return
        elif kind is ir.EventKind.ENFORCEMENT_APPLIED:
            self.r = r.evolve(court_stage="enforcement")
            self.note(day, "enforcement order applied for (§ 699 ZPO)")
            return
        elif kind is ir.EventKind.DEATH_NOTICE:
            self.r = r.evolve(pause_reason="death notice (C6)", paused_until=day + DEATH_PAUSE)
            return
        elif kind is ir.EventKind.WRITE_OFF:
            self.enter(
                ir.Terminal.WRITTEN_OFF.value,
                day,
                self._handler_rule(kind),
                event.note or "written off",
            )
            return
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
        partial = Event(ir.EventKind.PAYMENT_PARTIAL, event.on, amount, ref=event.ref)
        self.apply_rules_for(partial, day)


@lru_cache(maxsize=4096)  # a policy has few rules; every transition asks for its words
def _describe(rule: Rule) -> str:
    return _describe_uncached(rule)


def _describe_uncached(rule: Rule) -> str:
    from mahnwerk.dsl.render import describe_rule

    return describe_rule(rule)


def _action_words(action: Any) -> str:
    from mahnwerk.dsl.render import describe_action

    return describe_action(action)


def start(invoice: Invoice, customer: Customer, compiled: CompiledPolicy, today: date) -> Outcome:
    """The first record of an invoice the engine has not seen: segment chosen, principal booked."""
    blank = Record(invoice_id=invoice.id, principal_open=invoice.amount)
    run = _Run(blank, invoice, customer, compiled, today)
    choice = select_segment(compiled.policy, run.facts(today), run.calendar.add_business_days)
    segment = choice.segment
    default = law.default_at_start(invoice, customer, run.calendar)
    run.r = blank.evolve(
        segment=segment.name,
        ladder=segment.ladder,
        entered_on=today,
        default_since=default,
        time_barred_from=law.time_barred_from(invoice.due_date),
    )
    run.actions.append(
        Charge("principal", invoice.amount, invoice.issue_date, None, note=f"Rechnung {invoice.id}")
    )
    for reason in choice.reasons:
        run.note(today, reason, where(segment.span))
    return Outcome(run.r, tuple(run.actions))


def facts_at(
    record: Record, invoice: Invoice, customer: Customer, compiled: CompiledPolicy, day: date
) -> tuple[dict[str, Any], Any]:
    """The facts a condition reads for this invoice on `day`, and the business-day adder."""
    run = _Run(record, invoice, customer, compiled, day)
    return run.facts(day), run.calendar.add_business_days


def step(
    record: Record | None,
    invoice: Invoice,
    customer: Customer,
    events: Iterable[Event],
    today: date,
    compiled: CompiledPolicy,
    previous: CompiledPolicy | None = None,
) -> Outcome:
    """Advance one invoice to `today`: apply its events and every rule that has come due.

    The segment is chosen again first (`segment_moves`): facts may have changed, or
    `compiled` may be a new policy taking the invoice over from `previous`.
    """
    actions: list[Any] = []
    if record is None or record.segment is None:
        first = start(invoice, customer, compiled, today)
        record, actions = first.record, list(first.actions)
    run = _Run(record, invoice, customer, compiled, today)
    cheap = previous is None and segment_moves.customer_facts_suffice(compiled)
    run.r, moved = segment_moves.follow(
        record,
        customer.facts() if cheap else run.facts(today),
        previous or compiled,
        compiled,
        today,
        run.calendar.add_business_days,
    )
    actions.extend(moved)
    if run.r.segment not in compiled.graphs:
        raise KeyError(f"segment {run.r.segment!r} is not in policy {compiled.name!r}")
    run.actions = actions
    run.advance([e for e in events if e.on <= today])
    return Outcome(segment_moves.remember(run.r, run.actions), tuple(run.actions))
