"""A behaviour model for `simulate`: when customers pay, and how a message changes that.

The replay (`simulate.py`) lets customers pay on the days the history recorded, so a new
step can never show an effect.  This model lets a replayed policy's messages matter, as
an **estimate** whose every assumption is printed with the result:

* **When people pay anyway (the baseline).**  A daily hazard of paying in full, by days
  relative to the due date, estimated as a life table from a real receivables history
  (IBM's sample, `../shared/data/`, 2,466 invoices all paid between 30 days before and
  45 days after due; it has no licence, so only the derived curve ships, in
  `data/payment_hazard.json`, and a test recomputes it from the file when present).
  Days are pooled from 5-day buckets until each holds at least `MIN_PAID` payments;
  beyond the last bucket the last hazard holds (the history saw nobody pay later).
  Simulating from the engine's database with at least `MIN_OWN` paid invoices, the curve
  is that database's own (open invoices censored on the last run's day).
* **How a message changes it (the lift).**  For each kind of message (its channel) in
  the engine's own history: of the invoices still open when a message went out, how many
  were paid within `WINDOW` days, divided by how many the baseline expected on those
  days, turned into the factor on the daily hazard that makes the two equal, with a 95 %
  interval (log-normal approximation of the Poisson count).  In the simulation the
  hazard is multiplied by the lift of every kind of message sent in the last `WINDOW`
  days.  A kind with fewer than `MIN_MESSAGES` observable messages gets no lift (1.0).
  This is an association: customers who get letters differ from those who get e-mails.
  Only an experiment (`mahnwerk experiment`) proves an effect.
* **Drawing the day.**  Each invoice gets one random "resistance" E ~ Exp(1) from
  `--seed` and its number, and pays on the first day its cumulative hazard reaches E —
  the same as a daily coin toss, but two policies compared side by side meet the same
  customers with the same draws, so their difference is the policies' and not chance's.
"""

from __future__ import annotations

import json
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from mahnwerk.engine.history import PastInvoice

WINDOW = 14  # days after a message in which a payment counts as its answer
DAYS_FROM = -30  # the hazard table's first day, relative to the due date
MIN_PAID = 10  # payments per pooled bucket of the life table
BUCKET = 5
MIN_MESSAGES = 30  # observable messages of a kind before it gets a lift
CAP = 0.95  # no day's chance to pay exceeds this, whatever the lifts
MIN_OWN = 500  # paid invoices in the database before its own curve replaces the shipped one


def _multiplier(target: float, exposures: Sequence[float]) -> float:
    """The factor m on the hazard with sum(1 - exp(-m * L)) = target (bisection)."""
    if target <= 0:
        return 0.0
    if target >= len(exposures):
        return float("inf")
    low, high = 0.0, 1.0
    while sum(1 - math.exp(-high * x) for x in exposures) < target:
        high *= 2
        if high > 1e6:
            return float("inf")
    for _ in range(60):
        mid = (low + high) / 2
        if sum(1 - math.exp(-mid * x) for x in exposures) < target:
            low = mid
        else:
            high = mid
    return (low + high) / 2


@dataclass(frozen=True, slots=True)
class Lift:
    """How much more often than expected invoices were paid after one kind of message.

    `ratio` is the factor on the daily hazard that makes the expected number of payments
    within the window equal the observed one (not observed/expected of the counts, which
    understates a hazard ratio as the chance to pay approaches 1).
    """

    kind: str
    messages: int
    observed: int
    expected: float
    exposures: tuple[float, ...] = ()  # each message's baseline cumulative hazard

    @property
    def ratio(self) -> float:
        if not self.exposures:  # given, not learned (tests, or a stated assumption)
            return self.observed / self.expected if self.expected > 0 else 1.0
        return _multiplier(self.observed, self.exposures)

    def interval(self) -> tuple[float, float]:
        """95 %: the observed count's log-normal Poisson bounds, turned into factors."""
        if self.observed == 0 or self.expected <= 0:
            return 0.0, float("inf")
        spread = 1.96 / math.sqrt(self.observed)
        if not self.exposures:
            return self.ratio * math.exp(-spread), self.ratio * math.exp(spread)
        return (_multiplier(self.observed * math.exp(-spread), self.exposures),
                _multiplier(min(self.observed * math.exp(spread), len(self.exposures) - 0.5),
                            self.exposures))  # fmt: skip

    @property
    def used(self) -> float:
        return self.ratio if self.messages >= MIN_MESSAGES else 1.0


