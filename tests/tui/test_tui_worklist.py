"""Today's list on the Monday book, read as the screen reads it (`engine.worklist`).

Promises that fall due are walked by their date on an index (migration 0023), from the
as-of date back over `PROMISE_LOOKBACK`; the header's counts are those of everything
waiting, not of the lines listed.  On SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from tui_book import AS_OF, build_monday_book

from mahnwerk.engine import worklist
from mahnwerk.engine.models import DS, INBOX


@pytest.fixture
def monday(db_url: str) -> Iterator[Engine]:
    engine = build_monday_book(db_url)
    yield engine
    engine.dispose()


def promises(engine: Engine, day) -> list[str]:  # type: ignore[no-untyped-def]
    return [i.invoice for i in worklist.today(engine, day).items if i.kind == "promise"]


def test_a_promise_is_due_from_its_date_until_the_look_back_has_passed(monday: Engine):
    """RE-2006 was promised for 31.05.: not due the day before, due on the day and after,
    and no longer Today's question once the look-back is over (the run has long resumed)."""
    assert promises(monday, AS_OF) == ["RE-2006"]
    promised = AS_OF - timedelta(days=3)
    assert promises(monday, promised - timedelta(days=1)) == []
    assert promises(monday, promised) == ["RE-2006"]
    assert promises(monday, promised + worklist.PROMISE_LOOKBACK) == ["RE-2006"]
    assert promises(monday, promised + worklist.PROMISE_LOOKBACK + timedelta(days=1)) == []


def test_the_counts_are_of_all_that_waits_not_of_the_lines_listed(monday: Engine):
    everything = worklist.today(monday, AS_OF, shown=1000)
    assert worklist.waiting(monday, AS_OF) == everything.counts
    assert everything.counts["approval"] == 10  # the book's escalations
    two = worklist.today(monday, AS_OF, shown=2)
    assert two.counts["approval"] == 2
    assert {k: min(n, 2) for k, n in everything.counts.items()} == two.counts


def test_the_promise_walk_follows_the_index_on_the_promised_date(tmp_path):  # type: ignore[no-untyped-def]
    """The query says the index's own words (a different spelling of the JSON path, or the
    kind as a bound parameter, and SQLite reads every promise ever made instead)."""
    engine = build_monday_book(f"sqlite:///{tmp_path / 'monday.db'}")
    with engine.connect() as conn:
        promised, due = worklist._promised_due(conn, AS_OF)
        query = (
            select(INBOX.c.id)
            .join(DS, DS.c.invoice_id == INBOX.c.invoice_id)
            .where(*due)
            .order_by(promised.desc(), INBOX.c.id.desc())
            .limit(5)
        )
        sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
        plan = " ".join(str(r) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    engine.dispose()
    assert "USING INDEX ix_inbox_promised_date" in plan
