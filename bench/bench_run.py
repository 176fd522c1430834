"""How fast the daily run is on a big portfolio, against what SQLite itself can write.

The issue's targets, measured in one go on one SQLite file:

    due run        1,000,000 open invoices, 5 % due on the as-of date: `runner.run`'s
                   wall time, invoices checked and transitions per second;
    limit          the same writes the engine made (the UPDATEs of `dunning_state`
                   and the INSERTs into ledger, event, outbox and approval, with the
                   very values the engine wrote) replayed with plain `sqlite3`
                   `executemany` in one transaction on a second copy of the same
                   database; the engine should reach at least 1/3 of that rate;
    nothing due    a second run for the same date: must finish in under 1 s, however
                   many invoices are open (it costs what is due, not what is open);
    memory         the process's peak RSS (`resource.getrusage`) right after the due
                   run: must stay under 1 GiB for the million.

The database is built directly, not through the engine's intake (which would take
far longer than the run it prepares): customers (one per four invoices), invoices
and their `dunning_state` rows are bulk-inserted with `sqlite3.executemany` into a
schema made by `init_db`, after the B2C policy was deployed with `deploy`.  The
records are still exactly what the engine would hold: for every combination of
segment, e-mail opt-out, region, amount class and due date (≈ 15,000 of them) the
pure `step` is run as the daily runs would have run it — on each day its record asked
to be checked again, from the issue date to the day before the as-of date (`daily_runs`)
— and that record (state, `entered_on`, fees, interest, default, reminders, pending
approval, `next_check_on`) is the template for every invoice of the combination;
only the principal, and the interest in proportion to it, are the invoice's own.
Exactly `round(invoices * due_share)` invoices get a template whose next check is
the as-of date; the others are spread over the ladder with their next check in the
future or waiting for a person.  Both follow one age profile (`_weight`: more
invoices in the early states, fewer in the late ones), so the due ones are mostly
notes and reminders, with fewer Mahnungen and few collector approvals.  The built
file is cached (keyed by size, share, date, this generator's version, the policy
file and the migrations) so a rerun only copies it; `--rebuild` forces a new one.
Before a new file is cached, a sample of its rows is read back through the
runner's own row mapping and stepped, to prove that the due ones move and the
others don't.  The ledger, event and outbox tables start empty (no history).

The build runs in a child process, so the peak RSS reported (right after the first
due run) is that of the benchmark process: imports, policy loading and the run.  A
cached file is re-checked on each use (a sample stepped with the current engine code,
also in a child), so a change to the step that makes its records stale is noticed.
`--repeat N` times every figure N times on fresh copies and keeps the best.  `--profile`
repeats the due run on a fresh copy under cProfile and prints where the time goes
(that run's wall time is inflated by the profiler and is not the figure above).

    /tmp/venv/bin/python bench/bench_run.py [--invoices 1000000] [--due-share 0.05]
        [--db PATH] [--keep] [--rebuild] [--batch 2000] [--repeat N] [--profile]
        [--pg URL] [--json] [--quiet]

With `--pg URL` the same rows are also copied into a PostgreSQL database of their own
and the due run and the idle run are timed there too, with each count of `--pg-workers`,
`--repeat` times on fresh copies, alternating: medians, client and server CPU
(`bench_run_pg.py`).
"""

from __future__ import annotations

import argparse
import bisect
import cProfile
import gc
import hashlib
import io
import itertools
import json
import os
import platform
import pstats
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.dialects import sqlite as sqlite_dialect

from mahnwerk.dsl.compile import CompiledPolicy
from mahnwerk.engine import models as m
from mahnwerk.engine import runner, store
from mahnwerk.engine import step as stepper
from mahnwerk.engine.policies import PolicySet, deploy
from mahnwerk.engine.state import ApprovalRequest, Customer, Invoice, Record, cents
from mahnwerk.engine.store import db as mdb
from mahnwerk.engine.store import run as store_run
from mahnwerk.engine.store.book_summary import fold_now

REPO = Path(__file__).resolve().parent.parent
POLICY = REPO / "policies" / "de_b2c_standard.mahn"
CACHE = Path(os.environ.get("MAHNWERK_BENCH_CACHE", Path(tempfile.gettempdir()) / "mahnwerk-bench"))
BUILD_VERSION = 3  # raise whenever the generator changes what it writes

AS_OF = date(2025, 9, 15)  # a Monday; the base rate is known for it (no provisional interest)
NOW = datetime.combine(AS_OF, dtime(6, 0), UTC)
DEPLOYED = datetime(2025, 1, 2, 9, 0, tzinfo=UTC)

TARGET_RATIO = 1 / 3
TARGET_IDLE_S = 1.0
TARGET_RSS_MIB = 1024

