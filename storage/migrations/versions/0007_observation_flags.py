"""Suspect prices: `observations.price_suspect`, and `v_latest_offers` shows it.

A price far below or above the RRP in force (`rules.suspect_price`) is a misread or a wrong match, not an offer
price: the crawl keeps it, flagged (`price_suspect` in the observation's `flags`, and this column, which the rules'
and the exports' queries read), and no rule compares it with the RRP.

`v_latest_offers` keeps revision 0006's rows and columns, in their order, and gains `price_suspect` at the end: a
PostgreSQL view is replaced in place only by one that adds columns at its end (the BI roles' grants survive). The
SQL is repeated from 0006 on purpose: a migration is frozen (see 0006 for the rule this view must keep).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTED_RUN = "r2.status = 'finished' AND (r2.health IS NULL OR r2.health <> 'failed')"

# Revision 0006's columns, in its order; `deviation_pct` is computed over them, `price_suspect` follows it.
_BASE_COLUMNS = (
    "listing_id",
    "distributor_code",
    "distributor_name",
    "region",
    "seller_name",
    "seller_authorized",
    "url",
    "title",
    "vendor_code",
    "product_name",
    "category",
    "match_method",
    "match_confidence",
    "price",
    "currency",
    "old_price",
    "stock",
    "quantity",
    "observed_at",
    "crawl_health",
    "rrp",
)

LATEST_OFFERS = """
{create} v_latest_offers AS
SELECT {columns},
       CASE WHEN base.rrp > 0 AND base.price IS NOT NULL
            THEN ROUND(CAST((base.price - base.rrp) * 100.0 / base.rrp AS NUMERIC), 2) END AS deviation_pct{outer}
FROM (
    SELECT l.id AS listing_id,
           d.code AS distributor_code,
           d.name AS distributor_name,
           d.region AS region,
           s.name AS seller_name,
           s.authorized AS seller_authorized,
           l.url AS url,
           l.title AS title,
           p.vendor_code AS vendor_code,
           p.name AS product_name,
           p.category AS category,
           l.match_method AS match_method,
           l.match_confidence AS match_confidence,
           o.price AS price,
           o.currency AS currency,
           o.old_price AS old_price,
           o.stock AS stock,
           o.quantity AS quantity,
           o.observed_at AS observed_at,
           r.health AS crawl_health,
           (SELECT pr.rrp FROM prices pr JOIN price_lists pl ON pl.id = pr.price_list_id
             WHERE pr.product_id = l.product_id AND pl.valid_from <= {today}
             ORDER BY pl.valid_from DESC, pl.id DESC LIMIT 1) AS rrp{inner}
    FROM listings l
    JOIN sellers s ON s.id = l.seller_id
    JOIN distributors d ON d.id = s.distributor_id
    JOIN observations o ON o.id = (
        SELECT o2.id FROM observations o2 JOIN crawl_runs r2 ON r2.id = o2.crawl_run_id
         WHERE o2.listing_id = l.id AND {runs}
         ORDER BY o2.observed_at DESC, o2.id DESC LIMIT 1)
    JOIN crawl_runs r ON r.id = o.crawl_run_id
    LEFT JOIN products p ON p.id = l.product_id
) base
"""
# With the column (this revision) or without it (revision 0006's view, for the downgrade).
WITH_SUSPECT = {
    "columns": ", ".join(f"base.{name}" for name in _BASE_COLUMNS),
    "outer": ",\n       base.price_suspect AS price_suspect",
    "inner": ",\n           o.price_suspect AS price_suspect",
}
WITHOUT_SUSPECT = {"columns": "base.*", "outer": "", "inner": ""}


def _today() -> str:
    return "date('now')" if op.get_bind().dialect.name == "sqlite" else "CURRENT_DATE"


def upgrade() -> None:
    # Every observation stored before this revision was judged without the check: none is suspect. A plain ADD
    # COLUMN on both databases (a batch copy of the table would break the view over it on SQLite).
    op.add_column("observations", sa.Column("price_suspect", sa.Boolean(), nullable=False, server_default=sa.false()))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP VIEW v_latest_offers")  # SQLite cannot replace a view
        create = "CREATE VIEW"
    else:
        create = "CREATE OR REPLACE VIEW"
    op.execute(LATEST_OFFERS.format(create=create, today=_today(), runs=COUNTED_RUN, **WITH_SUSPECT))


def downgrade() -> None:
    # The view reads the column: it goes first (on PostgreSQL too, where a view cannot lose a column in place).
    op.execute("DROP VIEW v_latest_offers")
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.drop_column("price_suspect")
    op.execute(LATEST_OFFERS.format(create="CREATE VIEW", today=_today(), runs=COUNTED_RUN, **WITHOUT_SUSPECT))
