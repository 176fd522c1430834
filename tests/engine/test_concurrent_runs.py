"""Runs and imports started at the same time, as real processes, book what one sequence books.

Issue 12: `mahnwerk run --as-of 2026-05-20 --db book.db & mahnwerk run … & wait` booked
approvals, fees and interest twice on SQLite.  Here several `mahnwerk run` and `mahnwerk
import invoices` processes start at seeded random offsets on one SQLite file; afterwards
the ledger, the dunning states, the approvals and the outbox must equal those of a copy of
the same book that ran the same commands one after another.  No process may print a
traceback; each either did its work or said who held the book.
"""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from mahnwerk.engine import models as m
from mahnwerk.engine.importer import import_file
from mahnwerk.engine.policies import PolicySet, deploy
from mahnwerk.engine.runner import run
from mahnwerk.engine.store import lease
from mahnwerk.engine.store.db import init_db, make_engine

POLICY = Path(__file__).with_name("data") / "runner_policy.mahn"
CLI = Path(sys.executable).with_name("mahnwerk")
DAY = "2026-05-20"


def mahnwerk(*args: object, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


def _customers(path: Path, n: int) -> None:
    rows = ["Kundennummer;Name;Typ;Bundesland"]
    rows += [f"K{c:04d};Kunde {c};B2C;BE" for c in range(n)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def _invoices(path: Path, first: int, count: int, customers: int) -> None:
    rows = ["Rechnungsnummer;Kundennummer;Rechnungsdatum;Fälligkeit;Betrag"]
    for i in range(first, first + count):
        due = f"{1 + i % 28:02d}.0{3 + i % 2}.2026"
        rows.append(f"R{i:06d};K{i % customers:04d};01.02.2026;{due};{100 + i % 400},{i % 100:02d}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


@pytest.fixture
def book(tmp_path: Path) -> tuple[Path, list[Path]]:
    """A book of 300 invoices dunned since 10 April, and two files of 40 more invoices each."""
    db = tmp_path / "book.db"
    _customers(tmp_path / "kunden.csv", 100)
    _invoices(tmp_path / "rechnungen.csv", 0, 300, 100)
    extra = []
    for n in range(2):
        f = tmp_path / f"extra{n}.csv"
        _invoices(f, 1000 + 40 * n, 40, 100)
        extra.append(f)
    url = f"sqlite:///{db}"
    init_db(url)
    engine = make_engine(url)
    import_file(engine, "customers", tmp_path / "kunden.csv")
    import_file(engine, "invoices", tmp_path / "rechnungen.csv")
    deploy(engine, POLICY, datetime(2026, 4, 1, tzinfo=UTC))
    run(engine, date(2026, 4, 10), PolicySet.load(engine), datetime(2026, 4, 10, 6, tzinfo=UTC))
    engine.dispose()
    return db, extra


def _copy(db: Path, to: Path) -> Path:
    with sqlite3.connect(db) as src, sqlite3.connect(to) as dst:
        src.backup(dst)
    return to


def sequential(db: Path, *imports: Path) -> None:
    """The reference: the imports, then one run of the day, one after another."""
    engine = make_engine(f"sqlite:///{db}")
    for f in imports:
        import_file(engine, "invoices", f)
    run(engine, date(2026, 5, 20), PolicySet.load(engine), datetime(2026, 5, 20, 6, tzinfo=UTC))
    engine.dispose()


def outcome(db: Path) -> dict[str, object]:
    """What a bookkeeper compares: ledger lines, states, approvals, outbox (by invoice number)."""
    engine = make_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        number = dict(conn.execute(select(m.INV.c.id, m.INV.c.external_id)).all())
        ledger = Counter(
            (number[r.invoice_id], r.kind, str(r.amount), r.booked_on)
            for r in conn.execute(select(m.LEDGER))
        )
        states = sorted(
            (number[r.invoice_id], r.state, str(r.principal_open), str(r.fees_open))
            for r in conn.execute(select(m.DS))
        )
        approvals = Counter(
            (number[r.invoice_id], r.target_state) for r in conn.execute(select(m.APPROVAL))
        )
        outbox = Counter(r.idempotency_key for r in conn.execute(select(m.OUTBOX)))
    engine.dispose()
    return {"ledger": ledger, "states": states, "approvals": approvals, "outbox": outbox}


@pytest.mark.parametrize("seed", [2026])
def test_runs_and_imports_at_random_offsets_book_like_one_sequence(book, tmp_path, seed) -> None:
    db, extra = book
    reference = _copy(db, tmp_path / "reference.db")
    sequential(reference, *extra)

    rng = random.Random(seed)
    commands = [("run", "--as-of", DAY)] * 3 + [("import", "invoices", f) for f in extra]
    rng.shuffle(commands)
    procs = []
    for command in commands:
        time.sleep(rng.uniform(0, 0.6))
        procs.append(
            subprocess.Popen(
                [str(CLI), *map(str, command), "--db", str(db)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for command, proc in zip(commands, procs, strict=True):
        out, err = proc.communicate(timeout=240)
        assert "Traceback" not in err and "database is locked" not in err, err
        assert proc.returncode == 0, f"{command}: {err}"
    # runs that came before an import leave its invoices to the next run of the day
    sequential(db)
    got, want = outcome(db), outcome(reference)
    assert {kind for _, kind, _, _ in want["ledger"]} > {"principal"}
    assert got == want


def test_two_runs_at_once_book_the_day_once(book, tmp_path) -> None:
    db, _ = book
    reference = _copy(db, tmp_path / "reference.db")
    sequential(reference)
    procs = [
        subprocess.Popen(
            [str(CLI), "run", "--as-of", DAY, "--db", str(db)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [p.communicate(timeout=240) + (p.returncode,) for p in procs]
    assert all(code == 0 and "Traceback" not in err for _, err, code in results), results
    assert outcome(db) == outcome(reference)


def test_a_run_finding_the_book_held_says_who_holds_it_and_changes_nothing(book) -> None:
    db, _ = book
    engine = make_engine(f"sqlite:///{db}")
    before = outcome(db)
    held = lease.acquire(engine, "the import of kunden-gross.csv", wait=0)
    try:
        done = mahnwerk("run", "--as-of", DAY, "--db", db, "--wait", "1")
    finally:
        lease.release(held)
        engine.dispose()
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    text = " ".join(done.stderr.split())
    assert "cannot start the run for 2026-05-20: the import of kunden-gross.csv is in progress" in (
        text
    )
    assert "waited 1 s, nothing was changed" in text and "--wait" in text
    assert outcome(db) == before


def test_an_import_during_a_run_waits_or_is_refused_whole(book, tmp_path) -> None:
    db, extra = book
    engine = make_engine(f"sqlite:///{db}")
    held = lease.acquire(engine, f"the run for {DAY}", wait=0)
    try:
        done = mahnwerk("import", "invoices", extra[0], "--db", db, "--wait", "0.5")
        with engine.connect() as conn:
            count = len(conn.execute(select(m.INV.c.id)).all())
    finally:
        lease.release(held)
        engine.dispose()
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"the run for {DAY} is in progress" in " ".join(done.stderr.split())
    assert count == 300  # nothing of the file was written
    assert mahnwerk("import", "invoices", extra[0], "--db", db).returncode == 0


def test_a_lease_left_by_a_killed_process_is_taken_over(book) -> None:
    db, _ = book
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    engine = make_engine(f"sqlite:///{db}")
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(m.LEASE).values(
                name=lease.BOOK, token="gone", purpose="the run for 2026-05-19",
                pid=int(dead.stdout), host=__import__("socket").gethostname(),
                acquired_at=now, heartbeat_at=now,
            )
        )
    engine.dispose()
    done = mahnwerk("run", "--as-of", DAY, "--db", db, "--wait", "0")
    assert done.returncode == 0, done.stderr
