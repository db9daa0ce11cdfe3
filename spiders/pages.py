"""Navigation shared by the spiders that read web pages: the canary, sitemaps, listings with pagination, URL lists,
and the page limit. A subclass says how a page is requested and how offers are read from a product page."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterator
from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.http import Request, Response, TextResponse
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap

from crawler.extract import FieldReader, page_root
from crawler.items import FLAG_PRICE_MISSING, RawOffer
from crawler.stats import STAT_ERRORS, STAT_PRODUCT_PAGES, STAT_RESPONSES
from spiders.base import META_CANARY, META_PRODUCT, PricewatchSpider

CANARY_PRIORITY = 1000
_GZIP_MAGIC = b"\x1f\x8b"


class PageSpider(PricewatchSpider):
    """Finds product pages (canary, sitemap, listings, start URLs) and hands each to `read_product`."""

    reader: FieldReader
    product_urls: set[str]

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.reader = FieldReader(spider.distributor.selectors)
        spider.product_urls = set()
        return spider

    @abstractmethod
    def page_request(
        self,
        url: str,
        callback: Callable[[Response], Any],
        *,
        product: bool,
        meta: dict[str, Any] | None = None,
        priority: int = 0,
    ) -> Request:
        """A request for a listing (`product=False`) or product page, however this kind of site needs fetching."""

    @abstractmethod
    def read_product(self, response: TextResponse, root: Any, *, known: bool) -> list[RawOffer]:
        """The offers on a product page (`root`: its lxml tree) that is no error page; `known=False` may give none."""

    def entry_requests(self) -> list[Request]:
        requests = []
        canary = self.distributor.canary
        if canary is not None:
            self.product_urls.add(canary.url)
            requests.append(self.product_page(canary.url, meta={META_CANARY: True}, priority=CANARY_PRIORITY))
        requests.extend(self.sitemap_request(url) for url in self.distributor.sitemap_urls)
        for url in self.distributor.start_urls:
            if self.reader.has("product_links"):
                requests.append(self.page_request(url, self.parse_listing, product=False))
            elif (request := self.follow_product(url)) is not None:
                requests.append(request)
        return requests

    def product_page(
        self, url: str, *, meta: dict[str, Any] | None = None, priority: int = 0, known: bool = True
    ) -> Request:
        return self.page_request(
            url, self.parse_product, product=True, meta={META_PRODUCT: known, **(meta or {})}, priority=priority
        )

    def limit_reached(self) -> bool:
        canary = self.distributor.canary
        counted = len(self.product_urls) - (canary is not None and canary.url in self.product_urls)
        return bool(self.limit) and counted >= self.limit

    def follow_product(self, url: str, *, known: bool = True) -> Request | None:
        """A product page request, or None if it was seen already or the page limit (PRICEWATCH_LIMIT) is reached.

        A URL the distributor has a listing for is a product URL wherever it was found (a sitemap's too)."""
        if url in self.product_urls or self.limit_reached():
            return None
        self.product_urls.add(url)
        return self.product_page(url, known=known or url in self.known_urls)

    def revisit_requests(self) -> list[Request]:
        """The known listings neither asked for nor given an offer: each page once more, even where it redirects
        to a page read already (a category), so that the redirect is seen."""
        urls = sorted(self.known_urls - self.product_urls - self.offer_urls)
        return [request.replace(dont_filter=True) for url in urls if (request := self.follow_product(url))]

    def sitemap_request(self, url: str) -> Request:
        maxsize = self.settings.getint("FEED_DOWNLOAD_MAXSIZE")
        return Request(url, self.parse_sitemap, errback=self.on_error, meta={"download_maxsize": maxsize})

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        if self.unusable(response, product=False) is not None:
            return
        body = response.body
        if body[:2] == _GZIP_MAGIC:
            body = gunzip(body, max_size=self.settings.getint("FEED_DOWNLOAD_MAXSIZE"))
        sitemap = Sitemap(body)
        for entry in sitemap:
            url = entry.get("loc")
            if not url:
                continue
            if sitemap.type == "sitemapindex":
                yield self.sitemap_request(url)
            elif (request := self.follow_product(url, known=False)) is not None:
                yield request

    def parse_listing(self, response: Response) -> Iterator[Request]:
        if self.unusable(response, product=False) is not None:
            return
        assert isinstance(response, TextResponse)
        yield from self._listing_requests(response, page_root(response))

    def _listing_requests(self, response: TextResponse, root: Any) -> Iterator[Request]:
        links = self.reader.links(root, "product_links")
        if not links:
            self.logger.warning("No product links on the listing %s: has the layout changed?", response.url)
        for href in links:
            if (request := self.follow_product(response.urljoin(href))) is not None:
                yield request
        if not self.limit_reached():
            for href in self.reader.links(root, "next_page")[:1]:
                yield self.page_request(response.urljoin(href), self.parse_listing, product=False)

    def parse_product(self, response: Response) -> Iterator[RawOffer | Request]:
        """Read the page first; only a page that gave no firm reading is looked at as a block or error page.

        A block page never shows the product's price, so a page that does is not judged one (which also spares
        the check on nearly every page of a healthy crawl).
        """
        self.stat(STAT_RESPONSES)
        known = bool(response.meta.get(META_PRODUCT))
        root, offers = None, []
        if response.status < 400 and isinstance(response, TextResponse):
            root = page_root(response)
            offers = self.read_product(response, root, known=known)
        if not any(o.price is not None or FLAG_PRICE_MISSING not in o.flags for o in offers):
            # A sitemap URL that is blocked or gone is taken for the product page the sitemap says it is.
            dead = self.dead_page(response, product=True)
            if dead is not None:
                self.stat(STAT_PRODUCT_PAGES)
                yield from dead
                return
            if root is None:
                self.stat(STAT_ERRORS)
                self.logger.warning("Not a web page (%s): %s", response.headers.get("Content-Type"), response.url)
                return
        if known or offers:
            self.stat(STAT_PRODUCT_PAGES)
        for offer in offers:
            yield self.offered(offer, response)
        if offers:
            return
        assert isinstance(response, TextResponse)
        if known:
            self.nothing_read(response)
        elif self.reader.links(root, "product_links"):
            # A sitemap lists categories too: a listing found there is followed.
            yield from self._listing_requests(response, root)

    def nothing_read(self, response: Response) -> None:
        """A known product page, neither blocked nor an error, gave no offer at all (the shop spider always gives
        one, with `price_missing`; a marketplace page whose prices never rendered gives none)."""