INVOICES_PER_CUSTOMER = 4
PAYMENT_TERM = timedelta(days=14)  # B2C: due two weeks after issue
#: Due date = as-of date minus `d`: from invoices issued yesterday (d = -13) to ones
#: twenty weeks overdue, past the last step of every ladder.
OFFSETS = range(-13, 141)
#: The segments of de_b2c_standard.mahn with their share of customers.
SEGMENTS = {"vulnerable": 0.03, "high_risk": 0.12, "good_payers": 0.45, "default": 0.40}
REGIONS = {"NW": 0.35, "BY": 0.30, "BW": 0.20, "BE": 0.15}
EMAIL_OPT_OUT = 0.04
#: Amount classes: the guards differ below 50 EUR (no collector) and above 1,000 EUR
#: (four eyes); each class has its template amount and a range drawn uniformly.
AMOUNTS = {
    "small": (0.15, Decimal("30.00"), (10.0, 49.99)),
    "mid": (0.75, Decimal("300.00"), (50.0, 900.0)),
    "large": (0.10, Decimal("2000.00"), (1100.0, 5000.0)),
}
FIRST = ["Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Jonas", "Mia", "Paul"]
LAST = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker"]

DIALECT = sqlite_dialect.dialect()
DS_COLUMNS = (
    "invoice_id",
    "policy_version_id",
    *store._RECORD_COLUMNS,
    "pending_approval_id",
    "row_version",
    "invoice_due_date",  # the invoice's, as the run writes it (migration 0024)
)


def _weight(d: int) -> float:
    """How many invoices sit at offset `d`: flat until a week overdue, then halving every
    two weeks (most invoices are paid before the later letters).  The same weights spread
    the due invoices over the steps due today, so most of them get the early, cheap steps
    (a note, a reminder e-mail) and few reach the collector's approval, as in a real book."""
    return 1.0 if d <= 7 else 0.5 ** ((d - 7) / 14)


# ---------------------------------------------------------------------------
# Values in the database's own format
# ---------------------------------------------------------------------------


