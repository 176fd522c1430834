"""The audit log append-only for real, its hash chain, and bounces read once.

* SQLite: an `INSERT OR REPLACE INTO event(id, …)` over an existing row replaced it (the
  triggers of 0001 refuse only UPDATE and DELETE); a BEFORE INSERT trigger now refuses an
  insert whose id exists.  PostgreSQL: `TRUNCATE event` emptied the log; a TRUNCATE trigger
  now refuses it.
* `event_seal`: the hash chain over the log (`engine/audit.py`), append-only the same way.
* `bounce_seen`: delivery status notifications already read from the bounce mailbox, so a
  bounce becomes one `delivery_failed` event however often the mailbox is read.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AWARE = sa.DateTime(timezone=True)
_KEYS = {"event": "id", "event_seal": "seq"}


def upgrade() -> None:
    op.create_table(
        "event_seal",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(), nullable=False),
        sa.Column("hash", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_event_seal"),
        sa.UniqueConstraint("event_id", name="uq_event_seal_event_id"),
    )
    op.create_table(
        "bounce_seen",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("message_id", sa.String(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("seen_at", AWARE, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_bounce_seen"),
    )
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_triggers()
    else:
        _postgres_triggers()


def _sqlite_triggers() -> None:
    for table, key in _KEYS.items():
        op.execute(
            f"CREATE TRIGGER {table}_no_overwrite BEFORE INSERT ON {table} "
            f"WHEN EXISTS (SELECT 1 FROM {table} WHERE {key} = NEW.{key}) "
            f"BEGIN SELECT RAISE(ABORT, '{table}: the audit log is append-only'); END"
        )
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER event_seal_no_{action.lower()} BEFORE {action} ON event_seal "
            "BEGIN SELECT RAISE(ABORT, 'event_seal: the audit log is append-only'); END"
        )


def _postgres_triggers() -> None:
    op.execute(
        "CREATE TRIGGER event_no_truncate BEFORE TRUNCATE ON event "
        "FOR EACH STATEMENT EXECUTE FUNCTION event_append_only()"
    )
    op.execute(
        "CREATE TRIGGER event_seal_append_only BEFORE UPDATE OR DELETE ON event_seal "
        "FOR EACH ROW EXECUTE FUNCTION event_append_only()"
    )
    op.execute(
        "CREATE TRIGGER event_seal_no_truncate BEFORE TRUNCATE ON event_seal "
        "FOR EACH STATEMENT EXECUTE FUNCTION event_append_only()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("event_no_overwrite", "event_seal_no_overwrite"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS event_no_truncate ON event")
    op.drop_table("bounce_seen")
    op.drop_table("event_seal")
