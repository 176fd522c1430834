"""`mahnwerk report feedback`: why customers say they pay late, per month and segment.

The answers come from the portal's "tell us why" (`customer_feedback` in the event log,
`mahnwerk.portal.actions.feedback`): forgot, cash-flow problem, invoice unclear, not
received, disagree, other.  Counted per month of the answer and per segment of the
invoice it names (or, for an answer about no invoice, of the customer's latest invoice),
so a policy owner sees whether "invoice unclear" grows in one segment after a template
change, or "cash flow" in a season.  Rows with `all` sum the months.

`stated` gives each customer's last answer for `mahnwerk analyse`, which stores it as a
behaviour fact (`customer.feedback` in a policy: a customer who said "cash_flow" may get
the instalment offer first) and counts the last reasons per segment in its summary.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from mahnwerk.engine.store.reports import (
    FEEDBACK,
    feedback_answers,
    feedback_by_customer,
    segments_and_latest,
)

if TYPE_CHECKING:  # reports.py imports this module to register the report
    from mahnwerk.engine.reports import Report

KIND = FEEDBACK


@dataclass(frozen=True, slots=True)
class Stated:
    """A customer's answers up to a day: the last reason, its day, how many answers."""

    reason: str
    on: date
    answers: int


def stated(engine: Engine, as_of: date) -> dict[int, Stated]:
    """Every customer's last "tell us why" up to the end of `as_of`, by customer id (the
    answer's invoice's customer when the event names only the invoice)."""
    rows = feedback_by_customer(engine, as_of)
    out: dict[int, Stated] = {}
    for customer_id, owner, day, payload in rows:
        cid = customer_id or owner
        if cid is None:
            continue
        reason = json.loads(payload or "{}").get("reason") or "other"
        before = out.get(cid)
        out[cid] = Stated(reason, day, (before.answers if before else 0) + 1)
    return out


def by_segment(engine: Engine, said: dict[int, Stated]) -> dict[str, dict[str, int]]:
    """How many customers last gave each reason, per segment of their latest invoice."""
    segments, latest = segments_and_latest(engine)
    out: dict[str, Counter[str]] = {}
    for cid, answer in said.items():
        segment = segments.get(latest.get(cid)) or "-"
        out.setdefault(segment, Counter())[answer.reason] += 1
    return {s: dict(sorted(c.items())) for s, c in sorted(out.items())}


def feedback(engine: Engine, as_of: date) -> Report:
    from mahnwerk.engine.reports import Report

    answers, segments, latest = feedback_answers(engine, as_of)
    counts: Counter[tuple[str, str, str]] = Counter()
    for day, invoice_id, customer_id, payload in answers:
        iid = invoice_id or latest.get(customer_id)
        segment = segments.get(iid) or "-"
        reason = json.loads(payload or "{}").get("reason", "other")
        counts[(f"{day:%Y-%m}", segment, reason)] += 1
        counts[("all", segment, reason)] += 1
    rows = [
        [m, s, r, n]
        for (m, s, r), n in sorted(counts.items(), key=lambda i: (i[0][0] == "all", i[0]))
    ]
    return Report(
        "feedback",
        f"Why customers say they pay late, up to {as_of}",
        ["month", "segment", "reason", "answers"],
        rows,
        chart=(("reason", "segment"), "answers"),
        chart_only=("month", "all"),
        as_of=as_of,
        notes=["from the portal's 'tell us why'; `all` sums the months"],
    )
