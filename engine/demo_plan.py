"""The demo's simulated world: customers, invoices and what each customer will do.

The generator draws customers and invoices whose payment behaviour follows figures derived
from a real receivables history (`calibration.py`); what the history does not tell is
stated below as an assumption (see `engine/demo.py`).  One seeded generator makes every
draw in a fixed order, so the same seed and start date give the same plan.
"""

from __future__ import annotations

import bisect
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from mahnwerk.engine.calibration import load as load_calibration

#: Assumptions the history does not give (see the module docstring).
B2B_SHARE = 0.3
VULNERABLE_SHARE = 0.03
KEY_ACCOUNT_SHARE = 0.08  # of B2B customers
NEVER_PAY_SHARE = 0.04  # of invoices: no payment within the simulated horizon
PARTIAL_SHARE = 0.10  # of late payers: pay in two parts
PROMISE_SHARE = 0.06  # of late payers: promise to pay first
EMAIL_OPT_OUT_SHARE = 0.04
B2C_SCALE = Decimal("2.0")  # history amounts are 5..128; a German B2C invoice is larger
B2B_SCALE = Decimal("18.0")
REGIONS = [
    "BY",
    "BW",
    "NW",
    "HE",
    "NI",
    "BE",
    "SN",
    "RP",
    "SH",
    "HH",
    "TH",
    "ST",
    "BB",
    "MV",
    "SL",
    "HB",
]
REGION_WEIGHTS = [13, 11, 18, 6, 8, 4, 5, 5, 3, 2, 3, 3, 3, 2, 1, 1]
FIRST = [
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Emma",
    "Felix",
    "Greta",
    "Hannes",
    "Ida",
    "Jonas",
    "Katrin",
    "Lukas",
    "Mia",
    "Noah",
    "Olga",
    "Paul",
    "Rosa",
    "Stefan",
    "Tina",
    "Uwe",
]
LAST = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
]
FIRMS = [
    "Bau",
    "Elektro",
    "Logistik",
    "Druck",
    "Holz",
    "Metall",
    "Software",
    "Catering",
    "Textil",
    "Medien",
]
FORMS = ["GmbH", "KG", "GmbH & Co. KG", "e.K.", "AG", "UG (haftungsbeschränkt)"]