@dataclass(frozen=True)
class ResponseModel:
    hazard: tuple[float, ...]  # chance to pay on day DAYS_FROM + i (given not paid before)
    source: str
    lifts: dict[str, Lift] = field(default_factory=dict)
    lift_source: str = ""
    seed: int = 0

    def __post_init__(self) -> None:  # the factors, solved once (not per day and invoice)
        object.__setattr__(self, "_factors", {k: v.used for k, v in self.lifts.items()})

    def h(self, days_from_due: int) -> float:
        i = days_from_due - DAYS_FROM
        if i < 0:
            return 0.0
        return self.hazard[min(i, len(self.hazard) - 1)]

    def day_hazard(self, day: date, due: date, sent: Sequence[tuple[date, str]]) -> float:
        """The chance to pay on `day`, with the lifts of the messages of the last WINDOW days."""
        factor = 1.0
        factors = self._factors  # type: ignore[attr-defined]
        for kind in {k for d, k in sent if 0 <= (day - d).days < WINDOW}:
            factor *= factors.get(kind, 1.0)
        return min(CAP, self.h((day - due).days) * factor)

    def resistance(self, invoice: str) -> float:
        """The invoice's Exp(1) draw: the same for every policy replayed with this seed."""
        return -math.log(1.0 - random.Random(f"{self.seed}:{invoice}").random())

    def assumptions(self) -> list[str]:
        lines = [
            "ESTIMATE from a behaviour model, not a replay of recorded payment days",
            f"when customers pay without a message: a daily chance by days from the due date, "
            f"a life table of {self.source}; later than the history saw, its last value holds",
        ]
        if not self.lifts:
            lines.append(f"how messages change it: nothing learned ({self.lift_source}); "
                         "so no message changes anyone's behaviour here")  # fmt: skip
        for lift in sorted(self.lifts.values(), key=lambda x: x.kind):
            low, high = lift.interval()
            use = (f"used x{lift.used:.2f}" if lift.messages >= MIN_MESSAGES
                   else f"fewer than {MIN_MESSAGES} messages: not used")  # fmt: skip
            lines.append(
                f"after a {lift.kind}: paid within {WINDOW} days {lift.observed} times where the "
                f"baseline expected {lift.expected:.1f} ({lift.messages} messages in "
                f"{self.lift_source}): x{lift.ratio:.2f}, 95 % interval {low:.2f}-{high:.2f}; "
                f"{use}"
            )
        lines += [
            f"the lifts are associations in the history, not proven effects (an experiment "
            f"proves one); a message lifts the chance for {WINDOW} days; lifts multiply; "
            f"no day above {CAP:.0%}",
            f"each invoice's payment day is drawn (seed {self.seed}): another --seed gives "
            "other figures; both policies meet the same draws",
        ]
        return lines


def life_table(invoices: Sequence[PastInvoice], as_of: date | None = None) -> list[float]:
    """Daily hazard of paying in full by day relative to due, pooled buckets (see module).

    An invoice still open on `as_of` counts as at risk up to that day (censored).
    """
    times = sorted((i.paid_on - i.due_date).days for i in invoices if i.paid_on is not None)
    censored = ([(as_of - i.due_date).days for i in invoices if i.paid_on is None]
                if as_of is not None else [])  # fmt: skip
    if len(times) < MIN_PAID:
        raise ValueError(f"only {len(times)} paid invoices: too few for a payment curve")
    last = max(times)
    hazard: list[float] = []
    start = DAYS_FROM
    while start <= last:
        end = start + BUCKET
        while end <= last and sum(1 for t in times if start <= t < end) < MIN_PAID:
            end += BUCKET
        paid = sum(1 for t in times if start <= t < end)
        exposure = sum(max(0, min(end, t + 1) - max(start, DAYS_FROM)) for t in times if t >= start)
        exposure += sum(max(0, min(end, c + 1) - start) for c in censored if c >= start)
        hazard += [paid / exposure if exposure else 0.0] * (end - start)
        start = end
    return hazard


