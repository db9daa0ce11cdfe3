"""SQL views for BI tools: the latest offer per listing, and open violations.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LATEST_OFFERS = """
CREATE VIEW v_latest_offers AS
SELECT base.*,
       CASE WHEN base.rrp > 0 AND base.price IS NOT NULL
            THEN ROUND(CAST((base.price - base.rrp) * 100.0 / base.rrp AS NUMERIC), 2) END AS deviation_pct
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
             ORDER BY pl.valid_from DESC, pl.id DESC LIMIT 1) AS rrp
    FROM listings l
    JOIN sellers s ON s.id = l.seller_id
    JOIN distributors d ON d.id = s.distributor_id
    JOIN observations o ON o.id = (
        SELECT o2.id FROM observations o2 JOIN crawl_runs r2 ON r2.id = o2.crawl_run_id
         WHERE o2.listing_id = l.id AND r2.status = 'finished'
         ORDER BY o2.observed_at DESC, o2.id DESC LIMIT 1)
    JOIN crawl_runs r ON r.id = o.crawl_run_id
    LEFT JOIN products p ON p.id = l.product_id
) base
"""

OPEN_VIOLATIONS = """
CREATE VIEW v_open_violations AS
SELECT a.id AS alert_id,
       a.rule AS rule,
       a.severity AS severity,
       a.subject AS subject,
       a.opened_at AS opened_at,
       a.last_seen_at AS last_seen_at,
       a.seen_count AS seen_count,
       d.code AS distributor_code,
       d.name AS distributor_name,
       s.name AS seller_name,
       l.url AS url,
       p.vendor_code AS vendor_code,
       p.name AS product_name
FROM alerts a
LEFT JOIN listings l ON l.id = a.listing_id
LEFT JOIN sellers s ON s.id = l.seller_id
LEFT JOIN distributors d ON d.id = a.distributor_id
LEFT JOIN products p ON p.id = a.product_id
WHERE a.status = 'open' AND a.rule IN ('dumping', 'parallel_import')
"""


def upgrade() -> None:
    today = "date('now')" if op.get_bind().dialect.name == "sqlite" else "CURRENT_DATE"
    op.execute(LATEST_OFFERS.format(today=today))
    op.execute(OPEN_VIOLATIONS)


def downgrade() -> None:
    op.execute("DROP VIEW v_open_violations")
    op.execute("DROP VIEW v_latest_offers")
