"""`mahnwerk show INV` on SQLite is answered by `mahnwerk.quick` with `sqlite3` alone.

It must print exactly what the real command prints (text and `--json`, with charges,
messages and a time-barred claim), must not load SQLAlchemy, and must hand every other case
— an unknown invoice, a caller who is not registered, a date not written YYYY-MM-DD, a
database that is not ready — to the real command line, whose messages and exit codes the
caller then gets.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import insert
from typer.testing import CliRunner

from mahnwerk import quick
from mahnwerk.cli import app
from mahnwerk.engine.models import CUST, INV, PAY
from mahnwerk.engine.policies import PolicySet, deploy
from mahnwerk.engine.runner import run
from mahnwerk.engine.store.db import head_revision, init_db, make_engine

POLICY = Path(__file__).parent / "engine" / "data" / "runner_policy.mahn"
MAHNWERK = str(Path(sys.executable).parent / "mahnwerk")


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two invoices dunned for two months (letters, fees, interest), one partly paid and
    one marked time-barred."""
    path = tmp_path_factory.mktemp("quick") / "book.db"
    url = f"sqlite:///{path}"
    init_db(url)
    engine = make_engine(url)
    with contextlib.chdir(POLICY.parent):
        deploy(engine, POLICY.name, datetime(2024, 1, 1, tzinfo=UTC))
    with engine.begin() as conn:
        cid = conn.execute(
            insert(CUST).values(external_id="K-1", name="Anna Schmidt", type="B2C", region="HH")
        ).inserted_primary_key[0]
        ids = {
            number: conn.execute(
                insert(INV).values(external_id=number, customer_id=cid, amount=Decimal(amount),
                                   issue_date=date(2024, 4, 1), due_date=date(2024, 4, 15))
            ).inserted_primary_key[0]
            for number, amount in (("RE-1", "480.00"), ("RE-2", "99.95"))
        }  # fmt: skip
        conn.execute(
            insert(PAY).values(external_id="Z-1", customer_id=cid, invoice_id=ids["RE-1"],
                               booked_on=date(2024, 5, 10), amount=Decimal("100.10"))
        )  # fmt: skip
    policies = PolicySet.load(engine)
    day = date(2024, 5, 2)
    while day <= date(2024, 7, 1):
        run(engine, day, policies, datetime(day.year, day.month, day.day, 6, tzinfo=UTC))
        day += timedelta(days=7)
    engine.dispose()
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE dunning_state SET time_barred_from = '2024-06-01' WHERE invoice_id = "
            "(SELECT id FROM invoice WHERE external_id = 'RE-2')"
        )
    return path


def _fast(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MAHNWERK, *args], capture_output=True, text=True, check=False)


def _real(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize(
    "extra", [[], ["--json"], ["--as-of", "2024-05-01"], ["--json", "--as-of=2030-01-01"]]
)
@pytest.mark.parametrize("invoice", ["RE-1", "RE-2"])
def test_the_fast_answer_is_the_real_commands(book: Path, invoice: str, extra: list[str]):
    args = ["show", invoice, "--db", str(book), *extra]
    assert quick._options(args) is not None  # the fast path takes this shape
    fast, real = _fast(*args), _real(*args)
    assert (fast.returncode, fast.stdout) == (real.exit_code, real.stdout)
    assert fast.stderr == ""
    if "--json" not in extra:
        assert "amount 480.00" in fast.stdout or "amount 99.95" in fast.stdout


def test_the_book_has_what_the_comparison_needs(book: Path):
    out = _fast("show", "RE-1", "--db", str(book), "--json").stdout
    assert '"kind": "payment"' in out or '"kind": "payment_applied"' in out or "100.10" in out
    assert '"messages": [\n    {' in out and '"ledger": [' in out
    barred = _fast("show", "RE-2", "--db", f"sqlite:///{book}").stdout
    assert "time-barred since 2024-06-01" in barred


def test_the_fast_path_loads_no_sqlalchemy(book: Path):
    probe = (
        "import sys\n"
        f"sys.argv = ['mahnwerk', 'show', 'RE-1', '--db', {str(book)!r}]\n"
        "from mahnwerk.launch import main\n"
        "main()\n"
        "heavy = [m for m in ('mahnwerk.cli', 'sqlalchemy', 'typer', 'lark') if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.startswith("RE-1  Anna Schmidt (K-1)")
    assert "HEAVY []" in done.stderr


def test_every_other_case_gets_the_real_commands_answer(book: Path, tmp_path: Path):
    unknown = _fast("show", "RE-9", "--db", str(book))
    assert (unknown.returncode, unknown.stdout) == (1, "")
    assert "no invoice 'RE-9'" in unknown.stderr
    german = _fast("show", "RE-1", "--db", str(book), "--as-of", "01.05.2024")
    assert german.returncode == 2 and "write YYYY-MM-DD" in german.stderr
    missing = _fast("show", "RE-1", "--db", str(tmp_path / "none.db"))
    assert missing.returncode == 1 and "no such database" in missing.stderr
    # a registered person who is not this OS user: the real command refuses, naming the login
    other = tmp_path / "other.db"
    other.write_bytes(book.read_bytes())
    with sqlite3.connect(other) as conn:
        conn.execute(
            "INSERT INTO person (name, os_user, role, created_at, created_by) "
            "VALUES ('Bea', 'nobody-here', 'admin', '2024-01-01 00:00:00', 'setup')"
        )
    me = pwd.getpwuid(os.geteuid()).pw_name
    refused = _fast("show", "RE-1", "--db", str(other))
    assert refused.returncode != 0 and refused.stdout == ""
    assert f"the os-user {me} is not a mahnwerk user" in refused.stderr


def test_the_head_revision_from_file_names_is_alembics():
    assert quick.head_revision() == head_revision()
