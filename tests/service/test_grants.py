"""On PostgreSQL the roles are database grants: a direct SQL session is held to its role."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from typer.testing import CliRunner

from mahnwerk.cli import app
from mahnwerk.engine.db import init_db, make_engine
from mahnwerk.service.identity import os_user

NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_sql_session_can_do_only_what_its_role_may(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("grants are PostgreSQL's")
    init_db(db_url)
    engine = make_engine(db_url)
    with engine.begin() as conn:
        for login in ("mw_test_vera", "mw_test_anna"):
            conn.execute(text(
                f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{login}') "
                f"THEN CREATE ROLE {login} LOGIN; END IF; END $$"
            ))  # fmt: skip
        cid = conn.execute(text(
            "INSERT INTO customer (external_id, name, type) VALUES ('K1', 'A', 'B2B') RETURNING id"
        )).scalar_one()  # fmt: skip
        iid = conn.execute(text(
            "INSERT INTO invoice (external_id, customer_id, issue_date, due_date, amount) "
            "VALUES ('R1', :c, '2026-01-01', '2026-01-15', 10) RETURNING id"), {"c": cid}
        ).scalar_one()  # fmt: skip
        aid = conn.execute(text(
            "INSERT INTO approval (invoice_id, target_state, summary, rule, requested_on, amount)"
            " VALUES (:i, 'gericht', 's', 'p:1', :d, 10) RETURNING id"),
            {"i": iid, "d": date(2026, 2, 1)},
        ).scalar_one()  # fmt: skip
    cli = CliRunner()
    for args in (
        ["users", "add", "chef", "--os-user", os_user(), "--role", "admin"],
        ["users", "add", "vera", "--role", "viewer", "--db-role", "mw_test_vera"],
        ["users", "add", "anna", "--role", "approver", "--db-role", "mw_test_anna"],
    ):
        result = cli.invoke(app, [*args, "--db", db_url])
        assert result.exit_code == 0, result.output

    def as_login(login: str, sql: str, **params: object) -> None:
        with engine.connect() as conn:
            conn.execute(text(f"SET SESSION AUTHORIZATION {login}"))
            try:
                conn.execute(text(sql), params)
            finally:
                conn.rollback()

    as_login("mw_test_vera", "SELECT count(*) FROM invoice")  # a viewer reads
    with pytest.raises(ProgrammingError, match="permission denied"):
        as_login("mw_test_vera", "UPDATE invoice SET amount = 1")
    with pytest.raises(ProgrammingError, match="row-level security"):
        as_login("mw_test_anna", "INSERT INTO approval_decision (approval_id, approver, decision,"
                 " decided_at) VALUES (:a, 'ben', 'approve', :t)", a=aid, t=NOW)  # fmt: skip
    as_login("mw_test_anna", "INSERT INTO approval_decision (approval_id, approver, decision,"
             " decided_at) VALUES (:a, 'mw_test_anna', 'approve', :t)", a=aid, t=NOW)  # fmt: skip
    with pytest.raises(ProgrammingError, match="permission denied"):
        as_login(
            "mw_test_anna",
            "INSERT INTO api_token (name, acts_as, role, token_hash, "
            "prefix, created_at, created_by) VALUES ('x','x','admin','h','p',:t,'x')",
            t=NOW,
        )
    engine.dispose()
