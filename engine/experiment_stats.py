"""Is the challenger better? The difference of two cure rates, its interval, and the verdict.

Pure functions over outcomes (no database), so the A/A test can run them over many
seeds in a second, and the report over the engine's figures.

* **Interval: a cluster bootstrap (percentile method).**  The unit of randomisation is
  the customer, and one customer's invoices are not independent (who pays one pays the
  next), so the bootstrap resamples *customers* with replacement within each arm
  (2,000 resamples by default, seeded: the same figures on every call), recomputes each
  arm's rate as invoices cured / invoices observed, and takes the 2.5 % and 97.5 %
  quantiles of the challenger-minus-champion difference.  An exact test would assume
  independent invoices, which they are not.
* **Sample size still needed (power).**  For the difference seen, the number of
  observed invoices per arm a two-sided two-proportion z-test at α = 5 % needs for 80 %
  power, with the arms' actual allocation ratio (a 10 % challenger arm needs more in
  all than a 50 % one).  Invoices count as independent here: a lower bound when
  customers have several.
* **Verdict.**  `promote` when the whole interval lies above zero (the challenger
  cures more); `stop` when it lies below zero (it cures fewer), when it lies within
  ±`MIN_EFFECT` (2 points: whatever the difference, it is too small to be worth having),
  or when both arms have the invoices the power calculation asks for and the interval
  still holds zero (keep the champion); `keep running` otherwise.  Fewer
  than `MIN_OBSERVED` observed invoices in an arm is always `keep running`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

RESAMPLES = 2000
LEVEL = 0.95
ALPHA, POWER = 0.05, 0.80
MIN_OBSERVED = 20
MIN_EFFECT = 0.02  # the smallest difference in the cure rate worth having (2 points)
PROMOTE, KEEP_RUNNING, STOP = "promote", "keep running", "stop"


@dataclass(frozen=True, slots=True)
class Tally:
    """One customer's invoices in one arm: how many were observed, how many cured."""

    customer: str
    arm: str
    cured: int
    observed: int


@dataclass(frozen=True, slots=True)
class Difference:
    champion_rate: float | None
    challenger_rate: float | None
    champion_n: int  # observed invoices
    challenger_n: int
    diff: float | None  # challenger - champion
    low: float | None
    high: float | None
    needed_champion: int | None  # observed invoices the power calculation asks for
    needed_challenger: int | None
    verdict: str
    why: str

    def still_needed(self) -> tuple[int, int] | None:
        if self.needed_champion is None or self.needed_challenger is None:
            return None
        return (max(0, self.needed_champion - self.champion_n),
                max(0, self.needed_challenger - self.challenger_n))  # fmt: skip


def _arrays(tallies: Iterable[Tally], arm: str) -> tuple[np.ndarray, np.ndarray]:
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for t in tallies:
        if t.arm == arm and t.observed:
            per[t.customer][0] += t.cured
            per[t.customer][1] += t.observed
    values = np.array(list(per.values()), dtype=np.int64).reshape(-1, 2)
    return values[:, 0], values[:, 1]


def _boot(cured: np.ndarray, seen: np.ndarray, rng: np.random.Generator, b: int) -> np.ndarray:
    idx = rng.integers(0, len(cured), size=(b, len(cured)))
    return cured[idx].sum(axis=1) / seen[idx].sum(axis=1)


def needed(
    p_champion: float, p_challenger: float, ratio: float, alpha: float = ALPHA, power: float = POWER
) -> tuple[int, int] | None:
    """Observed invoices per arm (champion, challenger) to show this difference; None: none.

    `ratio` is champion invoices per challenger invoice (9 for a 10 % challenger arm).
    """
    delta = abs(p_challenger - p_champion)
    if delta < 1e-9:
        return None
    z_a, z_b = NormalDist().inv_cdf(1 - alpha / 2), NormalDist().inv_cdf(power)
    pooled = (ratio * p_champion + p_challenger) / (ratio + 1)
    root_null = math.sqrt(pooled * (1 - pooled) * (1 + 1 / ratio))
    root_alt = math.sqrt(p_champion * (1 - p_champion) / ratio + p_challenger * (1 - p_challenger))
    n_challenger = math.ceil(((z_a * root_null + z_b * root_alt) / delta) ** 2)
    return math.ceil(ratio * n_challenger), n_challenger


def compare(tallies: Iterable[Tally], resamples: int = RESAMPLES, seed: int = 0,
            level: float = LEVEL) -> Difference:  # fmt: skip
    """The challenger's cure rate minus the champion's, with a cluster-bootstrap interval."""
    tallies = list(tallies)
    c_cured, c_seen = _arrays(tallies, "champion")
    x_cured, x_seen = _arrays(tallies, "challenger")
    n_c, n_x = int(c_seen.sum()), int(x_seen.sum())
    p_c = c_cured.sum() / n_c if n_c else None
    p_x = x_cured.sum() / n_x if n_x else None
    if n_c < MIN_OBSERVED or n_x < MIN_OBSERVED or p_c is None or p_x is None:
        return Difference(
            p_c, p_x, n_c, n_x, None if p_c is None or p_x is None else p_x - p_c, None, None,
            None, None, KEEP_RUNNING,
            f"too few invoices observed yet (champion {n_c}, challenger {n_x}; "
            f"at least {MIN_OBSERVED} each)",
        )  # fmt: skip
    rng = np.random.default_rng(seed)
    diffs = _boot(x_cured, x_seen, rng, resamples) - _boot(c_cured, c_seen, rng, resamples)
    tail = (1 - level) / 2
    low, high = (float(q) for q in np.quantile(diffs, [tail, 1 - tail]))
    diff = float(p_x - p_c)
    need = needed(float(p_c), float(p_x), n_c / n_x)
    if low > 0:
        verdict, why = PROMOTE, "the challenger cures more: the whole interval lies above zero"
    elif high < 0:
        verdict, why = STOP, "the challenger cures fewer: the whole interval lies below zero"
    elif -MIN_EFFECT < low and high < MIN_EFFECT:
        verdict, why = STOP, (f"the whole interval lies within ±{100 * MIN_EFFECT:.0f} points: "
                              "no difference worth having; keep the champion")  # fmt: skip
    elif need is not None and n_c >= need[0] and n_x >= need[1]:
        verdict, why = (
            STOP,
            "enough invoices for this difference, and still none shown: keep the champion",
        )
    elif need is None:
        verdict, why = STOP, "both arms cure exactly alike: keep the champion"
    else:
        verdict, why = KEEP_RUNNING, "the interval still holds zero; more invoices are needed"
    champion_needs, challenger_needs = need if need else (None, None)
    return Difference(float(p_c), float(p_x), n_c, n_x, diff, low, high, champion_needs,
                      challenger_needs, verdict, why)  # fmt: skip
