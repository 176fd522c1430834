"""Issue 15: on PostgreSQL a person is proven by their database login (`person.db_role`).

`mahnwerk users add NAME --db-role LOGIN` registers the login role whose connections
act as NAME (`service.identity.whoami` compares it with `session_user`); one login
proves one person, hence unique.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("db_role", sa.String(), nullable=True))
        batch.create_unique_constraint("uq_person_db_role", ["db_role"])


def downgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.drop_constraint("uq_person_db_role", type_="unique")
        batch.drop_column("db_role")
