"""A realistic portfolio dunned over simulated weeks: the README's main job.

The generator draws customers and invoices whose payment behaviour follows
figures derived from a real receivables history (`calibration.py`): how many
invoices are paid late, how late, how often they are disputed, and how
lateness concentrates on some customers.  What the history does not tell is
stated here as an assumption: the B2B/B2C mix, amounts scaled to a German
small business, a small share of invoices never paid within the horizon
(so the ladders reach their last steps), partial payments and promises.

Everything is seeded: the same seed and start date give the same portfolio,
the same runs and the same summary.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select

from mahnwerk.engine import models as m
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
    d = _Draw(seed)
    rng = d.rng
    cal = d.cal
    plan = Plan()
    people = []
    for i in range(customers):
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
        people.append((cust, propensity))
        plan.customers.append(cust)
    first_issue = start - timedelta(days=60)
    span = days + 60
    for n in range(invoices):
        cust, propensity = people[rng.randrange(len(people))]
        b2b = cust["type"] == "B2B"
        issue = first_issue + timedelta(days=rng.randrange(span))
        due = issue + timedelta(days=30 if b2b else 14)
        amount = d.amount(B2B_SCALE if b2b else B2C_SCALE)
        inv = {
            "external_id": f"R{2026000000 + n}",
            "customer_ext": cust["external_id"],
            "issue_date": issue,
            "due_date": due,
            "amount": amount,
            "currency": "EUR",
            "due_date_agreed": b2b,
            "notice_30_days": not b2b,
        }
        plan.invoices_by_day[max(issue, start)].append(inv)
        disputed = (
            rng.random() < cal["dispute_share"] * 0.5
        )  # half of the history's disputes are raised formally
        late_p = min(1.0, propensity * (1.6 if disputed else 1.0))
        if rng.random() < NEVER_PAY_SHARE:
            pay_day = None
        elif rng.random() < late_p:
            pay_day = due + timedelta(days=d.days_late())
        else:
            pay_day = due - timedelta(days=rng.randrange(0, 10))
        if disputed:
            opened = due + timedelta(days=rng.randrange(0, 10))
            plan.events_by_day[opened].append(
                {
                    "invoice_ext": inv["external_id"],
                    "kind": "dispute_opened",
                    "on": opened,
                    "payload": {"note": "Ware beschädigt"},
                }
            )
            resolved = opened + timedelta(days=rng.randrange(5, 25))
            plan.events_by_day[resolved].append(
                {
                    "invoice_ext": inv["external_id"],
                    "kind": "dispute_resolved",
                    "payload": {},
                    "on": resolved,
                }
            )
            if pay_day is not None and pay_day < resolved:
                pay_day = resolved + timedelta(days=rng.randrange(1, 7))
        if pay_day is None:
            continue
        if pay_day > due and rng.random() < PROMISE_SHARE:
            made = due + timedelta(days=max(1, (pay_day - due).days // 2))
            plan.events_by_day[made].append(
                {
                    "invoice_ext": inv["external_id"],
                    "kind": "promise_made",
                    "on": made,
                    "payload": {"promised_date": pay_day.isoformat()},
                }
            )
        if pay_day > due and rng.random() < PARTIAL_SHARE:
            half = (amount / 2).quantize(Decimal("0.01"))
            first = pay_day - timedelta(days=rng.randrange(3, 10))
            plan.payments_by_day[first].append(
                {"invoice_ext": inv["external_id"], "amount": half, "on": first, "n": 1}
            )
            # the second part also covers charges as the letter told them (approximated: +3 %)
            plan.payments_by_day[pay_day].append(
                {
                    "invoice_ext": inv["external_id"],
                    "amount": (amount - half) * Decimal("1.03"),
                    "on": pay_day,
                    "n": 2,
                }
            )
        else:
            plan.payments_by_day[pay_day].append(
                {
                    "invoice_ext": inv["external_id"],
                    "amount": amount,
                    "n": 1,
                    "cover": True,
                    "on": pay_day,
                }
            )
    return plan


def _quant(v: Decimal) -> Decimal:
    return v.quantize(Decimal("0.01"))


def _owed(row: Any, day: date, consumer: bool) -> Decimal:
    """What a debtor paying in full on `day` transfers: the balance with interest to date."""
    from mahnwerk.engine import law
    from mahnwerk.engine.store import record_value

    record = record_value(row, "")
    return record.balance + law.unbooked_interest(record, consumer, True, day)


# ---------------------------------------------------------------------------
# The simulation
# ---------------------------------------------------------------------------

OPERATORS = ("anna.schulz", "ben.wagner")


def simulate(
    engine: Engine,
    plan: Plan,
    start: date,
    days: int,
    policies: Any,
    progress: Callable[[date, Any], None] | None = None,
    experiment: Callable[[], Any] | None = None,
) -> list[Any]:
    """Play the plan day by day: book the day's invoices, payments and events, then run.

    `experiment`, called once the customers are in, starts one and returns the policies.
    """
    from mahnwerk.engine import approvals as approvals_mod
    from mahnwerk.engine import runner

    cust_t, inv_t, pay_t, inbox_t = (
        m.Customer.__table__,
        m.Invoice.__table__,
        m.Payment.__table__,
        m.Inbox.__table__,
    )
    with engine.begin() as conn:
        conn.execute(insert(cust_t), plan.customers)
        cust_ids = dict(conn.execute(select(cust_t.c.external_id, cust_t.c.id)).all())
    if experiment is not None:
        policies = experiment()
    inv_ids: dict[str, int] = {}
    cust_types: dict[int, bool] = {}  # invoice id -> the customer is a consumer
    consumer_of = {c["external_id"]: c["type"] != "B2B" for c in plan.customers}
    results = []
    pay_seq = 0
    for offset in range(days):
        day = start + timedelta(days=offset)
        now = datetime.combine(day, time(6, 0), UTC)
        with engine.begin() as conn:
            todays = plan.invoices_by_day.get(day, [])
            if offset == 0:
                todays = [
                    i for d, invs in sorted(plan.invoices_by_day.items()) if d <= day for i in invs
                ]
            if todays:
                rows = [
                    {k: v for k, v in i.items() if k != "customer_ext"}
                    | {"customer_id": cust_ids[i["customer_ext"]]}
                    for i in todays
                ]
                conn.execute(insert(inv_t), rows)
                ext = [i["external_id"] for i in todays]
                ext_consumer = {i["external_id"]: consumer_of[i["customer_ext"]] for i in todays}
                for chunk in range(0, len(ext), 500):
                    inv_ids.update(
                        conn.execute(
                            select(inv_t.c.external_id, inv_t.c.id).where(
                                inv_t.c.external_id.in_(ext[chunk : chunk + 500])
                            )
                        ).all()
                    )
                for e_id in ext:
                    cust_types[inv_ids[e_id]] = ext_consumer[e_id]
            pays = []
            todays_pays = plan.payments_by_day.get(day, [])
            todays_events = plan.events_by_day.get(day, [])
            if offset == 0:  # the history before the first day: book it all now
                todays_pays = [
                    p for d, ps in sorted(plan.payments_by_day.items()) if d <= day for p in ps
                ]
                todays_events = [
                    e for d, es in sorted(plan.events_by_day.items()) if d <= day for e in es
                ]
            for p in todays_pays:
                iid = inv_ids.get(p["invoice_ext"])
                if iid is None:
                    continue
                amount = p["amount"]
                if p.get("cover"):
                    row = conn.execute(
                        select(m.DunningState.__table__).where(
                            m.DunningState.__table__.c.invoice_id == iid
                        )
                    ).first()
                    if row is not None:
                        if row.state in ("paid", "written_off", "handed_over", "insolvent"):
                            continue
                        amount = _owed(row, p["on"], cust_types[iid])
                pay_seq += 1
                # Half of the payers name the invoice in the reference only.
                by_ref = pay_seq % 2 == 0
                pays.append(
                    {
                        "external_id": f"Z{pay_seq:07d}",
                        "invoice_id": None if by_ref else iid,
                        "customer_id": None,
                        "booked_on": p["on"],
                        "amount": _quant(Decimal(amount)),
                        "currency": "EUR",
                        "source": "import",
                        "reference": f"RE {p['invoice_ext']} Danke" if by_ref else p["invoice_ext"],
                    }
                )
            if pays:
                conn.execute(insert(pay_t), pays)
            evs = []
            for e in todays_events:
                iid = inv_ids.get(e["invoice_ext"])
                if iid is not None:
                    evs.append(
                        {
                            "invoice_id": iid,
                            "kind": e["kind"],
                            "occurred_on": e["on"],
                            "payload": json.dumps(e["payload"]),
                            "recorded_at": now,
                            "actor": "demo",
                        }
                    )
            if evs:
                conn.execute(insert(inbox_t), evs)
        stats = runner.run(engine, day, policies, now)
        results.append(stats)
        if day.weekday() == 4:  # Friday: the operators work through the approval queue
            approvals_mod.demo_review(engine, OPERATORS, now)
        if progress:
            progress(day, stats)
    return results


def summary(engine: Engine) -> dict[str, Any]:
    """What a finance manager wants to see after the run."""
    ds, led, out, appr, pay = (
        m.DunningState.__table__,
        m.Ledger.__table__,
        m.Outbox.__table__,
        m.Approval.__table__,
        m.Payment.__table__,
    )
    with engine.connect() as conn:
        states = conn.execute(
            select(
                ds.c.segment,
                ds.c.state,
                func.count(),
                func.sum(ds.c.principal_open + ds.c.fees_open + ds.c.interest_open),
            ).group_by(ds.c.segment, ds.c.state)
        ).all()
        charges = dict(
            conn.execute(select(led.c.kind, func.sum(led.c.amount)).group_by(led.c.kind)).all()
        )
        channels = dict(
            conn.execute(select(out.c.channel, func.count()).group_by(out.c.channel)).all()
        )
        waiting = conn.execute(
            select(func.count()).select_from(appr).where(appr.c.status == "pending")
        ).scalar_one()
        decided = dict(
            conn.execute(select(appr.c.status, func.count()).group_by(appr.c.status)).all()
        )
        collected = (
            conn.execute(select(func.sum(pay.c.amount)).where(pay.c.applied.is_(True))).scalar()
            or 0
        )
        unmatched = conn.execute(
            select(func.count()).select_from(pay).where(pay.c.applied.is_(False))
        ).scalar_one()
    return {
        "states": [(s, st, n, Decimal(b or 0)) for s, st, n, b in states],
        "charges": {k: Decimal(v or 0) for k, v in charges.items()},
        "messages": channels,
        "approvals_waiting": waiting,
        "approvals": decided,
        "collected": Decimal(collected),
        "payments_unapplied": unmatched,
    }


def run_demo(
    db_path: Path,
    policy_dir: Path,
    start: date,
    days: int = 90,
    customers: int = 5000,
    invoices: int = 20000,
    seed: int = 7,
    progress: Callable[[date, Any], None] | None = None,
    einvoices: Path | None = None,
) -> dict[str, Any]:
    """Create a fresh SQLite database, deploy the shipped policies, and dun for `days` days.

    `einvoices`, a folder of XRechnung/ZUGFeRD files, is imported before the first day,
    so its invoices are dunned with the generated ones.
    """
    from mahnwerk.engine import db
    from mahnwerk.engine.policies import PolicySet, deploy

    if db_path.exists():
        db_path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    url = f"sqlite:///{db_path}"
    db.init_db(url)
    engine = db.make_engine(url)
    now = datetime.combine(start, time(6, 0), UTC)
    deploy(
        engine,
        policy_dir / "key_account.mahn",
        now,
        applies_to='customer.type == B2B and "key_account" in customer.tags',
        priority=10,
    )
    deploy(
        engine,
        policy_dir / "de_b2b_standard.yaml",
        now,
        applies_to="customer.type == B2B",
        priority=20,
    )
    deploy(engine, policy_dir / "de_b2c_standard.mahn", now, priority=30)
    policies = PolicySet.load(engine)
    imported = None
    if einvoices is not None:
        from mahnwerk.engine.einvoice.load import import_einvoices

        imported = import_einvoices(engine, [einvoices], now=now)
    plan = plan_portfolio(seed, start, days, customers, invoices)

    def experiment() -> Any:  # 10 % of the consumers get an extra reminder
        from mahnwerk.engine.experiments import start as begin

        key = hashlib.sha256(f"demo experiment {seed}".encode()).hexdigest()
        challenger = policy_dir / "experiments" / "de_b2c_nachfass.mahn"
        begin(engine, "nachfass", "de-b2c-standard", challenger, Decimal("0.1"), start, now,
              "demo", key=key)  # fmt: skip
        return PolicySet.load(engine)

    results = simulate(engine, plan, start, days, policies, progress, experiment)
    out = summary(engine)
    # The demo's customers pay on days drawn from the calibration, whatever they are sent:
    # the extra reminder can have no effect here, and the report should find none.
    from mahnwerk.engine.experiment_report import report

    out["experiment"] = report(engine, "nachfass", start + timedelta(days=days - 1)).verdict_lines()
    out["einvoices"] = imported
    out["runs"] = len(results)
    out["seconds_in_runs"] = sum(r.seconds for r in results)
    out["post"] = preview_post(engine, db_path.with_name(db_path.stem + "-post"))
    engine.dispose()
    return out


def preview_post(engine: Engine, folder: Path) -> dict[str, Any]:
    """The last day's post as files (`mahnwerk dispatch --dry-run`): .eml, .pdf, SMS texts."""
    import time as clock

    from mahnwerk.engine.comms.config import demo_settings
    from mahnwerk.engine.comms.dispatch import preview_latest_run

    for old in [*folder.glob("*.eml"), *folder.glob("*.pdf"), *folder.glob("*.txt")]:
        old.unlink()  # only what an earlier demo wrote here
    started = clock.perf_counter()
    stats = preview_latest_run(engine, demo_settings(), folder)
    kinds: dict[str, int] = defaultdict(int)
    for path in stats.files:
        kinds[".sms.txt" if path.name.endswith(".sms.txt") else path.suffix] += 1
    return {
        "folder": folder,
        "files": dict(kinds),
        "messages": dict(stats.messages),
        "rows": stats.rows_sent,
        "batch": stats.batch,
        "seconds": clock.perf_counter() - started,
    }
