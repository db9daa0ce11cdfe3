"""A marketplace read per region: query regions in the URL, cookie regions marked `#region=`, and a known listing's
URL read again for the region it names (the crawl of every region is in test_marketplace_json.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from scrapy.utils.test import get_crawler

from crawler.config import Region
from fixtures.pilot.vitrina import REGIONS, VITRINA
from spiders.marketplace import META_PAGE_URL, META_REGION, MarketplaceSpider, region_of, regional_url, with_query

PILOT_YAML = Path(__file__).resolve().parents[2] / "pilot.yaml"
PAGE = "http://vitrina.test/catalog/21740113/detail.aspx"
SPB = Region(code="spb", name="Санкт-Петербург", query={"dest": "-1198055"})
KZN = Region(code="kzn", name="Казань", cookies={"city": "kazan"})
REGIONS_READ = [Region(code="msk", name="Москва", query={"dest": "-1257786"}), SPB, KZN]


def test_a_query_region_sets_its_parameters_in_the_url() -> None:
    assert regional_url(PAGE, SPB) == f"{PAGE}?dest=-1198055"
    assert regional_url(f"{PAGE}?dest=-1257786&size=2", SPB) == f"{PAGE}?size=2&dest=-1198055"


def test_a_cookie_region_keeps_the_url_and_marks_it() -> None:
    assert regional_url(PAGE, KZN) == f"{PAGE}#region=kzn"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        (f"{PAGE}?dest=-1198055", "spb"),
        (f"{PAGE}?x=1&dest=-1257786", "msk"),
        (f"{PAGE}#region=kzn", "kzn"),
        (PAGE, None),
        (f"{PAGE}?dest=-1", None),
        (f"{PAGE}#region=nowhere", None),
    ],
)
def test_a_known_listings_region_is_read_back_from_its_url(url: str, code: str | None) -> None:
    region = region_of(url, REGIONS_READ)
    assert (region.code if region else None) == code


def test_with_query_replaces_only_the_names_given() -> None:
    assert with_query("http://h/api?nm=1&dest=2", {"dest": "3"}) == "http://h/api?nm=1&dest=3"


@pytest.fixture
def spider(tmp_path: Path) -> MarketplaceSpider:
    """vitrina's spider with a cookie region beside its query regions (no crawl: its requests are looked at)."""
    data = yaml.safe_load(PILOT_YAML.read_text(encoding="utf-8"))
    entry = next(d for d in data["distributors"] if d["code"] == VITRINA)
    entry["regions"] = [*entry["regions"], {"code": "kzn", "name": "Казань", "cookies": {"city": "kazan"}}]
    path = tmp_path / "pricewatch.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    settings = {"PRICEWATCH_CONFIG": str(path), "PRICEWATCH_DISTRIBUTOR": VITRINA}
    return MarketplaceSpider.from_crawler(get_crawler(MarketplaceSpider, settings))


def test_a_known_regional_listing_is_asked_for_its_own_region_only(spider: MarketplaceSpider) -> None:
    url = f"{PAGE}?dest={REGIONS['nsk'][1]}"
    request = spider.product_page(url)
    assert request.url == f"http://vitrina.test/api/v2/detail?nm=21740113&dest={REGIONS['nsk'][1]}"
    assert (request.meta[META_REGION], request.meta[META_PAGE_URL]) == ("nsk", url)
    assert spider.regional_urls == {url}


def test_a_cookie_regions_json_goes_with_its_cookies_in_its_own_jar(spider: MarketplaceSpider) -> None:
    request = spider.product_page(f"{PAGE}#region=kzn")
    assert request.url == "http://vitrina.test/api/v2/detail?nm=21740113"
    assert request.cookies == {"city": "kazan"}
    assert request.meta["cookiejar"] == "kzn"
    assert request.dont_filter  # the same API URL as another cookie region's


def test_a_cookie_region_renders_in_a_browser_context_of_its_own(spider: MarketplaceSpider) -> None:
    request = spider.page_request(f"{PAGE}#region=kzn", spider.parse_product, product=True, meta={META_REGION: "kzn"})
    assert request.meta["playwright_context"] == "region-kzn"
    assert request.meta["pw_region_cookies"] == [{"name": "city", "value": "kazan", "url": "http://vitrina.test"}]
    assert request.dont_filter  # the URLs of two cookie regions differ by their fragment only
