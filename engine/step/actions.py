"""What entering a state does: the guards before a move, and each action carried out.

`try_rule` keeps the legal floors a policy cannot lower (C7 minimum balance, D10 minimum
for a handover or court step); `enter` asks for approval where a person must decide (D5,
D8, E3) and then carries out the state's actions.  Each action type has one carrier in the
table `CARRIERS` — a new action is one row and one function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from mahnwerk.dsl import ir, statute
from mahnwerk.dsl.compile import Rule
from mahnwerk.engine import fees, law, residual, segment_moves, skonto
from mahnwerk.engine.state import ZERO, ApprovalRequest, Charge, Message, Task, Transition, cents
from mahnwerk.engine.step.court import Move, moved
from mahnwerk.engine.step.facts import where
from mahnwerk.engine.step.timing import Timing

#: Actions that escalate: a vulnerable customer's step with one needs a person (D5).
ESCALATING = (ir.Fee, ir.LumpSum, ir.Handover, ir.CourtOrder, ir.CreditReport)
#: Decisions with legal effect: always a person's (C3, E3, GDPR Art. 22).
ADVERSE = (ir.Handover, ir.CourtOrder, ir.CreditReport)


@dataclass(frozen=True)
class Entry:
    """The state being entered, its day, whether its message went as a letter, and whether
    any message went at all (a fee with nothing sent has no material costs to charge for)."""

    state: ir.State
    day: date
    letter: bool
    sent: bool = True


class Actions(Timing):
    """Moves between states and the actions they carry out."""

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
        return self.enter(rule.target, day, rule, f"{describe(rule)}")

    def below_handover_floor(self, state: ir.State, day: date) -> bool:
        """D10: no collection agency and no court for a small principal, whatever led there.

        Asked by `enter`, so it holds for every way into such a state: a ladder rule, an
        event's edge (`state inkasso on promise_broken from …`), a policy's `on … goto` and a
        person's approval of either — an event edge once went straight past it.  True: the
        invoice waits where it is (paused; a person decides) instead of moving."""
        floor = self.policy.limits.minimum_handover
        if (
            floor is None
            or self.r.principal_open >= floor.amount
            or not any(isinstance(a, (ir.Handover, ir.CourtOrder)) for a in state.actions)
        ):
            return False
        self.note(
            day,
            f"principal {cents(self.r.principal_open)} below {floor}: "
            f"no handover or court step (D10); a person decides",
            where(self.policy.limits.span),
        )
        self.r = self.r.evolve(pause_reason="below minimum for handover (D10)", paused_until=None)
        return True

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
        amount = self.write_off(day, found.at, "Ausbuchung Restbetrag (Zinsen, Kosten)")
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
        if state is not None and self.below_handover_floor(state, day):
            return True
        if state is not None and self.r.approved_target != target:
            needed = self.approvers_needed(state, day)
            if needed:
                self.book_interest(day, rule_at)
                summary = f"{source} -> {target}: " + ", ".join(
                    action_words(a) for a in state.actions if not isinstance(a, ir.Approval)
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

    def approved_on_event(self) -> tuple[date, Rule] | None:
        """A step a person approved that an event asked for, when it is to be carried out.

        An event's edge (`state meldung on promise_broken from …`, a policy's `on … goto`)
        asks for approval when the event comes and is not taken again; once approved it is
        carried out on the approval day, or once nothing blocks it (C1: not while disputed;
        a floor, a pause, the letter gap as for any step).  A time rule's approved step is
        taken by its own rule."""
        r = self.r
        target = r.approved_target
        if target is None or r.pending_approval:
            return None
        rules = self.rules(r.state)
        rule = next((x for x in rules if x.event is not None and x.target == target), None)
        if rule is None or any(x.event is None and x.target == target for x in rules):
            return None
        day = self.taking_day(self.effective(r.approved_on or self.today, rule), rule)
        return None if day > self.today or self.blocked(day) else (day, rule)

    def approvers_needed(self, state: ir.State, day: date) -> int:
        needed = 0
        for action in state.actions:
            if isinstance(action, ir.Approval):
                needed = action.approvers if self.holds(action.when, day) else action.otherwise
        if self.cust.vulnerable and any(isinstance(a, ESCALATING) for a in state.actions):
            needed = max(needed, 1)  # D5: nothing beyond reminders without a person
        if any(isinstance(a, ADVERSE) for a in state.actions):
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
            action_words(a)
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
            letter = letter or ir.Channel(channel) in ir.PAPER
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
        entry = Entry(state, day, letter, bool(sends))
        for action in state.actions:
            carrier = CARRIERS.get(type(action))
            if carrier is not None:
                carrier(self, action, entry, where(action.span))
        # `auto` rules (handover, write off) complete the state right away.
        for rule in self.rules(state.name):
            if rule.kind == "auto":
                self.enter(rule.target, day, rule, "the step is done")
                break

    def claim_interest(self, action: ir.Interest, day: date, at: str) -> None:
        """`interest statutory` (or `base + N`): claim what accrued so far, line by line.

        What accrued before the policy claimed interest was counted at the statutory rate
        (`book_interest`); a policy may claim less (`interest 5 points above base` from a
        business; L003 refuses more), and then every day it claims is at its own rate (A4),
        the days before this step too: each deferred period is computed again at that rate,
        and its run goes on at that rate, so a period is still rounded once (A6).
        """
        claimed = ZERO
        consumer, goods = self.cust.is_consumer, self.inv.goods_or_services
        new_points = None if action.statutory else action.points
        points = law.points(consumer, goods, new_points)
        claimed_so_far = self.r.interest_points if self.r.interest_active else new_points
        for start, end, principal, _ in self.r.interest_deferred:
            # A5, A6: a deferred entry is one period (one base rate, one principal), so one
            # rate and one rounding; provisional while a base rate it used is not yet known
            same = law.interest(principal, start, end, consumer, points)
            if same.total <= 0:
                continue
            claimed += same.total
            self.actions.append(
                Charge(
                    "interest",
                    same.total,
                    day,
                    at,
                    period_from=start,
                    period_to=end,
                    rate=same.rate,
                    provisional=same.provisional,
                    note=f"Verzugszinsen {start}–{end} auf {principal}",
                )
            )
        changes: dict[str, Any] = {}
        if law.points(consumer, goods, claimed_so_far) != points:
            # interest booked at another surcharge: another rate, a new run (A6); what was
            # deferred continues its run, now at the claimed rate (rounded once per period)
            changes["interest_run_from"] = None
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
        """A message went out on `day`, the last contact; after the due date it is a reminder,
        which may start default (§ 286 Abs. 1 BGB).  (One `evolve` for all of it: the step's
        hot path.)"""
        r = self.r
        if day <= self.inv.due_date:
            self.r = r.evolve(last_contact_on=day)
            return
        received = day + timedelta(days=statute.LETTER_DELIVERY_DAYS if letter else 0)
        changes: dict[str, Any] = {
            "last_contact_on": day,
            "written_reminders": r.written_reminders + 1,
        }
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

    def charge_fee(
        self, lines: list[ir.Fee], day: date, at: str, letter: bool, sent: bool = True
    ) -> None:
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
        if not sent:  # e.g. its letter went before a segment change and is not sent again
            self.note(day, f"no fee: {fees.NOTHING_SENT}", at)
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
            self.write_off(day, at, "Ausbuchung")
        self.r = self.r.evolve(next_check_on=None, pause_reason=None)

    def write_off(self, day: date, at: str, note: str) -> Decimal:
        """Book the interest up to `day`, then the whole balance out; the amount written off.

        One path for a `written_off` step and a residual (issue 11): principal, fees and
        interest are all booked out, whichever of them is open."""
        self.book_interest(day, at)
        amount = self.r.balance
        self.actions.append(Charge("write_off", -amount, day, at, note=note))
        self.r = self.r.evolve(principal_open=ZERO, fees_open=ZERO, interest_open=ZERO)
        return amount


# The carriers: one function per action type ------------------------------------------------

Carrier = Callable[[Actions, Any, Entry, str], None]


def _fee(run: Actions, action: ir.Fee, entry: Entry, at: str) -> None:
    """B1: one fee a letter — all the state's fee lines together, charged at the first."""
    lines = [a for a in entry.state.actions if isinstance(a, ir.Fee)]
    if action is lines[0] and not run.repeated(action, entry.day, entry.state):
        run.charge_fee(lines, entry.day, at, entry.letter, entry.sent)


