"""`v_latest_offers` reads counted runs only: a finished run judged failed no longer supplies the latest offer.

The view must pick the same observation per listing as `storage.queries.observations.latest_observations()`
(the rules and `offers export`), under the same run condition as `counted_run()` there. It repeats that rule in
SQL rather than sharing the code: a migration is frozen, and must create the same view whatever the code becomes.
Change either one only together with the other (a new migration for the view).

It still differs in one way, on purpose: the RRP is the one in force *today* (the database's date), where the
export and the rules take the one in force on the observation's day in the config's time zone — a view cannot
know the config.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Which runs a latest offer may come from (`r2` is the observation's crawl run).
COUNTED_RUN = "r2.status = 'finished' AND (r2.health IS NULL OR r2.health <> 'failed')"
FINISHED_RUN = "r2.status = 'finished'"  # revision 0002's rule, restored by the downgrade

LATEST_OFFERS = """
{create} v_latest_offers AS
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
         WHERE o2.listing_id = l.id AND {runs}
         ORDER BY o2.observed_at DESC, o2.id DESC LIMIT 1)
    JOIN crawl_runs r ON r.id = o.crawl_run_id
    LEFT JOIN products p ON p.id = l.product_id
) base
"""


def _recreate_latest_offers(runs: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP VIEW v_latest_offers")  # SQLite cannot replace a view (nor grant on one)
        op.execute(LATEST_OFFERS.format(create="CREATE VIEW", today="date('now')", runs=runs))
    else:
        # Replaced in place, so the grants BI roles hold on it (docs/operations.md) survive the upgrade.
        op.execute(LATEST_OFFERS.format(create="CREATE OR REPLACE VIEW", today="CURRENT_DATE", runs=runs))


def upgrade() -> None:
    _recreate_latest_offers(COUNTED_RUN)


def downgrade() -> None:
    _recreate_latest_offers(FINISHED_RUN)
