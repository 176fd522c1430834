"""A realistic portfolio dunned over simulated weeks: the README's main job.

The generator draws customers and invoices whose payment behaviour follows
figures derived from a real receivables history (`calibration.py`): how many
invoices are paid late, how late, how often they are disputed, and how
lateness concentrates on some customers.  What the history does not tell is
stated as an assumption (`demo_plan.py`): the B2B/B2C mix, amounts scaled to a German
small business, a small share of invoices never paid within the horizon
(so the ladders reach their last steps), partial payments and promises.

Everything is seeded: the same seed and start date give the same portfolio,
the same runs and the same summary.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from mahnwerk.engine.demo_plan import Plan, plan_portfolio
from mahnwerk.engine.store import demo as stored
from mahnwerk.engine.store import inbox

__all__ = ["Plan", "plan_portfolio", "run_demo", "simulate", "summary"]


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

    books = _book_customers(engine, plan)
    if experiment is not None:
        policies = experiment()
    results = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        now = datetime.combine(day, time(6, 0), UTC)
        first = offset == 0  # the history before the first day: book it all now
        with engine.begin() as conn:
            _book_invoices(conn, books, _todays(plan.invoices_by_day, day, first))
            _book_payments(conn, books, _todays(plan.payments_by_day, day, first))
            _book_events(conn, books, _todays(plan.events_by_day, day, first), now)
        stats = runner.run(engine, day, policies, now)
        results.append(stats)
        if day.weekday() == 4:  # Friday: the operators work through the approval queue
            approvals_mod.demo_review(engine, OPERATORS, now)
        if progress:
            progress(day, stats)
    return results


@dataclass
class _Books:
    """What the simulation has booked so far, by the plan's external ids."""

    cust_ids: dict[str, int]
    consumer_of: dict[str, bool]  # customer external id -> a consumer
    inv_ids: dict[str, int] = field(default_factory=dict)
    consumer: dict[int, bool] = field(default_factory=dict)  # invoice id -> a consumer's
    pay_seq: int = 0


def _book_customers(engine: Engine, plan: Plan) -> _Books:
    cust_ids = stored.add_customers(engine, plan.customers)
    return _Books(cust_ids, {c["external_id"]: c["type"] != "B2B" for c in plan.customers})


def _todays(by_day: dict[date, list[dict[str, Any]]], day: date, first: bool) -> list[Any]:
    """The plan's entries for `day`; on the first day also every earlier one."""
    if first:
        return [e for d, es in sorted(by_day.items()) if d <= day for e in es]
    return by_day.get(day, [])


def _book_invoices(conn: Any, books: _Books, todays: list[dict[str, Any]]) -> None:
    if not todays:
        return
    rows = [
        {k: v for k, v in i.items() if k != "customer_ext"}
        | {"customer_id": books.cust_ids[i["customer_ext"]]}
        for i in todays
    ]
    books.inv_ids.update(stored.add_invoices(conn, rows))
    for i in todays:
        books.consumer[books.inv_ids[i["external_id"]]] = books.consumer_of[i["customer_ext"]]


_SETTLED = ("paid", "written_off", "handed_over", "insolvent")


def _book_payments(conn: Any, books: _Books, todays: list[dict[str, Any]]) -> None:
    """The day's transfers; one that covers the debt pays what is owed by then, if anything."""
    pays = []
    for p in todays:
        iid = books.inv_ids.get(p["invoice_ext"])
        if iid is None:
            continue
        amount = p["amount"]
        if p.get("cover"):
            row = stored.dunning_state(conn, iid)
            if row is not None:
                if row.state in _SETTLED:
                    continue
                amount = _owed(row, p["on"], books.consumer[iid])
        books.pay_seq += 1
        by_ref = books.pay_seq % 2 == 0  # half of the payers name the invoice in the reference only
        pays.append(
            {
                "external_id": f"Z{books.pay_seq:07d}",
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
        inbox.add_payments(conn, pays)


def _book_events(conn: Any, books: _Books, todays: list[dict[str, Any]], now: datetime) -> None:
    evs = [
        {
            "invoice_id": books.inv_ids[e["invoice_ext"]],
            "kind": e["kind"],
            "occurred_on": e["on"],
            "payload": json.dumps(e["payload"]),
            "recorded_at": now,
            "actor": "demo",
        }
        for e in todays
        if e["invoice_ext"] in books.inv_ids
    ]
    if evs:
        inbox.add_inbox_events(conn, evs)


def summary(engine: Engine) -> dict[str, Any]:
    """What a finance manager wants to see after the run."""
    f = stored.summary_figures(engine)
    return {
        "states": [(s, st, n, Decimal(b or 0)) for s, st, n, b in f["states"]],
        "charges": {k: Decimal(v or 0) for k, v in f["charges"].items()},
        "messages": f["channels"],
        "approvals_waiting": f["waiting"],
        "approvals": f["decided"],
        "collected": Decimal(f["collected"] or 0),
        "payments_unapplied": f["unmatched"],
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
    from mahnwerk.engine.policies import PolicySet

    engine = _fresh_sqlite(db_path)
    now = datetime.combine(start, time(6, 0), UTC)
    _deploy_shipped(engine, policy_dir, now)
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


def _fresh_sqlite(db_path: Path) -> Engine:
    """A new, migrated SQLite book at `db_path` (an old one and its WAL files removed)."""
    from mahnwerk.engine.store import db

    if db_path.exists():
        db_path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    url = f"sqlite:///{db_path}"
    db.init_db(url)
    return db.make_engine(url)


#: The shipped policies the demo deploys: file, which customers, priority (lowest first).
SHIPPED = (
    ("key_account.mahn", 'customer.type == B2B and "key_account" in customer.tags', 10),
    ("de_b2b_standard.yaml", "customer.type == B2B", 20),
    ("de_b2c_standard.mahn", None, 30),
)


def _deploy_shipped(engine: Engine, policy_dir: Path, now: datetime) -> None:
    from mahnwerk.engine.policies import deploy

    for name, applies_to, priority in SHIPPED:
        deploy(engine, policy_dir / name, now, applies_to=applies_to, priority=priority)


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
