"""On PostgreSQL a person is the database role they log in as, and the roles are grants.

Two real login roles (created here, dropped afterwards) approve one escalation that needs
two people: each through `mahnwerk approvals approve` on a connection of their own login.
The same login twice, or a forged `--by`, is refused; a direct SQL session of that login
cannot write a decision in another's name, rewrite or delete the event log, or mint a token.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from service_harness import database_logins, mahnwerk
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import ProgrammingError

from mahnwerk.engine.models import APPROVAL, DECISION
from mahnwerk.engine.store.db import init_db, make_engine

NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)


@pytest.fixture
def logins(db_url: str) -> Iterator[dict[str, str]]:
    """Two login roles, anna and ben, each with the URL its connections use."""
    with database_logins(db_url, ("anna", "ben")) as urls:
        yield urls


def _book(engine: Engine) -> int:
    """One invoice whose escalation waits for two approvals."""
    with engine.begin() as conn:
        cid = conn.execute(text(
            "INSERT INTO customer (external_id, name, type) VALUES ('K1', 'A', 'B2B') RETURNING id"
        )).scalar_one()  # fmt: skip
        iid = conn.execute(text(
            "INSERT INTO invoice (external_id, customer_id, issue_date, due_date, amount) "
            "VALUES ('R1', :c, '2026-01-01', '2026-01-15', 10) RETURNING id"), {"c": cid}
        ).scalar_one()  # fmt: skip
        return conn.execute(text(
            "INSERT INTO approval (invoice_id, target_state, summary, rule, requested_on, amount,"
            " required) VALUES (:i, 'gericht', 's', 'p:1', :d, 10, 2) RETURNING id"),
            {"i": iid, "d": date(2026, 2, 1)},
        ).scalar_one()  # fmt: skip


def _decisions(engine: Engine, approval_id: int) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(DECISION.c.approver).where(DECISION.c.approval_id == approval_id)
            ).scalars()
        )


def test_two_approvals_need_two_database_logins(db_url: str, logins: dict[str, str]) -> None:
    init_db(db_url)
    owner = make_engine(db_url)
    aid = _book(owner)
    with owner.connect() as conn:
        me = conn.execute(text("SELECT session_user")).scalar_one()
    mahnwerk(db_url, "users", "add", "chef", "--role", "admin", "--db-role", me)
    refused = mahnwerk(db_url, "users", "add", "x", "--role", "viewer", "--os-user", "x", code=2)
    assert "not the OS user" in refused
    for who in ("anna", "ben"):
        out = mahnwerk(db_url, "users", "add", who, "--role", "approver",
                        "--db-role", logins[f"{who}_login"])  # fmt: skip
        assert f"database role {logins[f'{who}_login']} is a member of mahnwerk_approver" in out

    out = mahnwerk(logins["anna"], "approvals", "approve", str(aid))
    assert "anna approved (1 of 2)" in out
    again = mahnwerk(logins["anna"], "approvals", "approve", str(aid), code=1)
    assert "a second approval must come from a different person" in again
    forged = mahnwerk(logins["anna"], "approvals", "approve", str(aid), "--by", "ben", code=1)
    assert f"--by ben is not who you are: you are anna (database role {logins['anna_login']})" in (
        forged
    )
    assert _decisions(owner, aid) == ["anna"]
    out = mahnwerk(logins["ben"], "approvals", "approve", str(aid))
    assert "approved" in out
    assert _decisions(owner, aid) == ["anna", "ben"]
    with owner.connect() as conn:
        assert conn.execute(select(APPROVAL.c.status).where(APPROVAL.c.id == aid)).scalar() == (
            "approved"
        )

    # a direct SQL session of anna's login: only what her role may, only in her name
    anna = make_engine(logins["anna"])

    def as_anna(sql: str, **params: object) -> None:
        with anna.connect() as conn:
            try:
                conn.execute(text(sql), params)
            finally:
                conn.rollback()

    as_anna("SELECT count(*) FROM invoice")
    with pytest.raises(ProgrammingError, match="row-level security"):
        as_anna("INSERT INTO approval_decision (approval_id, approver, decision, decided_at)"
                " VALUES (:a, 'ben', 'approve', :t)", a=aid, t=NOW)  # fmt: skip
    for sql in ("UPDATE event SET message = 'nichts passiert'", "DELETE FROM event",
                "UPDATE policy_version SET source = ''", "DELETE FROM approval_decision",
                "INSERT INTO api_token (name, acts_as, role, token_hash, prefix, created_at, "
                "created_by) VALUES ('x', 'x', 'admin', 'h', 'p', now(), 'x')"):  # fmt: skip
        with pytest.raises(ProgrammingError, match="permission denied"):
            as_anna(sql)
    anna.dispose()
    owner.dispose()


def _tables(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )).scalars())  # fmt: skip


def _readable(url: str, tables: set[str]) -> dict[str, bool]:
    """Per table: whether a session of the login in `url` may SELECT from it."""
    login = make_engine(url)
    try:
        with login.connect() as conn:
            return {t: bool(conn.execute(
                text("SELECT has_table_privilege(current_user, :t, 'SELECT')"), {"t": t}
            ).scalar()) for t in sorted(tables)}  # fmt: skip
    finally:
        login.dispose()


def test_an_upgrade_grants_the_tables_it_adds(db_url: str, logins: dict[str, str]) -> None:
    """Grants name the tables that existed when given: `init_db` gives them again after an
    upgrade, so a viewer reads what a later migration adds without another `users add`."""
    from alembic import command

    from mahnwerk.engine.store.db import alembic_config

    init_db(db_url)
    owner = make_engine(db_url)
    with owner.connect() as conn:
        me = conn.execute(text("SELECT session_user")).scalar_one()
    mahnwerk(db_url, "users", "add", "chef", "--role", "admin", "--db-role", me)
    mahnwerk(db_url, "users", "add", "vera", "--role", "viewer", "--db-role",
              logins["anna_login"])  # fmt: skip
    head = _tables(owner)
    config = alembic_config(db_url)
    command.downgrade(config, "0021")  # back to before the newest migrations' tables
    added = head - _tables(owner)
    assert added, "no migration after 0021 adds a table: pick an older revision"
    command.upgrade(config, "head")  # alembic alone: the new tables have no grants yet
    assert not any(_readable(logins["anna"], added).values())

    command.downgrade(config, "0021")
    said = init_db(db_url)
    assert "upgraded database" in said and "granted mahnwerk_viewer" in said, said
    assert _readable(logins["anna"], added) == dict.fromkeys(sorted(added), True)
    vera = make_engine(logins["anna"])
    with vera.connect() as conn:  # and really reads one
        conn.execute(text(f"SELECT count(*) FROM {sorted(added)[0]}")).scalar_one()
    vera.dispose()
    assert init_db(db_url).startswith("database")  # up to date: nothing to grant again
    owner.dispose()


def test_an_upgrade_leaves_a_schema_without_grants_alone(db_url: str) -> None:
    """Where nobody set grants up, an upgrade grants nothing (SQLite has none at all)."""
    from alembic import command

    from mahnwerk.engine.store.db import alembic_config

    command.upgrade(alembic_config(db_url), "0021")
    said = init_db(db_url)
    assert said.startswith("upgraded database") and "granted" not in said, said


def test_a_viewer_cannot_change_another_persons_saved_filter(
    db_url: str, logins: dict[str, str]
) -> None:
    """Saved queue filters are their person's: another login reads them but cannot change,
    delete or plant one, in the app (`FilterRefused`) nor by direct SQL (row-level
    security)."""
    from mahnwerk.engine.saved_filters import FilterRefused, save_filter, saved_filters

    init_db(db_url)
    owner = make_engine(db_url)
    with owner.connect() as conn:
        me = conn.execute(text("SELECT session_user")).scalar_one()
    mahnwerk(db_url, "users", "add", "chef", "--role", "admin", "--db-role", me)
    for who in ("anna", "ben"):
        mahnwerk(db_url, "users", "add", who, "--role", "viewer", "--db-role",
                  logins[f"{who}_login"])  # fmt: skip
    anna, ben = make_engine(logins["anna"]), make_engine(logins["ben"])
    save_filter(ben, "ben", "big", "amount>=100", "balance", True)  # his own: allowed
    save_filter(anna, "anna", "mine", "state=mahnung_2", "entry", False)

    with pytest.raises(FilterRefused, match="you are anna; save it under your own name"):
        save_filter(anna, "ben", "big", "", "entry", False)

    def as_anna(sql: str) -> int:
        with anna.begin() as conn:
            return conn.execute(text(sql)).rowcount

    assert as_anna("UPDATE saved_filter SET line = '' WHERE operator = 'ben'") == 0
    assert as_anna("DELETE FROM saved_filter WHERE operator = 'ben'") == 0
    for sql in ("INSERT INTO saved_filter (operator, name, line, sort, descending)"
                " VALUES ('ben', 'planted', '', 'entry', false)",
                "UPDATE saved_filter SET operator = 'ben' WHERE operator = 'anna'"):  # fmt: skip
        with pytest.raises(ProgrammingError, match="row-level security"):
            as_anna(sql)
    assert as_anna("UPDATE saved_filter SET line = 'state=gericht' WHERE operator = 'anna'") == 1

    kept = [(f["name"], f["line"]) for f in saved_filters(owner, "ben")]
    assert kept == [("big", "amount>=100")]  # unchanged, and nothing planted
    assert [f["name"] for f in saved_filters(anna, "ben")] == ["big"]  # reading stays open
    assert [f["line"] for f in saved_filters(anna, "anna")] == ["state=gericht"]
    for eng in (anna, ben, owner):
        eng.dispose()
