"""Reserved for issue 13: policy lifecycle (re-segmentation, deploy previews).

Parallel work fills one slot each, so the migrations keep one linear history. An empty
slot upgrades nothing; the work that owns it replaces this body (and may rename the file).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
