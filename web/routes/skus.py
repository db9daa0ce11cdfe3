"""Products: the catalog within the user's scope, and one product's page — every seller's price over time against
the RRP, and the latest stock by distributor and region."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from storage.models import utcnow
from storage.queries.reports import rrp_history
from storage.queries.web_catalog import SkuPoint, last_observed, product, products_page, sku_observations
from web.auth import SignedIn
from web.charts import sku_chart
from web.panel import panel_of, render

router = APIRouter()
DAYS = 90
PAGE_SIZE = 50


def latest_by_listing(points: list[SkuPoint]) -> list[SkuPoint]:
    """The newest point of each listing (points come by listing, oldest first), by distributor, region, seller."""
    latest: dict[int, SkuPoint] = {}
    for p in points:
        latest[p.listing_id] = p
    return sorted(latest.values(), key=lambda s: (s.distributor_name, s.region or "", s.seller_name))


@router.get("/skus")
def skus(request: Request, me: SignedIn, q: str = "", page: int = 1) -> Response:
    panel = panel_of(request)
    with panel.session() as db:
        rows, total = products_page(db, me.scope, q.strip()[:200] or None, page=page, size=PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    return render(request, "skus.html.j2", rows=rows, total=total, q=q, page=min(page, pages), pages=pages)


@router.get("/skus/{product_id}")
def sku(request: Request, me: SignedIn, product_id: int) -> Response:
    panel = panel_of(request)
    with panel.session() as db:
        found = product(db, me.scope, product_id)
        if found is None:
            raise HTTPException(404)
        # The window ends at the product's last reading: a product no longer sold still shows its history.
        until = last_observed(db, product_id) or utcnow()
        points = sku_observations(db, me.scope, product_id, until - dt.timedelta(days=DAYS))
        rrps = rrp_history(db, [product_id]).get(product_id, [])
    chart = sku_chart(points, rrps, panel.config)
    return render(request, "sku.html.j2", p=found, chart=chart, stock=latest_by_listing(points), days=DAYS)
