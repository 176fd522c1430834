"""Who will pay late: a transparent scorecard, a fitted model, and an honest test of both.

The scorecard is what a policy reads as `customer.risk_score` (0 safe .. 100
risky): a handful of points, each with its reason in words, so a finance
manager can answer "why is this customer high risk?" line by line.

The fitted model (scikit-learn logistic regression on the same behaviour
figures plus the invoice's amount) is there to check the scorecard: does a
model that learns its weights from the data rank customers better?  The test
is honest in two ways:

* features come only from what was known the day before the invoice fell due
  (`behaviour_of(..., as_of=due_date - 1 day, exclude=the invoice)`): never its
  own settlement date or days late, never its dispute flag (the history does
  not say when the dispute was raised);
* the model is trained on earlier invoices whose outcome was known at a cut-off
  day and tested on invoices falling due after it (split by time), and, as a
  second check, trained on some customers and tested on the others.

`evaluate` reports AUC, the Brier score and a reliability table per decile of
the predicted probability, with the scorecard's AUC on the same invoices.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from mahnwerk.engine.behaviour import Behaviour, behaviour_of
from mahnwerk.engine.history import PastInvoice, by_customer

# ---------------------------------------------------------------------------
# The scorecard
# ---------------------------------------------------------------------------

#: Points of the scorecard; the total is capped at 100.  A customer who paid every
#: invoice late, 20 days on average, scores 80: the shipped policies' `high_risk` (>= 70).
POINTS_LATE_SHARE = 50  # x the share of paid invoices that were paid late
POINTS_DAYS_LATE = 30  # x average days late / DAYS_LATE_FULL (at most 1)
DAYS_LATE_FULL = 20
POINTS_TREND = 10  # x (days later than before) / TREND_FULL (at most 1)
TREND_FULL = 10
POINTS_DISPUTES = 5  # x the share of invoices disputed
POINTS_OVERDUE = 5  # per invoice overdue now, at most OVERDUE_MAX of them
OVERDUE_MAX = 2
POINTS_NO_HISTORY = 30  # nothing paid yet: neither safe nor risky


@dataclass(frozen=True, slots=True)
class Score:
    """A scorecard result: the total and every point with its reason."""

    total: Decimal
    reasons: tuple[tuple[str, Decimal], ...]

    def explain(self) -> list[str]:
        return [f"{points:>5} {why}" for why, points in self.reasons]


def _pts(value: float) -> Decimal:
    return Decimal(str(round(value, 1)))


def scorecard(b: Behaviour) -> Score:
    """Risk points 0..100 from a customer's behaviour; each line says why."""
    reasons: list[tuple[str, Decimal]] = []
    if b.paid == 0:
        reasons.append(("no invoice paid yet: no history to judge by", _pts(POINTS_NO_HISTORY)))
    else:
        share = float(b.late_share or 0)
        if share:
            why = f"{share:.0%} of {b.paid} paid invoices paid late"
            reasons.append((why, _pts(POINTS_LATE_SHARE * share)))
        avg = float(b.avg_days_late or 0)
        if avg:
            reasons.append(
                (
                    f"{avg:.1f} days late on average",
                    _pts(POINTS_DAYS_LATE * min(avg, DAYS_LATE_FULL) / DAYS_LATE_FULL),
                )
            )
        trend = float(b.trend_days or 0)
        if trend > 0:
            reasons.append(
                (
                    f"the last invoices paid {trend:.1f} days later than the earlier ones",
                    _pts(POINTS_TREND * min(trend, TREND_FULL) / TREND_FULL),
                )
            )
    if b.disputes:
        share = min(1.0, b.disputes / max(b.invoices, 1))
        reasons.append((f"{b.disputes} invoice(s) disputed", _pts(POINTS_DISPUTES * share)))
    if b.overdue_invoices:
        n = min(b.overdue_invoices, OVERDUE_MAX)
        reasons.append((f"{b.overdue_invoices} invoice(s) overdue now", _pts(POINTS_OVERDUE * n)))
    total = min(Decimal(100), sum((p for _, p in reasons), Decimal(0)))
    return Score(total, tuple(reasons))


