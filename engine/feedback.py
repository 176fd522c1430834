"""`mahnwerk report feedback`: why customers say they pay late, per month and segment.

The answers come from the portal's "tell us why" (`customer_feedback` in the event log,
`mahnwerk.portal.actions.feedback`): forgot, cash-flow problem, invoice unclear, not
received, disagree, other.  Counted per month of the answer and per segment of the
invoice it names (or, for an answer about no invoice, of the customer's latest invoice),
so a policy owner sees whether "invoice unclear" grows in one segment after a template
change, or "cash flow" in a season.  Rows with `all` sum the months.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

from sqlalchemy import Engine, select

from mahnwerk.engine.models import DS, EVENT, INV
from mahnwerk.engine.reports import Report

KIND = "customer_feedback"


def feedback(engine: Engine, as_of: date) -> Report:
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
