"""The verdict over simulated outcomes: a known effect is found, and an A/A test is quiet.

Pure functions over outcomes, so the A/A test can run 200 seeds in seconds; the wiring
through the real engine is `test_experiment_engine.py`.
"""

from __future__ import annotations

import numpy as np

from mahnwerk.engine.experiment_stats import (
    KEEP_RUNNING,
    PROMOTE,
    STOP,
    Tally,
    compare,
    needed,
)


def simulated(rng: np.random.Generator, customers: int, share: float, p_champion: float,
              p_challenger: float, frailty: float = 0.15) -> list[Tally]:  # fmt: skip
    """Customers with 1-3 invoices; each customer's own pay propensity varies (frailty),
    so invoices of one customer are correlated, as in real books."""
    tallies = []
    for i in range(customers):
        arm = "challenger" if rng.random() < share else "champion"
        p = p_challenger if arm == "challenger" else p_champion
        p = float(np.clip(p + rng.normal(0, frailty), 0.01, 0.99))
        n = int(rng.integers(1, 4))
        tallies.append(Tally(f"K{i}", arm, int(rng.binomial(n, p)), n))
    return tallies


def test_a_known_effect_of_the_challenger_is_found_with_its_size():
    rng = np.random.default_rng(18)
    tallies = simulated(rng, 3000, 0.5, 0.40, 0.52)
    d = compare(tallies)
    assert d.verdict == PROMOTE
    assert d.low is not None and d.high is not None
    assert d.low > 0 and d.low < 0.12 < d.high  # the interval holds the true effect
    assert abs(d.diff - 0.12) < 0.04


def test_a_worse_challenger_is_stopped():
    d = compare(simulated(np.random.default_rng(3), 3000, 0.5, 0.50, 0.38))
    assert d.verdict == STOP and d.high is not None and d.high < 0


def test_an_a_a_test_finds_an_effect_at_the_stated_rate_only():
    """Both arms dunned alike: over 200 seeds the 95 % interval excludes zero in ~5 %."""
    false = 0
    seeds = 200
    for seed in range(seeds):
        rng = np.random.default_rng(1000 + seed)
        d = compare(simulated(rng, 400, 0.3, 0.45, 0.45), resamples=1000, seed=seed)
        assert d.low is not None and d.high is not None
        false += d.low > 0 or d.high < 0
    rate = false / seeds
    # binomial(200, 0.05): 95 % of runs see 4..17 false positives
    assert 0.01 <= rate <= 0.09, rate


def test_too_few_observations_keep_it_running_and_power_asks_for_more():
    d = compare(simulated(np.random.default_rng(5), 10, 0.5, 0.4, 0.5))
    assert d.verdict == KEEP_RUNNING and d.low is None
    # the textbook figure: 0.40 vs 0.50, equal arms, alpha 5 %, power 80 % -> 388 per arm
    assert needed(0.40, 0.50, 1.0) == (388, 388)
    # a 10 % challenger arm needs fewer of its own, far more of the champion's
    champ, chall = needed(0.40, 0.50, 9.0)
    assert chall < 388 < champ and abs(champ - 9 * chall) <= 9
    assert needed(0.4, 0.4, 1.0) is None


def test_a_difference_too_small_to_matter_is_stopped_once_the_interval_is_narrow():
    d = compare(simulated(np.random.default_rng(9), 12000, 0.5, 0.45, 0.45), resamples=500)
    assert d.low is not None and d.high is not None
    assert -0.02 < d.low and d.high < 0.02
    assert d.verdict == STOP and "worth having" in d.why
