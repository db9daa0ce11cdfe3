"""What every pricewatch spider shares: its distributor's config, crawl-health stats, the canary mark, what a
page that says nothing gives (blocked, not found, failed), and the end of a crawl: the known listings its entry
points no longer lead to are revisited, then a crawl that read everything says it is complete."""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from collections.abc import AsyncIterator
from typing import Any, Self

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.settings import BaseSettings
from twisted.python.failure import Failure

from crawler.config import Config, Distributor
from crawler.errors import UserError
from crawler.extract import blocked_offer, not_found_offer
from crawler.items import FLAG_BLOCKED, FLAG_NOT_FOUND, FLAG_PRICE_CONFLICT, FLAG_PRICE_MISSING, RawOffer
from crawler.parsing.blocking import detect_block
from crawler.settings import distributor_settings, known_urls, load_job
from crawler.stats import (
    STAT_BLOCKED,
    STAT_CANARY_SEEN,
    STAT_COMPLETE,
    STAT_ERRORS,
    STAT_NOT_FOUND,
    STAT_OFFERS,
    STAT_PAGES_BLOCKED,
    STAT_PAGES_FAILED,
    STAT_PAGES_NOT_FOUND,
    STAT_PRICE_CONFLICT,
    STAT_PRICE_MISSING,
    STAT_PRODUCT_PAGES,
    STAT_RESPONSES,
)

META_CANARY = "pw_canary"  # the request is for the distributor's canary page
META_PRODUCT = "pw_product"  # a product page; True: a product URL (listing, URL list, canary), False: a sitemap's
ROBOTS_FORBIDDEN = "Forbidden by robots.txt"  # the IgnoreRequest message of Scrapy's RobotsTxtMiddleware


