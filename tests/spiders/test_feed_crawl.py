"""The feed spider: klimatprof's YML feed (and in windows-1251), CSV and XLSX price lists served by URL."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from crawler.config import load_config
from fixtures.pilot.scenario import KLIMATPROF, canary, feed_offers
from fixtures.sites.modes import Mode
from pricewatch.crawls.local import run_crawls
from tests.support.http_site import HttpSite
from tests.support.pilot_crawl import Crawl, CrawlPilot, assert_matches_truth

FEED = {
    "spider": "feed",
    "sitemap_urls": [],
    "feed": {"url": "${PILOT_KLIMATPROF_URL:-http://127.0.0.1:8702}/export/market.yml", "format": "yml"},
}


@pytest.fixture(scope="module")
def yml(crawl_pilot: CrawlPilot) -> Crawl:
    return crawl_pilot(KLIMATPROF, day=2, distributor=FEED)


def test_every_offer_in_the_yml_feed_comes_out_right(yml: Crawl) -> None:
    assert yml.summary.status == "finished", yml.summary.reason
    assert_matches_truth(yml, feed_offers(2))
    # One request for the feed and robots.txt: no product page is fetched.
    assert sorted(hit.target for hit in yml.hits) == ["/export/market.yml", "/robots.txt"]


def test_the_feed_counts_its_records_and_marks_the_canary(yml: Crawl) -> None:
    assert yml.stats["pricewatch/product_pages"] == yml.stats["pricewatch/offers"] == len(feed_offers(2))
    assert yml.stats["pricewatch/canary_seen"] == 1
    [marked] = [o for o in yml.offers if o["is_canary"]]
    assert marked["url"] == yml.base_url + canary(KLIMATPROF).path


def test_a_windows_1251_feed_reads_the_same(crawl_pilot: CrawlPilot, yml: Crawl) -> None:
    cp1251 = crawl_pilot(KLIMATPROF, day=2, distributor=FEED, mode=Mode.CP1251)
    assert cp1251.hits[-1].target == "/export/market.yml"
    assert_matches_truth(cp1251, feed_offers(2))
    assert {o["title"] for o in cp1251.offers} == {o["title"] for o in yml.offers}


def test_the_limit_caps_the_records(crawl_pilot: CrawlPilot) -> None:
    limited = crawl_pilot(KLIMATPROF, distributor=FEED, limit=3)
    assert len(limited.offers) == 3


# A reseller's price list, as shops send them: Russian headers, a decimal comma, stock as a word or a count.
HEADER = ["Артикул", "Наименование", "Цена, руб.", "Наличие", "Остаток", "Ссылка"]
ROWS = [
    ["TL-1001", "Конвектор Термолайн TL-1001", "4 990,00", "в наличии", "12", "https://shop.example/p/tl-1001"],
    ["TL-1002", "Конвектор Термолайн TL-1002", "7 490,50", "нет", "0", ""],
    ["TL-1003", "Конвектор Термолайн TL-1003", "по запросу", "под заказ", "", ""],
    ["", "", "", "", "", ""],
    ["TL-2001", "Вентилятор Термолайн TL-2001", "2 990", "да", "3", ""],
]


def csv_bytes() -> bytes:
    lines = [";".join(HEADER), *(";".join(row) for row in ROWS)]
    return ("\r\n".join(lines) + "\r\n").encode("cp1251")


def xlsx_bytes() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in ROWS:
        # Spreadsheets hold numbers as numbers.
        sheet.append([int(v) if v.isdigit() else (None if v == "" else v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def price_list(path: str, hit: int) -> tuple[int, dict[str, str], bytes]:
    if path == "/prices.csv":
        return 200, {"Content-Type": "text/csv"}, csv_bytes()
    if path == "/prices.xlsx":
        return 200, {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}, xlsx_bytes()
    return 404, {}, b""


@pytest.fixture(scope="module")
def price_lists(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, dict[str, Any]]]]:
    """Offers by vendor code from the CSV and the XLSX price list."""
    with HttpSite(price_list) as site:
        entries = "".join(
            f"""
  - code: list-{fmt}
    name: Прайс-лист {fmt}
    kind: reseller
    spider: feed
    feed: {{url: "{site.url}/prices.{fmt}", format: {fmt}}}
    decimal_separator: ","
    politeness: {{obey_robots: false, retries: 0}}"""
            for fmt in ("csv", "xlsx")
        )
        path = Path(tmp_path_factory.mktemp("price-lists")) / "config.yaml"
        path.write_text(f"distributors:{entries}\n", encoding="utf-8")
        out = io.StringIO()
        summaries = run_crawls(load_config(path), path, ["list-csv", "list-xlsx"], output=out)
    assert [s.status for s in summaries] == ["finished", "finished"]
    got: dict[str, dict[str, dict[str, Any]]] = {"csv": {}, "xlsx": {}}
    for line in out.getvalue().splitlines():
        offer = json.loads(line)
        got[offer["distributor"].removeprefix("list-")][offer["vendor_code"]] = offer
    return got


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_price_list_gives_one_offer_per_row(price_lists: dict[str, dict[str, dict[str, Any]]], fmt: str) -> None:
    offers = price_lists[fmt]
    assert sorted(offers) == ["TL-1001", "TL-1002", "TL-1003", "TL-2001"]
    read = {code: (o["price"], o["stock"], o["quantity"], o["flags"]) for code, o in offers.items()}
    assert read == {
        "TL-1001": ("4990.00", "in_stock", 12, []),
        "TL-1002": ("7490.50", "out_of_stock", 0, []),
        "TL-1003": (None, "preorder", None, ["price_on_request"]),
        "TL-2001": ("2990.00", "low_stock", 3, []),
    }
    assert offers["TL-1001"]["url"] == "https://shop.example/p/tl-1001"
    assert offers["TL-1001"]["title"] == "Конвектор Термолайн TL-1001"
    # A row without a link is keyed by the list's URL and the row's code.
    assert offers["TL-1002"]["url"].endswith(f"/prices.{fmt}#TL-1002")