@dataclass
class Plan:
    """What the simulated world will do, day by day."""

    invoices_by_day: dict[date, list[dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    payments_by_day: dict[date, list[dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    events_by_day: dict[date, list[dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    customers: list[dict[str, Any]] = field(default_factory=list)


class _Draw:
    def __init__(self, seed: int):
        self.cal = load_calibration()
        self.rng = random.Random(seed)
        buckets = sorted((int(k), v) for k, v in self.cal["days_late_buckets"].items())
        self.bucket_starts = [b for b, _ in buckets]
        total = sum(v for _, v in buckets)
        acc = 0
        self.bucket_cdf = []
        for _, v in buckets:
            acc += v
            self.bucket_cdf.append(acc / total)
        self.share_q = sorted(
            (float(k), v) for k, v in self.cal["customer_late_share_quantiles"].items()
        )
        self.amount_q = sorted(
            (float(k), Decimal(v)) for k, v in self.cal["amount_quantiles"].items()
        )

    def days_late(self) -> int:
        i = bisect.bisect_left(self.bucket_cdf, self.rng.random())
        start = self.bucket_starts[min(i, len(self.bucket_starts) - 1)]
        return max(1, start + self.rng.randrange(5))

    def late_propensity(self) -> float:
        """Inverse CDF through the per-customer quantiles of the share of late invoices."""
        u = self.rng.random()
        pts = [(0.0, 0.0)] + self.share_q + [(1.0, 1.0)]
        for (p0, v0), (p1, v1) in zip(pts, pts[1:], strict=False):
            if u <= p1:
                return v0 + (v1 - v0) * (u - p0) / (p1 - p0 or 1)
        return 1.0

    def amount(self, scale: Decimal) -> Decimal:
        u = self.rng.random()
        pts = (
            [(0.0, self.amount_q[0][1] / 2)]
            + self.amount_q
            + [(1.0, self.amount_q[-1][1] * Decimal("1.4"))]
        )
        for (p0, v0), (p1, v1) in zip(pts, pts[1:], strict=False):
            if u <= p1:
                value = v0 + (v1 - v0) * Decimal(str((u - p0) / (p1 - p0 or 1)))
                return (value * scale).quantize(Decimal("0.01"))
        return (pts[-1][1] * scale).quantize(Decimal("0.01"))


def plan_portfolio(seed: int, start: date, days: int, customers: int, invoices: int) -> Plan:
    """Draw the customers, then each invoice and what its customer will do about it.

    Every draw comes from one seeded generator in a fixed order, so the same arguments give
    the same plan; the helpers below are called in that order and must keep it.
    """
    d = _Draw(seed)
    plan = Plan()
    people = [_customer(d, i) for i in range(customers)]
    plan.customers.extend(cust for cust, _ in people)
    first_issue = start - timedelta(days=60)
    span = days + 60
    for n in range(invoices):
        cust, propensity = people[d.rng.randrange(len(people))]
        inv = _invoice(d, cust, n, first_issue + timedelta(days=d.rng.randrange(span)))
        plan.invoices_by_day[max(inv["issue_date"], start)].append(inv)
        _behaviour(d, plan, inv, propensity)
    return plan


def _customer(d: _Draw, i: int) -> tuple[dict[str, Any], float]:
    """The `i`th customer's master data and how likely it is to pay late."""
    rng = d.rng
    b2b = rng.random() < B2B_SHARE
    if b2b:
        name = f"{rng.choice(LAST)} {rng.choice(FIRMS)} {rng.choice(FORMS)}"
    else:
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    tags = []
    if b2b and rng.random() < KEY_ACCOUNT_SHARE:
        tags.append("key_account")
    propensity = d.late_propensity()
    cust = {
        "external_id": f"K{10000 + i}",
        "name": name,
        "type": "B2B" if b2b else "B2C",
        "email": f"kunde{10000 + i}@example.org",
        "phone": f"+49 30 {rng.randrange(1000000, 9999999)}",
        "street": f"Hauptstraße {rng.randrange(1, 200)}",
        "postal_code": f"{rng.randrange(10000, 99999)}",
        "city": "Berlin",
        "country": "DE",
        "region": rng.choices(REGIONS, REGION_WEIGHTS)[0],
        "language": "en" if rng.random() < 0.08 else "de",
        "tags": ",".join(tags),
        "vulnerable": (not b2b) and rng.random() < VULNERABLE_SHARE,
        "opted_out": "email" if rng.random() < EMAIL_OPT_OUT_SHARE else "",
        "timezone": "Europe/Berlin",
        "risk_score": Decimal(str(round(100 * propensity, 1))),
        "avg_days_late": Decimal(str(round(propensity * 12, 1))),
    }
    return cust, propensity


def _invoice(d: _Draw, cust: dict[str, Any], n: int, issue: date) -> dict[str, Any]:
    b2b = cust["type"] == "B2B"
    return {
        "external_id": f"R{2026000000 + n}",
        "customer_ext": cust["external_id"],
        "issue_date": issue,
        "due_date": issue + timedelta(days=30 if b2b else 14),
        "amount": d.amount(B2B_SCALE if b2b else B2C_SCALE),
        "currency": "EUR",
        "due_date_agreed": b2b,
        "notice_30_days": not b2b,
    }


def _behaviour(d: _Draw, plan: Plan, inv: dict[str, Any], propensity: float) -> None:
    """Whether and when the invoice is paid, disputed, promised or paid in parts."""
    rng = d.rng
    due = inv["due_date"]
    # half of the history's disputes are raised formally
    disputed = rng.random() < d.cal["dispute_share"] * 0.5
    pay_day = _pay_day(d, due, min(1.0, propensity * (1.6 if disputed else 1.0)))
    if disputed:
        pay_day = _dispute(d, plan, inv["external_id"], due, pay_day)
    if pay_day is None:
        return
    if pay_day > due and rng.random() < PROMISE_SHARE:
        made = due + timedelta(days=max(1, (pay_day - due).days // 2))
        _event(plan, inv["external_id"], "promise_made", made, promised_date=pay_day.isoformat())
    _payments(d, plan, inv, pay_day)


def _pay_day(d: _Draw, due: date, late_p: float) -> date | None:
    if d.rng.random() < NEVER_PAY_SHARE:
        return None
    if d.rng.random() < late_p:
        return due + timedelta(days=d.days_late())
    return due - timedelta(days=d.rng.randrange(0, 10))


def _dispute(d: _Draw, plan: Plan, ext: str, due: date, pay_day: date | None) -> date | None:
    """A dispute opened after the due day and resolved weeks later; payment waits for it."""
    opened = due + timedelta(days=d.rng.randrange(0, 10))
    _event(plan, ext, "dispute_opened", opened, note="Ware beschädigt")
    resolved = opened + timedelta(days=d.rng.randrange(5, 25))
    _event(plan, ext, "dispute_resolved", resolved)
    if pay_day is not None and pay_day < resolved:
        return resolved + timedelta(days=d.rng.randrange(1, 7))
    return pay_day


def _event(plan: Plan, ext: str, kind: str, on: date, **payload: str) -> None:
    plan.events_by_day[on].append({"invoice_ext": ext, "kind": kind, "on": on, "payload": payload})


def _payments(d: _Draw, plan: Plan, inv: dict[str, Any], pay_day: date) -> None:
    """Paid in full (covering charges as booked) or, for some late payers, in two parts."""
    ext, amount = inv["external_id"], inv["amount"]
    if pay_day > inv["due_date"] and d.rng.random() < PARTIAL_SHARE:
        half = (amount / 2).quantize(Decimal("0.01"))
        first = pay_day - timedelta(days=d.rng.randrange(3, 10))
        plan.payments_by_day[first].append(
            {"invoice_ext": ext, "amount": half, "on": first, "n": 1}
        )
        # the second part also covers charges as the letter told them (approximated: +3 %)
        second = (amount - half) * Decimal("1.03")
        plan.payments_by_day[pay_day].append(
            {"invoice_ext": ext, "amount": second, "on": pay_day, "n": 2}
        )
        return
    plan.payments_by_day[pay_day].append(
        {"invoice_ext": ext, "amount": amount, "n": 1, "cover": True, "on": pay_day}
    )
