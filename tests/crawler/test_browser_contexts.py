"""Browser contexts rotate every PRICEWATCH_CONTEXT_PAGES pages: each closes once its pages are answered, the next
opens after it, and the pages, their page methods, screenshots and init callbacks work as they did in one context.

The bookkeeping is shown without a browser; a real crawl of 20 pages of the generated marketplace with 5 pages a
context, in Chromium, runs in a process of its own (this file run as a script: Scrapy's reactor is one per process).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import scrapy
from playwright.async_api import Page
from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler
from scrapy_playwright.page import PageMethod

from crawler.browser import wait_for_prices
from crawler.browser_contexts import (
    CONTEXT_PAGES_SETTING,
    META_BASE,
    META_INIT,
    STAT_CONTEXTS_CLOSED,
    ContextRotationMiddleware,
)
from crawler.settings import PLAYWRIGHT_DOWNLOAD_HANDLERS, PLAYWRIGHT_LAUNCH_OPTIONS
from fixtures.sites.generated import marketplace_card, marketplace_offers, start_generated
from tests.support.services import REPO, require

PAGES, PER_CONTEXT = 20, 5
PRICES = ".mp-offer[data-price]"
COOKIE = "pw_rotation=1"
RESULT_PREFIX = "ROTATION-RESULT "


def middleware(pages: int = 5, **settings: Any) -> ContextRotationMiddleware:
    crawler = get_crawler(
        settings_dict={"DOWNLOAD_HANDLERS": PLAYWRIGHT_DOWNLOAD_HANDLERS, CONTEXT_PAGES_SETTING: pages, **settings}
    )
    return ContextRotationMiddleware.from_crawler(crawler)


def page_request(n: int = 0, **meta: Any) -> scrapy.Request:
    return scrapy.Request(f"http://127.0.0.1/product/{n}", meta={"playwright": True, **meta})


def test_requests_go_to_a_new_context_after_every_n_pages() -> None:
    async def contexts() -> list[str]:
        mw, names = middleware(pages=5), []
        for n in range(12):
            request = page_request(n)
            await mw.process_request(request)
            names.append(request.meta["playwright_context"])
            await mw.process_response(request, Response(request.url, request=request))
        return names

    assert asyncio.run(contexts()) == ["default#1"] * 5 + ["default#2"] * 5 + ["default#3"] * 2


def test_a_full_contexts_successor_waits_until_its_last_page_is_answered() -> None:
    async def scenario() -> None:
        mw = middleware(pages=3)
        first = [page_request(n) for n in range(3)]
        for request in first:
            await mw.process_request(request)
        fourth = page_request(3)
        waiting = asyncio.ensure_future(mw.process_request(fourth))
        for request in first[:2]:
            await mw.process_response(request, Response(request.url, request=request))
        await asyncio.sleep(0.01)
        assert not waiting.done()  # one page of the full context is still out
        await mw.process_exception(first[2], TimeoutError())  # a failed page is answered too
        await asyncio.wait_for(waiting, timeout=1)
        assert fourth.meta["playwright_context"] == "default#2"

    asyncio.run(scenario())


def test_a_retried_request_goes_to_the_open_context_with_the_name_and_init_callback_it_first_had() -> None:
    async def own_init(page: Page, request: scrapy.Request) -> None:
        raise AssertionError("not called here")

    async def scenario() -> None:
        mw = middleware(pages=1)
        request = page_request(playwright_context="region-msk", playwright_page_init_callback=own_init)
        await mw.process_request(request)
        assert request.meta["playwright_context"] == "region-msk#1"
        await mw.process_exception(request, TimeoutError())
        retry = request.copy()  # what RetryMiddleware then sends again: the meta as the middlewares left it
        await mw.process_request(retry)
        assert retry.meta["playwright_context"] == "region-msk#2"
        assert retry.meta[META_BASE] == "region-msk"
        assert retry.meta[META_INIT] is own_init
        assert retry.meta["playwright_page_init_callback"] == mw._page_opened

    asyncio.run(scenario())


def test_a_request_made_with_a_rotated_requests_meta_goes_to_the_context_it_names() -> None:
    async def contexts() -> tuple[str, str]:
        mw = middleware(pages=5)
        first = page_request(0)
        await mw.process_request(first)
        await mw.process_response(first, Response(first.url, request=first))
        same = page_request(1, **first.meta)  # as `response.follow(url, meta=response.meta)` makes it
        other = page_request(2, **{**first.meta, "playwright_context": "region-kzn"})
        for request in (same, other):
            await mw.process_request(request)
        return same.meta["playwright_context"], other.meta["playwright_context"]

    assert asyncio.run(contexts()) == ("default#1", "region-kzn#1")


@pytest.mark.parametrize(
    "meta",
    [
        {"playwright": False},
        {"playwright": True, "playwright_include_page": True},
        {"playwright": True, "playwright_context_kwargs": {"user_data_dir": "/tmp/profile"}},
        {"playwright": True, "playwright_context": "startup"},
    ],
    ids=["plain-http", "page-kept-by-the-spider", "persistent-context", "startup-context"],
)
def test_pages_the_middleware_does_not_own_keep_their_context(meta: dict[str, Any]) -> None:
    mw = middleware(PLAYWRIGHT_CONTEXTS={"startup": {}})
    request = scrapy.Request("http://127.0.0.1/", meta=dict(meta))
    asyncio.run(mw.process_request(request))
    assert request.meta == meta


@pytest.mark.parametrize(
    "settings", [{CONTEXT_PAGES_SETTING: 0}, {"DOWNLOAD_HANDLERS": {}}], ids=["turned-off", "no-browser"]
)
def test_off_or_in_a_crawl_without_a_browser_the_middleware_is_not_installed(settings: dict[str, Any]) -> None:
    with pytest.raises(NotConfigured):
        ContextRotationMiddleware.from_crawler(get_crawler(settings_dict=settings))


# The real crawl.


async def add_cookie(page: Page, request: scrapy.Request) -> None:
    """The spider's own page init callback: a cookie into the page's context, as a region's cookies go."""
    name, value = COOKIE.split("=")
    await page.context.add_cookies([{"name": name, "value": value, "url": request.url}])


