"""Marketplaces as they are (issue 19): legal entities behind storefronts, the seller's and the card price beside
the shown one, and the delivery region of a listing.

- `legal_entities`: one row per ИНН (from a marketplace's seller details, the config or a CSV of contracts), with
  the distributor it buys from and whether it is authorised; `sellers.legal_entity_id` points at it.
- `observations.seller_price`, `card_price`: `price` stays the shown price (what a buyer pays without a card).
- `listings.region`: the region code a regional marketplace listing was read for (NULL: not regional).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK_SELLER_ENTITY = "fk_sellers_legal_entity_id_legal_entities"
MONEY = sa.Numeric(14, 2)


def upgrade() -> None:
    op.create_table(
        "legal_entities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tax_id", sa.String(length=12), nullable=False),
        sa.Column("ogrn", sa.String(length=15), nullable=True),
        sa.Column("legal_name", sa.String(length=512), nullable=True),
        sa.Column("address", sa.String(length=1024), nullable=True),
        sa.Column("distributor_id", sa.Integer(), nullable=True),
        sa.Column("authorized", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("contract_ref", sa.String(length=256), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["distributor_id"],
            ["distributors.id"],
            name=op.f("fk_legal_entities_distributor_id_distributors"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_entities")),
        sa.UniqueConstraint("tax_id", name=op.f("uq_legal_entities_tax_id")),
    )
    # Plain ADD COLUMNs, not batches: SQLite would rebuild the tables the BI views read.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"ALTER TABLE sellers ADD COLUMN legal_entity_id INTEGER CONSTRAINT {FK_SELLER_ENTITY} "
            "REFERENCES legal_entities (id) ON DELETE SET NULL"
        )
    else:
        op.add_column("sellers", sa.Column("legal_entity_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            FK_SELLER_ENTITY, "sellers", "legal_entities", ["legal_entity_id"], ["id"], ondelete="SET NULL"
        )
    op.add_column("listings", sa.Column("region", sa.String(length=64), nullable=True))
    op.add_column("observations", sa.Column("seller_price", MONEY, nullable=True))
    op.add_column("observations", sa.Column("card_price", MONEY, nullable=True))


def downgrade() -> None:
    op.drop_column("observations", "card_price")
    op.drop_column("observations", "seller_price")
    op.drop_column("listings", "region")
    if op.get_bind().dialect.name == "sqlite":
        # A column with a foreign key goes only in a rebuilt table; the legacy rename lets the views that read
        # `sellers` follow the rebuilt one instead of failing the rename.
        op.execute("PRAGMA legacy_alter_table = ON")
        with op.batch_alter_table("sellers", schema=None) as batch_op:
            batch_op.drop_column("legal_entity_id")
        op.execute("PRAGMA legacy_alter_table = OFF")
    else:
        op.drop_constraint(FK_SELLER_ENTITY, "sellers", type_="foreignkey")
        op.drop_column("sellers", "legal_entity_id")
    op.drop_table("legal_entities")