def stored_baseline() -> tuple[tuple[float, ...], str]:
    """The curve shipped in `data/payment_hazard.json` and where it came from."""
    text = resources.files("mahnwerk.engine").joinpath("data/payment_hazard.json").read_text(
        "utf-8")  # fmt: skip
    data = json.loads(text)
    return tuple(data["hazard"]), data["source"]


def derive(path: str | Path) -> dict[str, Any]:
    """The figures stored in `data/payment_hazard.json`, from the receivables CSV."""
    from mahnwerk.engine.history import read_ar_csv

    invoices = read_ar_csv(path)
    return {
        "source": f"IBM's 'Accounts Receivable' sample ({len(invoices):,} invoices)",
        "days_from_due": DAYS_FROM,
        "hazard": [round(h, 6) for h in life_table(invoices)],
    }


def learn_lifts(
    messages: Iterable[tuple[Any, date, str]],
    invoices: dict[Any, tuple[date, date | None]],
    last_day: date,
    hazard: Sequence[float],
) -> dict[str, Lift]:
    """Observed/expected payments within WINDOW days of each kind of message (pure)."""
    model = ResponseModel(tuple(hazard), "")
    counts: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0])
    exposures: dict[str, list[float]] = defaultdict(list)
    for invoice, day, kind in messages:
        if invoice not in invoices or day + timedelta(days=WINDOW) > last_day:
            continue
        due, paid = invoices[invoice]
        if paid is not None and paid <= day:
            continue  # paid before the message: it cannot answer it
        cumulative = sum(-math.log(1 - min(CAP, model.h((day - due).days + j)))
                         for j in range(1, WINDOW + 1))  # fmt: skip
        c = counts[kind]
        c[0] += 1
        c[1] += paid is not None and (paid - day).days <= WINDOW
        c[2] += 1 - math.exp(-cumulative)
        exposures[kind].append(cumulative)
    return {k: Lift(k, int(c[0]), int(c[1]), c[2], tuple(exposures[k]))
            for k, c in counts.items()}  # fmt: skip


def lifts_from_database(engine: Any, hazard: Sequence[float]) -> tuple[dict[str, Lift], str]:
    """The lifts of the engine's own history: its outbox, and the days invoices were paid."""
    from mahnwerk.engine.store.reports import messages_and_payments

    found = messages_and_payments(engine)
    if found is None:
        return {}, "a database without runs"
    last, invoices, messages = found
    where = engine.url.render_as_string(hide_password=True)
    return learn_lifts(messages, invoices, last, hazard), f"the messages of {where}"


def model_for(engine: Any = None, seed: int = 0) -> ResponseModel:
    """The model `simulate --behaviour model` uses.

    Without a database: the shipped curve of the receivables history, no lifts (it
    records no messages).  With one: the database's own curve when it holds at least
    `MIN_OWN` paid invoices (its customers, not the sample's), and the lifts of its messages
    measured against that same curve — against another population's curve a lift would
    mostly measure how the two populations differ.
    """
    hazard, source = stored_baseline()
    if engine is None:
        return ResponseModel(hazard, source, {}, "the receivables history records no messages",
                             seed)  # fmt: skip
    from mahnwerk.engine.history import read_database
    from mahnwerk.engine.store.reports import last_run_day

    last = last_run_day(engine)
    if last is not None:
        own = read_database(engine, last)
        if sum(1 for i in own if i.paid_on is not None) >= MIN_OWN:
            where = engine.url.render_as_string(hide_password=True)
            hazard = tuple(life_table(own, last))
            source = f"the {len(own):,} invoices of {where} (open ones censored on {last})"
    lifts, where = lifts_from_database(engine, hazard)
    if not lifts:
        where = f"{where}: no message there is old enough to tell"
    return ResponseModel(hazard, source, lifts, where, seed)


if __name__ == "__main__":  # pragma: no cover - a maintenance tool
    import sys

    print(json.dumps(derive(sys.argv[1]), indent=1))
