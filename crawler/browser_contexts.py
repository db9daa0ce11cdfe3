"""Browser contexts that live for a set number of pages (PRICEWATCH_CONTEXT_PAGES), then close and are replaced.

A browser context is Playwright's unit of clean-up: what its pages leave behind (the site's cookies and storage,
the in-memory HTTP cache of a non-persistent context, its renderer processes and their heaps, the driver's
bookkeeping) goes only when the context closes, so a daily crawl of tens of thousands of pages in one context carries
all of it to the end. `ContextRotationMiddleware` sends a request that asks for context `NAME` (scrapy-playwright's
`playwright_context`, "default" when unset) to `NAME#1`, the next ones there too until that context has had its
pages, then to `NAME#2`: the old context closes as soon as its last page is answered and the new one opens after
it, so no more contexts are open at a time than before (PLAYWRIGHT_MAX_CONTEXTS). A new context is a new visitor:
cookies the site set in the old one are gone, and a page that needs some brings its own (a region's cookies come
from its `playwright_page_init_callback`, which still runs on every page).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Self

from playwright.async_api import BrowserContext, Page
from playwright.async_api import Error as PlaywrightError
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.misc import load_object
from scrapy_playwright.handler import DEFAULT_CONTEXT_NAME, ScrapyPlaywrightDownloadHandler

CONTEXT_PAGES_SETTING = "PRICEWATCH_CONTEXT_PAGES"
# A change of context costs about a quarter of a second (the bare spider changing every 20 pages ran some 5 % slower),
# so every 200 pages it is lost in the noise.
DEFAULT_CONTEXT_PAGES = 200
STAT_CONTEXTS_CLOSED = "pricewatch/browser_contexts_closed"

# Request meta this middleware keeps: the context the request asked for and the page init callback it came with (the
# middleware's own runs first, then that one), the context it was sent to, and whether its answer is still awaited.
META_BASE = "pw_context_base"
META_INIT = "pw_context_page_init"
META_SENT_TO = "pw_context_sent_to"
META_OPEN = "pw_context_open"

logger = logging.getLogger(__name__)


@dataclass
class _Generation:
    """One browser context of a series: how many pages were sent to it, and how many of them are not answered yet."""

    name: str
    sent: int = 0
    open: int = 0
    context: BrowserContext | None = None  # known once its first page opens
    closed: asyncio.Event = field(default_factory=asyncio.Event)


class ContextRotationMiddleware:
    """Downloader middleware: each browser context serves at most `pages` pages, then closes (see the module)."""

    def __init__(self, crawler: Crawler, pages: int) -> None:
        self.crawler = crawler
        self.pages = pages
        # Contexts started with the browser (PLAYWRIGHT_CONTEXTS) live for the crawl, as scrapy-playwright made them.
        self.startup = frozenset(crawler.settings.getdict("PLAYWRIGHT_CONTEXTS"))
        self.current: dict[str, _Generation] = {}  # by the context name requests ask for
        self.by_name: dict[str, _Generation] = {}  # every generation not closed yet, by its own name
        self.numbers: dict[str, int] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        # Off (0), or a crawl that opens no page in a browser (a shop): no middleware, and (no message) no warning.
        pages = crawler.settings.getint(CONTEXT_PAGES_SETTING, DEFAULT_CONTEXT_PAGES)
        handlers = [load_object(h) for h in crawler.settings.getdict("DOWNLOAD_HANDLERS").values() if h]
        if pages <= 0 or not any(
            isinstance(h, type) and issubclass(h, ScrapyPlaywrightDownloadHandler) for h in handlers
        ):
            raise NotConfigured
        return cls(crawler, pages)

    def rotates(self, request: Request) -> bool:
        """Whether the request gets a page of its own in a context of ours (not a page the spider keeps or brings)."""
        meta = request.meta
        if not meta.get("playwright") or meta.get("playwright_include_page") or meta.get("playwright_page"):
            return False
        if "user_data_dir" in (meta.get("playwright_context_kwargs") or {}):
            return False  # a persistent context is the profile on disk: it is not ours to close
        return _asked(meta)[0] not in self.startup

    async def process_request(self, request: Request) -> None:
        meta = request.meta
        if not self.rotates(request):
            meta.pop(META_OPEN, None)  # meta copied from a rotated request: no answer of ours to wait for
            return
        meta[META_BASE], meta[META_INIT] = _asked(meta)
        generation = await self._generation(meta[META_BASE])
        generation.sent += 1
        generation.open += 1
        meta[META_SENT_TO] = meta["playwright_context"] = generation.name
        meta[META_OPEN] = True
        meta["playwright_page_init_callback"] = self._page_opened

    async def process_response(self, request: Request, response: Response) -> Response:
        await self._answered(request)
        return response

    async def process_exception(self, request: Request, exception: Exception) -> None:
        await self._answered(request)

    async def _generation(self, base: str) -> _Generation:
        """The context the next page asking for `base` goes to; a full one's successor waits until it has closed."""
        while (current := self.current.get(base)) is not None and current.sent >= self.pages:
            await current.closed.wait()
        if current is None:
            number = self.numbers[base] = self.numbers.get(base, 0) + 1
            current = self.current[base] = self.by_name[f"{base}#{number}"] = _Generation(f"{base}#{number}")
        return current

    async def _page_opened(self, page: Page, request: Request) -> None:
        """`playwright_page_init_callback`: remember the page's context (to close it), then the request's own."""
        generation = self.by_name.get(request.meta.get(META_SENT_TO, ""))
        if generation is not None and generation.context is None:
            generation.context = page.context
        if (own := request.meta.get(META_INIT)) is not None:
            await load_object(own)(page, request)

    async def _answered(self, request: Request) -> None:
        if not request.meta.pop(META_OPEN, False):
            return
        generation = self.by_name.get(request.meta[META_SENT_TO])
        if generation is None:
            return
        generation.open -= 1
        if generation.sent >= self.pages and generation.open == 0:
            await self._close(generation)

    async def _close(self, generation: _Generation) -> None:
        del self.by_name[generation.name]
        base = generation.name.rpartition("#")[0]
        if self.current.get(base) is generation:
            del self.current[base]
        try:
            if generation.context is not None:
                await generation.context.close()
                self._stats_inc(STAT_CONTEXTS_CLOSED)
        except PlaywrightError as exc:
            # The browser went away (scrapy-playwright starts it again): the context went with it.
            logger.debug("browser context %s was gone already: %s", generation.name, exc)
        finally:
            generation.closed.set()

    def _stats_inc(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)


def _asked(meta: dict[str, Any]) -> tuple[str, Any]:
    """The context a request asks for and its own page init callback: as it first asked, if it was sent before (a
    retry, or a request made with a rotated request's meta), else as its meta says now."""
    if meta.get(META_SENT_TO) is not None and meta.get("playwright_context") == meta[META_SENT_TO]:
        return meta[META_BASE], meta.get(META_INIT)
    return meta.get("playwright_context", DEFAULT_CONTEXT_NAME), meta.get("playwright_page_init_callback")