def _lump_sum(run: Actions, action: ir.LumpSum, entry: Entry, at: str) -> None:
    run.charge_lump_sum(entry.day, at)


def _interest(run: Actions, action: ir.Interest, entry: Entry, at: str) -> None:
    if run.cust.vulnerable:
        run.note(entry.day, "no interest claimed from a vulnerable customer (D5)", at)
        return
    run.book_interest(entry.day, at)  # what accrued unclaimed so far, on the real principal
    run.claim_interest(action, entry.day, at)


def _stop_credit(run: Actions, action: ir.StopCredit, entry: Entry, at: str) -> None:
    run.r = run.r.evolve(credit_stopped=True)
    run.actions.append(Task("stop_credit", entry.day, at, run.cust.id))


def _notify(run: Actions, action: ir.Notify, entry: Entry, at: str) -> None:
    run.actions.append(Task("notify", entry.day, at, action.team))


def _credit_report(run: Actions, action: ir.CreditReport, entry: Entry, at: str) -> None:
    run.credit_report(action, entry.day, at)


def _court_order(run: Actions, action: ir.CourtOrder, entry: Entry, at: str) -> None:
    day = entry.day
    if run.r.time_barred_from and day >= run.r.time_barred_from:
        run.note(day, "claim time-barred (§§ 195, 199 BGB): no court order", at)
    elif run.inv.currency != "EUR":
        run.note(
            day,
            f"a court payment order only for a fixed sum in euros (§ 688 ZPO); "
            f"this claim is in {run.inv.currency}: a person decides",
            at,
        )
    else:
        run.actions.append(Task("court_order", day, at, f"{cents(run.r.balance)} EUR (§ 688 ZPO)"))
        run.r = run.r.evolve(court_stage=moved(run.r.court_stage, Move.ORDER_APPLIED))


