"""The marketplace spider in real Chromium: JS-rendered pages, one offer per seller, markers, screenshots."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.pilot.scenario import MARKETPLACE, MARKETPLACE_CARDS, canary, offers
from fixtures.sites.modes import Mode
from tests.support.pilot_crawl import Crawl, CrawlPilot, assert_matches_truth
from tests.support.services import require

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.chromium


@pytest.fixture(scope="module")
def day1(crawl_pilot: CrawlPilot, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    require(CHROMIUM.exists(), f"Chromium at {CHROMIUM}")
    evidence = tmp_path_factory.mktemp("evidence")
    return crawl_pilot(
        MARKETPLACE,
        day=1,
        distributor={"playwright": {"wait_for": ".mp-offer[data-price]", "timeout": 15, "screenshots": True}},
        evidence=str(evidence),
    )


def test_every_seller_offer_comes_out_right_and_none_is_invented(day1: Crawl) -> None:
    assert day1.summary.status == "finished", day1.summary.reason
    assert_matches_truth(day1, offers(MARKETPLACE, 1))


def test_a_plain_http_fetch_would_see_no_price(day1: Crawl) -> None:
    # The product pages' prices come from the JSON API the page's script calls, which only a browser runs.
    asked = [hit.target for hit in day1.hits]
    api_calls = [t for t in asked if t.startswith("/api/product/")]
    assert len(api_calls) == len(MARKETPLACE_CARDS)


def test_images_fonts_and_media_are_never_downloaded(day1: Crawl) -> None:
    assert day1.stats["playwright/request_count/aborted"] > 0
    heavy = (".jpg", ".jpeg", ".png", ".webp", ".woff", ".woff2", ".mp4")
    assert [hit.target for hit in day1.hits if hit.target.split("?")[0].endswith(heavy)] == []


def test_every_browser_page_is_closed(day1: Crawl) -> None:
    stats = day1.stats
    assert stats["playwright/page_count"] == stats["playwright/page_count/closed"]


def test_each_product_page_has_a_full_page_screenshot(day1: Crawl) -> None:
    shots = {o["screenshot_path"] for o in day1.offers}
    assert None not in shots
    assert len(shots) == len(MARKETPLACE_CARDS)
    for shot in shots:
        assert Path(shot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_single_seller_canary_is_marked(day1: Crawl) -> None:
    [marked] = [o for o in day1.offers if o["is_canary"]]
    assert (marked["url"], marked["seller_code"]) == (day1.base_url + canary(MARKETPLACE).path, "s-1001")
    assert day1.stats["pricewatch/canary_seen"] == 1


def test_prices_that_never_render_are_an_error_never_out_of_stock(crawl_pilot: CrawlPilot) -> None:
    require(CHROMIUM.exists(), f"Chromium at {CHROMIUM}")
    # The new layout renders the offers in other markup: the configured wait never sees a price.
    changed = crawl_pilot(
        MARKETPLACE, mode=Mode.LAYOUT_V2, limit=2, distributor={"playwright": {"wait_for": ".mp-offer", "timeout": 3}}
    )
    assert changed.summary.status == "finished"
    assert changed.offers == []
    assert changed.stats["pricewatch/price_missing"] == changed.stats["pricewatch/errors"] == 3  # canary + 2
    assert changed.stats["playwright/page_count"] == changed.stats["playwright/page_count/closed"]