# ---------------------------------------------------------------------------
# Invoice-level examples for the model
# ---------------------------------------------------------------------------

FEATURES = (
    "has_history",
    "late_share",
    "avg_days_late",
    "median_days_late",
    "trend_days",
    "dispute_share",
    "partial_payments",
    "overdue_invoices",
    "max_days_overdue",
    "log_invoices",
    "gone_quiet",
    "log_amount",
    "paperless",
)


@dataclass(frozen=True, slots=True)
class Example:
    """One invoice as the model sees it: what was known before it fell due, and its outcome."""

    invoice: PastInvoice
    behaviour: Behaviour
    features: tuple[float, ...]
    late: bool
    score: Decimal  # the scorecard's points on the same knowledge


def features(b: Behaviour, amount: Decimal, paperless: bool | None) -> tuple[float, ...]:
    return (
        1.0 if b.paid else 0.0,
        float(b.late_share or 0),
        float(b.avg_days_late or 0),
        float(b.median_days_late or 0),
        float(b.trend_days or 0),
        b.disputes / max(b.invoices, 1),
        float(b.partial_payments),
        float(b.overdue_invoices),
        float(b.max_days_overdue),
        math.log1p(b.invoices),
        1.0 if b.gone_quiet else 0.0,
        math.log1p(float(amount)),
        1.0 if paperless else 0.0,
    )


def examples(invoices: list[PastInvoice]) -> list[Example]:
    """Every paid invoice with features known the day before its due date (no leakage)."""
    out = []
    for customer, own in by_customer(invoices).items():
        for inv in own:
            if inv.paid_on is None:
                continue
            b = behaviour_of(customer, own, inv.due_date - timedelta(days=1), exclude=inv.invoice)
            out.append(
                Example(
                    inv,
                    b,
                    features(b, inv.amount, inv.paperless),
                    (inv.days_late or 0) > 0,
                    scorecard(b).total,
                )
            )
    out.sort(key=lambda e: (e.invoice.due_date, e.invoice.invoice))
    return out


# ---------------------------------------------------------------------------
# The model and its evaluation
# ---------------------------------------------------------------------------


