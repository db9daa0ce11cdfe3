"""A server-rendered shop: listings with pagination, a sitemap or a URL list; offers from selectors and JSON-LD."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scrapy.http import Request, Response, TextResponse

from crawler.extract import build_offer
from crawler.items import RawOffer
from crawler.parsing.structured import extract_product
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
