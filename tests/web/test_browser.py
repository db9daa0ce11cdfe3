"""The panel in a real browser (Playwright on the system Chromium): a manager of one distributor logs in, filters,
opens a violation, gives feedback, accepts a match and downloads a report — and cannot reach the other
distributor. A screenshot of each page is kept (the folder is printed at the end of the run)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.settings import PLAYWRIGHT_LAUNCH_OPTIONS
from tests.support.services import require
from tests.support.web import PASSWORD, WebWorld, serving

pytestmark = pytest.mark.chromium


@pytest.fixture
def browser_page(sqlite_web_world: WebWorld) -> Iterator[tuple[Any, str, list[str]]]:
    require(Path(str(PLAYWRIGHT_LAUNCH_OPTIONS["executable_path"])).exists(), "Chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with serving(sqlite_web_world.app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(**PLAYWRIGHT_LAUNCH_OPTIONS)
        context = browser.new_context(accept_downloads=True, viewport={"width": 1366, "height": 900}, locale="ru-RU")
        page = context.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        try:
            yield page, base, problems
        finally:
            browser.close()


def _shot(page: Any, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_a_scoped_manager_does_everything_in_a_real_browser(
    browser_page: tuple[Any, str, list[str]], sqlite_web_world: WebWorld, screenshots: Path
) -> None:
    page, base, problems = browser_page
    page.goto(f"{base}/violations")
    assert "/login" in page.url
    _shot(page, screenshots, "01-login")
    page.fill("input[name=username]", "shop_manager")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/violations")

    # Filter: HTMX replaces the results in place and keeps the filter in the address.
    page.fill("input[name=q]", "TL-2002")
    page.press("input[name=q]", "Enter")
    page.wait_for_url("**q=TL-2002**")
    page.wait_for_selector("text=Найдено: 1")
    _shot(page, screenshots, "02-violations-filtered")

    page.click("table.violations a[href^='/violations/']")
    page.wait_for_selector("h1:has-text('Нарушение №')")
    page.goto(f"{base}/violations/{sqlite_web_world.alerts['shop-dumping-TL-1001']}")
    page.wait_for_selector(".chart .uplot canvas")  # the history chart was drawn by uPlot
    page.wait_for_selector("iframe.saved-page")
    frame = page.frame_locator("iframe.saved-page")
    assert "8 000" in frame.locator("p.price").inner_text()
    _shot(page, screenshots, "03-violation")

    page.click("#feedback button[value=confirmed]")
    page.wait_for_selector("#feedback:has-text('подтверждено: shop_manager')")
    page.click("img[data-zoom]")
    assert "zoomed" in (page.get_attribute("img[data-zoom]", "class") or "")
    _shot(page, screenshots, "04-violation-feedback")

    page.goto(f"{base}/matches")
    page.click("tr:has-text('Чайник Термолайн ТЛ-77') .candidate button")
    page.wait_for_selector("tr.decided")
    _shot(page, screenshots, "05-match-accepted")

    page.goto(f"{base}/violations")
    with page.expect_download() as download:
        page.click("a[href^='/violations/export.xlsx']")
    saved = screenshots / "violations.xlsx"
    download.value.save_as(str(saved))
    assert saved.read_bytes()[:2] == b"PK"

    for path in ("/", f"/skus/{sqlite_web_world.products['TL-1001']}", "/distributors/shop", "/health"):
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        _shot(page, screenshots, "06-" + (path.strip("/").replace("/", "-") or "overview"))
    assert "Маркет" not in page.content()
    # The saved page's own script was refused by the sandbox; nothing else went wrong (no script error, no
    # Content-Security-Policy violation, nothing missing).
    sandboxed = [p for p in problems if p.startswith("Blocked script execution")]
    assert sandboxed
    assert [p for p in problems if p not in sandboxed] == []
    response = page.goto(f"{base}/violations/{sqlite_web_world.alerts['market-dumping-TL-1001']}")
    assert response is not None
    assert response.status == 404
    assert os.listdir(screenshots)
