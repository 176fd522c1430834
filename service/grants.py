"""On PostgreSQL the roles are also database grants: a direct SQL session can do no more
than the role may in mahnwerk.

Decision (issue 15): on PostgreSQL a person *is* the database role their connection logs
in as (`session_user`; `service.identity.whoami`), so the database itself holds every
session to that person's role — `psql` included, not only `mahnwerk`.

`apply_grants(engine)` (run by `mahnwerk users add … --db-role`) creates the group roles
`mahnwerk_viewer` … `mahnwerk_admin` (NOLOGIN, each a member of the one before, like
the ordered roles of `engine.roles.ROLES`) and grants them, in the current schema:

* viewer   — SELECT on every table;
* operator — what pushing data and recording events writes (customers, invoices,
  payments, the inbox, bank entries) and the sequences; the `event` log and the
  webhook outbox its trigger fills get INSERT only — no role has UPDATE or DELETE on
  the event log (and its trigger refuses both for the owner too);
* approver — decisions: INSERT on approval_decision and the approval and dunning_state
  updates a decision makes; row-level security lets a session insert a decision only
  in the name of the person its login proves
  (`approver = (SELECT name FROM person WHERE db_role = session_user)`), so two
  approvals need two logins;
* manager  — policy versions;
* admin    — people, tokens, webhook subscriptions.

A person's login joins a group with `GRANT mahnwerk_approver TO anna` (what
`mahnwerk users add … --db-role anna` does). mahnwerk's own service account (the owner of
the tables, which `mahnwerk serve` and the scheduler log in as) is not limited by these
grants; it acts for API tokens, whose roles `service.deps` checks.
"""

from __future__ import annotations

from sqlalchemy import Engine, text

from mahnwerk.service.tables import ROLES

OPERATOR_WRITES = (
    "customer", "invoice", "payment", "inbox", "bank_entry", "bank_account",
)  # fmt: skip
APPEND_ONLY = ("event", "webhook_outbox")
"""Insert only, for the operator and every role above it: the audit log is never rewritten."""
APPROVER_WRITES = ("approval", "dunning_state")
MANAGER_WRITES = ("policy_version", "dunning_state")
ADMIN_WRITES = ("person", "api_token", "webhook_subscription")


def group(role: str) -> str:
    return f"mahnwerk_{role}"


def _statements(schema: str) -> list[str]:
    q = f'"{schema}"'
    out = []
    for role in ROLES:
        out.append(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{group(role)}')"
            f" THEN CREATE ROLE {group(role)} NOLOGIN; END IF; END $$"
        )
    for lower, higher in zip(ROLES, ROLES[1:], strict=False):
        out.append(f"GRANT {group(lower)} TO {group(higher)}")
    out.append(f"GRANT USAGE ON SCHEMA {q} TO {group('viewer')}")
    out.append(f"GRANT SELECT ON ALL TABLES IN SCHEMA {q} TO {group('viewer')}")
    out.append(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {q} TO {group('operator')}")
    for role, tables in (("operator", OPERATOR_WRITES), ("approver", APPROVER_WRITES),
                         ("manager", MANAGER_WRITES), ("admin", ADMIN_WRITES)):  # fmt: skip
        for table in tables:
            out.append(f"GRANT INSERT, UPDATE ON {q}.{table} TO {group(role)}")
    for table in APPEND_ONLY:
        for role in ROLES:  # grants of older versions included UPDATE
            out.append(f"REVOKE UPDATE, DELETE, TRUNCATE ON {q}.{table} FROM {group(role)}")
        out.append(f"GRANT INSERT ON {q}.{table} TO {group('operator')}")
    out.append(f"GRANT INSERT ON {q}.approval_decision TO {group('approver')}")
    out.append(f"ALTER TABLE {q}.approval_decision ENABLE ROW LEVEL SECURITY")
    out.append(f"DROP POLICY IF EXISTS own_name ON {q}.approval_decision")
    out.append(
        f"CREATE POLICY own_name ON {q}.approval_decision FOR INSERT "
        f"TO {group('approver')} WITH CHECK (approver = "
        f"(SELECT p.name FROM {q}.person p WHERE p.db_role = session_user))"
    )
    out.append(f"DROP POLICY IF EXISTS read_all ON {q}.approval_decision")
    out.append(
        f"CREATE POLICY read_all ON {q}.approval_decision FOR SELECT "
        f"TO {group('viewer')} USING (true)"
    )
    return out


def apply_grants(engine: Engine) -> str:
    """Create or refresh the group roles and grants in the current schema (PostgreSQL)."""
    if engine.dialect.name != "postgresql":
        raise ValueError("database grants exist on PostgreSQL only; on SQLite the OS user "
                         "and the file's permissions are the boundary")  # fmt: skip
    with engine.begin() as conn:
        # Roles are the cluster's, not the schema's: two processes creating or granting
        # them at once fail with "tuple concurrently updated".  One at a time.
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('mahnwerk.grants'))"))
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        for statement in _statements(schema):
            conn.execute(text(statement))
    return f"granted {', '.join(group(r) for r in ROLES)} on schema {schema}"


def grant_person(engine: Engine, db_role: str, role: str) -> None:
    """Make a login role a member of the group of `role` (and so of the ones below it)."""
    if role not in ROLES or not db_role.replace("_", "").isalnum():
        raise ValueError(f"--db-role {db_role!r}: letters, digits and _ only")
    with engine.begin() as conn:
        conn.execute(text(f'GRANT {group(role)} TO "{db_role}"'))
