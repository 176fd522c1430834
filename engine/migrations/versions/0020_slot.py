"""Reserved for issue 21: the run-maintained dashboard summary and store-layer changes.

Parallel work fills one slot each, so the migrations keep one linear history. An empty
slot upgrades nothing; the work that owns it replaces this body (and may rename the file).

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
