"""Reserved for issue 12: append-only audit log with a hash chain, delivery records.

Parallel work fills one slot each, so the migrations keep one linear history. An empty
slot upgrades nothing; the work that owns it replaces this body (and may rename the file).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