def fit(train: list[Example]) -> Any:
    """A standardised logistic regression on the examples (scikit-learn pipeline)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if len({e.late for e in train}) < 2:
        raise ValueError("the training invoices are all late or all on time: nothing to learn")
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit([e.features for e in train], [e.late for e in train])
    return model


def coefficients(model: Any) -> dict[str, float]:
    """The fitted weight per standardised feature (positive: later payment)."""
    lr = model[-1]
    return {n: round(float(c), 4) for n, c in zip(FEATURES, lr.coef_[0], strict=True)} | {
        "intercept": round(float(lr.intercept_[0]), 4)
    }


@dataclass
class Evaluation:
    """How well the model and the scorecard rank held-out invoices."""

    split: str
    train: int
    test: int
    test_late_share: float
    auc_model: float
    auc_scorecard: float
    auc_boosting: float | None
    brier_model: float
    brier_base: float  # always predicting the training share late
    reliability: list[dict[str, float]] = field(default_factory=list)
    coefficients: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "split": self.split,
            "train_invoices": self.train,
            "test_invoices": self.test,
            "test_late_share": round(self.test_late_share, 4),
            "auc_model": round(self.auc_model, 4),
            "auc_scorecard": round(self.auc_scorecard, 4),
            "auc_gradient_boosting": (
                round(self.auc_boosting, 4) if self.auc_boosting is not None else None
            ),
            "brier_model": round(self.brier_model, 4),
            "brier_base_rate": round(self.brier_base, 4),
            "reliability": self.reliability,
            "coefficients": self.coefficients,
        }

    def lines(self) -> list[str]:
        out = [
            f"split: {self.split}: {self.train} invoices to train, {self.test} to test "
            f"({self.test_late_share:.1%} of them paid late)",
            f"  AUC logistic regression {self.auc_model:.3f}, scorecard {self.auc_scorecard:.3f}"
            + (
                f", gradient boosting {self.auc_boosting:.3f}"
                if self.auc_boosting is not None
                else ""
            ),
            f"  Brier score {self.brier_model:.4f} "
            f"(predicting the base rate: {self.brier_base:.4f})",
            "  reliability per decile of the predicted probability:",
            "    decile  invoices  predicted  observed",
        ]
        for row in self.reliability:
            out.append(
                f"    {int(row['decile']):>6}  {int(row['invoices']):>8}  "
                f"{row['predicted']:>9.3f}  {row['observed']:>8.3f}"
            )
        return out


def reliability(probs: list[float], labels: list[bool], bins: int = 10) -> list[dict[str, float]]:
    """Mean predicted probability against the observed share late, per decile of prediction."""
    order = sorted(range(len(probs)), key=lambda i: probs[i])
    out = []
    for k in range(bins):
        part = order[k * len(order) // bins : (k + 1) * len(order) // bins]
        if not part:
            continue
        out.append(
            {
                "decile": k + 1,
                "invoices": len(part),
                "predicted": round(sum(probs[i] for i in part) / len(part), 4),
                "observed": round(sum(labels[i] for i in part) / len(part), 4),
            }
        )
    return out


def _evaluate(split: str, train: list[Example], test: list[Example]) -> Evaluation:
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.metrics import brier_score_loss, roc_auc_score

    if len({e.late for e in test}) < 2:
        raise ValueError(f"{split}: the test invoices are all late or all on time: no AUC")
    model = fit(train)
    y = [e.late for e in test]
    p = [float(v) for v in model.predict_proba([e.features for e in test])[:, 1]]
    base = sum(e.late for e in train) / len(train)
    boost = GradientBoostingClassifier(random_state=0, max_depth=2, n_estimators=150)
    boost.fit([e.features for e in train], [e.late for e in train])
    pb = boost.predict_proba([e.features for e in test])[:, 1]
    return Evaluation(
        split=split,
        train=len(train),
        test=len(test),
        test_late_share=sum(y) / len(y),
        auc_model=float(roc_auc_score(y, p)),
        auc_scorecard=float(roc_auc_score(y, [float(e.score) for e in test])),
        auc_boosting=float(roc_auc_score(y, pb)),
        brier_model=float(brier_score_loss(y, p)),
        brier_base=float(brier_score_loss(y, [base] * len(y))),
        reliability=reliability(p, y),
        coefficients=coefficients(model),
    )


def time_split(
    rows: list[Example], share: float = 0.7
) -> tuple[date, list[Example], list[Example]]:
    """Cut at the due date below which `share` of the invoices fall.

    Train: invoices due and paid before the cut-off day.  Test: invoices
    falling due on or after it.  Invoices due before the cut-off but paid after
    it are in neither: at the cut-off their outcome was unknown.
    """
    cutoff = rows[int(len(rows) * share)].invoice.due_date
    train = [
        e
        for e in rows
        if e.invoice.due_date < cutoff
        and e.invoice.paid_on is not None
        and e.invoice.paid_on < cutoff
    ]
    test = [e for e in rows if e.invoice.due_date >= cutoff]
    return cutoff, train, test


def customer_split(
    rows: list[Example], share: float = 0.7, seed: int = 7
) -> tuple[list[Example], list[Example]]:
    """Train on `share` of the customers (drawn with `seed`), test on the others."""
    customers = sorted({e.invoice.customer for e in rows})
    random.Random(seed).shuffle(customers)
    chosen = set(customers[: int(len(customers) * share)])
    return (
        [e for e in rows if e.invoice.customer in chosen],
        [e for e in rows if e.invoice.customer not in chosen],
    )


def evaluate(invoices: list[PastInvoice]) -> list[Evaluation]:
    """The model and the scorecard on held-out invoices: split by time, then by customer."""
    rows = examples(invoices)
    if len(rows) < 20:
        raise ValueError(f"only {len(rows)} paid invoices: too few to train and test a model")
    cutoff, train, test = time_split(rows)
    out = [_evaluate(f"by time (cut-off {cutoff})", train, test)]
    train, test = customer_split(rows)
    out.append(_evaluate("by customer (70 % of customers train, 30 % test)", train, test))
    return out
