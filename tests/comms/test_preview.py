"""`letters preview` says what really happens next: one row of the table per situation."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from mahnwerk.engine.comms.context import InvoiceFacts
from mahnwerk.engine.comms.preview import what_happens_next

TODAY = date(2026, 3, 6)
BASE = InvoiceFacts(
    id=1,
    number="R1",
    issue_date=date(2026, 2, 10),
    due_date=date(2026, 2, 24),
    amount=Decimal("480.00"),
    currency="EUR",
    state="erinnerung",
    principal=Decimal("480.00"),
    fees=Decimal("0.00"),
    interest=Decimal("0.00"),
    next_step_on=date(2026, 3, 10),
)


@pytest.mark.parametrize(
    ("changes", "said", "blocked"),
    [
        ({}, "R1 is in erinnerung: the run of 2026-03-10 takes its next step", False),
        ({"state": "paid"}, "R1 is paid: nothing more is sent", True),
        ({"state": "handed_over"}, "R1 is handed_over: nothing more is sent", True),
        ({"disputed": True}, "until `mahnwerk event dispute-resolved R1`", True),
        ({"held": True}, "until `mahnwerk event release R1`", True),
        ({"pending_approval": "inkasso"}, "waits for approval to move to inkasso", True),
        (
            {"pause_reason": "promise_made", "paused_until": date(2026, 3, 25)},
            "paused (promise_made) until 2026-03-25: no letter before; the run of 2026-03-26",
            True,
        ),
        (
            {"pause_reason": "below minimum balance"},
            "paused (below minimum balance): nothing more goes out",
            True,
        ),
        (
            {"pause_reason": "promise_made", "paused_until": date(2026, 3, 1)},
            "the run of 2026-03-10 takes its next step",
            False,
        ),
        ({"next_step_on": None}, "no further step is due; it waits for an event", False),
        ({"state": "new", "next_step_on": None}, "has not been seen by a run yet", False),
    ],
)
def test_the_preview_says_what_the_engine_will_do(changes, said, blocked):
    text, blocks = what_happens_next(dataclasses.replace(BASE, **changes), TODAY)
    assert said in text and blocks is blocked