class PricewatchSpider(scrapy.Spider, metaclass=ABCMeta):
    """Base of the shop, feed and marketplace spiders; the distributor's config decides everything they do."""

    config: Config
    distributor: Distributor
    limit: int  # PRICEWATCH_LIMIT: product pages (feed records) to read, 0 = all; the canary is not counted
    known_urls: frozenset[str]  # the distributor's known listing URLs (PRICEWATCH_KNOWN_URLS…), to revisit
    offer_urls: set[str]  # the URLs of the offers given so far
    entry_failures: int  # listing, sitemap or feed requests that gave nothing: the crawl is not complete
    revisited: bool  # the known listings the entry points did not lead to have been asked for

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        config, distributor = load_job(settings)
        if distributor.spider != cls.name:
            raise UserError(
                f"distributor {distributor.code!r} is crawled by the `{distributor.spider}` spider, not `{cls.name}`"
            )
        settings.setdict(distributor_settings(config, distributor), priority="spider")

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.config, spider.distributor = load_job(crawler.settings)
        spider.limit = crawler.settings.getint("PRICEWATCH_LIMIT")
        spider.known_urls = known_urls(crawler.settings)
        spider.offer_urls, spider.entry_failures, spider.revisited = set(), 0, False
        crawler.signals.connect(spider.request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(spider.spider_idle, signal=signals.spider_idle)
        return spider

    @property
    def seller_code(self) -> str:
        return self.distributor.code

    def stat(self, key: str, count: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key, count)

    async def start(self) -> AsyncIterator[Any]:
        for request in self.entry_requests():
            yield request

    @abstractmethod
    def entry_requests(self) -> list[Request]:
        """The requests the crawl starts from: the canary first, then listings, sitemaps or a feed."""

    def revisit_requests(self) -> list[Request]:
        """Requests for the known listings the entry points did not lead to; none here (a feed lists every offer)."""
        return []

    def spider_idle(self) -> None:
        """Once the entry points are done: revisit the known listings they no longer lead to (a page gone since is
        then read as gone); once those are done too, an unlimited crawl whose entry points all answered says it is
        complete (STAT_COMPLETE): only then may a listing it did not read count as gone."""
        if not self.revisited:
            self.revisited = True
            # With a limit, or an entry point that gave nothing, nobody can tell which listings the site no longer
            # lists: revisiting would only hammer a site that is down and gone could not be judged anyway.
            requests = [] if self.limit or self.entry_failures else self.revisit_requests()
            if requests:
                self.logger.info("Revisiting %d known listings the entry points no longer lead to", len(requests))
                assert self.crawler.engine is not None
                for request in requests:
                    self.crawler.engine.crawl(request)
                raise DontCloseSpider
        if not self.limit and not self.entry_failures:
            assert self.crawler.stats is not None
            self.crawler.stats.set_value(STAT_COMPLETE, 1)

    def entry_failed(self, url: str, why: str) -> None:
        """A listing, sitemap or feed that gave nothing: offers it would lead to may be missing, not gone."""
        self.entry_failures += 1
        self.logger.warning("Incomplete crawl: %s gave nothing (%s)", url, why)

    def unusable(self, response: Response, *, product: bool) -> list[RawOffer] | None:
        """Count a response and judge it before reading: None if it is a page to read, else the offers it gives."""
        self.stat(STAT_RESPONSES)
        dead = self.dead_page(response, product=product)
        if dead is not None and not product:
            self.entry_failed(response.url, f"HTTP {response.status}")
        return dead

    def dead_page(self, response: Response, *, product: bool) -> list[RawOffer] | None:
        """None if the response is a page that says something; else the offers it still gives.

        A 403, captcha or anti-bot page is `blocked` (stock unknown), a 404/410 is `not_found`; both give an offer
        only for a known product URL (`product`), under the URL asked for (before any redirect). Any other error
        status counts as an error and gives nothing.
        """
        # A binary body (an XLSX price list) is judged by its first bytes: present, so not an empty page.
        body = response.text if isinstance(response, TextResponse) else response.body[:65536].decode("latin-1")
        headers = {key.decode("latin-1"): b",".join(values) for key, values in response.headers.items()}
        reason = detect_block(response.status, headers, body)
        if reason is None and response.status == 429:
            reason = "http_429"  # still refused after the retries
        if reason is not None:
            self.stat(STAT_BLOCKED)
            if product:
                self.stat(STAT_PAGES_BLOCKED)
            self.logger.warning("Blocked (%s): %s", reason, response.url)
            offer = blocked_offer(self.distributor, requested_url(response), self.seller_code, response.status, reason)
            return [self.offered(offer, response)] if product else []
        if response.status in (404, 410):
            self.stat(STAT_NOT_FOUND)
            if product:
                self.stat(STAT_PAGES_NOT_FOUND)
            offer = not_found_offer(self.distributor, requested_url(response), self.seller_code, response.status)
            return [self.offered(offer, response)] if product else []
        if response.status >= 400:
            self.stat(STAT_ERRORS)
            if product:
                self.stat(STAT_PAGES_FAILED)
            self.logger.warning("HTTP %s: %s", response.status, response.url)
            return []
        return None

    def offered(self, offer: RawOffer, response: Response) -> RawOffer:
        """Count an offer about to be yielded; mark it as the canary's when it is the canary page's offer."""
        self.stat(STAT_OFFERS)
        self.offer_urls.add(offer.url)
        if FLAG_PRICE_MISSING in offer.flags:
            self.stat(STAT_PRICE_MISSING)
        if FLAG_PRICE_CONFLICT in offer.flags:
            self.stat(STAT_PRICE_CONFLICT)
        canary = self.distributor.canary
        if canary is not None and (response.meta.get(META_CANARY) or offer.url == canary.url):
            offer.is_canary = True
            if FLAG_BLOCKED not in offer.flags and FLAG_NOT_FOUND not in offer.flags:
                assert self.crawler.stats is not None
                self.crawler.stats.set_value(STAT_CANARY_SEEN, 1)
        return offer

    def request_dropped(self, request: Request) -> None:
        """A redirect back into its own chain is dropped by the duplicate filter, silently: a redirect loop.

        (A redirect to a page the crawl reads anyway, an old URL to its canonical one, is no error.)
        """
        chain = request.meta.get("redirect_urls", [])
        if request.url in chain:
            self.stat(STAT_ERRORS)
            self.product_page_failed(request)
            self.logger.warning("Redirect loop: %s", " → ".join([*chain, request.url]))
            if META_PRODUCT not in request.meta:
                self.entry_failed(chain[0], "redirect loop")

    def on_error(self, failure: Failure) -> None:
        """Errback: a request that failed after its retries (timeout, refused, too large) is an error.

        One that robots.txt forbids is not: the site asked not to be crawled there (stat `robotstxt/forbidden`).
        """
        request = getattr(failure, "request", None)
        url = request.url if request else "?"
        if request is None or META_PRODUCT not in request.meta:
            self.entry_failed(url, failure.getErrorMessage())
        if failure.check(IgnoreRequest) and failure.getErrorMessage() == ROBOTS_FORBIDDEN:
            self.logger.info("Not crawled, robots.txt forbids it: %s", url)
            return
        self.stat(STAT_ERRORS)
        self.product_page_failed(request)
        self.logger.warning("Request failed: %s: %s", url, failure.getErrorMessage())

    def product_page_failed(self, request: Request | None) -> None:
        """A product page that never answered is still a product page the crawl tried to read, and a failed one."""
        if request is not None and META_PRODUCT in request.meta:
            self.stat(STAT_PRODUCT_PAGES)
            self.stat(STAT_PAGES_FAILED)


def requested_url(response: Response) -> str:
    """The URL the crawl asked for: before Scrapy followed redirects, and in a browser (which follows them itself)."""
    chain = response.meta.get("redirect_urls")
    if chain:
        return str(chain[0])
    return response.request.url if response.request is not None else response.url
