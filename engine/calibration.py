"""Payment behaviour figures for the demo, derived from a real receivables history.

The demo portfolio must behave like real debtors, but the history it is
calibrated on (IBM's "Accounts Receivable" sample, 2,466 invoices of 100
customers, in `../shared/data/`) states no licence, so it stays outside the
project.  `derive` computes the few figures the generator needs; they are
stored in `data/calibration.json`, and a test recomputes them from the file
whenever it is present, so the stored figures cannot drift from their source.

    python -m mahnwerk.engine.calibration ../shared/data/WA_Fn-UseC_-Accounts-Receivable.csv
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter, defaultdict
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

#: Days late are grouped into 5-day buckets; the demo draws a bucket, then a day in it.
BUCKET = 5


def derive(path: str | Path) -> dict[str, Any]:
    """The calibration figures of one accounts-receivable CSV (IBM sample layout)."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    n = len(rows)
    late = [int(r["DaysLate"]) for r in rows]
    disputed = [r["Disputed"] == "Yes" for r in rows]
    buckets = Counter(min(d // BUCKET * BUCKET, 45) for d in late if d > 0)
    per_customer: dict[str, list[bool]] = defaultdict(list)
    for r, d in zip(rows, late, strict=True):
        per_customer[r["customerID"]].append(d > 0)
    shares = sorted(sum(v) / len(v) for v in per_customer.values())
    amounts = sorted(Decimal(r["InvoiceAmount"]) for r in rows)
    settle = sorted(int(r["DaysToSettle"]) for r in rows)

    def q(values: list, p: float) -> Any:
        return values[min(len(values) - 1, int(p * len(values)))]

    return {
        "source": "IBM Watson Analytics sample 'Accounts Receivable' (2,466 invoices)",
        "invoices": n,
        "customers": len(per_customer),
        "late_share": round(sum(1 for d in late if d > 0) / n, 4),
        "dispute_share": round(sum(disputed) / n, 4),
        "late_share_disputed": round(
            sum(1 for d, x in zip(late, disputed, strict=True) if x and d > 0) / sum(disputed), 4
        ),
        "late_share_undisputed": round(
            sum(1 for d, x in zip(late, disputed, strict=True) if not x and d > 0)
            / (n - sum(disputed)),
            4,
        ),
        "days_late_buckets": {str(k): v for k, v in sorted(buckets.items())},
        "max_days_late": max(late),
        "customer_late_share_quantiles": {
            str(p): round(q(shares, p), 4) for p in (0.1, 0.25, 0.5, 0.75, 0.9)
        },
        "amount_quantiles": {str(p): str(q(amounts, p)) for p in (0.05, 0.25, 0.5, 0.75, 0.95)},
        "days_to_settle_median": q(settle, 0.5),
        "paperless_share": round(sum(1 for r in rows if r["PaperlessBill"] == "Electronic") / n, 4),
    }


def load() -> dict[str, Any]:
    """The stored figures shipped with the package."""
    text = resources.files("mahnwerk.engine").joinpath("data/calibration.json").read_text("utf-8")
    return json.loads(text)


if __name__ == "__main__":  # pragma: no cover - a maintenance tool
    print(json.dumps(derive(sys.argv[1]), indent=2))
