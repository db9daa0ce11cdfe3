"""Match review in the panel: the offer pages `match review` would write out, with their candidates, within a
user's scope; decisions go through `storage.queries.matching.apply_decisions`, as `match apply` does.

The catalog index the candidates come from is kept between requests and built again when the catalog or the
decisions change (a cheap signature query tells).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crawler.config import Config
from pipelines.matching import Candidate, CatalogIndex, MatchSettings
from storage.models import MatchOverride, Product
from storage.queries.matching import ReviewListing, listings_to_review, load_catalog, load_overrides
from storage.queries.web_catalog import categories_by_code
from storage.queries.web_scope import Scope

CANDIDATES = 3


@dataclass(frozen=True)
class ReviewPage:
    """One offer page to decide on; a marketplace page can hold several sellers' listings."""

    first: ReviewListing
    sellers: tuple[str, ...]
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True)
class _Offer:
    distributor: str
    url: str
    title: str | None
    vendor_code: str | None
    gtin: str | None


class IndexCache:
    """One catalog index per process, rebuilt when products or decisions change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._signature: tuple[Any, ...] | None = None
        self._index: CatalogIndex | None = None

    def get(self, session: Session, config: Config) -> CatalogIndex:
        signature = (
            *session.execute(select(func.count(Product.id), func.max(Product.id))).one(),
            *session.execute(select(func.count(MatchOverride.id), func.max(MatchOverride.decided_at))).one(),
        )
        with self._lock:
            if self._index is None or signature != self._signature:
                settings = MatchSettings.from_config(config)
                self._index = CatalogIndex(load_catalog(session), load_overrides(session), settings)
                self._signature = signature
            return self._index


def _candidates(index: CatalogIndex, listing: ReviewListing) -> tuple[Candidate, ...]:
    """The matcher's own candidates, then the closest names, as `match review` lists them."""
    offer = _Offer(listing.distributor_code, listing.url, listing.title, listing.raw_vendor_code, listing.raw_gtin)
    found = list(index.match(offer).candidates)
    if len(found) < CANDIDATES and listing.title:
        known = {c.product_id for c in found}
        found += [c for c in index.suggest(listing.title, CANDIDATES) if c.product_id not in known]
    return tuple(found[:CANDIDATES])


def review_pages(session: Session, config: Config, scope: Scope, cache: IndexCache) -> list[ReviewPage]:
    """The pages to review that the scope sees: its distributors, and for a category limit only offers matched
    now to a product of those categories (an unmatched offer has no category)."""
    listings = listings_to_review(session, config.matching.review_below_confidence)
    categories = categories_by_code(session, {x.vendor_code for x in listings if x.vendor_code})
    seen = [x for x in listings if scope.allows(x.distributor_code, categories.get(x.vendor_code or ""))]
    grouped: dict[tuple[str, str], list[ReviewListing]] = {}
    for listing in seen:
        grouped.setdefault((listing.distributor_code, listing.url), []).append(listing)
    index = cache.get(session, config) if grouped else None
    return [
        ReviewPage(group[0], tuple(x.seller_name for x in group), _candidates(index, group[0]) if index else ())
        for group in grouped.values()
    ]
