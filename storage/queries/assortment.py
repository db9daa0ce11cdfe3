"""Reads for the assortment-gap rule: which (distributor, product) pairs were ever offered in stock."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.items import Health
from storage.models import CrawlRun, Listing, Observation, RunStatus, Seller
from storage.queries.rules import AVAILABLE

_CHUNK = 1_000  # products per statement: well under both databases' limits on bound parameters


def ever_available(session: Session, pairs: Collection[tuple[int, int]]) -> set[tuple[int, int]]:
    """The (distributor id, product id) pairs among `pairs` a listing of which was read in stock (or low stock) in
    some finished run judged ok."""
    distributors, products = sorted({d for d, _ in pairs}), sorted({p for _, p in pairs})
    found: set[tuple[int, int]] = set()
    for start in range(0, len(products), _CHUNK):
        chunk = products[start : start + _CHUNK]
        rows = session.execute(
            select(Seller.distributor_id, Listing.product_id)
            .join(Listing, Listing.seller_id == Seller.id)
            .join(Observation, Observation.listing_id == Listing.id)
            .join(CrawlRun, CrawlRun.id == Observation.crawl_run_id)
            .where(
                Seller.distributor_id.in_(distributors),
                Listing.product_id.in_(chunk),
                Observation.stock.in_(AVAILABLE),
                CrawlRun.status == RunStatus.FINISHED,
                CrawlRun.health == Health.OK,
            )
            .distinct()
        )
        found.update((distributor, product) for distributor, product in rows.tuples() if product is not None)
    return found & set(pairs)
