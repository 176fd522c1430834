"""`mahnwerk analyse`: refresh every customer's behaviour facts and risk score.

Reads the payment history in the database as it stood at the end of `as_of`,
computes each customer's behaviour (`behaviour.py`) and risk score
(`risk.py`), and writes them in one transaction: the `customer_behaviour` row
the run reads as `customer.*` facts, and the customer's `risk_score` and
`avg_days_late`.  Running it twice for the same day writes the same values.

The score is the transparent scorecard by default; `model=True` fits the
logistic regression on the same history first and stores 100 x the predicted
probability that the customer's next invoice is paid late (the scorecard's
reasons are kept alongside, so the figure is never unexplained).

What the customer told us counts too: the reason last given in the portal's "tell us
why" (`feedback.stated`) is stored with the behaviour (`customer.feedback` in a run), and
the summary counts the last reasons per segment.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from mahnwerk.engine.behaviour import Behaviour, behaviours
from mahnwerk.engine.feedback import Stated, by_segment, stated
from mahnwerk.engine.history import by_customer, read_database
from mahnwerk.engine.risk import coefficients, examples, features, fit, scorecard
from mahnwerk.engine.store.analysis import customer_ids, replace_behaviour, stored_behaviour


@dataclass
class Analysis:
    """What `analyse` wrote, for the command's summary."""

    as_of: date
    customers: int = 0
    with_history: int = 0
    high_risk: int = 0  # score 70 or more (the shipped policies' high_risk segment)
    gone_quiet: int = 0
    trend_worse: int = 0
    scored_by: str = "scorecard"
    coefficients: dict[str, float] = field(default_factory=dict)
    #: customers per segment and the reason they last gave ("tell us why")
    feedback: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "customers": self.customers,
            "with_history": self.with_history,
            "high_risk": self.high_risk,
            "gone_quiet": self.gone_quiet,
            "trend_worse": self.trend_worse,
            "scored_by": self.scored_by,
            "coefficients": self.coefficients,
            "feedback": self.feedback,
        }


def _fitted_risk(
    result: Analysis,
    invoices: list[Any],
    history: dict[str, list[Any]],
    every: dict[str, Behaviour],
) -> dict[str, Decimal]:
    """Each customer's risk as the fitted model's probability of paying late, in %."""
    fitted = fit(examples(invoices))
    result.scored_by = "logistic regression"
    result.coefficients = coefficients(fitted)
    names = sorted(every)
    rows = []
    for c in names:
        amounts = [i.amount for i in history.get(c, [])]
        typical = statistics.median(amounts) if amounts else Decimal(0)
        rows.append(features(every[c], typical, None))
    return {
        c: Decimal(str(round(100 * float(p), 4)))
        for c, p in zip(names, fitted.predict_proba(rows)[:, 1], strict=True)
    }


def _behaviour_row(
    customer_id: int,
    as_of: date,
    b: Behaviour,
    told: Stated | None,
    reasons: list[list[str]],
    now: datetime,
) -> dict[str, Any]:
    """The `customer_behaviour` row of one customer (`told`: its last feedback, if any)."""
    return {
        "customer_id": customer_id,
        "as_of": as_of,
        "invoices": b.invoices,
        "paid": b.paid,
        "median_days_late": b.median_days_late,
        "late_share": b.late_share,
        "trend_days": b.trend_days,
        "disputes": b.disputes,
        "partial_payments": b.partial_payments,
        "open_invoices": b.open_invoices,
        "open_amount": b.open_amount,
        "overdue_invoices": b.overdue_invoices,
        "max_days_overdue": b.max_days_overdue,
        "last_invoice_on": b.last_invoice_on,
        "gone_quiet": b.gone_quiet,
        "feedback_reason": (told.reason or None) if told else None,
        "feedback_on": told.on if told else None,
        "feedback_answers": told.answers if told else 0,
        "risk_reasons": json.dumps(reasons, ensure_ascii=False),
        "computed_at": now,
    }


def analyse(engine: Engine, as_of: date, now: datetime, model: bool = False) -> Analysis:
    """Compute and store every customer's behaviour and risk score as of `as_of`."""
    invoices = read_database(engine, as_of)
    history = by_customer(invoices)
    customers = customer_ids(engine)
    found = behaviours(history, as_of)
    said = stated(engine, as_of)
    every = {c: found.get(c) or Behaviour(c, as_of) for c in customers}
    ids = set(customers.values())
    result = Analysis(as_of, customers=len(every))
    scores = {c: scorecard(b) for c, b in every.items()}
    risk = {c: s.total for c, s in scores.items()}
    if model:
        risk = _fitted_risk(result, invoices, history, every)
    behaviour_rows = []
    customer_rows = []
    for c, b in every.items():
        reasons = [[why, str(points)] for why, points in scores[c].reasons]
        if model:
            reasons.append(["fitted model: probability of paying the next invoice late", ""])
        told = said.get(customers[c])
        behaviour_rows.append(_behaviour_row(customers[c], as_of, b, told, reasons, now))
        customer_rows.append({"b_id": customers[c], "b_risk": risk[c], "b_late": b.avg_days_late})
        result.with_history += b.paid > 0
        result.high_risk += risk[c] >= 70
        result.gone_quiet += b.gone_quiet
        result.trend_worse += (b.trend_days or 0) > 0
    result.feedback = by_segment(engine, {i: s for i, s in said.items() if i in ids})
    replace_behaviour(engine, behaviour_rows, customer_rows)
    return result


def explain_customer(engine: Engine, customer: str) -> dict[str, Any]:
    """The stored behaviour and score of one customer, with the scorecard's reasons."""
    row = stored_behaviour(engine, customer)
    if row is None:
        raise LookupError(
            f"no analysis for customer {customer!r}: run `mahnwerk analyse` first "
            "(or check the customer number)"
        )
    out: dict[str, Any] = {"customer": customer}
    for key in (
        "as_of",
        "risk_score",
        "avg_days_late",
        "median_days_late",
        "late_share",
        "trend_days",
        "invoices",
        "paid",
        "disputes",
        "partial_payments",
        "open_invoices",
        "open_amount",
        "overdue_invoices",
        "max_days_overdue",
        "last_invoice_on",
        "gone_quiet",
        "feedback_reason",
        "feedback_on",
        "feedback_answers",
    ):
        value = getattr(row, key)
        out[key] = str(value) if isinstance(value, Decimal | date) else value
    out["reasons"] = json.loads(row.risk_reasons)
    return out
