"""What a condition reads on a day, the audit note, and interest as it accrues (A6).

The facts are the words a policy's conditions use (`invoice.balance`, `customer.segment`, …);
interest is computed by `engine/law.py` and booked here so that each period of one rate and
one principal is rounded once, however often a run books (A6).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from mahnwerk.dsl.expr import EvalError, Money, evaluate
from mahnwerk.engine import law
from mahnwerk.engine.state import ZERO, Charge, Event, Note

if TYPE_CHECKING:
    from mahnwerk.dsl import ir
    from mahnwerk.dsl.compile import CompiledPolicy
    from mahnwerk.engine.state import Customer, Invoice, Record

#: Facts that change by themselves from day to day: a guard over them is re-checked daily.
DAILY_FACTS = {
    "today",
    "invoice.days_overdue",
    "invoice.balance",
    "invoice.interest",
    "customer.open_balance",
}


def where(span: Any) -> str:
    """`path:line` of a policy element, for the audit trail."""
    return f"{span.path}:{span.line}" if getattr(span, "line", 0) else "engine"


class Facts:
    """The scratchpad's state, what conditions read, notes and interest bookings."""

    r: Record
    inv: Invoice
    cust: Customer
    cp: CompiledPolicy
    policy: ir.Policy
    today: date
    actions: list[Any]
    calendar: law.Calendar
    waits_for_event: bool
    spoke_on: date | None

    @cached_property
    def customer_facts(self) -> dict[str, Any]:
        """The customer's facts, built once per step: every condition a step evaluates
        (guards, the look-ahead of D9, the segment) reads them, and they do not change."""
        return self.cust.facts()

    def money(self, amount: Decimal) -> Money:
        return Money(amount, self.inv.currency)

    def facts(self, day: date, event: Event | None = None) -> dict[str, Any]:
        r, inv, c = self.r, self.inv, self.cust
        interest = r.interest_open + self.unbooked_interest(day)
        balance = r.principal_open + r.fees_open + interest
        facts: dict[str, Any] = {
            **self.customer_facts,
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
            return bool(evaluate(expr, DayFacts(self, day, event), self.calendar.add_business_days))
        except EvalError as exc:
            self.note(day, f"condition not evaluable, treated as false: {exc}")
            return False

    def quietly(self, expr: Any, day: date) -> bool:
        """`holds` for a look ahead: an unevaluable condition is false, and leaves no note."""
        if expr is None:
            return True
        try:
            return bool(evaluate(expr, DayFacts(self, day), self.calendar.add_business_days))
        except EvalError:
            return False

    def note(self, day: date, text: str, rule: str | None = None) -> None:
        self.actions.append(Note(day, text, rule))

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


class DayFacts(Mapping[str, Any]):
    """`Facts.facts(day, event)` computed only as far as a condition reads it.

    A guard reads one to three facts, and the step evaluates several guards per invoice
    (its own, the D9 look-ahead's for every step a letter may announce): building the whole
    dict, interest included, for each cost more than the evaluation.  The names and values
    are those of `facts` (a test compares the two)."""

    __slots__ = ("_run", "_day", "_event", "_r", "_interest")

    def __init__(self, run: Facts, day: date, event: Event | None = None):
        self._run, self._day, self._event, self._r = run, day, event, run.r
        self._interest: Decimal | None = None

    def interest(self) -> Decimal:
        if self._interest is None:
            self._interest = self._r.interest_open + self._run.unbooked_interest(self._day)
        return self._interest

    def __contains__(self, name: object) -> bool:
        if name in _INVOICE_FACTS or name in self._run.customer_facts:
            return True
        return isinstance(name, str) and name in self._event_facts()

    def __getitem__(self, name: str) -> Any:
        own = _INVOICE_FACTS.get(name)
        if own is not None:
            return own(self, self._run, self._r, self._run.inv, self._day)
        event = self._event_facts()
        if name in event:
            return event[name]
        return self._run.customer_facts[name]

    def _event_facts(self) -> dict[str, Any]:
        event = self._event
        if event is None:
            return {}
        facts: dict[str, Any] = {"event.date": event.on}
        if event.promised_date is not None:
            facts["event.promised_date"] = event.promised_date
        if event.amount is not None:
            facts["event.amount"] = self._run.money(event.amount)
        return facts

    def __iter__(self) -> Iterator[str]:
        return iter(self._run.facts(self._day, self._event))

    def __len__(self) -> int:
        return len(self._run.facts(self._day, self._event))


#: The facts `facts` computes beyond the customer's, each as a function of
#: (the lazy mapping, the scratchpad, its record, the invoice, the day).
_INVOICE_FACTS: dict[str, Callable[[DayFacts, Facts, Record, Invoice, date], Any]] = {
    "customer.open_balance": lambda f, run, r, inv, day: run.money(run.cust.open_balance),
    "invoice.id": lambda f, run, r, inv, day: inv.id,
    "invoice.amount": lambda f, run, r, inv, day: run.money(inv.amount),
    "invoice.balance": lambda f, run, r, inv, day: run.money(
        r.principal_open + r.fees_open + f.interest()
    ),
    "invoice.principal": lambda f, run, r, inv, day: run.money(r.principal_open),
    "invoice.fees": lambda f, run, r, inv, day: run.money(r.fees_open),
    "invoice.interest": lambda f, run, r, inv, day: run.money(f.interest()),
    "invoice.issue_date": lambda f, run, r, inv, day: inv.issue_date,
    "invoice.due_date": lambda f, run, r, inv, day: inv.due_date,
    "invoice.days_overdue": lambda f, run, r, inv, day: Decimal(max(0, (day - inv.due_date).days)),
    "invoice.disputed": lambda f, run, r, inv, day: r.disputed,
    "invoice.currency": lambda f, run, r, inv, day: inv.currency,
    "invoice.promises": lambda f, run, r, inv, day: Decimal(r.promises),
    "invoice.time_barred": lambda f, run, r, inv, day: bool(
        r.time_barred_from and day >= r.time_barred_from
    ),
    "today": lambda f, run, r, inv, day: day,
}
