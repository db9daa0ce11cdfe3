"""Panel users (role and scope), failed logins for the rate limit, and a manager's note on an alert (issue 17).

The feedback a manager gives in the panel is the same record the Telegram buttons write (`alerts.feedback`,
`feedback_by`, `feedback_at`, revision 0001); only the note is new.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOTE_COLUMNS = ("note", "note_by", "note_at")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("distributors", sa.JSON(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index(op.f("ix_login_failures_username"), "login_failures", ["username"])
    op.create_index(op.f("ix_login_failures_client"), "login_failures", ["client"])
    op.create_index(op.f("ix_login_failures_at"), "login_failures", ["at"])
    op.add_column("alerts", sa.Column("note", sa.Text(), nullable=True))
    op.add_column("alerts", sa.Column("note_by", sa.String(length=256), nullable=True))
    op.add_column("alerts", sa.Column("note_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch copy of `alerts` would trip over the views on it.
    for name in NOTE_COLUMNS:
        op.drop_column("alerts", name)
    op.drop_table("login_failures")
    op.drop_table("users")
