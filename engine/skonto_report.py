"""`mahnwerk report skonto`: what Skonto and discounts cost, and the days to cash they bought.

The rows a finance manager asks for (issue 19):

* **Skonto taken** — invoices settled with a Skonto tier, the discount granted, and how
  fast the money came in (days from issue to payment);
* **discounts offered / honoured** — incentives the policy offered (`offer discount …`)
  and those a payment earned;
* **unjustified deductions** — Skonto deducted after its period: how much, and what became
  of it (still open, paid afterwards, written off);
* **paid without discount** — the comparison: invoices paid in full with no discount.

"Days gained" is the median days to cash of invoices paid without a discount less that of
the row; the annual cost is what the discount costs as a yearly rate for those days
(discount / amount paid × 365 / days gained) — the figure to weigh against the cost of
credit.  All figures are read from the ledger and the dunning records up to `as_of`.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Engine

from mahnwerk.engine.reports import Report
from mahnwerk.engine.store.reports import skonto_facts

ZERO = Decimal("0.00")


def _median(days: list[int]) -> Decimal | None:
    return Decimal(str(statistics.median(days))).quantize(Decimal("0.1")) if days else None


def _annual_cost(discount: Decimal, paid: Decimal, gained: Decimal | None) -> Decimal | None:
    if gained is None or gained <= 0 or paid <= 0:
        return None
    rate = discount / paid * Decimal(365) / gained * 100
    return rate.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def skonto(engine: Engine, as_of: date) -> Report:
    """Skonto taken, discounts offered and honoured, unjustified deductions, cost vs days."""
    lines, invoices = skonto_facts(engine, as_of)
    cash = _Cash.of(lines, invoices)
    plain = [
        i
        for i, row in invoices.items()
        if row.state == "paid"
        and i in cash.paid_on
        and i not in cash.discounted["skonto"]
        and i not in cash.discounted["discount"]
    ]
    baseline = _median(cash.days_to_cash(plain))
    rows = [_discount_row(cash, kind, label, baseline) for kind, label in _DISCOUNTS]
    offered = [i for i, row in invoices.items() if row.discount_offers]
    rows.insert(1, ["discounts offered", len(offered), None, None, None, None])
    rows += _deduction_rows(invoices, cash.written_off, as_of)
    rows.append(["paid without discount", len(plain), None, baseline, None, None])
    return Report(
        "skonto",
        f"Skonto and discounts: cost against days to cash, up to {as_of}",
        [
            "what",
            "invoices",
            "discount EUR",
            "median days to cash",
            "days gained",
            "annual cost %",
        ],
        rows,
        chart=("what", "invoices"),
        as_of=as_of,
        notes=[
            "days to cash: from the issue date to the payment; days gained: against invoices "
            "paid without a discount; annual cost: discount / amount paid × 365 / days gained",
        ],
    )


_DISCOUNTS = (("skonto", "Skonto taken"), ("discount", "discounts honoured"))


@dataclass
class _Cash:
    """What the ledger says of each invoice: discounts granted, when and how much was paid."""

    invoices: dict[int, Any]
    discounted: dict[str, dict[int, tuple[Decimal, date]]]
    paid_on: dict[int, date] = field(default_factory=dict)
    paid_sum: dict[int, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    written_off: set[int] = field(default_factory=set)

    @classmethod
    def of(cls, lines: list[Any], invoices: dict[int, Any]) -> _Cash:
        cash = cls(invoices, {"skonto": {}, "discount": {}})
        for invoice_id, kind, amount, booked_on in lines:
            if kind in cash.discounted:
                cash.discounted[kind][invoice_id] = (-Decimal(amount), booked_on)
            elif kind == "payment":
                cash.paid_on[invoice_id] = booked_on
                cash.paid_sum[invoice_id] += -Decimal(amount)
            else:
                cash.written_off.add(invoice_id)
        return cash

    def days_to_cash(self, ids: Iterable[int]) -> list[int]:
        return [
            (self.paid_on[i] - self.invoices[i].issue_date).days
            for i in ids
            if i in self.paid_on and i in self.invoices
        ]


def _discount_row(cash: _Cash, kind: str, label: str, baseline: Decimal | None) -> list[Any]:
    found = cash.discounted[kind]
    granted = sum((a for a, _ in found.values()), ZERO)
    paid = sum((cash.paid_sum[i] for i in found), ZERO)
    median = _median(cash.days_to_cash(found))
    gained = baseline - median if baseline is not None and median is not None else None
    return [label, len(found), granted, median, gained, _annual_cost(granted, paid, gained)]


def _deduction_rows(invoices: dict[int, Any], written_off: set[int], as_of: date) -> list[Any]:
    """Skonto deducted after its period, and what became of it."""
    late = {i: json.loads(row.deduction_note) for i, row in invoices.items() if row.deduction_on}
    late = {i: d for i, d in late.items() if invoices[i].deduction_on <= as_of}
    deducted = sum((Decimal(d["deducted"]) for d in late.values()), ZERO)
    rows: list[Any] = [["unjustified deductions", len(late), deducted, None, None, None]]
    fates = {
        "… still open": [i for i in late if invoices[i].state not in ("paid", "written_off")],
        "… paid afterwards": [i for i in late if invoices[i].state == "paid"],
        "… written off": [i for i in late if i in written_off],
    }
    for label, ids in fates.items():
        amount = sum((Decimal(late[i]["deducted"]) for i in ids), ZERO)
        rows.append([label, len(ids), amount, None, None, None])
    return rows