def _offer(run: Actions, action: ir.Offer, entry: Entry, at: str) -> None:
    """A discount offer becomes a term on the invoice (issue 19); other offers only ride in
    the messages (`carry_out` puts their words there)."""
    if action.kind == "discount" and run.holds(action.when, entry.day):
        skonto.offer_discount(run, action, entry.day, at)


def _handover(run: Actions, action: ir.Handover, entry: Entry, at: str) -> None:
    run.actions.append(Task("handover", entry.day, at, run.handover_brief(action, entry.day)))


#: action type -> its carrier.  Sends and approvals are not carried out one by one:
#: `carry_out` posts the messages, approvals come before the move; offers ride in the
#: messages, and a discount offer also puts its term on the invoice.
CARRIERS: dict[type, Carrier] = {
    ir.Fee: _fee,
    ir.LumpSum: _lump_sum,
    ir.Interest: _interest,
    ir.StopCredit: _stop_credit,
    ir.Notify: _notify,
    ir.CreditReport: _credit_report,
    ir.CourtOrder: _court_order,
    ir.Handover: _handover,
    ir.Offer: _offer,
}


def describe(rule: Rule) -> str:
    """The rule's words, printed once per rule: every transition asks for them (kept by
    identity: hashing a rule hashes its whole condition tree, at every call)."""
    held = _DESCRIBED.get(id(rule))
    if held is None or held[0] is not rule:
        from mahnwerk.dsl.render import describe_rule

        if len(_DESCRIBED) >= 4096:  # a long-running service reloads its policies now and then
            _DESCRIBED.clear()
        held = _DESCRIBED[id(rule)] = (rule, describe_rule(rule))
    return held[1]


_DESCRIBED: dict[int, tuple[Rule, str]] = {}


def action_words(action: Any) -> str:
    from mahnwerk.dsl.render import describe_action

    return describe_action(action)
