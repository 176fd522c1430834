"""What really happens next to an invoice, said beside a letter's preview.

`mahnwerk letters preview` renders any template for any invoice — also for one
that is disputed, on hold, paused by a promise or waiting for an approval,
where no letter goes out at all.  A preview that showed only the letter would
suggest it is on its way; this module says, from the invoice's own state, what
the engine will actually do: nothing until an event (and which), nothing before
a date, or the day of the next step.  The rows of `SITUATIONS` are tried in
order; the first that applies speaks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from mahnwerk.dsl.ir import TERMINAL_NAMES
from mahnwerk.engine.comms.context import InvoiceFacts

Says = Callable[[InvoiceFacts, date], str]


def _terminal(f: InvoiceFacts, today: date) -> str:
    return f"{f.number} is {f.state}: nothing more is sent about it"


def _disputed(f: InvoiceFacts, today: date) -> str:
    return (
        f"{f.number} is disputed (C1): no letter goes out and dunning stands still until "
        f"`mahnwerk event dispute-resolved {f.number}`"
    )


def _held(f: InvoiceFacts, today: date) -> str:
    return f"{f.number} is on hold: nothing goes out until `mahnwerk event release {f.number}`"


def _pending(f: InvoiceFacts, today: date) -> str:
    return (
        f"{f.number} waits for approval to move to {f.pending_approval}: nothing goes out "
        "until a person decides (`mahnwerk approvals list`)"
    )


def _paused_until(f: InvoiceFacts, today: date) -> str:
    assert f.paused_until is not None
    resume = f.paused_until + timedelta(days=1)
    return (
        f"{f.number} is paused ({f.pause_reason}) until {f.paused_until.isoformat()}: "
        f"no letter before; the run of {resume.isoformat()} looks at it again"
    )


def _paused(f: InvoiceFacts, today: date) -> str:
    return (
        f"{f.number} is paused ({f.pause_reason}): nothing more goes out until a person "
        "or an event takes it up"
    )


def _next_step(f: InvoiceFacts, today: date) -> str:
    assert f.next_step_on is not None
    return (
        f"{f.number} is in {f.state}: the run of {f.next_step_on.isoformat()} takes its next step"
    )


def _waits(f: InvoiceFacts, today: date) -> str:
    return f"{f.number} is in {f.state}: no further step is due; it waits for an event"


def _new(f: InvoiceFacts, today: date) -> str:
    return f"{f.number} has not been seen by a run yet: the next run takes it up"


#: (applies?, what to say), first match wins; `blocks` marks situations where no letter goes out.
SITUATIONS: tuple[tuple[Callable[[InvoiceFacts, date], bool], Says, bool], ...] = (
    (lambda f, d: f.state in TERMINAL_NAMES, _terminal, True),
    (lambda f, d: f.disputed, _disputed, True),
    (lambda f, d: f.held, _held, True),
    (lambda f, d: f.pending_approval is not None, _pending, True),
    (
        lambda f, d: (
            f.pause_reason is not None and f.paused_until is not None and d <= f.paused_until
        ),
        _paused_until,
        True,
    ),
    (lambda f, d: f.pause_reason is not None and f.paused_until is None, _paused, True),
    (lambda f, d: f.state == "new", _new, False),
    (lambda f, d: f.next_step_on is not None, _next_step, False),
    (lambda f, d: True, _waits, False),
)


def what_happens_next(facts: InvoiceFacts, today: date) -> tuple[str, bool]:
    """(what the engine will do, whether that means this letter is not sent now)."""
    for applies, says, blocks in SITUATIONS:
        if applies(facts, today):
            return says(facts, today), blocks
    raise AssertionError("the last row always applies")
