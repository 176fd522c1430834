"""Reserved for issue 15: the HTTP service (identities, roles, tokens, webhooks, schedule).

Parallel work fills one slot each, so the migrations keep one linear history. An empty
slot upgrades nothing; the work that owns it replaces this body (and may rename the file).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
