"""Four eyes held by PostgreSQL itself: what a person's login may not do by SQL, it cannot.

Real login roles (created here, dropped afterwards) of an operator and two approvers work
one escalation through the command line — the operator imports and runs, the approvers
decide — while, between the steps, each of them tries the forbidden SQL on a connection of
their own login and sees it refused: an approval set to approved before two people
decided, its `required` lowered, an approved target written into the dunning state, a
decision in another's name, the event log rewritten, and a viewer reading the secrets that
sign webhooks and portal links. Even the service account cannot set
an approval to approved without the decisions (the triggers of migration 0021).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from service_harness import database_logins, mahnwerk
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError

import mahnwerk.cli as cli
from mahnwerk.engine.models import APPROVAL, DS, INV
from mahnwerk.engine.store.db import init_db, make_engine

POLICY = """policy "four-eyes" version 1 {
  currency EUR  timezone "Europe/Berlin"  calendar DE region from customer  language de
  limits { minimum balance 5.00 EUR  letters at least 14 days apart }
  segment default use b2b
  ladder b2b {
    state erinnerung at 7d after due { email "zahlungserinnerung" }
    state mahnung_1 after 14d in erinnerung { letter "mahnung_1" }
    state gericht after 14d in mahnung_1 { approval by 2; court order; wait }
  }
}
"""
PEOPLE = {"vera": "viewer", "olga": "operator", "anna": "approver", "ben": "approver"}
DUE = date(2024, 4, 2)
DECIDED = DUE + timedelta(weeks=8)


@pytest.fixture
def logins(db_url: str) -> Iterator[dict[str, str]]:
    """A login role per person, and the URL its connections use."""
    with database_logins(db_url, PEOPLE) as urls:
        yield urls


def _refuses(url: str) -> Callable[..., str]:
    """A direct SQL session of one login: run a statement, expect it refused, say why."""

    def refused(sql: str, **params: object) -> str:
        engine = make_engine(url)
        try:
            with engine.connect() as conn, pytest.raises(DBAPIError) as caught:
                conn.execute(text(sql), params)
            return str(caught.value.orig)
        finally:
            engine.dispose()

    return refused


def _waiting(owner: Engine) -> tuple[int, int, str]:
    with owner.connect() as conn:
        row = conn.execute(select(APPROVAL.c.id, APPROVAL.c.invoice_id, APPROVAL.c.status)).one()
    return row.id, row.invoice_id, row.status


def _state(owner: Engine, invoice_id: int) -> tuple[str, str | None]:
    with owner.connect() as conn:
        row = conn.execute(
            select(DS.c.state, DS.c.approved_target).where(DS.c.invoice_id == invoice_id)
        ).one()
    return row.state, row.approved_target


def _books(db_url: str, logins: dict[str, str], tmp_path: Path) -> None:
    """People registered with their logins; the operator imports and runs to the approval."""
    with make_engine(db_url).connect() as conn:
        me = conn.execute(text("SELECT session_user")).scalar_one()
    mahnwerk(db_url, "users", "add", "chef", "--role", "admin", "--db-role", me)
    for who, role in PEOPLE.items():
        mahnwerk(db_url, "users", "add", who, "--role", role, "--db-role", logins[f"{who}_login"])
    policy = tmp_path / "four_eyes.mahn"
    policy.write_text(POLICY, encoding="utf-8")
    mahnwerk(db_url, "policy", "deploy", str(policy), "--yes")
    (tmp_path / "k.csv").write_text("customer_id,name,type\nK1,Nordlicht GmbH,B2B\n")
    (tmp_path / "r.csv").write_text(
        "invoice_id,customer_id,issue_date,due_date,amount\n"
        f"R1,K1,2024-03-01,{DUE.isoformat()},12000.00\n"
    )
    mahnwerk(logins["olga"], "import", "customers", str(tmp_path / "k.csv"))
    mahnwerk(logins["olga"], "import", "invoices", str(tmp_path / "r.csv"))
    for week in range(1, 8):
        mahnwerk(logins["olga"], "run", "--as-of", (DUE + timedelta(weeks=week)).isoformat())


def test_four_eyes_hold_against_direct_sql(
    db_url: str, logins: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    moment = datetime(DECIDED.year, DECIDED.month, DECIDED.day, 9, tzinfo=UTC)
    monkeypatch.setattr(cli, "_now", lambda: moment)  # the day the approvers decide
    init_db(db_url)
    _books(db_url, logins, tmp_path)
    owner = make_engine(db_url)
    aid, iid, status = _waiting(owner)
    assert status == "pending" and _state(owner, iid) == ("mahnung_1", None)
    anna, olga = _refuses(logins["anna"]), _refuses(logins["olga"])

    # nobody has decided: neither an approver's login nor the service account approves
    approve = "UPDATE approval SET status = 'approved' WHERE id = :a"
    assert "needs 2 different approvers; 0 approved" in anna(approve, a=aid)
    assert "needs 2 different approvers; 0 approved" in _refuses(db_url)(approve, a=aid)
    mahnwerk(logins["anna"], "approvals", "approve", str(aid))
    assert "needs 2 different approvers; 1 approved" in anna(approve, a=aid)
    # nor lowers what it needs, writes the target past it, or decides in another's name
    assert "permission denied" in anna("UPDATE approval SET required = 1 WHERE id = :a", a=aid)
    assert "asks what it asked" in _refuses(db_url)(
        "UPDATE approval SET required = 1 WHERE id = :a", a=aid
    )
    target = "UPDATE dunning_state SET approved_target = 'gericht' WHERE invoice_id = :i"
    assert "has no approved approval for gericht" in anna(target, i=iid)
    assert "row-level security" in anna(
        "INSERT INTO approval_decision (approval_id, approver, decision, decided_at) "
        "VALUES (:a, 'ben', 'approve', now())",
        a=aid,
    )
    for sql in ("UPDATE approval_decision SET approver = 'ben'", "DELETE FROM approval_decision",
                "UPDATE event SET message = ''", "DELETE FROM event"):  # fmt: skip
        assert "permission denied" in anna(sql)
    # the operator runs the day, but decides nothing and never rewrites the log
    assert "permission denied" in olga(approve, a=aid)
    assert "filed pending, not approved" in olga(
        "INSERT INTO approval (invoice_id, target_state, summary, rule, requested_on, amount, "
        "required, status) VALUES (:i, 'gericht', 's', 'r', '2024-05-01', 1, 1, 'approved')",
        i=iid,
    )
    assert "has no approved approval for gericht" in olga(target, i=iid)
    for sql in (
        "INSERT INTO approval_decision (approval_id, approver, decision, decided_at) "
        "VALUES (1, 'olga', 'approve', now())",
        "DELETE FROM ledger",
        "UPDATE event SET message = ''",
        "DELETE FROM event_seal",
        "UPDATE policy_version SET source = ''",
        "UPDATE person SET role = 'admin'",
    ):
        assert "permission denied" in olga(sql)
    assert _waiting(owner) == (aid, iid, "pending")
    # secrets: a viewer reads the book, not what signs webhooks or customers' portal links
    vera = _refuses(logins["vera"])
    reader = make_engine(logins["vera"])
    with reader.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM invoice")).scalar_one() == 1
        assert conn.execute(text("SELECT count(url) FROM webhook_subscription")).scalar() == 0
    reader.dispose()
    assert "permission denied" in vera("SELECT secret FROM portal_key")
    assert "permission denied" in vera("SELECT secret FROM webhook_subscription")
    assert "permission denied" in olga("SELECT secret FROM webhook_subscription")
    assert "permission denied" in vera("INSERT INTO inbox (invoice_id) VALUES (1)")

    # the allowed path: the second person decides through the command line, the run carries it
    assert "approved; the next run moves the invoice to gericht" in mahnwerk(
        logins["ben"], "approvals", "approve", str(aid)
    )
    assert _state(owner, iid) == ("mahnung_1", "gericht")
    reject = "UPDATE approval SET status = 'rejected' WHERE id = :a"
    assert "already approved" in anna(reject, a=aid)
    mahnwerk(logins["olga"], "run", "--as-of", DECIDED.isoformat())
    assert _state(owner, iid) == ("gericht", None)
    with owner.connect() as conn:
        assert conn.execute(select(INV.c.external_id)).scalar_one() == "R1"
    owner.dispose()
