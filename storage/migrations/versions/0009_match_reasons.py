"""Why each listing matched or was refused, and a person's decisions reused for the same title (issue 16).

`listings.match_reason` holds the matcher's reason as JSON (rule, score, margin, deciding, conflicting and
missing tokens; `pipelines.match_reason`). `match_overrides.title_key` holds the decided page's title as matching
compares titles, so the decision is reused for other sellers' pages with the same title (method `alias`).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs, not a batch: SQLite would rebuild `listings`, which the BI views read.
    op.add_column("listings", sa.Column("match_reason", sa.JSON(), nullable=True))
    op.add_column("match_overrides", sa.Column("title_key", sa.String(1024), nullable=True))
    op.create_index("ix_match_overrides_title_key", "match_overrides", ["title_key"])


def downgrade() -> None:
    # The index first: SQLite drops no indexed column. Neither column has a constraint, so neither table is rebuilt.
    op.drop_index("ix_match_overrides_title_key", table_name="match_overrides")
    op.drop_column("match_overrides", "title_key")
    op.drop_column("listings", "match_reason")
