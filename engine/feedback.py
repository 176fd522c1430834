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

from sqlalchemy import Engine, select

from mahnwerk.engine.models import DS, EVENT, INV

if TYPE_CHECKING:  # reports.py imports this module to register the report
    from mahnwerk.engine.reports import Report

KIND = "customer_feedback"


@dataclass(frozen=True, slots=True)
class Stated:
    """A customer's answers up to a day: the last reason, its day, how many answers."""

    reason: str
    on: date
    answers: int


def stated(engine: Engine, as_of: date) -> dict[int, Stated]:
    """Every customer's last "tell us why" up to the end of `as_of`, by customer id (the
    answer's invoice's customer when the event names only the invoice)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(EVENT.c.customer_id, INV.c.customer_id.label("owner"), EVENT.c.occurred_on,
                   EVENT.c.payload)
            .outerjoin(INV, INV.c.id == EVENT.c.invoice_id)
            .where(EVENT.c.kind == KIND, EVENT.c.occurred_on <= as_of)
            .order_by(EVENT.c.occurred_on, EVENT.c.id)
        ).all()  # fmt: skip
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
    with engine.connect() as conn:
        segments = dict(conn.execute(select(DS.c.invoice_id, DS.c.segment)).all())
        latest = dict(
            conn.execute(
                select(INV.c.customer_id, INV.c.id).order_by(INV.c.issue_date, INV.c.id)
            ).all()
        )  # the last row per customer wins: their latest invoice
    out: dict[str, Counter[str]] = {}
    for cid, answer in said.items():
        segment = segments.get(latest.get(cid)) or "-"
        out.setdefault(segment, Counter())[answer.reason] += 1
    return {s: dict(sorted(c.items())) for s, c in sorted(out.items())}


def feedback(engine: Engine, as_of: date) -> Report:
    from mahnwerk.engine.reports import Report

    with engine.connect() as conn:
        answers = conn.execute(
            select(EVENT.c.occurred_on, EVENT.c.invoice_id, EVENT.c.customer_id, EVENT.c.payload)
            .where(EVENT.c.kind == KIND, EVENT.c.occurred_on <= as_of)
            .order_by(EVENT.c.id)
        ).all()
        segments = dict(conn.execute(select(DS.c.invoice_id, DS.c.segment)).all())
        latest = dict(
            conn.execute(
                select(INV.c.customer_id, INV.c.id).order_by(INV.c.issue_date, INV.c.id)
            ).all()
        )  # the last row per customer wins: their latest invoice
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