def _binder(table: Any, columns: tuple[str, ...]) -> Any:
    """A function turning Python values into what SQLAlchemy stores on SQLite."""
    procs = []
    for name in columns:
        col_type = table.c[name].type
        procs.append(col_type.dialect_impl(DIALECT).bind_processor(DIALECT))

    def bind(values: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(
            p(v) if p is not None and v is not None else v
            for p, v in zip(procs, values, strict=True)
        )

    return bind


# ---------------------------------------------------------------------------
# Templates: what the engine itself holds for one kind of invoice
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    d: int
    record: Record
    approval: ApprovalRequest | None
    row_version: int

    @property
    def due(self) -> bool:
        return self.record.next_check_on is not None and self.record.next_check_on <= AS_OF


@dataclass
class Group:
    """All offsets of one (segment, opted out, region, amount class)."""

    due: list[Template]
    due_cum: list[float]
    waiting: list[Template]
    waiting_cum: list[float]

    def pick(self, rng: random.Random, due: bool) -> Template:
        options, cum = (self.due, self.due_cum) if due else (self.waiting, self.waiting_cum)
        i = bisect.bisect_left(cum, rng.random() * cum[-1])
        return options[min(i, len(options) - 1)]


def _customer(segment: str, opted_out: bool, region: str, ident: str = "K") -> Customer:
    """A customer that lands in `segment` (values within the segment don't matter)."""
    risk, late = {
        "vulnerable": (Decimal(30), Decimal(8)),
        "high_risk": (Decimal(85), Decimal(14)),
        "good_payers": (Decimal(15), Decimal(1)),
        "default": (Decimal(40), Decimal(9)),
    }[segment]
    return Customer(
        id=ident,
        type="B2C",
        region=region,
        vulnerable=segment == "vulnerable",
        opted_out=frozenset({"email"}) if opted_out else frozenset(),
        risk_score=risk,
        avg_days_late=late,
    )


def daily_runs(
    inv: Invoice, cust: Customer, compiled: CompiledPolicy, issue: date, last: date
) -> tuple[Record, ApprovalRequest | None, int]:
    """What intake writes on the issue date, then every daily run up to `last`: the record,
    its pending approval and the number of steps (each run that checks it adds one to its
    row version).

    The runs that find the invoice due are the ones on its `next_check_on`; a run on
    another day does not check it.  Stepping from the issue date to `last` in one go
    would be a catch-up after an outage instead, which moves an invoice at most one
    level that speaks to the customer (see `engine/step`): every invoice would still be
    early in its ladder."""
    record = stepper.start(inv, cust, compiled, issue).record.evolve(next_check_on=issue)
    approval = None
    steps = 0
    while record.next_check_on is not None and record.next_check_on <= last:
        outcome = stepper.step(record, inv, cust, [], record.next_check_on, compiled)
        record = outcome.record
        steps += 1
        for action in outcome.actions:
            if isinstance(action, ApprovalRequest):
                approval = action
    return record, approval if record.pending_approval else None, steps


def make_group(
    compiled: CompiledPolicy, segment: str, opted_out: bool, region: str, amount_class: str
) -> Group:
    amount = AMOUNTS[amount_class][1]
    cust = _customer(segment, opted_out, region)
    day_before = AS_OF - timedelta(days=1)
    due: list[Template] = []
    waiting: list[Template] = []
    for d in OFFSETS:
        due_date = AS_OF - timedelta(days=d)
        issue = due_date - PAYMENT_TERM
        inv = Invoice("R", "K", issue, due_date, amount, notice_30_days=True)
        record, approval, steps = daily_runs(inv, cust, compiled, issue, day_before)
        assert record.segment == segment, (record.segment, segment)
        t = Template(d, record, approval, 1 + steps)
        (due if t.due else waiting).append(t)
    assert due, f"no offset is due for {segment}"
    return Group(
        due,
        list(itertools.accumulate(_weight(t.d) for t in due)),
        waiting,
        list(itertools.accumulate(_weight(t.d) for t in waiting)),
    )


# ---------------------------------------------------------------------------
# Building the database
# ---------------------------------------------------------------------------


def cache_path(invoices: int, due_share: float) -> Path:
    """Keyed by what shapes the built file: size, share, date, generator, policy, schema."""
    digest = hashlib.sha256(POLICY.read_bytes())
    for migration in sorted((mdb.MIGRATIONS / "versions").glob("*.py")):
        digest.update(migration.read_bytes())  # the schema the file was made with
    key = f"{invoices}-{due_share:g}-{AS_OF:%Y%m%d}-v{BUILD_VERSION}-{digest.hexdigest()[:10]}"
    return CACHE / f"run-{key}.db"


def _draw(rng: random.Random, shares: dict[str, Any]) -> Any:
    keys = list(shares)
    weights = [v[0] if isinstance(v, tuple) else v for v in shares.values()]
    return rng.choices(keys, weights)[0]


def build(path: Path, invoices: int, due_share: float, seed: int = 20250915) -> dict[str, Any]:
    """Create the benchmark database at `path` (replacing it); return what it holds."""
    started = time.perf_counter()
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{path}"
    mdb.init_db(url)
    engine = mdb.make_engine(url)
    version_id, _ = deploy(engine, POLICY, DEPLOYED)
    compiled = PolicySet.load(engine).by_version(version_id)
    engine.dispose()

    rng = random.Random(seed)
    n_customers = max(1, invoices // INVOICES_PER_CUSTOMER)
    n_due = round(invoices * due_share)

    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=DELETE")  # one big transaction: no WAL to fill
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-262144")  # 256 MiB
    con.execute("BEGIN")

    cust_t, inv_t, ds_t, appr_t = (
        m.Customer.__table__,
        m.Invoice.__table__,
        m.DunningState.__table__,
        m.Approval.__table__,
    )
    cust_cols = (
        "id",
        "external_id",
        "name",
        "type",
        "email",
        "street",
        "postal_code",
        "city",
        "country",
        "region",
        "language",
        "tags",
        "vulnerable",
        "opted_out",
        "timezone",
        "risk_score",
        "avg_days_late",
    )
    bind_cust = _binder(cust_t, cust_cols)
    kinds: list[tuple[str, bool, str]] = [("", False, "")]  # index 0 unused (ids start at 1)
    rows = []
    for cid in range(1, n_customers + 1):
        segment = _draw(rng, SEGMENTS)
        opted = rng.random() < EMAIL_OPT_OUT
        region = _draw(rng, REGIONS)
        kinds.append((segment, opted, region))
        risk, late = {
            "vulnerable": (rng.uniform(10, 60), rng.uniform(0, 15)),
            "high_risk": (rng.uniform(70, 99), rng.uniform(4, 30)),
            "good_payers": (rng.uniform(0, 60), rng.uniform(0, 3)),
            "default": (rng.uniform(0, 69), rng.uniform(3.1, 20)),
        }[segment]
        rows.append(
            bind_cust(
                (
                    cid,
                    f"K{cid:07d}",
                    f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    "B2C",
                    f"kunde{cid}@example.org",
                    f"Hauptstraße {rng.randrange(1, 200)}",
                    f"{rng.randrange(10000, 99999)}",
                    "Berlin",
                    "DE",
                    region,
                    "en" if rng.random() < 0.08 else "de",
                    "",
                    segment == "vulnerable",
                    "email" if opted else "",
                    "Europe/Berlin",
                    Decimal(f"{risk:.1f}"),
                    Decimal(f"{late:.1f}"),
                )
            )
        )
    con.executemany(
        f"INSERT INTO customer ({', '.join(cust_cols)}) VALUES ({', '.join('?' * len(cust_cols))})",
        rows,
    )
    del rows

    groups: dict[tuple[str, bool, str, str], Group] = {}
    due_set = set(rng.sample(range(1, invoices + 1), n_due))
    inv_cols = (
        "id",
        "external_id",
        "customer_id",
        "issue_date",
        "due_date",
        "amount",
        "currency",
        "due_date_agreed",
        "notice_30_days",
        "intake_pending",  # taken up already: each has its dunning_state row below
    )
    bind_inv = _binder(inv_t, inv_cols)
    bind_ds = _binder(ds_t, DS_COLUMNS)
    appr_cols = (
        "id",
        "invoice_id",
        "target_state",
        "summary",
        "rule",
        "required",
        "status",
        "requested_on",
        "amount",
    )
    bind_appr = _binder(appr_t, appr_cols)
    inv_sql = (
        f"INSERT INTO invoice ({', '.join(inv_cols)}) VALUES ({', '.join('?' * len(inv_cols))})"
    )
    ds_sql = (
        f"INSERT INTO dunning_state ({', '.join(DS_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(DS_COLUMNS))})"
    )
    appr_sql = (
        f"INSERT INTO approval ({', '.join(appr_cols)}) VALUES ({', '.join('?' * len(appr_cols))})"
    )
    # Per template: the record row with placeholders for the invoice's own values.
    bound: dict[int, tuple[Any, ...]] = {}
    i_id, i_principal, i_interest, i_appr, i_due = (
        DS_COLUMNS.index(c)
        for c in (
            "invoice_id", "principal_open", "interest_open", "pending_approval_id",
            "invoice_due_date",
        )
    )  # fmt: skip
    counts = {"states": {}, "approvals": 0}
    approval_id = 0
    chunk = 100_000
    for start in range(1, invoices + 1, chunk):
        inv_rows, ds_rows, appr_rows = [], [], []
        for iid in range(start, min(invoices, start + chunk - 1) + 1):
            cid = rng.randint(1, n_customers)
            segment, opted, region = kinds[cid]
            amount_class = _draw(rng, AMOUNTS)
            key = (segment, opted, region, amount_class)
            group = groups.get(key)
            if group is None:
                group = groups[key] = make_group(compiled, *key)
            t = group.pick(rng, iid in due_set)
            lo, hi = AMOUNTS[amount_class][2]
            amount = Decimal(f"{rng.uniform(lo, hi):.2f}")
            due_date = AS_OF - timedelta(days=t.d)
            inv_rows.append(
                bind_inv(
                    (
                        iid,
                        f"R{2025000000 + iid}",
                        cid,
                        due_date - PAYMENT_TERM,
                        due_date,
                        amount,
                        "EUR",
                        False,
                        True,
                        False,
                    )
                )
            )
            base = bound.get(id(t))
            if base is None:
                values = store.record_row(t.record)
                values.update(
                    invoice_id=0,
                    policy_version_id=version_id,
                    pending_approval_id=None,
                    row_version=t.row_version,
                    invoice_due_date=None,
                )
                base = bound[id(t)] = bind_ds(tuple(values[c] for c in DS_COLUMNS))
            row = list(base)
            row[i_id] = iid
            row[i_principal] = float(amount)
            row[i_due] = due_date.isoformat()  # SQLite's form of a date
            if t.record.interest_open:
                row[i_interest] = float(
                    cents(t.record.interest_open * amount / AMOUNTS[amount_class][1])
                )
            if t.approval is not None:
                approval_id += 1
                a = t.approval
                appr_rows.append(
                    bind_appr(
                        (
                            approval_id,
                            iid,
                            a.target,
                            a.summary,
                            a.rule,
                            a.required,
                            "pending",
                            a.on,
                            Decimal(0),
                        )
                    )
                )
                row[i_appr] = approval_id
            ds_rows.append(tuple(row))
            counts["states"][t.record.state] = counts["states"].get(t.record.state, 0) + 1
        con.executemany(inv_sql, inv_rows)
        con.executemany(appr_sql, appr_rows)
        con.executemany(ds_sql, ds_rows)
        counts["approvals"] += len(appr_rows)
        print(
            f"  built {min(invoices, start + chunk - 1):,} invoices "
            f"({time.perf_counter() - started:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
    con.execute("COMMIT")
    con.execute("PRAGMA journal_mode=WAL")  # as `make_engine` leaves every mahnwerk file
    con.close()
    # the dashboard's summary: the bulk load's deltas folded, as a run would have left them
    summary_engine = mdb.make_engine(url)
    fold_now(summary_engine)
    summary_engine.dispose()
    info = {
        "invoices": invoices,
        "customers": n_customers,
        "due": n_due,
        "due_share": due_share,
        "as_of": AS_OF.isoformat(),
        "templates": sum(len(g.due) + len(g.waiting) for g in groups.values()),
        "states": dict(sorted(counts["states"].items(), key=lambda kv: -kv[1])),
        "pending_approvals": counts["approvals"],
        "policy_version_id": version_id,
        "build_seconds": round(time.perf_counter() - started, 1),
    }
    verify(path, n_due, rng)
    info["build_seconds"] = round(time.perf_counter() - started, 1)
    Path(f"{path}.json").write_text(json.dumps(info, indent=1))
    return info


def verify(
    path: Path, n_due: int, rng: random.Random, sample: int = 2000, quiet: bool = False
) -> None:
    """Read a sample back as the runner does and step it: due rows move, others don't."""
    from sqlalchemy import select

    con = sqlite3.connect(path)
    due = con.execute(
        "SELECT count(*) FROM dunning_state WHERE next_check_on <= ?", (AS_OF.isoformat(),)
    ).fetchone()[0]
    total = con.execute("SELECT max(invoice_id) FROM dunning_state").fetchone()[0]
    con.close()
    assert due == n_due, f"{due} rows due, expected {n_due}"
    engine = mdb.make_engine(f"sqlite:///{path}")
    policies = PolicySet.load(engine)
    ids = sorted(rng.sample(range(1, total + 1), min(sample, total)))
    ds, inv, cust = m.DunningState.__table__, m.Invoice.__table__, m.Customer.__table__
    moved = still = 0
    with engine.connect() as conn:
        for part in store_run.chunks(ids):
            rows = conn.execute(
                select(
                    ds,
                    inv.c.external_id.label("inv_ext"),
                    inv,
                    cust.c.external_id.label("cust_ext"),
                )
                .join(inv, inv.c.id == ds.c.invoice_id)
                .join(cust, cust.c.id == inv.c.customer_id)
                .where(ds.c.invoice_id.in_(part))
            ).all()
            customers = store_run.customers(conn, {r.customer_id for r in rows})
            for r in rows:
                record = store.record_value(r, r.inv_ext)
                invoice = store.invoice_value(r, r.cust_ext)
                compiled = policies.by_version(r.policy_version_id)
                out = stepper.step(record, invoice, customers[r.customer_id], [], AS_OF, compiled)
                is_due = record.next_check_on is not None and record.next_check_on <= AS_OF
                if is_due:
                    assert out.actions, f"due invoice {r.inv_ext} ({record.state}) did nothing"
                    moved += 1
                else:
                    assert out.record == record and not out.actions, (
                        f"invoice {r.inv_ext} is not due but its step changes it: {out}"
                    )
                    still += 1
    engine.dispose()
    if quiet:
        return
    print(
        f"  verified {moved + still} sampled rows ({moved} due moved, {still} others still)",
        file=sys.stderr,
    )


def ensure_built(args: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    """The cached database for these arguments, built in a child process if missing.

    A cached file is re-checked (a sample stepped with today's engine code, also in a
    child) so a change to the step that makes old records stale is noticed.
    """
    path = cache_path(args.invoices, args.due_share)
    meta = Path(f"{path}.json")
    if args.rebuild or not path.exists() or not meta.exists():
        print(f"building {path} …", file=sys.stderr, flush=True)
        part = path.with_suffix(".part.db")
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--build-only",
                "--invoices",
                str(args.invoices),
                "--due-share",
                str(args.due_share),
                "--db",
                str(part),
            ],
            check=True,
        )
        for suffix in ("", ".json"):
            os.replace(f"{part}{suffix}", f"{path}{suffix}")
    else:
        info = json.loads(meta.read_text())
        check = subprocess.run(
            [
                sys.executable,
                __file__,
                "--verify-only",
                "--db",
                str(path),
                "--due-share",
                str(info["due"]),
            ],
            capture_output=True,
            text=True,
        )
        if check.returncode:
            sys.exit(
                f"{path} no longer matches the engine ({check.stderr.strip()[-400:]}); "
                "run again with --rebuild"
            )
    return path, json.loads(meta.read_text())


# ---------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------

WRITTEN = ("ledger", "event", "outbox", "approval")


def _copy(src: Path, dst: Path) -> None:
    for p in (dst, Path(f"{dst}-wal"), Path(f"{dst}-shm")):
        p.unlink(missing_ok=True)
    shutil.copyfile(src, dst)


def _high_ids(path: Path) -> dict[str, int]:
    con = sqlite3.connect(path)
    try:
        return {
            t: con.execute(f"SELECT coalesce(max(id), 0) FROM {t}").fetchone()[0]
            for t in (*WRITTEN, "run")
        }
    finally:
        con.close()


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_engine(path: Path, batch: int, progress: bool, days_late: int = 0) -> dict[str, Any]:
    """One `runner.run` for the as-of date (+ `days_late`, a catch-up) on `path`."""
    engine = mdb.make_engine(f"sqlite:///{path}")
    t0 = time.perf_counter()
    policies = PolicySet.load(engine)
    load_s = time.perf_counter() - t0
    started = time.perf_counter()

    def report(done: int, total: int) -> None:
        if progress and (done == total or done % (batch * 10) == 0):
            print(
                f"  run: {done:,}/{total:,} ({time.perf_counter() - started:.1f} s)",
                file=sys.stderr,
                flush=True,
            )

    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    late = timedelta(days=days_late)
    stats = runner.run(engine, AS_OF + late, policies, NOW + late, batch=batch, progress=report)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    engine.dispose()
    return {"wall": wall, "cpu": cpu, "stats": stats, "policy_load": load_s}


def engine_writes(path: Path, before: dict[str, int], due_ids: list[int]) -> dict[str, Any]:
    """Everything the run wrote, as the raw rows it stored, for the replay."""
    con = sqlite3.connect(path)
    try:
        cols = ", ".join((*store._RECORD_COLUMNS, "row_version"))
        states = []
        for part in store_run.chunks(due_ids):
            states += con.execute(
                f"SELECT {cols}, invoice_id FROM dunning_state "
                f"WHERE invoice_id IN ({', '.join('?' * len(part))})",
                part,
            ).fetchall()
        out: dict[str, Any] = {"dunning_state": states, "columns": {}}
        for table in WRITTEN:
            cur = con.execute(f"SELECT * FROM {table} WHERE id > ? ORDER BY id", (before[table],))
            names = [c[0] for c in cur.description if c[0] != "id"]
            out["columns"][table] = names
            out[table] = [r[1:] for r in cur.fetchall()]
        at = out["columns"]["approval"].index("invoice_id")
        ids = [r[at] for r in out["approval"]]
        links = []
        for part in store_run.chunks(ids):
            links += con.execute(
                "SELECT pending_approval_id, invoice_id FROM dunning_state "
                f"WHERE invoice_id IN ({', '.join('?' * len(part))})",
                part,
            ).fetchall()
        out["approval_links"] = links
        return out
    finally:
        con.close()


def replay(path: Path, writes: dict[str, Any]) -> tuple[float, float]:
    """The limit: the same rows written with plain sqlite3 in one transaction.

    The connection gets the engine's own per-connection settings (WAL, foreign keys,
    synchronous=NORMAL, …: `db._sqlite_pragmas`), so both sides run under the same
    rules.  Returns (wall, CPU) seconds from BEGIN to the end of COMMIT.
    """
    con = sqlite3.connect(path, isolation_level=None)
    mdb._sqlite_pragmas(con, None)
    sets = ", ".join(f"{c} = ?" for c in (*store._RECORD_COLUMNS, "row_version"))
    statements = [
        (f"UPDATE dunning_state SET {sets} WHERE invoice_id = ?", writes["dunning_state"])
    ]
    for table in ("approval", "ledger", "outbox", "event"):
        names = writes["columns"][table]
        conflict = " ON CONFLICT DO NOTHING" if table == "outbox" else ""
        statements.append(
            (
                f"INSERT INTO {table} ({', '.join(names)}) "
                f"VALUES ({', '.join('?' * len(names))}){conflict}",
                writes[table],
            )
        )
    statements.append(
        (
            "UPDATE dunning_state SET pending_approval_id = ? WHERE invoice_id = ?",
            writes["approval_links"],
        )
    )
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    con.execute("BEGIN")
    for sql, rows in statements:
        if rows:
            con.executemany(sql, rows)
    con.execute("COMMIT")
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    con.close()
    return wall, cpu


def profile_run(src: Path, work: Path, batch: int, top: int = 30) -> str:
    dst = work / "profile.db"
    _copy(src, dst)
    engine = mdb.make_engine(f"sqlite:///{dst}")
    policies = PolicySet.load(engine)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    runner.run(engine, AS_OF, policies, NOW, batch=batch)
    prof.disable()
    wall = time.perf_counter() - t0
    engine.dispose()
    buf = io.StringIO()
    buf.write(f"cProfile of the due run (wall under the profiler {wall:.1f} s)\n")
    st = pstats.Stats(prof, stream=buf).strip_dirs()
    st.sort_stats("tottime").print_stats(top)
    st.sort_stats("cumulative").print_stats(top)
    return buf.getvalue()


def _verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--invoices", type=int, default=1_000_000)
    ap.add_argument("--due-share", type=float, default=0.05)
    ap.add_argument(
        "--db", type=Path, help=f"the cached database to use (default: by size, in {CACHE})"
    )
    ap.add_argument(
        "--keep", action="store_true", help="keep the two working copies (their paths are printed)"
    )
    ap.add_argument("--rebuild", action="store_true", help="build the database even if cached")
    ap.add_argument("--batch", type=int, default=runner.BATCH)
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="time the due run, the idle run and the limit N times each; report the best",
    )
    ap.add_argument(
        "--profile",
        action="store_true",
        help="afterwards, repeat the due run under cProfile and print the top",
    )
    ap.add_argument(
        "--pg",
        metavar="URL",
        help="also copy the database into a fresh schema there and time both runs "
        "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)",
    )
    ap.add_argument(
        "--pg-workers",
        default="1",
        help="with --pg: worker counts to time, each on a fresh copy (e.g. 1,2)",
    )
    ap.add_argument(
        "--catch-up",
        type=int,
        default=0,
        metavar="DAYS",
        help="also time one run DAYS after the as-of date on a fresh copy (after an outage)",
    )
    ap.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    ap.add_argument("--json", action="store_true", help="also print the figures as JSON")
    ap.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--verify-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.build_only:
        build(args.db, args.invoices, args.due_share)
        return 0
    if args.verify_only:  # --due-share carries the expected number of due rows here
        verify(args.db, int(args.due_share), random.Random(), sample=500, quiet=True)
        return 0

    if args.db is not None:
        src = args.db
        meta_path = Path(f"{src}.json")
        if not src.exists():
            ap.error(f"{src} does not exist (omit --db to build a cached one)")
        info = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    else:
        src, info = ensure_built(args)
    rss_start = _rss_mib()
    load_avg = os.getloadavg()  # other processes on the machine skew every figure

    work = Path(tempfile.mkdtemp(prefix="mahnwerk-run-"))
    eng_db, raw_db = work / "engine.db", work / "limit.db"
    _copy(src, eng_db)
    _copy(src, raw_db)
    con = sqlite3.connect(raw_db)
    due_ids = [
        r[0]
        for r in con.execute(
            "SELECT invoice_id FROM dunning_state WHERE next_check_on <= ? ORDER BY invoice_id",
            (AS_OF.isoformat(),),
        )
    ]
    open_invoices = con.execute("SELECT count(*) FROM invoice WHERE closed_on IS NULL").fetchone()[
        0
    ]
    con.close()

    before = _high_ids(eng_db)
    runs = []
    for i in range(args.repeat):  # each on a fresh copy; the best counts (noisy machines)
        if i:
            _copy(src, eng_db)
        runs.append(run_engine(eng_db, args.batch, not args.quiet))
        if i == 0:
            rss_run = _rss_mib()  # the due run is the only heavy thing so far
    first = min(runs, key=lambda r: r["wall"])
    after = _high_ids(eng_db)
    stats = first["stats"]
    written = {t: after[t] - before[t] for t in WRITTEN}
    approval_links = written["approval"]
    ds_updates = stats.checked + approval_links
    rows = ds_updates + sum(written.values())

    second = min(
        (run_engine(eng_db, args.batch, False) for _ in range(args.repeat)), key=lambda r: r["wall"]
    )

    writes = engine_writes(eng_db, before, due_ids)
    assert len(writes["dunning_state"]) == stats.checked == len(due_ids), (
        len(writes["dunning_state"]),
        stats.checked,
        len(due_ids),
    )
    limits = []
    for i in range(args.repeat):
        if i:
            _copy(src, raw_db)
        limits.append(replay(raw_db, writes))
    limit_s, limit_cpu = min(limits)
    del writes
    rss_end = _rss_mib()

    ratio = limit_s / first["wall"]
    res = {
        "invoices": open_invoices,
        "customers": info.get("customers"),
        "due": len(due_ids),
        "as_of": AS_OF.isoformat(),
        "batch": args.batch,
        "run_s": round(first["wall"], 3),
        "checked": stats.checked,
        "transitions": stats.transitions,
        "transitions_per_s": round(stats.transitions / first["wall"], 1),
        "checked_per_s": round(stats.checked / first["wall"], 1),
        "rows_written": rows,
        "rows": {"dunning_state (UPDATE)": ds_updates, **written},
        "engine_rows_per_s": round(rows / first["wall"], 1),
        "limit_s": round(limit_s, 3),
        "limit_rows_per_s": round(rows / limit_s, 1),
        "limit_transitions_per_s": round(stats.transitions / limit_s, 1),
        "ratio": round(ratio, 4),
        "run_cpu_s": round(first["cpu"], 3),
        "limit_cpu_s": round(limit_cpu, 3),
        "ratio_cpu": round(limit_cpu / first["cpu"], 4),
        "repeat": args.repeat,
        "idle_run_s": round(second["wall"], 4),
        "idle_checked": second["stats"].checked,
        "policy_load_s": round(first["policy_load"], 3),
        "peak_rss_mib_after_run": round(rss_run),
        "peak_rss_mib_end": round(rss_end),
        "rss_mib_before_run": round(rss_start),
    }
    mib = src.stat().st_size / 2**20
    best = f", best of {args.repeat}" if args.repeat > 1 else ""
    cpu = os.cpu_count()
    load = ", ".join(f"{x:.1f}" for x in load_avg)
    lines = [
        f"mahnwerk run benchmark — SQLite {sqlite3.sqlite_version}, Python "
        f"{platform.python_version()}, {cpu} CPU(s), {platform.machine()}, load {load}",
        f"database   {open_invoices:,} open invoices, {res['customers'] or 0:,} customers; "
        f"due on {AS_OF}: {len(due_ids):,} ({len(due_ids) / open_invoices:.1%})",
        f"           {src} ({mib:,.0f} MiB; built in {info.get('build_seconds', '?')} s)",
        f"           states: {', '.join(f'{k} {v:,}' for k, v in info.get('states', {}).items())}",
        f"due run    run(batch={args.batch}): {first['wall']:.2f} s wall "
        f"({first['cpu']:.2f} s CPU{best}), "
        f"{stats.checked:,} checked ({res['checked_per_s']:,.0f}/s), "
        f"{stats.transitions:,} transitions ({res['transitions_per_s']:,.0f}/s)",
        "           wrote "
        + ", ".join(f"{k} {v:,}" for k, v in res["rows"].items())
        + f" = {rows:,} rows ({res['engine_rows_per_s']:,.0f} rows/s)",
        f"           messages {dict(stats.messages)}, approvals {stats.approvals:,}, "
        f"tasks {dict(stats.tasks)}",
        f"limit      same {rows:,} rows, plain sqlite3 executemany, one transaction: "
        f"{limit_s:.2f} s wall ({limit_cpu:.2f} s CPU{best}) = "
        f"{res['limit_rows_per_s']:,.0f} rows/s "
        f"({res['limit_transitions_per_s']:,.0f} transitions/s)",
        f"ratio      engine/limit = {ratio:.3f} (1/{1 / ratio:.1f})   target >= 1/3   "
        f"{_verdict(ratio >= TARGET_RATIO)}   (by CPU time: {res['ratio_cpu']:.3f})",
        f"idle run   same date again, nothing due: {second['wall'] * 1000:.0f} ms "
        f"({second['stats'].checked} checked)   target < 1 s   "
        f"{_verdict(second['wall'] < TARGET_IDLE_S and second['stats'].checked == 0)}",
        f"memory     peak RSS {rss_run:,.0f} MiB after the due run "
        f"({rss_start:,.0f} MiB before it, {rss_end:,.0f} MiB at the end, with the replay)"
        f"   target < {TARGET_RSS_MIB} MiB   {_verdict(rss_run < TARGET_RSS_MIB)}",
    ]
    if args.catch_up:
        _copy(src, eng_db)
        c = run_engine(eng_db, args.batch, not args.quiet, args.catch_up)
        st = c["stats"]
        res["catch_up"] = {"days": args.catch_up, "run_s": round(c["wall"], 3),
                           "run_cpu_s": round(c["cpu"], 3), "checked": st.checked,
                           "transitions": st.transitions, "load": os.getloadavg()[0]}  # fmt: skip
        lines.append(
            f"catch-up   one run {args.catch_up} days after {AS_OF} (an outage): "
            f"{c['wall']:.2f} s wall ({c['cpu']:.2f} s CPU), {st.checked:,} checked, "
            f"{st.transitions:,} transitions, messages {dict(st.messages)}; "
            f"load {os.getloadavg()[0]:.1f}"
        )
    if args.pg:
        import bench_run_pg  # beside this file: the PostgreSQL figures

        counts = [int(w) for w in args.pg_workers.split(",")]
        pg = bench_run_pg.figures(
            src, args.pg, sys.modules[__name__], args.batch, counts, args.repeat, args.keep
        )
        for workers, f in pg.items():
            res[f"pg_{workers}"] = {"workers": workers, **f}
            med = "median" if args.repeat > 1 else "one run"
            lines.append(
                f"PostgreSQL, {workers} worker(s): due run {f['run_s']:.2f} s wall ({med} of "
                f"{f['runs_s']}, best {f['run_s_best']:.2f}), client CPU {f['client_cpu_s']:.2f} s "
                f"({f['run_cpu_s']:.2f} in this process, {f['workers_cpu_s']:.2f} in workers), "
                f"server CPU {f['server_cpu_s']:.2f} s, {f['checked']:,} checked, "
                f"{f['transitions']:,} transitions ({f['transitions_per_s']:,.0f}/s); idle run "
                f"{f['idle_run_s'] * 1000:.0f} ms ({f['idle_checked']} checked); "
                f"load {f['loads']}"
            )
    print("\n".join(lines))
    if args.json:
        print(json.dumps(res))
    if args.profile:
        print()
        print(profile_run(src, work, args.batch))
    if args.keep:
        print(f"kept: {eng_db} (engine), {raw_db} (limit)")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
