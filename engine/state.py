"""The plain values the engine's step function reads and returns.

These are deliberately not the database rows: `step` is a pure function of
(record, facts, events, today, policy), so it can be tested with plain values
and explored with hypothesis.  The store (`engine.store`) maps rows to these
and back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from operator import attrgetter
from typing import Any

from mahnwerk.dsl.events import EVENTS
from mahnwerk.dsl.expr import Money
from mahnwerk.dsl.ir import INITIAL_STATE, EventKind
from mahnwerk.engine.money import CENT, ZERO, cents  # noqa: F401  (imported from here too)
from mahnwerk.engine.terms import Offered, Tier


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    name: str = ""
    type: str = "B2C"  # B2B | B2C
    country: str = "DE"
    region: str | None = None
    language: str = "de"
    tags: frozenset[str] = frozenset()
    vulnerable: bool = False
    opted_out: frozenset[str] = frozenset()
    timezone: str = "Europe/Berlin"
    risk_score: Decimal | None = None
    avg_days_late: Decimal | None = None
    #: payment behaviour from `mahnwerk analyse` (engine/behaviour.py); None: not analysed
    median_days_late: Decimal | None = None
    late_share: Decimal | None = None
    trend_days: Decimal | None = None
    disputes: int = 0
    partial_payments: int = 0
    overdue_invoices: int = 0
    gone_quiet: bool = False
    feedback: str = ""  # the portal's "tell us why", last reason given (engine/feedback.py)
    open_balance: Decimal = ZERO
    open_invoices: int = 0
    insolvent_since: date | None = None
    deceased_since: date | None = None

    @property
    def is_consumer(self) -> bool:
        return self.type != "B2B"

    def facts(self) -> dict[str, Any]:
        """The `customer.*` facts conditions read (policy segments, deployments' `--for`)."""
        return {
            "customer.id": self.id,
            "customer.name": self.name,
            "customer.type": self.type,
            "customer.country": self.country,
            "customer.region": self.region or "",
            "customer.language": self.language,
            "customer.tags": sorted(self.tags),
            "customer.vulnerable": self.vulnerable,
            "customer.risk_score": self.risk_score if self.risk_score is not None else Decimal(0),
            "customer.avg_days_late": (
                self.avg_days_late if self.avg_days_late is not None else Decimal(0)
            ),
            "customer.open_balance": Money(self.open_balance, "EUR"),
            "customer.open_invoices": Decimal(self.open_invoices),
            "customer.median_days_late": _or_zero(self.median_days_late),
            "customer.late_share": _or_zero(self.late_share),
            "customer.trend_days": _or_zero(self.trend_days),
            "customer.disputes": Decimal(self.disputes),
            "customer.partial_payments": Decimal(self.partial_payments),
            "customer.overdue_invoices": Decimal(self.overdue_invoices),
            "customer.gone_quiet": self.gone_quiet,
            "customer.feedback": self.feedback,
        }


def _or_zero(value: Decimal | None) -> Decimal:
    """Behaviour figures not yet analysed read as 0, like `risk_score` and `avg_days_late`."""
    return value if value is not None else Decimal(0)


@dataclass(frozen=True, slots=True)
class Invoice:
    id: str
    customer_id: str
    issue_date: date
    due_date: date
    amount: Decimal
    currency: str = "EUR"
    due_date_agreed: bool = False  # A1: a calendar date agreed in the contract
    notice_30_days: bool = False  # A3: the invoice points out § 286 Abs. 3 BGB
    received_on: date | None = None
    #: A4/A7: payment for goods or services (§ 288 Abs. 2, 5 BGB); False: another money debt
    goods_or_services: bool = True
    #: issue 19: the Skonto tiers the invoice grants (`due_date` stays the net due date)
    skonto: tuple[Tier, ...] = ()


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened to an invoice; `on` is the day it took effect."""

    kind: EventKind
    on: date
    amount: Decimal | None = None
    promised_date: date | None = None
    note: str = ""
    ref: str | None = None  # external id (payment id, …) for the audit trail
    instalments: tuple[tuple[date, Decimal], ...] = ()  # a payment plan: (due day, amount)
    data: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Record:
    """One invoice's dunning state: small, persisted, migrated by state name."""

    invoice_id: str
    state: str = INITIAL_STATE
    segment: str | None = None
    ladder: str | None = None
    entered_on: date | None = None
    next_check_on: date | None = None
    principal_open: Decimal = ZERO
    fees_open: Decimal = ZERO
    #: D10: the policy's own fees charged so far, paid or not (never interest or the lump sum)
    fees_charged_sum: Decimal = ZERO
    interest_open: Decimal = ZERO
    #: issue 11: what payments paid on costs and interest so far (§ 367 BGB takes them
    #: first).  The invoice's amount is paid once `principal_open <= add_ons_paid`: what is
    #: still open is then, in money, interest and fees (engine/residual.py)
    add_ons_paid: Decimal = ZERO
    interest_to: date | None = None  # interest booked up to and including this day
    #: A6: first day of the current run of one principal at one surcharge; the run's booked
    #: interest is its per-period sum up to `interest_to`.  None: the next booking starts one.
    interest_run_from: date | None = None
    interest_active: bool = False  # the policy claims default interest from default_since
    interest_points: Decimal | None = None  # None: statutory (§ 288 Abs. 1/2 BGB)
    #: interest accrued in default but not yet claimed: (from, to, principal, amount) per period
    interest_deferred: tuple[tuple[date, date, Decimal, Decimal], ...] = ()
    default_since: date | None = None
    first_reminder_on: date | None = None
    written_reminders: int = 0
    lump_sum_charged: bool = False
    last_letter_on: date | None = None
    last_contact_on: date | None = None
    paused_until: date | None = None
    pause_reason: str | None = None
    held: bool = False
    disputed: bool = False
    promises: int = 0
    plan_active: bool = False
    plan: tuple[tuple[date, Decimal], ...] = ()  # the agreed instalments (D6)
    plan_paid: Decimal = ZERO  # paid since the plan was agreed
    pending_approval: str | None = None  # target state waiting for approval
    approved_target: str | None = None  # approved, to be carried out on the next step
    approved_on: date | None = None  # the day of the (last) approval: the step's earliest date
    time_barred_from: date | None = None
    credit_stopped: bool = False
    #: C2: the day the debtor received a letter announcing a possible credit-bureau report
    report_notice_on: date | None = None
    #: C4: the last part payment or acknowledgement, which restarts limitation (§ 212 BGB)
    limitation_restart_on: date | None = None
    #: C3: the court payment order (§§ 688 ff. ZPO): applied, served, objected,
    #: enforcement_due, enforcement, lapsed
    court_stage: str | None = None
    court_served_on: date | None = None
    #: E3: the policy line whose `interest` action claims default interest
    interest_rule: str | None = None
    #: issue 13: templates queued so far, fees charged so far, fees charged before the last
    #: segment move (the new ladder's first `fee_floor` fee levels are not charged again),
    #: and the day of that move (engine/segment_moves.py)
    sent_templates: frozenset[str] = frozenset()
    fees_charged: int = 0
    fee_floor: int = 0
    segment_moved_on: date | None = None
    #: issue 19: discounts the policy offered (`offer discount …`), honoured like Skonto
    discount_offers: tuple[Offered, ...] = ()
    #: issue 19: a Skonto deducted after its period — the payment's day and what it missed;
    #: the policy pursues it by letter or writes it off, not by the ladder (engine/skonto.py)
    deduction_on: date | None = None
    deduction_note: str | None = None

    @property
    def balance(self) -> Decimal:
        return self.principal_open + self.fees_open + self.interest_open

    def evolve(self, **changes: Any) -> Record:
        """A copy with `changes`; the step's hot path, so cheaper than `dataclasses.replace`:
        all values read in one C call, the changed ones put in place, every slot written
        by its descriptor (a frozen class's `__setattr__` refuses, `__init__` re-checks)."""
        values = list(_READ_ALL(self))
        for name, value in changes.items():
            values[_POSITION[name]] = value
        return record_from_fields(values)


_RECORD_FIELDS = tuple(f.name for f in fields(Record))
_READ_ALL = attrgetter(*_RECORD_FIELDS)
_POSITION = {name: i for i, name in enumerate(_RECORD_FIELDS)}
_WRITERS = tuple(Record.__dict__[name].__set__ for name in _RECORD_FIELDS)


def _slot_writer() -> Callable[[Sequence[Any]], Record]:
    """`record_from_fields`'s body: one straight line per slot, `w{i}(new, values[i])`, made
    once from `_WRITERS` (as `dataclasses` makes `__init__`).  Half the time of the
    `deque(map(operator.call, ...))` loop it replaced (issue 21: 5 % of the daily run)."""
    lines = "".join(f"    w{i}(new, values[{i}])\n" for i in range(len(_WRITERS)))
    source = f"def record_from_fields(values):\n    new = blank(Record)\n{lines}    return new\n"
    scope: dict[str, Any] = {"blank": object.__new__, "Record": Record}
    scope.update((f"w{i}", w) for i, w in enumerate(_WRITERS))
    exec(source, scope)  # noqa: S102  (our own text, from the field list)
    return scope["record_from_fields"]


record_from_fields: Callable[[Sequence[Any]], Record] = _slot_writer()
"""A `Record` from all its field values in field order (no defaults, no checks: for the
store, which reads every column, and `evolve`), every slot written by its descriptor:
`__init__` of a frozen class sets each field through `object.__setattr__`, and a Python
loop costs as much again."""


# ---------------------------------------------------------------------------
# What a step decides
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Transition:
    source: str
    target: str
    on: date
    rule: str  # "policies/x.mahn:17"
    reason: str


@dataclass(frozen=True, slots=True)
class Charge:
    """A ledger line: positive charges (fee, interest, lump sum), negative payments."""

    kind: str  # principal | fee | lump_sum | interest | payment | write_off | credit | skonto …
    amount: Decimal
    on: date
    rule: str | None = None
    period_from: date | None = None
    period_to: date | None = None
    rate: Decimal | None = None
    provisional: bool = False
    note: str = ""


@dataclass(frozen=True, slots=True)
class Message:
    """A communication to queue in the outbox; the dispatcher delivers it."""

    channel: str
    template: str
    on: date
    state: str
    rule: str
    tone: str | None = None
    language: str | None = None
    offers: tuple[str, ...] = ()
    #: D9: the steps the letter may announce because the workflow can and will take them
    announces: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    target: str
    required: int
    summary: str
    rule: str
    on: date


@dataclass(frozen=True, slots=True)
class Task:
    """Work for a person or another system: handover, court order, report, notify, …"""

    kind: str
    on: date
    rule: str
    detail: str = ""


#: The tasks the step itself hands to people, by `Task.kind`.  Events can ask for more: an
#: event kind whose row in `dsl/events.py` names a `task`; `TASK_KINDS` holds both.
STEP_TASK_KINDS = (
    "handover",
    "file_claim",
    "court_order",
    "court_objection",
    "enforcement_order",
    "credit_report",
    "notify",
    "stop_credit",
)
#: A customer's request in the portal for what only a person can grant (instalments beyond
#: the policy's offer; `mahnwerk.portal.actions.plan`).
PORTAL_TASK_KINDS = ("portal_request",)
TASK_KINDS = STEP_TASK_KINDS + tuple(spec.task for spec in EVENTS if spec.task) + PORTAL_TASK_KINDS


@dataclass(frozen=True, slots=True)
class Note:
    """An audit line: something the engine decided not to do, and why."""

    on: date
    text: str
    rule: str | None = None


Action = Transition | Charge | Message | ApprovalRequest | Task | Note


@dataclass(frozen=True, slots=True)
class Outcome:
    record: Record
    actions: tuple[Action, ...] = field(default_factory=tuple)

    @property
    def transitions(self) -> list[Transition]:
        return [a for a in self.actions if isinstance(a, Transition)]

    @property
    def charges(self) -> list[Charge]:
        return [a for a in self.actions if isinstance(a, Charge)]

    @property
    def messages(self) -> list[Message]:
        return [a for a in self.actions if isinstance(a, Message)]

    @property
    def approvals(self) -> list[ApprovalRequest]:
        return [a for a in self.actions if isinstance(a, ApprovalRequest)]

    @property
    def tasks(self) -> list[Task]:
        return [a for a in self.actions if isinstance(a, Task)]

    @property
    def notes(self) -> list[Note]:
        return [a for a in self.actions if isinstance(a, Note)]
