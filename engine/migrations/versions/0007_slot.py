"""Reserved for issue 12: run claims and intake, bank entry keys, import limits.

Parallel work fills one slot each, so the migrations keep one linear history. An empty
slot upgrades nothing; the work that owns it replaces this body (and may rename the file).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
