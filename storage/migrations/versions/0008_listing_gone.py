"""Listings gone from a complete healthy crawl: `listings.gone_at`, `gone_run_id`, `gone_reason`.

After a complete crawl judged ok, a listing the crawl confirms gone (its page answers 404 or redirects away, it is
missing from a complete feed, or its seller is missing from a marketplace card that was read) is marked gone: the
rules read it as delisted. The next ok crawl that reads the listing clears the mark.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


FK_GONE_RUN = "fk_listings_gone_run_id_crawl_runs"


def upgrade() -> None:
    # Every listing stored before this revision counts as present: nothing had judged it gone. Plain ADD COLUMNs,
    # not a batch: SQLite would rebuild `listings`, which the BI views read.
    op.add_column("listings", sa.Column("gone_at", sa.DateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its foreign key in place (Alembic would rebuild the table for the constraint).
        op.execute(
            f"ALTER TABLE listings ADD COLUMN gone_run_id INTEGER CONSTRAINT {FK_GONE_RUN} "
            "REFERENCES crawl_runs (id) ON DELETE SET NULL"
        )
    else:
        op.add_column("listings", sa.Column("gone_run_id", sa.Integer(), nullable=True))
        op.create_foreign_key(FK_GONE_RUN, "listings", "crawl_runs", ["gone_run_id"], ["id"], ondelete="SET NULL")
    op.add_column("listings", sa.Column("gone_reason", sa.String(length=16), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(FK_GONE_RUN, "listings", type_="foreignkey")
    op.drop_column("listings", "gone_reason")
    op.drop_column("listings", "gone_at")
    if op.get_bind().dialect.name == "sqlite":
        # A column with a foreign key goes only in a rebuilt table; the legacy rename lets the views that read
        # `listings` follow the rebuilt one instead of failing the rename.
        op.execute("PRAGMA legacy_alter_table = ON")
        with op.batch_alter_table("listings", schema=None) as batch_op:
            batch_op.drop_column("gone_run_id")
        op.execute("PRAGMA legacy_alter_table = OFF")
    else:
        op.drop_column("listings", "gone_run_id")
