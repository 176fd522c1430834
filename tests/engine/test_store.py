"""engine.store: every reader of an invoice's record selects the columns the run reads.

The deploy preview and the next-step view used to select an invoice without its kind of
claim (§ 288 Abs. 2 BGB) and its Skonto terms, so there a loan was taken for a claim for
goods or services and Skonto tiers were missing.  They now read through `record_select`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert

from mahnwerk.engine import customer_view, store
from mahnwerk.engine.models import CUST, INV
from mahnwerk.engine.policies import PolicySet, deploy
from mahnwerk.engine.runner import run
from mahnwerk.engine.store import invoice_value
from mahnwerk.engine.store.db import init_db, make_engine
from mahnwerk.engine.terms import Tier, tiers_json

POLICY = """
policy "einfach" version 1 {
  currency EUR  timezone "Europe/Berlin"  calendar DE  language de
  limits { minimum balance 5.00 EUR }
  segment default use standard
  ladder standard {
    state erinnerung "Zahlungserinnerung" at 7d after due { email "zahlungserinnerung"; wait }
  }
}
"""


def at(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=6)


@pytest.fixture
def book(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    init_db(url)
    engine = make_engine(url)
    policy = tmp_path / "einfach.mahn"
    policy.write_text(POLICY, encoding="utf-8")
    deploy(engine, policy, at(date(2025, 3, 1)))
    with engine.begin() as conn:
        cid = conn.execute(
            insert(CUST).values(external_id="K-1", name="Bau Nord GmbH", type="B2B")
        ).inserted_primary_key[0]
        for number, kind in (("R-LOAN", "other"), ("R-GOODS", "goods_services")):
            conn.execute(
                insert(INV).values(
                    external_id=number,
                    customer_id=cid,
                    issue_date=date(2025, 3, 3),
                    due_date=date(2025, 3, 17),
                    amount=Decimal("1000.00"),
                    claim_kind=kind,
                    skonto_terms=tiers_json([Tier(14, Decimal("2"))]),
                )
            )
    run(engine, date(2025, 3, 10), PolicySet.load(engine), at(date(2025, 3, 10)))
    yield engine
    engine.dispose()


def test_record_select_reads_what_the_run_reads(book: Engine) -> None:
    with book.connect() as conn:
        rows = {r.inv_ext: r for r in conn.execute(store.record_select())}
    loan = invoice_value(rows["R-LOAN"], "K-1", rows["R-LOAN"].inv_ext)
    goods = invoice_value(rows["R-GOODS"], "K-1", rows["R-GOODS"].inv_ext)
    assert (loan.goods_or_services, goods.goods_or_services) == (False, True)
    assert loan.skonto and goods.skonto


def test_the_next_step_view_sees_the_kind_of_claim_and_skonto(book: Engine) -> None:
    found = customer_view._policy_of(book, "R-LOAN")
    assert found is not None
    _, (_, inv, _) = found
    assert inv.goods_or_services is False
    assert inv.skonto == invoice_value(_stored(book, "R-LOAN"), "K-1", "R-LOAN").skonto
    assert inv.skonto


def _stored(engine: Engine, number: str):
    with engine.connect() as conn:
        return next(r for r in conn.execute(store.record_select()) if r.inv_ext == number)
