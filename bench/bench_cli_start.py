"""How long the command line takes before it does anything (issue 21: target < 0.3 s).

Every scripted call pays the start-up: an ERP hook that records one event, a cron line, an
operator who types `mahnwerk show`.  This times, best of `--repeat` (a busy machine only
ever adds time), in fresh processes:

* `mahnwerk --help` — answered from `app/commands.json` by `mahnwerk.launch`;
* `mahnwerk show INV` on a small database — answered by `mahnwerk.quick` with `sqlite3`
  alone (the real command line only when something is not as expected);
* `python -c "import mahnwerk.cli"` — what every command but the overview pays first;
* `python -c pass` — the interpreter alone, the floor under all of them.

With `--imports` it also lists the slowest imports of `mahnwerk.cli` (`python -X
importtime`, cumulative microseconds), the list to work down.

    .venv/bin/python bench/bench_cli_start.py --repeat 5 --imports
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]


def _best(argv: list[str], repeat: int, env: dict[str, str]) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, env=env, check=False)
        best = min(best, time.perf_counter() - start)
    return best


def _book(folder: Path) -> tuple[str, str]:
    """A one-invoice database after one run, for `show` (built here, not timed)."""
    import contextlib
    from datetime import UTC, date, datetime
    from decimal import Decimal

    from sqlalchemy import insert

    from mahnwerk.engine.models import CUST, INV
    from mahnwerk.engine.policies import PolicySet, deploy
    from mahnwerk.engine.runner import run
    from mahnwerk.engine.store.db import init_db, make_engine

    url = f"sqlite:///{folder / 'start.db'}"
    init_db(url)
    engine = make_engine(url)
    policy = ROOT / "tests" / "engine" / "data" / "runner_policy.mahn"
    with contextlib.chdir(policy.parent):
        deploy(engine, policy.name, datetime(2024, 1, 1, tzinfo=UTC))
    with engine.begin() as conn:
        cid = conn.execute(
            insert(CUST).values(external_id="K-1", name="Anna Schmidt", type="B2C", region="HH")
        ).inserted_primary_key[0]
        conn.execute(
            insert(INV).values(external_id="RE-1", customer_id=cid, issue_date=date(2024, 4, 1),
                               due_date=date(2024, 4, 15), amount=Decimal("480.00"))
        )  # fmt: skip
    run(engine, date(2024, 5, 2), PolicySet.load(engine), datetime(2024, 5, 2, 6, tzinfo=UTC))
    engine.dispose()
    return url, "RE-1"


def _imports(env: dict[str, str], top: int) -> list[tuple[int, str]]:
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import mahnwerk.cli"],
                          capture_output=True, text=True, env=env, check=True)  # fmt: skip
    rows = []
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--imports", action="store_true", help="list the slowest imports")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    env = os.environ | {"COLUMNS": "100"}
    with tempfile.TemporaryDirectory() as tmp:
        url, invoice = _book(Path(tmp))
        mw = str(BIN / "mahnwerk")
        figures = {
            "python -c pass": _best([sys.executable, "-c", "pass"], args.repeat, env),
            "mahnwerk --help": _best([mw, "--help"], args.repeat, env),
            "import mahnwerk.cli": _best(
                [sys.executable, "-c", "import mahnwerk.cli"], args.repeat, env
            ),
            f"mahnwerk show {invoice}": _best(
                [mw, "show", invoice, "--db", url], args.repeat, env
            ),
        }
    for what, seconds in figures.items():
        print(f"{what:<32} {seconds * 1000:8.0f} ms   (best of {args.repeat})")
    if args.imports:
        print(f"\nslowest imports of mahnwerk.cli (cumulative, µs), top {args.top}:")
        for micros, name in _imports(env, args.top):
            print(f"{micros:>10}  {name}")


if __name__ == "__main__":
    main()
