"""A JavaScript marketplace rendered in Chromium (scrapy-playwright): one offer per seller on a product page."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from scrapy.http import Request, Response, TextResponse
from scrapy_playwright.page import PageMethod

from crawler.browser import wait_for_prices
from crawler.extract import XPATH_PREFIX, OfferFields, build_offer, page_root
from crawler.items import RawOffer
from crawler.parsing.structured import StructuredOffer, extract_product
from crawler.stats import STAT_ERRORS, STAT_PRICE_MISSING
from spiders.pages import PageSpider

_WAIT = "wait"  # key of the page method whose result says whether the prices rendered
# What a config selector may pick out of an element (parsel's `::attr(href)`, `::text`; XPath's `/@href`,
# `/text()`): Playwright waits for the element itself.
_CSS_PSEUDO = re.compile(r"::(?:attr\([^)]*\)|text)")
_XPATH_VALUE = re.compile(r"/(?:@[\w:-]+|text\(\))\s*$")


def playwright_selector(query: str) -> str:
    """A config selector (CSS, or XPath after `xpath:`) as Playwright waits for it: the element it reads."""
    if query.startswith(XPATH_PREFIX):
        return f"xpath={_XPATH_VALUE.sub('', query.removeprefix(XPATH_PREFIX).strip())}"
    return _CSS_PSEUDO.sub("", query).strip() or "*"


class MarketplaceSpider(PageSpider):
    """Pages render in Chromium; the spider waits for the prices, then reads every seller's offer."""

    name = "marketplace"
    unreadable: list[str]  # listing pages that could not be read, with why

    def screenshot_path(self, url: str) -> str | None:
        if not self.distributor.playwright.screenshots:
            return None
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        digest = hashlib.sha256(url.encode()).hexdigest()[:16]
        root = Path(self.settings.get("PRICEWATCH_EVIDENCE_DIR") or "evidence")
        return str(root / "screenshots" / self.distributor.code / f"{stamp}-{digest}.png")

    def page_request(
        self,
        url: str,
        callback: Callable[[Response], Any],
        *,
        product: bool,
        meta: dict[str, Any] | None = None,
        priority: int = 0,
    ) -> Request:
        cfg = self.distributor.playwright
        links = self.distributor.selectors.product_links
        wait_for = cfg.wait_for if product or not links else playwright_selector(links)
        shot = self.screenshot_path(url) if product else None
        stamp = (self.config.timezone, self.config.notify.language) if shot else None
        wait = PageMethod(wait_for_prices, wait_for, cfg.timeout * 1000, shot, stamp)
        return Request(
            url,
            callback,
            errback=self.on_error,
            priority=priority,
            meta={
                **(meta or {}),
                "playwright": True,
                "playwright_page_methods": {_WAIT: wait},
                "pw_screenshot": shot,
            },
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.unreadable = []
        return spider

    def parse_listing(self, response: Response) -> Iterator[Request]:
        """A listing whose product links never rendered gives nothing, and the crawl fails (`spider_idle`)."""
        if self.unusable(response, product=False) is not None:
            return
        if not response.meta["playwright_page_methods"][_WAIT].result:
            selector = self.distributor.selectors.product_links
            why = f"its product links ({selector}) did not appear within {self.distributor.playwright.timeout:g} s"
            self.entry_failed(response.url, why)
            self.unreadable.append(f"{response.url}: {why}")
            return
        assert isinstance(response, TextResponse)
        yield from self._listing_requests(response, page_root(response))

    def spider_idle(self) -> None:
        """A crawl whose listing pages rendered without their product links ends failed, with the reason, never
        finished: the offers they lead to were never seen. A listing page that is blocked (a captcha, a 403) is not
        unreadable but blocked: the run is judged degraded by its health verdict, as on any site."""
        super().spider_idle()
        if self.unreadable:
            more = f" (and {len(self.unreadable) - 1} more)" if len(self.unreadable) > 1 else ""
            raise CloseSpider(f"listing pages could not be read: {self.unreadable[0]}{more}")

    def read_product(self, response: TextResponse, root: Any, *, known: bool) -> list[RawOffer]:
        if not response.meta["playwright_page_methods"][_WAIT].result:
            return []
        fetched = [*self._selector_offers(response, root), *self._structured_offers(response)]
        shot = response.meta.get("pw_screenshot")
        for offer in fetched:
            offer.screenshot_path = shot
        return fetched

    def nothing_read(self, response: Response) -> None:
        # The prices never rendered, and the page is no block page: a changed layout or a slow site.
        self.stat(STAT_ERRORS)
        self.stat(STAT_PRICE_MISSING)
        self.logger.warning("Prices did not render within %ss: %s", self.distributor.playwright.timeout, response.url)

    def _offer(self, fields: OfferFields, response: Response, structured: StructuredOffer | None = None) -> RawOffer:
        offer = build_offer(
            fields,
            distributor=self.distributor,
            url=response.url,
            seller_code=fields.seller_id or fields.seller or self.seller_code,
            structured=structured,
            http_status=response.status,
        )
        if offer.seller_name is None:
            offer.seller_name = self.distributor.name
        return offer

    def _selector_offers(self, response: TextResponse, root: Any) -> list[RawOffer]:
        if self.reader.has("offer"):
            nodes = self.reader.select(root, "offer")
        elif self.reader.has("price"):
            nodes = [root]
        else:
            return []
        # The product's own fields (name, codes) sit outside the offer elements.
        name, vendor_code, ean = (self.reader.text(root, field) for field in ("name", "vendor_code", "ean"))
        offers = []
        for node in nodes:
            fields = self.reader.fields(node)
            fields.name = fields.name or name
            fields.vendor_code = fields.vendor_code or vendor_code
            fields.ean = fields.ean or ean
            if fields.says_anything():
                offers.append(self._offer(fields, response))
        return offers

    def _structured_offers(self, response: TextResponse) -> list[RawOffer]:
        """With extraction `auto` and no selectors: one offer per schema.org Offer (its seller's name as the id)."""
        if self.distributor.extraction != "auto" or self.reader.has("price"):
            return []
        product = extract_product(response.text, response.url)
        if product is None:
            return []
        offers = []
        for item in product.offers:
            fields = OfferFields(
                name=product.name, vendor_code=product.mpn or product.sku, ean=product.gtin, seller_sku=product.sku
            )
            fields.seller = item.seller_name
            offers.append(self._offer(fields, response, item))
        return offers
