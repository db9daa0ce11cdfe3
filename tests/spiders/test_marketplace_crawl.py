"""The marketplace spider in real Chromium: JS-rendered pages, one offer per seller, markers, screenshots."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image
from sqlalchemy import select

from crawler.config import load_config
from crawler.items import Health
from crawler.stamp import UNSTAMPED_SHA256_KEY, URL_KEY
from fixtures.pilot.files import PRICE_LIST_CSV
from fixtures.pilot.scenario import MARKETPLACE, MARKETPLACE_CARDS, canary, offers
from fixtures.sites import PilotSites
from fixtures.sites.modes import Mode
from pricewatch.crawls.local import run_crawls
from storage.catalog_import import import_catalog
from storage.engine import make_engine, session_scope
from storage.models import CrawlRun, RunStatus
from tests.support.pilot_crawl import Crawl, CrawlPilot, assert_matches_truth
from tests.support.services import require

CHROMIUM = Path("/usr/bin/chromium")
PILOT_YAML = Path(__file__).resolve().parents[2] / "pilot.yaml"
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


def test_each_product_page_has_a_full_page_screenshot_stamped_with_its_url(day1: Crawl) -> None:
    shots = {o["screenshot_path"]: o["url"] for o in day1.offers}
    assert None not in shots
    assert len(shots) == len(MARKETPLACE_CARDS)
    for shot, url in shots.items():
        assert Path(shot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        with Image.open(shot) as image:
            assert image.info[URL_KEY] == url
            assert len(image.info[UNSTAMPED_SHA256_KEY]) == 64


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


def _selectors(**changed: str) -> dict[str, Any]:
    """The pilot marketplace's selectors with some changed."""
    data = yaml.safe_load(PILOT_YAML.read_text(encoding="utf-8"))
    entry = next(d for d in data["distributors"] if d["code"] == MARKETPLACE)
    return {"selectors": {**entry["selectors"], **changed}}


def test_product_links_read_as_an_attribute_are_followed_the_same(crawl_pilot: CrawlPilot) -> None:
    require(CHROMIUM.exists(), f"Chromium at {CHROMIUM}")
    crawled = crawl_pilot(
        MARKETPLACE, limit=2, distributor=_selectors(product_links=".mp-catalog a.mp-card__link::attr(href)")
    )
    assert crawled.summary.status == "finished", crawled.summary.reason
    assert len({o["url"] for o in crawled.offers}) == 3  # the canary and two product pages


@pytest.mark.parametrize(
    "selector",
    [".mp-catalog a.no-such-link", "xpath://div[@class='mp-catalog']//a[@class='no-such-link']/@href"],
)
def test_a_listing_whose_links_never_appear_fails_the_crawl_with_the_reason(
    crawl_pilot: CrawlPilot, selector: str
) -> None:
    require(CHROMIUM.exists(), f"Chromium at {CHROMIUM}")
    changed = {**_selectors(product_links=selector), "playwright": {"wait_for": ".mp-offer[data-price]", "timeout": 2}}
    crawled = crawl_pilot(MARKETPLACE, distributor=changed)
    assert crawled.summary.status == "failed"
    assert crawled.summary.reason is not None
    assert crawled.summary.reason.startswith("listing pages could not be read: ")
    assert "/brand/termoline?page=1: its product links" in crawled.summary.reason


def test_the_stored_run_of_such_a_crawl_is_failed_with_the_reason(
    pilot: PilotSites, sqlite_url: str, tmp_path: Path
) -> None:
    require(CHROMIUM.exists(), f"Chromium at {CHROMIUM}")
    data = yaml.safe_load(PILOT_YAML.read_text(encoding="utf-8"))
    entry = next(d for d in data["distributors"] if d["code"] == MARKETPLACE)
    entry.update(
        {**_selectors(product_links="a.no-such-link"), "playwright": {"wait_for": "[data-price]", "timeout": 2}}
    )
    path = tmp_path / "pricewatch.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    engine = make_engine(sqlite_url)
    with session_scope(engine) as session:
        import_catalog(session, PRICE_LIST_CSV, valid_from=dt.date(2026, 1, 1))
    with pytest.MonkeyPatch.context() as env:
        for name, value in pilot.env().items():
            env.setenv(name, value)
        [summary] = run_crawls(load_config(path), path, [MARKETPLACE], db_url=sqlite_url, log_dir=tmp_path)
    with session_scope(engine) as session:
        run = session.scalars(select(CrawlRun)).one()
        stored = (run.status, run.health, run.health_reason)
    engine.dispose()
    assert summary.status == "failed"
    assert stored[:2] == (RunStatus.FAILED, Health.FAILED)
    assert stored[2] is not None
    assert stored[2].startswith("listing pages could not be read: ")
