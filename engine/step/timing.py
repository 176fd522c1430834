"""When rules take effect: triggers, floors, the letter gap, plans, and the main loop.

A rule's effective date is the latest of the date its trigger names and every floor that
holds it back — the day the invoice entered its state, the end of a pause, the A9 grace for
payments in transit, the D4 gap after the last letter, and the catch-up rule that a run
moves an invoice at most one level that speaks to the customer (see the package docstring).
`advance` replays events and due rules in date order.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from mahnwerk.dsl import ir, statute
from mahnwerk.dsl.compile import Rule
from mahnwerk.dsl.expr import refs
from mahnwerk.engine import segment_moves, skonto
from mahnwerk.engine.state import ZERO, Charge, Event, Record
from mahnwerk.engine.step.facts import DAILY_FACTS, Facts

#: D4: at least this long between two letters about one invoice, whatever the policy says.
MIN_LETTER_GAP = timedelta(days=statute.LETTER_GAP_MIN_DAYS)

PAYMENT_KINDS = frozenset({ir.EventKind.PAYMENT_FULL, ir.EventKind.PAYMENT_PARTIAL})


@lru_cache(maxsize=4096)
def _after_target2_grace(due: date, days: int) -> date:
    """The day after `days` TARGET2 days past `due` (cached: every rule's effective date
    asks for it, several times per invoice, and the book's due dates are few)."""
    from mahnwerk.engine.calendar import payment_grace_end

    return payment_grace_end(due, days) + timedelta(days=1)


class Timing(Facts):
    """Which rule is due when, and the loop that takes them in date order."""

    #: (record, spoke_on, candidates) of the last `time_candidates` call
    _candidates_for: tuple[Record, date | None, list[tuple[date, Rule]]] | None = None

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
        return skonto.deduction_blocks(r, self.policy)

    def rules(self, state: str) -> list[Rule]:
        return self.cp.rules_from(self.r.segment or "", state)

    def ladder_state(self, name: str) -> ir.State | None:
        segment = self.r.segment
        state = self.cp.states.get((segment, name))
        if state is None and segment not in self.cp.graphs:
            raise KeyError(segment)
        return state

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
        grace = self.policy.limits.payment_grace
        if grace is not None and not grace.business:
            return self.inv.due_date + timedelta(days=grace.days + 1)
        days = grace.days if grace is not None else statute.PAYMENT_GRACE_TARGET2_DAYS
        return _after_target2_grace(self.inv.due_date, days)

    def letter_gap(self) -> timedelta:
        gap = self.policy.limits.letter_gap
        days = timedelta(days=gap.days) if gap is not None and not gap.business else None
        if gap is not None and gap.business:
            days = timedelta(days=-(-gap.days * 7 // 5))  # business days as calendar days
        return max(days or MIN_LETTER_GAP, MIN_LETTER_GAP)

    def speaks(self, target: str) -> bool:
        """Whether entering `target` sends the customer a message (a dunning level).

        Answered once per policy, segment and state (every effective date asks it)."""
        known = self.cp.derived("speaks", dict)
        key = (self.r.segment, target)
        try:
            return known[key]
        except KeyError:
            state = self.ladder_state(target)
            said = known[key] = state is not None and any(
                isinstance(a, ir.Send) for a in state.actions
            )
            return said

    def sends_letter(self, target: str) -> bool:
        """Whether entering `target` posts a letter (opted-out channels fall back to one).

        Answered once per policy, segment, state and the customer's opted-out channels."""
        known = self.cp.derived("sends letter", dict)
        key = (self.r.segment, target, self.cust.opted_out)
        try:
            return known[key]
        except KeyError:
            state = self.ladder_state(target)
            posts = known[key] = state is not None and any(
                isinstance(a, ir.Send)
                and (a.channel in ir.PAPER or a.channel.value in self.cust.opted_out)
                for a in state.actions
            )
            return posts

    def time_candidates(self) -> list[tuple[date, Rule]]:
        """Time rules from the current state by effective date, highest priority first.

        Kept for the record they were computed for: `advance` asks once more after its
        last move, and `next_check` again for the same record (a record is immutable, and
        the run's day and the customer do not change within a step)."""
        held = self._candidates_for
        if held is not None and held[0] is self.r and held[1] == self.spoke_on:
            return held[2]
        found = []
        for rule in self.rules(self.r.state):
            if rule.kind not in ("ladder", "transition"):
                continue
            fire = self.fire_date(rule)
            if fire is not None:
                found.append((self.effective(fire, rule), -rule.priority, rule))
        found.sort(key=lambda item: item[:2])
        out = [(day, rule) for day, _, rule in found]
        self._candidates_for = (self.r, self.spoke_on, out)
        return out

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
            approved = self.approved_on_event()
            if approved is not None and (event_day is None or approved[0] < event_day):
                day, rule = approved  # an event's step a person approved (`actions.py`)
                self.enter(rule.target, day, rule, f"on {rule.event.value}")
                continue
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
        # The templates queued and fees charged are noted in the same change (issue 13).
        self.r = self.r.evolve(
            next_check_on=self.next_check(recheck),
            **segment_moves.remembered(self.r, self.actions),
        )

    def after_close(self, events: list[Event]) -> None:
        """Events for an invoice already closed: money is never dropped, it becomes a credit."""
        for event in events:
            if event.kind in PAYMENT_KINDS and event.amount:
                self.actions.append(
                    Charge(
                        "payment",
                        -event.amount,
                        event.on,
                        None,
                        note=" ".join(filter(None, ("Zahlung", event.ref, "nach Abschluss"))),
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
                grace_end = self.calendar.add_business_days(due, statute.PLAN_GRACE_BUSINESS_DAYS)
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

    def next_ladder_check(self, guard_blocked: date | None) -> date | None:
        if self.terminal() or self.r.pending_approval or self.r.held or self.r.disputed:
            return None
        if skonto.deduction_blocks(self.r, self.policy):
            return None  # a late Skonto deduction waits for the customer or a person
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