class RotatingSpider(scrapy.Spider):
    """Renders the pages, waits for the prices (a screenshot of every context's last page), reads the cookie."""

    name = "context_rotation"

    def __init__(self, urls: list[str], shots: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls, self.shots = urls, Path(shots)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for n, url in enumerate(self.urls):
            shot = str(self.shots / f"{n}.png") if n % PER_CONTEXT == PER_CONTEXT - 1 else None
            methods = {
                "wait": PageMethod(wait_for_prices, PRICES, 15_000, shot),
                "cookie": PageMethod("evaluate", "document.cookie"),
            }
            meta = {"playwright": True, "playwright_page_methods": methods, "playwright_page_init_callback": add_cookie}
            yield scrapy.Request(url, meta=meta)

    def parse(self, response: Response) -> Iterator[dict[str, Any]]:
        methods = response.meta["playwright_page_methods"]
        yield {
            "url": response.url,
            "context": response.meta["playwright_context"],
            "rendered": methods["wait"].result,
            "cookie": methods["cookie"].result,
            "sellers": len(response.css(PRICES)),
        }


def crawl(urls: list[str], shots: str) -> None:
    """Run the crawl in this process and print its items and stats as one JSON line."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.setdict(
        {
            "SPIDER_MODULES": [],
            "DOWNLOAD_HANDLERS": PLAYWRIGHT_DOWNLOAD_HANDLERS,
            "ITEM_PIPELINES": {},
            "ROBOTSTXT_OBEY": False,
            "AUTOTHROTTLE_ENABLED": False,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
            "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": 4,
            CONTEXT_PAGES_SETTING: PER_CONTEXT,
            "LOG_LEVEL": "WARNING",
        },
        priority="cmdline",
    )
    items: list[dict[str, Any]] = []
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(RotatingSpider)

    def keep(item: dict[str, Any]) -> None:  # a signal receiver gets only the arguments it names
        items.append(item)

    crawler.signals.connect(keep, signal=signals.item_scraped)
    process.crawl(crawler, urls=urls, shots=shots)
    process.start()
    assert crawler.stats is not None
    print(RESULT_PREFIX + json.dumps({"items": items, "stats": crawler.stats.get_stats()}, default=str), flush=True)


@pytest.fixture(scope="module")
def rotated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    require(Path(str(PLAYWRIGHT_LAUNCH_OPTIONS["executable_path"])).exists(), "Chromium at /usr/bin/chromium")
    shots = tmp_path_factory.mktemp("shots")
    with start_generated("marketplace", PAGES) as site:
        urls = [f"{site.url}{marketplace_card(n).path}" for n in range(PAGES)]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        done = subprocess.run(
            [sys.executable, __file__, json.dumps(urls), str(shots)],
            check=False,  # a failed crawl is reported below, with its log
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    assert lines, f"the crawl printed no result (exit {done.returncode}):\n{done.stderr[-3000:]}"
    result: dict[str, Any] = json.loads(lines[0].removeprefix(RESULT_PREFIX))
    result["shots"] = sorted(shots.iterdir())
    return result


@pytest.mark.chromium
def test_every_page_renders_with_its_sellers_and_its_init_callback(rotated: dict[str, Any]) -> None:
    by_path = {urlsplit(item["url"]).path: item for item in rotated["items"]}
    assert len(rotated["items"]) == len(by_path) == PAGES
    for n in range(PAGES):
        item = by_path[marketplace_card(n).path]
        assert item["rendered"] is True
        assert item["sellers"] == len(marketplace_offers(n))
        assert item["cookie"] == COOKIE


@pytest.mark.chromium
def test_each_context_serves_its_pages_then_closes_and_only_one_is_open_at_a_time(rotated: dict[str, Any]) -> None:
    stats = rotated["stats"]
    per_context = Counter(item["context"] for item in rotated["items"])
    assert per_context == {f"default#{n}": PER_CONTEXT for n in range(1, PAGES // PER_CONTEXT + 1)}
    assert stats["playwright/context_count"] == PAGES // PER_CONTEXT
    assert stats[STAT_CONTEXTS_CLOSED] == PAGES // PER_CONTEXT
    assert stats["playwright/context_count/max_concurrent"] == 1
    assert stats["playwright/page_count"] == stats["playwright/page_count/closed"] == PAGES


@pytest.mark.chromium
def test_the_last_page_of_each_context_still_gets_its_screenshot(rotated: dict[str, Any]) -> None:
    shots: list[Path] = rotated["shots"]
    assert [shot.name for shot in shots] == sorted(f"{n}.png" for n in range(PER_CONTEXT - 1, PAGES, PER_CONTEXT))
    assert all(shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for shot in shots)


if __name__ == "__main__":
    crawl(json.loads(sys.argv[1]), sys.argv[2])
