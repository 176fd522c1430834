"""The policy checker's legal part: limits and the residual tolerance, amounts in
the policy's currency, and the lints a policy alone reveals (§ 288 Abs. 5 BGB
lump sum for consumers, interest above the statutory rate, fees above the cap,
court or credit-bureau steps without a person's approval).  Mutation testing
(pyproject `[tool.mutmut]`) measures this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from mahnwerk.dsl import ir, statute
from mahnwerk.dsl.errors import Span
from mahnwerk.dsl.expr import (
    Binary,
    Expr,
    ListExpr,
    Lit,
    Money,
    Ref,
    Type,
    Unary,
)

#: B1: the consumer fee cap per letter as money, for messages (the number: `dsl/statute.py`).
CONSUMER_FEE_CAP = Money(statute.CONSUMER_FEE_CAP, "EUR")

#: Issue 11: the largest residual tolerance a policy may set.  The tolerance is for cents left
#: by rounding or a payment a little short; a larger waiver is a person's decision.
MAX_RESIDUAL_TOLERANCE = Decimal("10.00")


class _LegalLints:
    """Limits, residual, amounts and the legal lints; mixed into the checker."""

    def check_limits(self) -> None:
        lim = self.p.limits
        if (lim.max_contacts is None) != (lim.contact_window is None):
            self.c.error(lim.span, "a contact limit needs both a count and a window", code="E033")
        if lim.letter_gap is not None and lim.letter_gap.days < statute.LETTER_GAP_MIN_DAYS:
            self.c.error(
                lim.at("letter_gap"),
                f"letters {lim.letter_gap} apart is too close: at least "
                f"{statute.LETTER_GAP_MIN_DAYS} days (D4)",
                code="L004",
            )
        for qh in lim.quiet_hours:
            if qh.channel in ir.PAPER:
                self.c.warning(qh.span, "quiet hours do not apply to letters", code="W012")
        if lim.fee_share is not None and not (Decimal(0) <= lim.fee_share <= 100):
            self.c.error(lim.span, "the fee share must be between 0 % and 100 %", code="E033")
        self.check_residual(lim)

    def check_residual(self, lim: ir.Limits) -> None:
        """Issue 11: a residual tolerance is for cents, and `ask` needs a letter to ask in."""
        residual = lim.residual
        if residual is None:
            return
        at = lim.at("residual")
        if residual.tolerance.amount > MAX_RESIDUAL_TOLERANCE:
            self.c.error(
                at,
                f"a residual tolerance of {residual.tolerance} is more than "
                f"{MAX_RESIDUAL_TOLERANCE} {self.p.currency}: a tolerance is for cents left by "
                "rounding or a payment a little short, and the engine waives it unasked",
                hint="lower it (the default is "
                f"{statute.DEFAULT_RESIDUAL_TOLERANCE} {self.p.currency}); larger amounts are "
                "written off by a person (`mahnwerk event write-off`)",
                code="L009",
            )
        if residual.action is ir.ResidualAction.ASK and not any(
            isinstance(action, ir.Send) and action.channel in ir.WRITTEN
            for ladder in self.p.ladders
            for state in ladder.states
            for action in state.actions
        ):
            self.c.error(
                at,
                "`ask in next letter`, but no state of this policy sends a letter or an e-mail "
                "to ask in",
                hint="write `residual up to … write off`, or add a letter to a ladder",
                code="E038",
            )

    # expressions -------------------------------------------------------------

    def check_money(self) -> None:
        for span, money in self._amounts():
            if money.currency != self.p.currency:
                self.c.error(
                    span,
                    f"{money} is not in the policy's currency {self.p.currency}",
                    code="E032",
                )
            if money.amount < 0:
                self.c.error(span, f"an amount cannot be negative here: {money}", code="E033")

    def _amounts(self) -> Iterator[tuple[Span, Money]]:
        lim = self.p.limits
        for key in (
            "minimum_balance",
            "fee_cap",
            "minimum_handover",
            "skonto_tolerance",
            "late_skonto_write_off",
        ):
            value = getattr(lim, key)
            if value is not None:
                yield lim.at(key), value
        if lim.residual is not None:
            yield lim.at("residual"), lim.residual.tolerance
        for ladder in self.p.ladders:
            for state in ladder.states:
                for action in state.actions:
                    if isinstance(action, ir.Fee):
                        yield action.span, action.amount
        for expr, _ in self._expressions():
            for lit in _literals(expr):
                if lit.type is Type.MONEY:
                    yield lit.span, lit.value

    # legal lints -------------------------------------------------------------
    def legal_lints(self) -> None:
        consumer_ladders = {s.ladder for s in self.p.segments if may_hold_consumers(s)}
        cap = self.p.limits.fee_cap
        if cap is not None and consumer_ladders and statute.exceeds_consumer_cap(cap.amount):
            self.c.error(
                self.p.limits.at("fee_cap"),
                f"a fee cap of {cap} is above the {CONSUMER_FEE_CAP} a consumer may be "
                "charged per letter (§§ 280, 286, 309 Nr. 5 BGB; BGH VIII ZR 95/18)",
                hint="lower the cap, or restrict the policy to business customers",
                code="L001",
            )
        for ladder in self.p.ladders:
            consumers = ladder.name in consumer_ladders
            effective_cap = cap if cap is not None else (CONSUMER_FEE_CAP if consumers else None)
            for state in ladder.states:
                self._lint_state(ladder, state, consumers, effective_cap)

    def _lint_one_fee(self, state: ir.State) -> None:
        """B1 holds per letter: one `fee` line per state, so the cap cannot be split in two."""
        lines = [a for a in state.actions if isinstance(a, ir.Fee)]
        for extra in lines[1:]:
            self.c.error(
                extra.span,
                f"state {state.name!r} already charges {lines[0].amount} for its letter "
                f"(line {lines[0].span.line}); a second fee line would charge one letter twice",
                hint="write one `fee` line with the whole amount (at most "
                f"{CONSUMER_FEE_CAP} a letter for consumers, § 309 Nr. 5 BGB)",
                code="L008",
            )

    def _lint_state(
        self, ladder: ir.Ladder, state: ir.State, consumers: bool, cap: Money | None
    ) -> None:
        kinds = {type(a) for a in state.actions}
        channels = {a.channel for a in state.actions if isinstance(a, ir.Send)}
        self._lint_one_fee(state)
        for action in state.actions:
            if isinstance(action, ir.LumpSum) and consumers:
                self.c.error(
                    action.span,
                    "the 40 EUR lump sum (§ 288 Abs. 5 BGB) is only due from businesses, "
                    f"but ladder {ladder.name!r} serves a segment that can hold consumers",
                    hint="restrict the segment with `customer.type == B2B` or remove `lump sum`",
                    code="L002",
                )
            if isinstance(action, ir.Interest) and not action.statutory:
                limit = statute.CONSUMER_POINTS if consumers else statute.BUSINESS_POINTS
                if (action.points or Decimal(0)) > limit:
                    self.c.error(
                        action.span,
                        f"interest of base + {action.points} points is above the statutory "
                        f"base + {limit} (§ 288 BGB)" + (" for consumers" if consumers else ""),
                        hint="write `interest statutory`",
                        code="L003",
                    )
            if isinstance(action, ir.Fee):
                if cap is not None and action.amount.amount > cap.amount:
                    self.c.error(
                        action.span,
                        f"a fee of {action.amount} is above the cap of {cap} "
                        "(only real material costs may be charged, § 309 Nr. 5 BGB)",
                        hint=f"charge at most {cap}",
                        code="L001",
                    )
                if not channels & ir.PAPER:
                    self.c.error(
                        action.span,
                        "a dunning fee needs a letter: e-mail and SMS cost nothing to send "
                        "(§§ 280, 286 BGB allow only material costs)",
                        hint="send a letter in this state or remove the fee",
                        code="L005",
                    )
            if isinstance(action, ir.Interest | ir.Fee) and _before_due(state):
                self.c.error(
                    action.span,
                    "no fee or default interest before the invoice is due (§ 286 BGB)",
                    code="L006",
                )
        for step, label in (
            (ir.CourtOrder, "a court payment order (§§ 688 ff. ZPO)"),
            (ir.CreditReport, "a credit-bureau report (§ 31 BDSG, GDPR Art. 22)"),
            (ir.Handover, "a collection handover (D8)"),
        ):
            if step in kinds and ir.Approval not in kinds:
                span = next(a.span for a in state.actions if isinstance(a, step))
                self.c.error(
                    span,
                    f"{label} needs a person's approval",
                    hint="add `approval by 1` (or `approval by 2 when balance > 1000 EUR else 1`)",
                    code="L007",
                )
        for action in state.actions:
            if (
                isinstance(action, ir.Approval)
                and (action.approvers < 1 or action.otherwise < 1)
                and kinds & {ir.CourtOrder, ir.CreditReport}
            ):
                self.c.error(
                    action.span,
                    "court and credit-bureau steps always need at least one approver",
                    code="L007",
                )


def _before_due(state: ir.State) -> bool:
    t = state.trigger
    return isinstance(t, ir.TimeTrigger) and t.anchor is ir.Anchor.DUE and t.offset.days < 0


def may_hold_consumers(segment: ir.Segment) -> bool:
    """False only if the segment's condition requires a business customer."""
    return not _requires_business(segment.when)


def _requires_business(expr: Expr | None) -> bool:
    if expr is None:
        return False
    if isinstance(expr, Binary):
        if expr.op == "and":
            return _requires_business(expr.left) or _requires_business(expr.right)
        if expr.op == "or":
            return _requires_business(expr.left) and _requires_business(expr.right)
        if expr.op in ("==", "!="):
            sides = (expr.left, expr.right)
            ref = next((s for s in sides if isinstance(s, Ref)), None)
            lit = next((s for s in sides if isinstance(s, Lit)), None)
            if ref is not None and lit is not None and ref.name == "customer.type":
                return (expr.op == "==" and lit.value == "B2B") or (
                    expr.op == "!=" and lit.value == "B2C"
                )
    return False


def _literals(expr: Expr) -> Iterator[Lit]:
    if isinstance(expr, Lit):
        yield expr
    elif isinstance(expr, Unary):
        yield from _literals(expr.operand)
    elif isinstance(expr, Binary):
        yield from _literals(expr.left)
        yield from _literals(expr.right)
    elif isinstance(expr, ListExpr):
        for item in expr.items:
            yield from _literals(item)
