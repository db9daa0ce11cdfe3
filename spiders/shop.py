"""A server-rendered shop: listings with pagination, a sitemap or a URL list; offers from selectors and JSON-LD.

A known product URL that now redirects to a page without a price (its category, the home page) is gone: it gives a
`not_found` offer under the URL asked for, as a 404 does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scrapy.http import Request, Response, TextResponse

from crawler.extract import OfferFields, build_offer, not_found_offer
from crawler.items import RawOffer
from crawler.parsing.structured import StructuredProduct, extract_product
from crawler.stats import STAT_NOT_FOUND, STAT_PAGES_NOT_FOUND
from spiders.base import requested_url
from spiders.pages import PageSpider

# Cheap signs that a page carries schema.org data worth the cost of parsing it.
_STRUCTURED_MARKS = (b"application/ld+json", b"itemtype=", b"itemType=", b":price:amount")


class ShopSpider(PageSpider):
    """One offer per product page: the visible page (selectors) first, schema.org data where it says more."""

    name = "shop"

    def page_request(
        self,
        url: str,
        callback: Callable[[Response], Any],
        *,
        product: bool,
        meta: dict[str, Any] | None = None,
        priority: int = 0,
    ) -> Request:
        return Request(url, callback, errback=self.on_error, meta=meta or {}, priority=priority)

    def wants_structured(self, response: TextResponse) -> bool:
        """Always with extraction `auto`; with `selectors` only where the page has schema.org data to compare."""
        if self.distributor.extraction == "auto":
            return True
        return any(mark in response.body for mark in _STRUCTURED_MARKS)

    def read_product(self, response: TextResponse, root: Any, *, known: bool) -> list[RawOffer]:
        fields = self.reader.fields(root)
        structured = extract_product(response.text, response.url) if self.wants_structured(response) else None
        if known and _moved_away(response, fields, structured):
            return [self.moved_away(response)]
        if not fields.says_anything() and structured is None:
            if not known:
                return []
            self.logger.warning("No product data on %s: has the layout changed?", response.url)
        offer = build_offer(
            fields,
            distributor=self.distributor,
            url=response.url,
            seller_code=self.seller_code,
            structured=structured,
            http_status=response.status,
        )
        if offer.seller_name is None:
            offer.seller_name = self.distributor.name
        return [offer]

    def moved_away(self, response: TextResponse) -> RawOffer:
        """The known product page redirects away: the offer is gone, as if it answered 404."""
        url, status = requested_url(response), _redirect_status(response)
        self.stat(STAT_NOT_FOUND)
        self.stat(STAT_PAGES_NOT_FOUND)
        self.logger.info("Gone: %s now redirects to %s", url, response.url)
        return not_found_offer(self.distributor, url, self.seller_code, status)


def _moved_away(response: TextResponse, fields: OfferFields, structured: StructuredProduct | None) -> bool:
    """A redirect to a page that prices nothing: a product page would show its price (a moved product's new page
    does, and is read as it is)."""
    redirected = requested_url(response) != response.url
    return redirected and not fields.prices and (structured is None or structured.price is None)


def _redirect_status(response: TextResponse) -> int:
    """The first redirect's status (301, 302…), as Scrapy's redirect middleware recorded it."""
    reasons = response.meta.get("redirect_reasons") or []
    return reasons[0] if reasons and isinstance(reasons[0], int) else 302
