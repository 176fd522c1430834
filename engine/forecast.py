"""How much cash the open items will bring in, week by week, with an interval.

**The model.** A Cox proportional-hazards model (lifelines' `CoxPHFitter`) of the days
from issue to payment, fitted on the invoices known on the forecast day: paid ones are
events, open ones are censored at their age, so slow payers still open are counted, not
ignored.  Cox rather than a parametric model because payment days are lumpy (month ends,
due dates, reminder dates) and Cox leaves the baseline free; rather than gradient-boosted
quantiles because censoring is native to it.  The covariates are what is known of the
invoice and its payer on that day: the customer's average days late and share paid late
(from `behaviour`; the portfolio's figures for a customer without history, flagged),
the amount (log), the payment term, a dispute.

**The forecast.** An open item of age `a` pays in week `k` with the conditional
probability `(S(a + start_k) - S(a + end_k)) / S(a)`; the expected cash is the balance
times that, summed.  The interval comes from drawing every item's payment day from the
same conditional distribution (`DRAWS` times, seeded): the 10th and 90th percentile of
each week's sum.  A promise to pay moves the item: with probability `PROMISE_KEPT` it
pays in its promised week, otherwise it follows the model.

**The baseline** a forecast must beat: each item pays on its due date plus its customer's
average delay (the portfolio's for a new customer), in week one if that day has passed.
`backtest` replays a history week by week, knowing only what each week knew.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from mahnwerk.engine.behaviour import Behaviour, behaviour_of
from mahnwerk.engine.history import PastInvoice, by_customer
from mahnwerk.engine.money import cents
from mahnwerk.errors import MahnwerkError

DRAWS = 1000
LOW, HIGH = 10, 90  # the interval's percentiles
PROMISE_KEPT = 0.6  # share of promises kept, when the forecast is told of a promise
COVARIATES = ("avg_late", "late_share", "no_history", "log_amount", "term", "disputed")


class ForecastError(MahnwerkError, ValueError):
    """No forecast can be made (too little history, nothing open)."""


@dataclass(frozen=True, slots=True)
class OpenItem:
    """An item the forecast covers: what is still owed on one invoice."""

    invoice: str
    customer: str
    issue_date: date
    due_date: date
    balance: Decimal
    disputed: bool = False
    promised_on: date | None = None


@dataclass(frozen=True, slots=True)
class Week:
    start: date
    expected: Decimal
    low: Decimal
    high: Decimal
    baseline: Decimal
    partial: bool = False  # the horizon cuts this week short

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)


@dataclass(slots=True)
class Forecast:
    as_of: date
    weeks: list[Week]
    items: int
    open_total: Decimal
    trained_on: int
    assumptions: list[str] = field(default_factory=list)


def _money(x: float) -> Decimal:
    return cents(Decimal(str(x)))


def _row(inv: PastInvoice | OpenItem, b: Behaviour, fallback: tuple[float, float]) -> list[float]:
    has = b.avg_days_late is not None
    amount = inv.balance if isinstance(inv, OpenItem) else inv.amount
    return [
        float(b.avg_days_late) if has else fallback[0],
        float(b.late_share) if has and b.late_share is not None else fallback[1],
        0.0 if has else 1.0,
        math.log1p(max(float(amount), 0.0)),
        float((inv.due_date - inv.issue_date).days),
        1.0 if inv.disputed else 0.0,
    ]


class Model:
    """The fitted Cox model, and what it needs to describe new items the same way."""

    def __init__(self, history: list[PastInvoice], as_of: date) -> None:
        import pandas as pd
        from lifelines import CoxPHFitter

        known = [i for i in history if i.issue_date <= as_of]
        self.customers = by_customer(known)
        self.as_of = as_of
        paid = [i for i in known if i.paid_on is not None and i.paid_on <= as_of]
        if len(paid) < 30:
            raise ForecastError(
                f"only {len(paid)} invoice(s) paid by {as_of:%d.%m.%Y}: too little history",
                "a forecast needs at least 30 paid invoices; import more history",
            )
        late = [i.days_late or 0 for i in paid]
        self.fallback = (statistics.fmean(late), sum(d > 0 for d in late) / len(late))
        self.avg_late = self.fallback[0]
        rows, durations, events = [], [], []
        for inv in known:
            done = inv.paid_on is not None and inv.paid_on <= as_of
            end = inv.paid_on if done else as_of
            rows.append(self.features(inv, inv.issue_date, exclude=inv.invoice))
            durations.append(max((end - inv.issue_date).days, 0) + 0.5)
            events.append(1 if done else 0)
        frame = pd.DataFrame(rows, columns=COVARIATES)
        frame = frame.loc[:, frame.std() > 1e-9]  # a constant covariate cannot be fitted
        self.columns = list(frame.columns)
        frame["duration"], frame["event"] = durations, events
        self.cox = CoxPHFitter(penalizer=0.05).fit(frame, "duration", "event")
        self.trained_on = len(known)

    def behaviour(self, customer: str, day: date, exclude: str | None = None) -> Behaviour:
        return behaviour_of(customer, self.customers.get(customer, []), day, exclude)

    def features(self, inv: PastInvoice | OpenItem, day: date, exclude: str | None = None):
        """The covariates of `inv` with what was known of its payer on `day`."""
        return _row(inv, self.behaviour(inv.customer, day, exclude), self.fallback)

    def survival(self, items: list[OpenItem], horizon: int):  # numpy (days, items)
        import pandas as pd

        frame = pd.DataFrame([self.features(i, self.as_of) for i in items], columns=COVARIATES)
        ages = [(self.as_of - i.issue_date).days for i in items]
        times = list(range(0, max(ages) + horizon + 2))
        curves = self.cox.predict_survival_function(frame[self.columns], times=times)
        return curves.to_numpy(), ages


def _weeks(as_of: date, weeks: int) -> list[date]:
    return [as_of + timedelta(days=1 + 7 * k) for k in range(weeks)]


def baseline_day(model: Model, item: OpenItem) -> date:
    """Due date plus the customer's average delay (the portfolio's without history)."""
    b = model.behaviour(item.customer, model.as_of)
    delay = float(b.avg_days_late) if b.avg_days_late is not None else model.avg_late
    return item.due_date + timedelta(days=round(delay))


def forecast(model: Model, items: list[OpenItem], weeks: int = 13, seed: int = 7) -> Forecast:
    """Expected cash per week from `items`, with the LOW–HIGH percentile interval."""
    import numpy as np

    if not items:
        raise ForecastError(f"nothing is open on {model.as_of:%d.%m.%Y}", "")
    horizon = 7 * weeks
    curves, ages = model.survival(items, horizon)
    rng = np.random.default_rng(seed)
    balance = np.array([float(i.balance) for i in items])
    # day (1..horizon after as_of) each item pays in each draw; 0 = not within the horizon
    paid_day = np.zeros((DRAWS, len(items)), dtype=int)
    expected = np.zeros(horizon + 1)
    for j, (item, age) in enumerate(zip(items, ages, strict=True)):
        s = curves[age:age + horizon + 1, j]
        cond = s / s[0] if s[0] > 0 else np.ones_like(s)
        dist = cond[:-1] - cond[1:]  # dist[d - 1]: the chance to pay on day d after as_of
        # the first day whose conditional survival falls to u or below (0: not in the horizon)
        day = np.searchsorted(-cond, -rng.random(DRAWS), side="left")
        day[day > horizon] = 0
        promised = (item.promised_on - model.as_of).days if item.promised_on else 0
        if 0 < promised <= horizon:
            dist = dist * (1 - PROMISE_KEPT)
            dist[promised - 1] += PROMISE_KEPT
            day[rng.random(DRAWS) < PROMISE_KEPT] = promised
        expected[1:] += balance[j] * dist
        paid_day[:, j] = day
    base = np.zeros(weeks)
    for item in items:
        offset = max((baseline_day(model, item) - model.as_of).days, 1)
        if offset <= horizon:
            base[(offset - 1) // 7] += float(item.balance)
    out = []
    for k, start in enumerate(_weeks(model.as_of, weeks)):
        lo, hi = 1 + 7 * k, 7 * (k + 1)
        in_week = (paid_day >= lo) & (paid_day <= hi)
        sums = (in_week * balance).sum(axis=1)
        out.append(Week(start, _money(expected[lo:hi + 1].sum()),
                        _money(np.percentile(sums, LOW)), _money(np.percentile(sums, HIGH)),
                        _money(base[k])))
    return Forecast(
        model.as_of, out, len(items), sum((i.balance for i in items), Decimal("0.00")),
        model.trained_on,
        [
            "a Cox model of days to payment fitted on the invoices known on "
            f"{model.as_of:%d.%m.%Y} ({model.trained_on}); open ones count as not paid yet",
            f"interval: {LOW}th to {HIGH}th percentile of {DRAWS} draws",
            f"a promise is kept with probability {PROMISE_KEPT:.0%} (then paid on its day)",
            "baseline: due date + the customer's average delay",
            "only the items open today: invoices issued later are not in it, nor claims "
            "handed over, written off or in insolvency",
        ],
    )


@dataclass(slots=True)
class Backtest:
    origins: int = 0
    weeks: int = 0
    mape: float = 0.0
    baseline_mape: float = 0.0
    coverage: float = 0.0
    by_week: list[tuple[int, float, float]] = field(default_factory=list)  # k, model, baseline


def open_items(history: list[PastInvoice], day: date) -> list[OpenItem]:
    """What was open at the end of `day` (not yet paid then), from a history."""
    return [
        OpenItem(i.invoice, i.customer, i.issue_date, i.due_date, i.amount, i.disputed)
        for i in history
        if i.issue_date <= day and (i.paid_on is None or i.paid_on > day)
    ]


def backtest(history: list[PastInvoice], first: date, last: date, every: int = 28,
             weeks: int = 13) -> Backtest:
    """Forecast from each origin with what it knew; compare with what came in."""
    errors: dict[int, list[tuple[float, float]]] = {k: [] for k in range(weeks)}
    covered = total = origins = 0
    paid = {i.invoice: i.paid_on for i in history}  # what came in: the same for every origin
    day = first
    while day <= last:
        model = Model(history, day)
        items = open_items(history, day)
        result = forecast(model, items, weeks)
        for k, week in enumerate(result.weeks):
            actual = sum(float(i.balance) for i in items
                         if paid[i.invoice] and week.start <= paid[i.invoice] <= week.end)
            if actual <= 0:
                continue
            errors[k].append((abs(float(week.expected) - actual) / actual,
                              abs(float(week.baseline) - actual) / actual))
            covered += float(week.low) <= actual <= float(week.high)
            total += 1
        origins += 1
        day += timedelta(days=every)
    flat = [e for k in errors for e in errors[k]]
    if not flat:
        raise ForecastError("no week of the backtest saw a payment", "choose another period")
    return Backtest(
        origins, total, statistics.fmean(e[0] for e in flat),
        statistics.fmean(e[1] for e in flat), covered / total,
        [(k + 1, statistics.fmean(e[0] for e in v), statistics.fmean(e[1] for e in v))
         for k, v in errors.items() if v],
    )


def items_from_database(engine, as_of: date) -> list[OpenItem]:  # type: ignore[no-untyped-def]
    """The open items of the engine's database at the end of `as_of`.

    The balance is the dunning record's (principal, fees and interest open); an invoice
    the engine has not taken up yet counts with its amount.  A promise is the latest
    `promise_made` recorded for the invoice whose date is still ahead.
    """
    from mahnwerk.dsl.ir import TERMINAL_NAMES
    from mahnwerk.engine.store.reports import forecast_facts

    rows, promises = forecast_facts(engine, as_of)
    out = []
    for r in rows:
        if r.state is not None and r.state in TERMINAL_NAMES:
            continue
        balance = (r.principal_open + r.fees_open + r.interest_open) if r.state else r.amount
        if balance <= 0:
            continue
        promised = promises.get(r.id)
        out.append(OpenItem(
            r.external_id, r.customer, r.issue_date, r.due_date, Decimal(balance),
            bool(r.disputed), promised if promised and promised > as_of else None,
        ))
    return out

