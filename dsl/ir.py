"""The policy IR: what a dunning policy *is*, whichever syntax it was written in.

Both readers (`yaml_reader`, `text_reader`) produce exactly these frozen
dataclasses; the checker (`compile`) validates them and builds one networkx
graph per segment; the engine runs invoices through those graphs.  The IR holds
no per-invoice data and knows nothing of the database.

Conditions are kept as parsed, typed expression trees (`dsl.expr`) so the
checker can reject `invoice.due_date > 100 EUR` before anything runs; their
evaluation against an invoice's facts is `expr.evaluate`'s job.

Every node carries a `Span` so errors, `mahnwerk policy explain` and the
engine's audit trail can cite `policy.mahn:42`.  Spans are excluded from
equality, so the same policy read from YAML and from the text form compares
equal (the round-trip property of `mahnwerk policy convert`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal
from enum import StrEnum

from mahnwerk.dsl.errors import NOWHERE, Span
from mahnwerk.dsl.expr import Duration, Expr, Money

# ---------------------------------------------------------------------------
# Vocabulary of the trade
# ---------------------------------------------------------------------------


class Channel(StrEnum):
    EMAIL = "email"
    LETTER = "letter"
    SMS = "sms"
    CALL = "call"
    LETTER_SHOP = "letter_shop"  # a letter posted to a print service (engine/comms/channels)


#: Channels whose message is a letter on paper: the only ones with a material cost (so a
#: dunning fee, B1, needs one), without quiet hours, and what other channels fall back to.
#: The engine's channel registry marks the same channels `paper` (tests/comms/test_channels).
PAPER: frozenset[Channel] = frozenset({Channel.LETTER, Channel.LETTER_SHOP})
#: Written channels: a parked residual can be asked for in them (`ask in next letter`).
#: The registry marks the same channels `written`.
WRITTEN: frozenset[Channel] = frozenset({Channel.LETTER, Channel.EMAIL, Channel.LETTER_SHOP})


class EventKind(StrEnum):
    """Things that happen to an invoice from outside, in the words of the trade."""

    PAYMENT_FULL = "payment_full"
    PAYMENT_PARTIAL = "payment_partial"
    DISPUTE_OPENED = "dispute_opened"
    DISPUTE_RESOLVED = "dispute_resolved"
    PROMISE_MADE = "promise_made"
    PROMISE_BROKEN = "promise_broken"
    PLAN_AGREED = "plan_agreed"
    INSTALMENT_MISSED = "instalment_missed"
    PLAN_COMPLETED = "plan_completed"
    INSOLVENCY = "insolvency"
    WRITE_OFF = "write_off"
    DELIVERY_FAILED = "delivery_failed"
    HOLD = "hold"
    RELEASE = "release"
    DEATH_NOTICE = "death_notice"
    COURT_ORDER_SERVED = "court_order_served"  # C3: the payment order reached the debtor
    OBJECTION_FILED = "objection_filed"  # C3: the debtor objected (§ 694 ZPO)
    ENFORCEMENT_APPLIED = "enforcement_applied"  # C3: enforcement order applied for (§ 699)
    CONVERSATION = "conversation"  # D3: the customer was reached (phone, in person)
    CALLBACK_REQUESTED = "callback_requested"  # the customer asks to be called back


class Terminal(StrEnum):
    """States an invoice never leaves; every ladder ends in one of these."""

    PAID = "paid"
    WRITTEN_OFF = "written_off"
    HANDED_OVER = "handed_over"
    INSOLVENT = "insolvent"


#: The implicit state every invoice starts in before any ladder step fired.
INITIAL_STATE = "open"
#: Pseudo-state shown in graphs for invoices paused by an event handler.
PAUSED_STATE = "paused"

TERMINAL_NAMES = frozenset(t.value for t in Terminal)
RESERVED_STATE_NAMES = TERMINAL_NAMES | {INITIAL_STATE, PAUSED_STATE}


def _span() -> Span:
    return field(default=NOWHERE, compare=False, repr=False)


# ---------------------------------------------------------------------------
# Triggers: what moves an invoice into a state
# ---------------------------------------------------------------------------


class Anchor(StrEnum):
    DUE = "due"  # the invoice's due date
    ISSUE = "issue"  # the invoice's issue date
    STATE = "state"  # the day the invoice entered `TimeTrigger.state`


@dataclass(frozen=True, slots=True)
class TimeTrigger:
    """`7d after due`, `3d before due`, `14d in mahnung_1`, `10 business days after issue`.

    `offset` is signed: `3d before due` is -3 days from the due date.  For
    `Anchor.STATE` the trigger also names the state the invoice must be in,
    which makes that state the edge's source.
    """

    offset: Duration
    anchor: Anchor
    state: str | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class EventTrigger:
    """`on delivery_failed`: the state is entered when this event arrives."""

    event: EventKind
    span: Span = _span()


Trigger = TimeTrigger | EventTrigger


# ---------------------------------------------------------------------------
# Actions: what happens when an invoice enters a state
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Send:
    channel: Channel
    template: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Fee:
    """A dunning fee for this level (§§ 280, 286 BGB: real material costs only)."""

    amount: Money
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class LumpSum:
    """The 40 EUR default lump sum of § 288 Abs. 5 BGB: business debtors only, once."""

    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Interest:
    """Start default interest: `statutory` (§ 288 BGB) or `points` above the base rate."""

    statutory: bool = True
    points: Decimal | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Offer:
    """An offer made in the letter: early-payment discount (Skonto), a payment plan, or a
    time-limited discount the engine honours (`offer discount 2 % until 7d after due`).

    A `discount` puts a term on the invoice — `percent` off if paid by the day `until`
    names (a signed offset from the due or issue date) — which payment matching honours
    like Skonto and books as `discount` citing this line (engine/skonto.py).
    """

    kind: str  # "skonto" | "payment_plan" | "discount"
    percent: Decimal | None = None  # skonto or discount percentage
    within: Duration | None = None  # skonto: if paid within this period of the letter
    instalments: int | None = None  # payment plan: at most this many instalments
    when: Expr | None = None
    span: Span = _span()
    until: TimeTrigger | None = None  # discount: the last day, from the due or issue date


@dataclass(frozen=True, slots=True)
class Approval:
    """Hold the step until `approvers` distinct people approved it (four eyes = 2).

    `when` is the condition under which `approvers` apply; otherwise `otherwise`
    approvers are needed (0 = none).
    """

    approvers: int
    when: Expr | None = None
    otherwise: int | None = None  # None: the same as `approvers` without `when`, else 0
    span: Span = _span()

    def __post_init__(self) -> None:
        if self.otherwise is None:
            object.__setattr__(self, "otherwise", self.approvers if self.when is None else 0)


@dataclass(frozen=True, slots=True)
class Handover:
    """Hand the claim to a collection agency; the invoice then ends `handed_over`."""

    agency: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class CourtOrder:
    """Prepare an application for a court payment order (§§ 688 ff. ZPO)."""

    span: Span = _span()


@dataclass(frozen=True, slots=True)
class CreditReport:
    """Report the claim to a credit bureau (only if § 31 BDSG's preconditions hold)."""

    bureau: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class StopCredit:
    """Block further deliveries on credit for the customer."""

    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Notify:
    """Tell a team (sales, key account management, legal) about the step."""

    team: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class WriteOff:
    """Write the balance off; the invoice then ends `written_off`."""

    span: Span = _span()


Action = (
    Send
    | Fee
    | LumpSum
    | Interest
    | Offer
    | Approval
    | Handover
    | CourtOrder
    | CreditReport
    | StopCredit
    | Notify
    | WriteOff
)


# ---------------------------------------------------------------------------
# States, ladders, segments, event handlers, limits, the policy
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class State:
    """One step of a ladder, e.g. `mahnung_1`.

    `trigger` says when an invoice moves in, `guard` must also hold, `sources`
    (if given) restricts which states it may come from; otherwise the checker
    derives them from the ladder order.  `manual` marks a state where the
    invoice deliberately waits for a person (e.g. after a court order).
    """

    name: str
    trigger: Trigger
    actions: tuple[Action, ...] = ()
    guard: Expr | None = None
    title: str | None = None
    sources: tuple[str, ...] = ()
    manual: bool = False
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Transition:
    """An explicit extra edge: `on delivery_failed in erinnerung -> brief_erinnerung`."""

    source: str
    target: str
    trigger: Trigger
    guard: Expr | None = None
    priority: int | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Ladder:
    name: str
    states: tuple[State, ...]
    transitions: tuple[Transition, ...] = ()
    span: Span = _span()


class HandlerAction(StrEnum):
    PAUSE = "pause"  # stop escalating until `until` or a resuming event
    RESUME = "resume"  # continue at the level reached
    STOP = "stop"  # end in the terminal `target`
    GOTO = "goto"  # move to ladder state `target`
    IGNORE = "ignore"


@dataclass(frozen=True, slots=True)
class Handler:
    """`on dispute_opened: pause`, `on insolvency: stop -> insolvent`."""

    event: EventKind
    action: HandlerAction
    target: str | None = None
    until: Expr | None = None  # pause until this date expression
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Segment:
    """`segment good_payers when ... use standard`: first match wins; `when=None` is the default."""

    name: str
    ladder: str
    when: Expr | None = None
    tone: str | None = None
    language: str | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class QuietHours:
    """No `channel` contact between `start` and `end` (wrapping midnight if end < start)."""

    channel: Channel
    start: time
    end: time
    span: Span = _span()


class ResidualAction(StrEnum):
    """What becomes of a residual within the tolerance (issue 11); never an escalation."""

    WRITE_OFF = "write off"  # booked out with the policy line as its reason
    ASK = "ask in next letter"  # kept open, asked for in the customer's next regular letter


@dataclass(frozen=True, slots=True)
class Residual:
    """`residual up to 1.00 EUR write off`: a balance of at most `tolerance` that is left
    after the customer paid the invoice's amount (so it is interest and fees, however § 367
    BGB labels the last cents) is never escalated, but written off or asked for once more.
    Without the line the engine applies `statute.DEFAULT_RESIDUAL_TOLERANCE`, written off."""

    tolerance: Money
    action: ResidualAction = ResidualAction.WRITE_OFF
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Limits:
    minimum_balance: Money | None = None
    max_contacts: int | None = None
    contact_window: Duration | None = None
    letter_gap: Duration | None = None
    quiet_hours: tuple[QuietHours, ...] = ()
    fee_cap: Money | None = None
    fee_share: Decimal | None = None  # fees at most this percent of the principal (D10)
    minimum_handover: Money | None = None  # no handover or court below this principal (D10)
    #: A9: how long escalation after the due date waits for payments in transit; business
    #: days count TARGET2 days (the euro payment calendar).  None: 3 TARGET2 days.
    payment_grace: Duration | None = None
    #: issue 11: residual cents of interest and fees (None: the statutory default applies)
    residual: Residual | None = None
    #: issue 19: how far a payment may differ from the amount less a Skonto or discount and
    #: still earn it (None: 0.05 EUR)
    skonto_tolerance: Money | None = None
    #: issue 19: a Skonto deducted too late — the letter that claims it (None: the shipped
    #: `skonto_nachforderung`), written off instead when the deduction is at most
    #: `late_skonto_write_off`, or dunned by the ladder like any balance (`late_skonto_ladder`)
    late_skonto_letter: str | None = None
    late_skonto_write_off: Money | None = None
    late_skonto_ladder: bool = False
    span: Span = _span()
    #: where each limit was written (`fee_cap`, `letter_gap`, …), so errors point at its line
    spans: tuple[tuple[str, Span], ...] = field(default=(), compare=False, repr=False)

    def at(self, key: str) -> Span:
        """The span of the line that sets `key`, else of the `limits` block."""
        return next((span for name, span in self.spans if name == key), self.span)


@dataclass(frozen=True, slots=True)
class Calendar:
    """Public holidays: `country` and a fixed `region`, or the customer's region."""

    country: str
    region: str | None = None
    region_from_customer: bool = False
    span: Span = _span()


class SegmentMove(StrEnum):
    """Where an invoice lands when its segment changes (`on segment change move to ...`).

    The move itself sends nothing and charges nothing; the new ladder's timing counts
    from the day of the move.  `same state` is the default because it is the only
    rule that neither repeats a level nor skips one: an invoice whose state the new
    ladder lacks stays in its old segment (and a deploy that would leave it without
    its old segment is refused as stranding it).
    """

    SAME_STATE = "same state"  # the state of the same name, else stay
    SAME_RANK = "same rank"  # the state at the same position of the new ladder
    START = "start"  # the start of the new ladder (nothing already sent is sent again)


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    version: int
    currency: str
    timezone: str
    calendar: Calendar
    language: str
    segments: tuple[Segment, ...]
    ladders: tuple[Ladder, ...]
    handlers: tuple[Handler, ...] = ()
    limits: Limits = Limits()
    segment_move: SegmentMove = SegmentMove.SAME_STATE
    segment_move_span: Span = _span()
    path: str = field(default="<memory>", compare=False)
    span: Span = _span()

    def ladder(self, name: str) -> Ladder:
        for ladder in self.ladders:
            if ladder.name == name:
                return ladder
        raise KeyError(name)

    def segment(self, name: str) -> Segment:
        for segment in self.segments:
            if segment.name == name:
                return segment
        raise KeyError(name)


#: The order in which a state's actions are kept (and carried out).  Both
#: readers sort into it, so a policy means the same whichever syntax or key
#: order it was written in, and the engine's order of effects is predictable:
#: first say it, then offer, then charge, then ask, then escalate.
ACTION_ORDER: tuple[type, ...] = (
    Send,
    Offer,
    Fee,
    LumpSum,
    Interest,
    Approval,
    Notify,
    StopCredit,
    CreditReport,
    CourtOrder,
    Handover,
    WriteOff,
)


def canonical_actions(actions: tuple | list) -> tuple:
    """`actions` in `ACTION_ORDER`, stable within one kind."""
    rank = {kind: i for i, kind in enumerate(ACTION_ORDER)}
    return tuple(sorted(actions, key=lambda a: rank[type(a)]))
