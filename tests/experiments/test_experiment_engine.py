"""Champion/challenger through the real engine: assignment, routing, report, promotion.

One book of 200 consumers (40 of them arriving during the experiment) is dunned day by
day for 60 days; the synthetic customers pay after the first reminder with probability
0.30 and after the challenger's extra reminder with probability 0.60 (`experiment_book`).
In the segment the extra step exists for (`good_payers`), the true effect on the 30-day
cure rate is 0.70 × 0.60 = +42 points; the vulnerable segment's ladder has no extra
step, so over all segments (1 in 10 vulnerable) it is about +38 points.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from experiment_book import CHALLENGER, CHAMPION, Payers, add_customers, at, challenger_file, dun
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from mahnwerk.cli import app
from mahnwerk.engine import experiments
from mahnwerk.engine import models as m
from mahnwerk.engine.deploy_review import preview_text
from mahnwerk.engine.experiment_report import report
from mahnwerk.engine.policies import PolicySet, deploy
from mahnwerk.engine.runner import run
from mahnwerk.engine.store.db import init_db, make_engine

D0 = date(2026, 3, 2)
LAST = D0 + timedelta(days=58)
JOIN = D0 + timedelta(days=3)


def _book(folder: Path) -> Engine:
    url = f"sqlite:///{folder / 'book.db'}"
    init_db(url)
    engine = make_engine(url)
    add_customers(engine, 0, 160, D0)
    deploy(engine, CHAMPION, at(D0))
    return engine


def _assignments(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(m.CUST.c.external_id, m.ASSIGNMENT.c.arm)
            .join(m.CUST, m.CUST.c.id == m.ASSIGNMENT.c.customer_id)
        ).all()  # fmt: skip
    return dict(rows)


@pytest.fixture(scope="module")
def dunned(tmp_path_factory) -> tuple[Engine, Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("experiment")
    engine = _book(folder)
    path = challenger_file(folder)
    experiments.start(engine, "nachfass", "de-b2c-standard", path, Decimal("0.5"), D0, at(D0),
                      "anna.schulz", key="0123456789abcdef" * 4)  # fmt: skip
    at_start = _assignments(engine)
    dun(engine, Payers(0.30, 0.60), D0, LAST, joining=(JOIN, 1000, 40))
    yield engine, path, at_start
    engine.dispose()


def test_the_report_finds_the_known_effect_of_the_extra_step(dunned):
    engine, _path, _ = dunned
    rep = report(engine, "nachfass", LAST)
    d = rep.difference
    assert d.verdict == "promote"
    assert d.low is not None and d.high is not None
    assert 0 < d.low < 0.38 < d.high  # the interval holds the true effect, not zero
    rows = {(r[0], r[1]): r for r in rep.table().rows}
    cols = rep.table().columns
    cure = cols.index("cured 30d %")
    # in the segment the step was added to, the challenger cures far more
    assert rows[("challenger", "good_payers")][cure] > rows[("champion", "good_payers")][cure] + 25
    # the extra step is an e-mail: it costs nothing, and it saves Mahnung letters
    cost = cols.index("cost EUR")
    assert rows[("challenger", "all")][cost] < rows[("champion", "all")][cost]
    # 160 at the start, split exactly per segment; 40 joined, each by its hash
    assert sum(rep.customers.values()) == 200
    assert 80 + 10 <= rep.customers["challenger"] <= 80 + 30
    assert "recommendation: PROMOTE" in rep.verdict_lines()[-1]


def test_no_customer_changes_arm_and_each_arm_is_dunned_by_its_policy(dunned):
    engine, _path, at_start = dunned
    now = _assignments(engine)
    assert {k: now[k] for k in at_start} == at_start  # nobody switched
    joined = set(now) - set(at_start)
    assert len(joined) == 40 and all(k.startswith("K1") for k in joined)
    with engine.connect() as conn:
        exp = conn.execute(select(m.EXPERIMENT)).one()
        rows = conn.execute(
            select(m.CUST.c.external_id, m.DS.c.policy_version_id, m.DS.c.state)
            .join(m.INV, m.INV.c.customer_id == m.CUST.c.id)
            .join(m.DS, m.DS.c.invoice_id == m.INV.c.id)
        ).all()  # fmt: skip
        extra = conn.execute(
            select(m.CUST.c.external_id).join(m.EVENT, m.EVENT.c.customer_id == m.CUST.c.id)
            .where(m.EVENT.c.kind == "transition", m.EVENT.c.state_to == "nachfass")
        ).scalars().all()  # fmt: skip
    for ext, version, _state in rows:
        want = exp.challenger_version_id if now[ext] == "challenger" else exp.champion_version_id
        assert version == want, ext
    assert extra and all(now[k] == "challenger" for k in extra)  # the step only in its arm


def test_the_legal_guards_hold_in_both_arms(dunned):
    """D4 letters 14 days apart, D3 at most 3 contacts per 7 days, B1 fees <= 2.50 EUR."""
    engine, _path, _ = dunned
    with engine.connect() as conn:
        out = conn.execute(
            select(m.OUTBOX.c.customer_id, m.OUTBOX.c.invoice_id, m.OUTBOX.c.channel,
                   m.OUTBOX.c.not_before).where(m.OUTBOX.c.status != "cancelled")
        ).all()  # fmt: skip
        fees = conn.execute(
            select(m.LEDGER.c.amount).where(m.LEDGER.c.kind == "fee")
        ).scalars().all()  # fmt: skip
        arms = dict(conn.execute(select(m.ASSIGNMENT.c.customer_id, m.ASSIGNMENT.c.arm)).all())
    letters, contacts = defaultdict(list), defaultdict(list)
    for customer, invoice, channel, when in out:
        contacts[customer].append(when.date())
        if channel == "letter":
            letters[invoice].append(when.date())
    assert {arms[c] for c in contacts} == {"champion", "challenger"}
    for days in letters.values():
        days.sort()
        assert all((b - a).days >= 14 for a, b in zip(days, days[1:], strict=False))
    for days in contacts.values():
        days.sort()
        assert all(sum(1 for d in days if 0 <= (d - x).days < 7) <= 3 for x in days)
    assert fees and max(fees) <= Decimal("2.50")


def test_promote_deploys_the_challenger_through_the_reviewed_deploy(dunned, tmp_path):
    engine, path, _ = dunned
    preview, refused = preview_text(engine, path, LAST + timedelta(days=1))
    assert not refused and "de-b2c-standard version 2" in preview
    message = experiments.promote(engine, "nachfass", at(LAST + timedelta(days=1)), "anna")
    assert "promoted" in message
    with engine.connect() as conn:
        exp = conn.execute(select(m.EXPERIMENT)).one()
        active = conn.execute(select(m.PV).where(m.PV.c.active.is_(True))).one()
    assert exp.status == "promoted" and active.id == exp.challenger_version_id
    policies = PolicySet.load(engine)
    assert not policies.arms.running and not policies.arms.challenger
    with pytest.raises(experiments.ExperimentError, match="promoted already"):
        experiments.stop(engine, "nachfass", at(LAST), "anna")


def test_assignment_is_stratified_stable_and_exclusive(tmp_path):
    engine = _book(tmp_path)
    path = challenger_file(tmp_path)
    started = experiments.start(engine, "zehn", "de-b2c-standard", path, Decimal("0.1"), D0,
                                at(D0), "anna")  # fmt: skip
    # 144 good payers and 16 vulnerable: exactly 10 % of each segment, rounded
    assert started.counts[("good_payers", "challenger")] == 14
    assert started.counts[("vulnerable", "challenger")] == 2
    assert started.counts[("good_payers", "champion")] == 130
    # the keyed hash is the same in another process (no per-process hash seed)
    with engine.connect() as conn:
        key = conn.execute(select(m.EXPERIMENT.c.key)).scalar_one()
    code = ("from mahnwerk.engine.experiments import unit; "
            f"print(repr(unit({key!r}, 'K0042')))")  # fmt: skip
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={"PYTHONHASHSEED": "123"}).stdout.strip()  # fmt: skip
    assert float(other) == experiments.unit(key, "K0042")
    # a customer is never in two experiments: a second one finds nobody left to enrol
    with pytest.raises(experiments.ExperimentError, match="no customer"):
        experiments.start(engine, "zweites", "de-b2c-standard", path, Decimal("0.5"), D0,
                          at(D0), "anna")  # fmt: skip
    # stop: the challenger's invoices go back to the champion at their next step
    run(engine, D0 + timedelta(days=20), PolicySet.load(engine), at(D0 + timedelta(days=20)))
    experiments.stop(engine, "zehn", at(D0 + timedelta(days=21)), "anna")
    run(engine, D0 + timedelta(days=21), PolicySet.load(engine), at(D0 + timedelta(days=21)))
    with engine.connect() as conn:
        champion = conn.execute(
            select(m.PV.c.id).where(m.PV.c.active.is_(True))).scalar_one()  # fmt: skip
        versions = set(conn.execute(select(m.DS.c.policy_version_id)).scalars())
    assert versions == {champion}
    engine.dispose()


def test_the_shipped_challenger_is_the_champion_with_the_extra_step_only():
    def code(path: Path) -> list[str]:
        lines = [ln.split("#")[0].rstrip() for ln in path.read_text("utf-8").splitlines()]
        return [ln for ln in lines if ln]

    champion, challenger = code(CHAMPION), code(CHALLENGER)
    added = [ln for ln in challenger if ln not in champion]
    assert added == [
        'policy "de-b2c-standard" version 2 {',
        '    state nachfass "Zweite Erinnerung" after 7d in erinnerung {',
        '    state mahnung_1 "1. Mahnung" after 7d in nachfass {',
    ]
    assert len(challenger) == len(champion) + 3  # the new state: its line, e-mail, brace


def test_the_cli_starts_and_reports_an_experiment(tmp_path):
    engine = _book(tmp_path)
    engine.dispose()
    path = challenger_file(tmp_path)
    db = str(tmp_path / "book.db")
    cli = CliRunner()
    started = cli.invoke(app, ["experiment", "start", "nachfass", "--champion", str(CHAMPION),
                               "--challenger", str(path), "--share", "10%",
                               "--as-of", D0.isoformat(), "--db", db])  # fmt: skip
    assert started.exit_code == 0, started.output
    assert "segment good_payers: 130 champion, 14 challenger" in started.output
    again = cli.invoke(app, ["experiment", "start", "nachfass", "--champion", "de-b2c-standard",
                             "--challenger", str(path), "--share", "10%",
                             "--db", db])  # fmt: skip
    assert again.exit_code == 1 and "exists already" in again.output
    shown = cli.invoke(app, ["experiment", "report", "nachfass", "--as-of", D0.isoformat(),
                             "--format", "json", "--db", db])  # fmt: skip
    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.output)
    assert body["verdict"] == "keep running" and body["rows"] == []
    assert any("too few invoices" in line for line in body["lines"])


def test_the_report_pack_carries_the_forecast_and_the_experiment(dunned):
    """The management meeting's PDF for April: after the reports, the forecast's chart and
    table, then the experiment's chart and its table per arm and segment, in German."""
    from pypdf import PdfReader

    from mahnwerk.engine.report_pack import pack

    engine, _, _ = dunned
    rep = report(engine, "nachfass", LAST)
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(pack(engine, LAST))).pages]
    forecast = [i for i, t in enumerate(pages) if "Erwarteter Zahlungseingang je Woche" in t]
    assert len(forecast) == 2 and "Woche ab" in pages[forecast[1]]  # chart, then table
    assert "T€" in pages[forecast[0]] and "Fälligkeit + Verzug" in pages[forecast[0]]
    first = next(i for i, t in enumerate(pages) if "Experiment nachfass: bezahlt binnen 30" in t)
    assert first > forecast[1] and len(pages) == first + 2
    assert "Herausforderer: de-b2c-standard version 2" in pages[first]
    assert rep.difference.verdict == "promote"  # the known effect (above)
    assert "Empfehlung: Herausforderer übernehmen (Unterschied" in pages[first]
    table = pages[first + 1]
    assert "bezahlt 30 T. %" in table and "Champion" in table and "Herausforderer" in table
    rate = next(r[3] for r in rep.table().rows if r[:2] == ["challenger", "all"])
    assert f"{rate}".replace(".", ",") in table
