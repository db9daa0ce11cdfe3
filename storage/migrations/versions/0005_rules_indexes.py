"""Rules: the crawl runs each rules run evaluated, and an index for the latest observation per listing.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rules_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("evaluated_runs", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.create_index("ix_observations_listing_observed", ["listing_id", "observed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.drop_index("ix_observations_listing_observed")
    with op.batch_alter_table("rules_runs", schema=None) as batch_op:
        batch_op.drop_column("evaluated_runs")
