"""On PostgreSQL the roles are also database grants: a direct SQL session can do no more
than the role may in mahnwerk.

Decision (issue 15): on PostgreSQL a person *is* the database role their connection logs
in as (`session_user`; `service.identity.whoami`), so the database itself holds every
session to that person's role — `psql` included, not only `mahnwerk`.

`apply_grants(engine)` (run by `mahnwerk users add … --db-role`) creates the group roles
`mahnwerk_viewer` … `mahnwerk_admin` (NOLOGIN, each a member of the one before, like
the ordered roles of `engine.roles.ROLES`) and grants them, in the current schema:

* viewer   — SELECT on every table but the secrets (`SECRETS`: webhook signing secrets,
  the portal's link key), and their own saved queue filters (row-level security,
  `OWN_ROWS`: another person's filters cannot be changed);
* operator — the day's work: imports, events, runs, dispatch, bank matching (`WRITES`);
  the `event` log and the webhook outbox its trigger fills get INSERT only — no role
  has UPDATE or DELETE on the event log (and its trigger refuses both for the owner too);
* approver — decisions: INSERT on approval_decision and UPDATE of an approval's status
  (no other column of it); row-level security lets a session insert a decision only in
  the name of the person its login proves
  (`approver = (SELECT name FROM person WHERE db_role = session_user)`), and the triggers
  of migration 0021 let an approval become approved only when `required` different
  people have approved, and `dunning_state.approved_target` be set only from an
  approved approval — so two approvals need two logins, whatever SQL a login sends;
* manager  — policy versions, experiments, exports to bookkeeping;
* admin    — people, tokens, webhook subscriptions, audit seals.

Each refresh revokes what the groups had and grants `WRITES` again, so a store granted
by an older, wider version is narrowed by the next `users add … --db-role`.  `init_db`
refreshes them too, after every upgrade of a schema where they were set up once, so the
tables a later migration adds are granted with it (`refresh_after_upgrade`).

A person's login joins a group with `GRANT mahnwerk_approver TO anna` (what
`mahnwerk users add … --db-role anna` does). mahnwerk's own service account (the owner of
the tables, which `mahnwerk serve` and the scheduler log in as) is not limited by these
grants; it acts for API tokens, whose roles `service.deps` checks.

Part of the store layer (`engine/store/`): roles, GRANTs and row policies are DDL, like
the migrations, and `init_db` (`engine/store/db.py`) runs them in an upgrade's transaction.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text

from mahnwerk.service.tables import ROLES

WRITES: dict[str, dict[str, str]] = {
    "viewer": {
        "saved_filter": "INSERT, UPDATE, DELETE",  # a person's own queue filters
    },
    "operator": {  # the day's work: imports, events, runs, dispatch, bank matching
        "customer": "INSERT, UPDATE",
        "invoice": "INSERT, UPDATE",
        "payment": "INSERT, UPDATE",  # the run marks payments applied
        "inbox": "INSERT, UPDATE, DELETE",  # an event not yet applied can be undone
        "event": "INSERT",  # append-only, for every role
        "webhook_outbox": "INSERT",  # filled by the event log's trigger
        "event_seal": "INSERT",  # the run seals the log's hash chain; append-only too
        "bank_entry": "INSERT, UPDATE",
        "bank_account": "INSERT, UPDATE",
        "book_lease": "INSERT, UPDATE, DELETE",  # one writer of the books at a time
        "run": "INSERT, UPDATE",
        "dunning_state": "INSERT, UPDATE",  # approved_target only by approval (0021)
        "ledger": "INSERT",
        "book_summary": "INSERT, UPDATE, DELETE",  # the run folds the deltas (0020)
        "book_summary_delta": "INSERT, DELETE",  # appended by triggers on what they write
        "outbox": "INSERT, UPDATE",
        "approval": "INSERT",  # the run files approvals, always pending (0021)
        "delivery": "INSERT, UPDATE",
        "delivery_item": "INSERT, UPDATE",
        "bounce_seen": "INSERT",
        "customer_behaviour": "INSERT, UPDATE, DELETE",  # analyse recomputes it
        "einvoice_document": "INSERT, UPDATE, DELETE",
        "work_done": "INSERT",
        "portal_link": "INSERT, UPDATE",
        "portal_key": "INSERT",  # the first link makes the signing key (`SECRETS`)
    },
    "approver": {
        "approval (status, decided_at)": "UPDATE",  # only with the decisions (0021)
        "approval_decision": "INSERT",  # only in one's own name (row-level security)
    },
    "manager": {  # how dunning works
        "policy_version": "INSERT, UPDATE",
        "experiment": "INSERT, UPDATE",
        "experiment_assignment": "INSERT, UPDATE",
        "datev_export": "INSERT, UPDATE",
        "datev_booking": "INSERT, UPDATE",
    },
    "admin": {  # who may act, and erasure
        "person": "INSERT, UPDATE",
        "api_token": "INSERT, UPDATE",
        "webhook_subscription": "INSERT, UPDATE, DELETE",
        "portal_upload": "DELETE",
    },
}
"""Each role's writes beyond reading everything, by table (and columns where only some).

