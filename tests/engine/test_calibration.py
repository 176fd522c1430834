"""The demo's stored behaviour figures are exactly what the real history says."""

from __future__ import annotations

from pathlib import Path

import pytest

from mahnwerk.engine.calibration import derive, load

HISTORY = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "data"
    / "WA_Fn-UseC_-Accounts-Receivable.csv"
)


@pytest.mark.skipif(
    not HISTORY.exists(),
    reason="the accounts-receivable history (../shared/data) is not on this machine; "
    "it has no licence to ship, so only its derived figures live in the project",
)
def test_stored_calibration_matches_the_history():
    assert derive(HISTORY) == load()


def test_stored_calibration_is_plausible():
    cal = load()
    assert 0 < cal["late_share"] < 1
    assert cal["late_share_disputed"] > cal["late_share_undisputed"]
    assert sum(cal["days_late_buckets"].values()) == round(cal["late_share"] * cal["invoices"])
