"""Playwright helpers for JS pages: which resources not to load, and waiting for prices without failing the page."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page
from playwright.async_api import Request as PlaywrightRequest
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

# What a price and an availability never depend on.
HEAVY_RESOURCES = frozenset({"image", "imageset", "font", "media", "texttrack", "object", "beacon", "csp_report"})


_NAVIGATION_STATUS = "() => performance.getEntriesByType('navigation')[0]?.responseStatus ?? null"


def abort_heavy_request(request: PlaywrightRequest) -> bool:
    """PLAYWRIGHT_ABORT_REQUEST: drop images, fonts and media before they are fetched."""
    return request.resource_type in HEAVY_RESOURCES


async def wait_for_prices(page: Page, selector: str, timeout_ms: float, screenshot_path: str | None = None) -> bool:
    """Wait until `selector` is on the page; False on timeout instead of an exception.

    A timeout must not fail the request: the spider still gets the page and tells a blocked page or a changed
    layout from a page that merely has no price. With `screenshot_path`, a full-page screenshot is saved once the
    prices are there, the price elements outlined.
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
        await page.add_style_tag(content=f"{selector} {{ outline: 3px solid #d00 !important; }}")
        await page.screenshot(path=screenshot_path, full_page=True)
    return True
