"""A9 with several workers: the run reconciles the bank first, however many processes step.

A credit that waited for a person (here: whose account pays for whom) is matched by the
next run before anything escalates — `runner.run` does that first; `--workers N` must too.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from test_bank_import import BANK, OWN, POLICY, payments

from mahnwerk.engine.bank import import_statement, remember_account
from mahnwerk.engine.importer import import_file
from mahnwerk.engine.models import BANK_ENTRY
from mahnwerk.engine.policies import PolicySet, deploy
from mahnwerk.engine.runner import run
from mahnwerk.engine.workers import run_parallel

NOW = datetime(2026, 3, 11, 7, 0, tzinfo=UTC)
DAY = date(2026, 3, 11)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("workers", [1, 2])
def test_the_run_matches_a_waiting_credit_first_with_one_worker_or_two(db_url, engine, workers):
    import_file(engine, "customers", BANK / "book" / "kunden.csv", now=NOW)
    import_file(engine, "invoices", BANK / "book" / "rechnungen.csv", now=NOW)
    deploy(engine, POLICY, NOW)
    import_statement(engine, OWN, now=NOW)
    # Max Mustermann pays for Dieter Braun: once a person says so, his 12.34 can be matched
    remember_account(engine, "K2004", "DE02 7002 0270 0010 1086 69", now=NOW)
    if workers == 1:
        stats = run(engine, DAY, PolicySet.load(engine), NOW)
    else:
        stats = run_parallel(db_url, DAY, workers, NOW)
    assert payments(engine)["R2026000105"] == [Decimal("12.34")]
    with engine.connect() as conn:
        matched_by = conn.execute(
            select(BANK_ENTRY.c.matched_by).where(BANK_ENTRY.c.amount == Decimal("12.34"))
        ).scalar_one()
    assert matched_by is not None
    assert stats.payments_applied >= 1  # and the run applied it to the invoice
