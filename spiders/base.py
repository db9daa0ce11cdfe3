"""What every pricewatch spider shares: its distributor's config, crawl-health stats, the canary mark, and what a
page that says nothing gives (blocked, not found, failed)."""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from collections.abc import AsyncIterator
from typing import Any, Self

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.settings import BaseSettings
from twisted.python.failure import Failure

from crawler.config import Config, Distributor
from crawler.errors import UserError
from crawler.extract import blocked_offer, not_found_offer
from crawler.items import FLAG_BLOCKED, FLAG_NOT_FOUND, FLAG_PRICE_MISSING, RawOffer
from crawler.parsing.blocking import detect_block
from crawler.settings import distributor_settings, load_job
from crawler.stats import (
    STAT_BLOCKED,
    STAT_CANARY_SEEN,
    STAT_ERRORS,
    STAT_NOT_FOUND,
    STAT_OFFERS,
    STAT_PRICE_MISSING,
    STAT_RESPONSES,
)

META_CANARY = "pw_canary"  # the request is for the distributor's canary page
ROBOTS_FORBIDDEN = "Forbidden by robots.txt"  # the IgnoreRequest message of Scrapy's RobotsTxtMiddleware


class PricewatchSpider(scrapy.Spider, metaclass=ABCMeta):
    """Base of the shop, feed and marketplace spiders; the distributor's config decides everything they do."""

    config: Config
    distributor: Distributor
    limit: int  # PRICEWATCH_LIMIT: product pages (feed records) to read, 0 = all; the canary is not counted

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
        crawler.signals.connect(spider.request_dropped, signal=signals.request_dropped)
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

    def unusable(self, response: Response, *, product: bool) -> list[RawOffer] | None:
        """Count a response and judge it before reading: None if it is a page to read, else the offers it gives."""
        self.stat(STAT_RESPONSES)
        return self.dead_page(response, product=product)

    def dead_page(self, response: Response, *, product: bool) -> list[RawOffer] | None:
        """None if the response is a page that says something; else the offers it still gives.

        A 403, captcha or anti-bot page is `blocked` (stock unknown), a 404/410 is `not_found`; both give an offer
        only for a known product URL (`product`). Any other error status counts as an error and gives nothing.
        """
        # A binary body (an XLSX price list) is judged by its first bytes: present, so not an empty page.
        body = response.text if isinstance(response, TextResponse) else response.body[:65536].decode("latin-1")
        headers = {key.decode("latin-1"): b",".join(values) for key, values in response.headers.items()}
        reason = detect_block(response.status, headers, body)
        if reason is None and response.status == 429:
            reason = "http_429"  # still refused after the retries
        if reason is not None:
            self.stat(STAT_BLOCKED)
            self.logger.warning("Blocked (%s): %s", reason, response.url)
            offer = blocked_offer(self.distributor, response.url, self.seller_code, response.status, reason)
            return [self.offered(offer, response)] if product else []
        if response.status in (404, 410):
            self.stat(STAT_NOT_FOUND)
            offer = not_found_offer(self.distributor, response.url, self.seller_code, response.status)
            return [self.offered(offer, response)] if product else []
        if response.status >= 400:
            self.stat(STAT_ERRORS)
            self.logger.warning("HTTP %s: %s", response.status, response.url)
            return []
        return None

    def offered(self, offer: RawOffer, response: Response) -> RawOffer:
        """Count an offer about to be yielded; mark it as the canary's when it is the canary page's offer."""
        self.stat(STAT_OFFERS)
        if FLAG_PRICE_MISSING in offer.flags:
            self.stat(STAT_PRICE_MISSING)
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
            self.logger.warning("Redirect loop: %s", " → ".join([*chain, request.url]))

    def on_error(self, failure: Failure) -> None:
        """Errback: a request that failed after its retries (timeout, refused, too large) is an error.

        One that robots.txt forbids is not: the site asked not to be crawled there (stat `robotstxt/forbidden`).
        """
        request = getattr(failure, "request", None)
        url = request.url if request else "?"
        if failure.check(IgnoreRequest) and failure.getErrorMessage() == ROBOTS_FORBIDDEN:
            self.logger.info("Not crawled, robots.txt forbids it: %s", url)
            return
        self.stat(STAT_ERRORS)
        self.logger.warning("Request failed: %s: %s", url, failure.getErrorMessage())
