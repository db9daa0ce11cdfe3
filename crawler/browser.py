"""Playwright helpers for JS pages: which resources not to load, and waiting for prices without failing the page."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page
from playwright.async_api import Request as PlaywrightRequest
from playwright.async_api import Response as PlaywrightResponse
from playwright.async_api import TimeoutError as PlaywrightTimeoutError
from scrapy.http import Request as ScrapyRequest

from crawler import clock
from crawler.i18n import Language, Texts
from crawler.stamp import stamp_png

REGION_COOKIES = "pw_region_cookies"  # request meta: Playwright cookies ({name, value, url}) of a cookie region
# What a price and an availability never depend on.
HEAVY_RESOURCES = frozenset({"image", "imageset", "font", "media", "texttrack", "object", "beacon", "csp_report"})


_NAVIGATION_STATUS = "() => performance.getEntriesByType('navigation')[0]?.responseStatus ?? null"

# Before a full-page capture: fixed and sticky elements (a buy panel, a header, a cookie bar) are put back in the
# page's flow, so each shows once where the page has it instead of being pasted over the content. They keep the
# attribute PINNED_ATTR, so the price they repeat is not outlined a second time. Returns how many there were.
PINNED_ATTR = "data-pricewatch-pinned"
UNPIN_SCRIPT = f"""
() => {{
  let pinned = 0;
  for (const el of document.querySelectorAll("body *")) {{
    const position = getComputedStyle(el).position;
    if (position === "fixed" || position === "sticky") {{
      el.setAttribute("{PINNED_ATTR}", position);
      el.style.setProperty("position", "static", "important");
      pinned++;
    }}
  }}
  return pinned;
}}
"""


def abort_heavy_request(request: PlaywrightRequest) -> bool:
    """PLAYWRIGHT_ABORT_REQUEST: drop images, fonts and media before they are fetched."""
    return request.resource_type in HEAVY_RESOURCES


async def wait_for_prices(
    page: Page,
    selector: str,
    timeout_ms: float,
    screenshot_path: str | None = None,
    stamp: tuple[str, Language] | None = None,
) -> bool:
    """Wait until `selector` is on the page; False on timeout instead of an exception.

    A timeout must not fail the request: the spider still gets the page and tells a blocked page or a changed
    layout from a page that merely has no price. With `screenshot_path`, a full-page screenshot is saved once the
    prices are there, fixed and sticky elements back in the page's flow and the price elements outlined; with
    `stamp` (the config's time zone and language) it is saved stamped with its URL, time and capture hash.
    """
    status = await page.evaluate(_NAVIGATION_STATUS)
    if isinstance(status, int) and status >= 400:
        return False  # an error or block page: no price will render, no need to wait for one
    try:
        await page.wait_for_selector(selector, timeout=timeout_ms)
    except PlaywrightTimeoutError:
        return False
    if screenshot_path:
        Path(screenshot_path).parent.mkdir(parents=True, exist_ok=True)
        await page.evaluate(UNPIN_SCRIPT)
        outlined = f"{selector}:not([{PINNED_ATTR}] *)"
        await page.add_style_tag(content=f"{outlined} {{ outline: 3px solid #d00 !important; }}")
        png = await page.screenshot(full_page=True)
        if stamp is not None:
            zone, language = stamp
            tz = ZoneInfo(zone)
            png, _ = stamp_png(png, page.url, clock.utcnow(), tz, Texts(language, tz))
        Path(screenshot_path).write_bytes(png)
    return True


@dataclass(frozen=True)
class CapturedJson:
    """A response a rendered page fetched: its URL, status and body."""

    url: str
    status: int
    body: bytes


@dataclass
class JsonCapture:
    """The responses a page fetched whose URL matches `pattern` (a marketplace's JSON API), bodies included.

    `on_response` is the page's "response" handler, attached before the page is opened (scrapy-playwright's
    `playwright_page_event_handlers`), so the fetches the page makes while loading are seen; `collect`, a page
    method run after the prices rendered, waits for the bodies still being read, before the page is closed.
    """

    pattern: str
    documents: list[CapturedJson] = field(default_factory=list)
    _reading: list[asyncio.Task[None]] = field(default_factory=list)

    def on_response(self, response: PlaywrightResponse) -> None:
        if re.search(self.pattern, response.url):
            self._reading.append(asyncio.ensure_future(self._read(response)))

    async def _read(self, response: PlaywrightResponse) -> None:
        try:
            body = await response.body()
        except PlaywrightError:
            return  # the page went away (or the response had no body): nothing was captured
        self.documents.append(CapturedJson(response.url, response.status, body))

    async def collect(self, page: Page) -> list[CapturedJson]:
        """The captured responses, in the order they arrived (a page method: `page` is the page it runs on)."""
        await asyncio.gather(*self._reading)
        return list(self.documents)


async def add_region_cookies(page: Page, request: ScrapyRequest) -> None:
    """`playwright_page_init_callback`: a cookie region's cookies (request.meta[REGION_COOKIES]) into the page's
    context, which is the region's own (`playwright_context`), so pages of other regions never see them."""
    await page.context.add_cookies(request.meta[REGION_COOKIES])
