"""Replays through the real engine step: faithful to the runs, and writing nothing."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from mahnwerk.dsl.compile import load_policy
from mahnwerk.engine import models as m
from mahnwerk.engine.simulate import compare, from_ar_csv, from_database, replay

ROOT = Path(__file__).resolve().parents[2]
B2B = ROOT / "policies" / "de_b2b_standard.yaml"
B2C = ROOT / "policies" / "de_b2c_standard.mahn"
FIRST, LAST = date(2026, 3, 1), date(2026, 3, 31)


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (m.EVENT, m.OUTBOX, m.LEDGER, m.DS, m.PAY, m.APPROVAL)
        }


def test_replaying_the_policy_a_database_ran_with_gives_what_the_runs_did(dunned: Engine):
    before = counts(dunned)
    result = replay(from_database(dunned), load_policy(B2B), FIRST, LAST)
    assert counts(dunned) == before  # nothing written
    with dunned.connect() as conn:
        sent = Counter(
            dict(
                conn.execute(
                    select(m.OUTBOX.c.channel, func.count()).group_by(m.OUTBOX.c.channel)
                ).all()
            )
        )
        states = Counter(
            dict(conn.execute(select(m.DS.c.state, func.count()).group_by(m.DS.c.state)).all())
        )
        charged = {
            k: Decimal(v)
            for k, v in conn.execute(
                select(m.LEDGER.c.kind, func.sum(m.LEDGER.c.amount)).group_by(m.LEDGER.c.kind)
            ).all()
        }
    assert result.invoices == 3
    assert result.messages == sent
    assert result.ended == states
    for kind in ("fee", "lump_sum", "interest"):
        assert Decimal(result.charged[kind]) == charged.get(kind, Decimal(0))
    # A paid 5 days early, C 10 days late
    assert sorted(result.days_to_cash) == [-5, 10]
    assert result.open_at_end == Decimal("200.00")


def test_two_policies_side_by_side_on_the_same_database(dunned: Engine):
    history = from_database(dunned)
    rows = compare([replay(history, load_policy(p), FIRST, LAST) for p in (B2B, B2C)])
    table = {r[0].strip(): r[1:3] for r in rows}
    difference = {r[0].strip(): r[3] for r in rows}
    assert table["invoices replayed"] == [3, 3]
    assert difference["messages"] == table["messages"][1] - table["messages"][0]
    per_segment = [v for k, v in table.items() if k.startswith("segment ") and "invoices" in k]
    assert [sum(column) for column in zip(*per_segment, strict=True)] == [3, 3]
    assert table["paid: median days due -> cash"][0] == table["paid: median days due -> cash"][1]
    assert set(table) >= {"messages", "fee charged EUR", "approvals needed", "open at end EUR"}


def test_the_real_history_under_the_b2b_and_the_b2c_policy(history_file: Path):
    history = from_ar_csv(history_file, "B2B")
    first, last = date(2012, 1, 1), date(2013, 12, 31)
    b2b = replay(history, load_policy(B2B), first, last)
    b2c = replay(history, load_policy(B2C), first, last)
    assert b2b.invoices == b2c.invoices == 2466
    # the 40 EUR lump sum (§ 288 Abs. 5 BGB) is only in the business policy
    assert b2b.charged["lump_sum"] > 0 and b2c.charged["lump_sum"] == 0
    assert b2b.charged["lump_sum"] % 40 == 0
    # the consumer policy's fast ladder for risky customers adds text messages
    assert b2c.messages["sms"] > 0 == b2b.messages["sms"]
    # the history fixes when customers paid: the same days to cash under both
    assert b2b.days_to_cash == b2c.days_to_cash
    assert b2b.ended["paid"] > 2400


def test_a_bad_period_is_refused(dunned: Engine):
    with pytest.raises(ValueError, match="before --from"):
        replay(from_database(dunned), load_policy(B2B), LAST, FIRST)