What a role may not do has no grant: nobody UPDATEs or DELETEs the event log or a
decision, an approver may change an approval's status and nothing else of it, only a
manager writes policy versions, only an admin people and tokens."""


SECRETS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "webhook_subscription": ("admin", ("secret",)),  # signs what the ERP trusts
    "portal_key": ("operator", None),  # signs customers' portal links; `portal link` reads it
}
"""Tables whose secrets only a role from the one named may read: `None` hides the whole
table below it, else the listed columns (the rest stays readable: the event log's webhook
trigger asks, as whoever writes an event, whether a subscription is active)."""


OWN_ROWS: dict[str, tuple[str, str, str]] = {
    "approval_decision": ("approver", "INSERT", "approver"),  # decide in one's own name
    "saved_filter": ("operator", "ALL", "viewer"),  # change only one's own queue filters
}
"""Tables whose rows a login may write only in the name of the person it proves
(`person.db_role = session_user`): table → (the name column, the commands, from which
role). Reading stays open to viewers; the owner (the service account) is not bound."""


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
    groups = ", ".join(group(r) for r in ROLES)
    # start from nothing: grants of older versions were wider (UPDATE on approval, …)
    out.append(f"REVOKE ALL ON ALL TABLES IN SCHEMA {q} FROM {groups}")
    out.append(f"GRANT USAGE ON SCHEMA {q} TO {group('viewer')}")
    out.append(f"GRANT SELECT ON ALL TABLES IN SCHEMA {q} TO {group('viewer')}")
    out.append(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {q} TO {group('viewer')}")
    for role, tables in WRITES.items():
        for table, privileges in tables.items():
            name, _, columns = table.partition(" ")
            out.append(f"GRANT {privileges} {columns} ON {q}.{name} TO {group(role)}")
    out.append(f"GRANT EXECUTE ON FUNCTION {q}.seal_lock() TO {group('operator')}")
    for table, (column, command, role) in OWN_ROWS.items():
        out += _own_rows(q, table, column, command, role)
    return out


def _own_rows(q: str, table: str, column: str, command: str, role: str) -> list[str]:
    """Row-level security on `table`: everyone reads every row, but a login writes (as
    `command` allows) only rows whose `column` names the person it proves."""
    me = f"{column} = (SELECT p.name FROM {q}.person p WHERE p.db_role = session_user)"
    using = "" if command == "INSERT" else f" USING ({me})"  # INSERT has no old row
    return [
        f"ALTER TABLE {q}.{table} ENABLE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS own_name ON {q}.{table}",
        f"CREATE POLICY own_name ON {q}.{table} FOR {command} TO {group(role)}"
        f"{using} WITH CHECK ({me})",
        f"DROP POLICY IF EXISTS read_all ON {q}.{table}",
        f"CREATE POLICY read_all ON {q}.{table} FOR SELECT TO {group('viewer')} USING (true)",
    ]


def _hide_secrets(conn: Connection, schema: str) -> list[str]:
    """Take SELECT of `SECRETS` from the viewers (and the roles up to the one named)."""
    q, out = f'"{schema}"', []
    for table, (role, hidden) in SECRETS.items():
        out.append(f"REVOKE SELECT ON {q}.{table} FROM {group('viewer')}")
        if hidden is not None:
            columns = conn.execute(
                text("SELECT column_name FROM information_schema.columns "
                     "WHERE table_schema = :s AND table_name = :t ORDER BY ordinal_position"),
                {"s": schema, "t": table},
            ).scalars()  # fmt: skip
            shown = ", ".join(c for c in columns if c not in hidden)
            out.append(f"GRANT SELECT ({shown}) ON {q}.{table} TO {group('viewer')}")
        out.append(f"GRANT SELECT ON {q}.{table} TO {group(role)}")
    return out


def grant_in(conn: Connection) -> str:
    """Create or refresh the group roles and grants in `conn`'s current schema."""
    # Roles are the cluster's, not the schema's: two processes creating or granting them at
    # once fail with "tuple concurrently updated" (parallel tests, two servers migrating).
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('mahnwerk.grants'))"))
    schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    for statement in _statements(schema) + _hide_secrets(conn, schema):
        conn.execute(text(statement))
    return f"granted {', '.join(group(r) for r in ROLES)} on schema {schema}"


def apply_grants(engine: Engine) -> str:
    """Create or refresh the group roles and grants in the current schema (PostgreSQL)."""
    if engine.dialect.name != "postgresql":
        raise ValueError("database grants exist on PostgreSQL only; on SQLite the OS user "
                         "and the file's permissions are the boundary")  # fmt: skip
    with engine.begin() as conn:
        return grant_in(conn)


def granted(conn: Connection) -> bool:
    """Whether the grants were set up in `conn`'s current schema: the viewers' group holds
    USAGE on it by an explicit grant (the group roles are the cluster's, so their mere
    existence says nothing about this schema, and PUBLIC's USAGE on `public` neither)."""
    return bool(conn.execute(text(
        "SELECT EXISTS (SELECT 1 FROM pg_namespace n, aclexplode(n.nspacl) a "
        "JOIN pg_roles r ON r.oid = a.grantee "
        "WHERE n.nspname = current_schema() AND r.rolname = :g AND a.privilege_type = 'USAGE')"
    ), {"g": group("viewer")}).scalar())  # fmt: skip


def refresh_after_upgrade(conn: Connection) -> str:
    """Grant again after a migration, in its transaction, where grants were set up once.

    Grants name the tables that existed when they were given, so a table a later upgrade
    adds would stay unreadable to people's logins (and unwritable to their roles) until the
    next `users add … --db-role`; `init_db` calls this so an upgrade never needs that."""
    if conn.dialect.name != "postgresql" or not granted(conn):
        return ""
    return grant_in(conn)


def grant_person(engine: Engine, db_role: str, role: str) -> None:
    """Make a login role a member of the group of `role` (and so of the ones below it)."""
    if role not in ROLES or not db_role.replace("_", "").isalnum():
        raise ValueError(f"--db-role {db_role!r}: letters, digits and _ only")
    with engine.begin() as conn:
        conn.execute(text(f'GRANT {group(role)} TO "{db_role}"'))
