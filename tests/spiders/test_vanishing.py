"""Offers that vanish, crawled for real into a database: the shop spider revisits the known listings its listing no
longer links (a 404 or a redirect to a category confirms them gone, a live page is read as usual); an offer missing
from a complete feed is gone; a seller missing from a marketplace card read in Chromium is gone. A limited crawl, a
degraded one or a feed read only in part marks nothing gone."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from crawler.config import load_config
from crawler.stats import STAT_COMPLETE
from pricewatch.crawls.local import CrawlSummary, run_crawls
from storage.engine import make_engine, session_scope
from storage.models import Listing, Seller
from tests.support.builders import World
from tests.support.http_site import Answer, HttpSite
from tests.support.services import require

CHROMIUM = Path("/usr/bin/chromium")
CODES = ("TL-1001", "TL-1002", "TL-1003", "TL-1004")
Gone = dict[tuple[str, str], str | None]  # (URL path, seller code) → gone reason, of the catalog's listings


def _product_page(code: str) -> bytes:
    data = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": f"Конвектор Термолайн {code}",
        "sku": code,
        "brand": {"@type": "Brand", "name": "Termoline"},
        "offers": {"@type": "Offer", "price": "10000", "priceCurrency": "RUB", "availability": "InStock"},
    }
    script = f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'
    return f"<html><head>{script}</head><body><h1>Конвектор Термолайн {code}</h1></body></html>".encode()


def _listing(paths: list[str]) -> bytes:
    links = "".join(f'<a class="p" href="{p}">товар</a>' for p in paths)
    return f'<html><body><h1>Обогреватели</h1><div class="catalog">{links}</div></body></html>'.encode()


class Shop:
    """Day 1: the catalog links four products. Day 2: it links TL-1001 only; TL-1002 answers 404, TL-1003
    redirects to the catalog, TL-1004 is still there, unlinked."""

    def __init__(self) -> None:
        self.day = 1

    @staticmethod
    def path(code: str) -> str:
        return f"/p/{code.lower()}/"

    def __call__(self, path: str, hit: int) -> tuple[int, dict[str, str], bytes]:
        linked = CODES if self.day == 1 else CODES[:1]
        if path == "/catalog/":
            return 200, {}, _listing([self.path(c) for c in linked])
        code = next((c for c in CODES if self.path(c) == path), None)
        if code is None or (self.day == 2 and code == "TL-1002"):
            return 404, {}, b"<html><body>Not found</body></html>"
        if self.day == 2 and code == "TL-1003":
            return 302, {"Location": "/catalog/"}, b""
        return 200, {}, _product_page(code)


def _write_config(folder: Path, distributor: dict[str, Any]) -> Path:
    """A config with one distributor, lenient on 404s (this small site has a quarter of its pages gone)."""
    data = {
        "distributors": [{"name": distributor["code"].title(), **distributor}],
        "rules": {"crawl_health": {"max_not_found_share": 0.9, "max_problem_share": 0.9}},
    }
    path = folder / f"{distributor['code']}-{len(list(folder.iterdir()))}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def catalog_db(sqlite_url: str, tmp_path: Path) -> str:
    """A migrated database with the four products, RRP 10 000."""
    config = load_config(_write_config(tmp_path, {"code": "seed", "start_urls": ["http://127.0.0.1:1/"]}))
    engine = make_engine(sqlite_url)
    world = World(engine, config)
    for code in CODES:
        world.product(code, name=f"Конвектор Термолайн {code}")
    world.price_list(dt.date(2026, 1, 1), dict.fromkeys(CODES, "10000"))
    engine.dispose()
    return sqlite_url


def _crawl(config: Path, db_url: str, code: str, limit: int = 0) -> CrawlSummary:
    [summary] = run_crawls(load_config(config), config, [code], db_url=db_url, limit=limit)
    assert summary.status == "finished", summary.reason
    return summary


def _gone(db_url: str, base: str) -> Gone:
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        rows = session.execute(
            select(Listing.url, Seller.code, Listing.gone_reason).join(Seller).where(Listing.product_id.is_not(None))
        ).tuples()
        found = {(url.removeprefix(base), seller): reason for url, seller, reason in rows}
    engine.dispose()
    return found


@pytest.fixture
def shop(catalog_db: str, tmp_path: Path) -> Iterator[Callable[..., tuple[CrawlSummary, Gone, list[str]]]]:
    """`shop(limit=0, canary_price=None)`: day 1 crawled, then day 2 → (day 2's summary, gone, paths asked on day 2)."""
    site = Shop()
    with HttpSite(site) as http:

        def crawl(limit: int = 0, canary_price: str | None = None) -> tuple[CrawlSummary, Gone, list[str]]:
            entry: dict[str, Any] = {
                "code": "shop",
                "start_urls": [f"{http.url}/catalog/"],
                "selectors": {"product_links": ".catalog a.p::attr(href)"},
                "politeness": {"obey_robots": False, "retries": 0},
            }
            if canary_price:
                entry["canary"] = {"url": f"{http.url}{Shop.path('TL-1001')}", "price": canary_price}
            config = _write_config(tmp_path, entry)
            site.day = 1
            _crawl(config, catalog_db, "shop")
            site.day = 2
            http.hits.clear()
            summary = _crawl(config, catalog_db, "shop", limit)
            return summary, _gone(catalog_db, http.url), sorted(http.hits)

        yield crawl


def test_a_known_page_gone_from_the_listing_is_revisited_404_and_redirect_confirm_it(shop: Any) -> None:
    summary, gone, asked = shop()
    assert summary.health == "ok"
    assert summary.stats[STAT_COMPLETE] == 1
    assert gone == {
        ("/p/tl-1001/", "shop"): None,
        ("/p/tl-1002/", "shop"): "not_found",  # 404
        ("/p/tl-1003/", "shop"): "not_found",  # redirected to its category
        ("/p/tl-1004/", "shop"): None,  # unlinked but live: read as usual
    }
    assert {"/p/tl-1002/", "/p/tl-1003/", "/p/tl-1004/"} <= set(asked)


def test_a_limited_crawl_revisits_nothing_and_marks_nothing_gone(shop: Any) -> None:
    summary, gone, asked = shop(limit=1)
    assert STAT_COMPLETE not in summary.stats
    assert set(gone.values()) == {None}
    assert asked == ["/catalog/", "/p/tl-1001/"]


def test_a_degraded_crawl_marks_nothing_gone(shop: Any) -> None:
    summary, gone, _ = shop(canary_price="9990")  # the canary does not read back: degraded
    assert summary.health == "degraded"
    assert set(gone.values()) == {None}


def _yml(codes: tuple[str, ...], *, broken: bool = False) -> bytes:
    offers = "".join(
        f'<offer id="{c}" available="true"><url>https://feed.test/{c}</url><price>10000</price>'
        f"<currencyId>RUB</currencyId><name>Конвектор Термолайн {c}</name><vendorCode>{c}</vendorCode></offer>"
        for c in codes
    )
    text = f'<?xml version="1.0" encoding="UTF-8"?><yml_catalog><shop><offers>{offers}</offers></shop></yml_catalog>'
    return (text[: text.rindex("</offers>")] + "<offer id=" if broken else text).encode()


def test_an_offer_missing_from_a_complete_feed_is_gone_a_broken_feed_marks_nothing(
    catalog_db: str, tmp_path: Path
) -> None:
    feed = {"body": _yml(CODES[:2])}
    answer: Answer = lambda path, hit: (200, {"Content-Type": "application/xml"}, feed["body"])  # noqa: E731
    with HttpSite(answer) as http:
        entry = {
            "code": "feed",
            "spider": "feed",
            "feed": {"url": f"{http.url}/market.yml", "format": "yml"},
            "politeness": {"obey_robots": False, "retries": 0},
        }
        config = _write_config(tmp_path, entry)
        _crawl(config, catalog_db, "feed")
        feed["body"] = _yml(CODES[:1], broken=True)  # cut off after TL-1001: read in part
        broken = _crawl(config, catalog_db, "feed")
        assert (broken.health, STAT_COMPLETE in broken.stats) == ("ok", False)
        assert set(_gone(catalog_db, "").values()) == {None}
        feed["body"] = _yml(CODES[:1])
        _crawl(config, catalog_db, "feed")
    assert _gone(catalog_db, "") == {
        ("https://feed.test/TL-1001", "feed"): None,
        ("https://feed.test/TL-1002", "feed"): "missing",
    }


def _card(sellers: list[str]) -> bytes:
    offers = "".join(
        f'<div class="offer" data-price="10000" data-seller="{s}"><span class="seller">{s}</span>'
        f'<span class="price">10 000 ₽</span><span class="stock">В наличии</span></div>'
        for s in sellers
    )
    return (
        "<html><body><h1>Конвектор Термолайн TL-1001</h1><span class='code'>TL-1001</span>"
        f"<div class='offers'>{offers}</div></body></html>"
    ).encode()


@pytest.mark.chromium
def test_a_seller_missing_from_a_card_read_fine_is_gone(catalog_db: str, tmp_path: Path) -> None:
    require(CHROMIUM.exists(), f"Chromium at {CHROMIUM}")
    sellers = ["s-1", "s-2"]

    def answer(path: str, hit: int) -> tuple[int, dict[str, str], bytes]:
        if path == "/brand":
            return 200, {}, b'<html><body><div class="cards"><a class="card" href="/card/1">1</a></div></body></html>'
        return (200, {}, _card(sellers)) if path == "/card/1" else (404, {}, b"")

    with HttpSite(answer) as http:
        entry = {
            "code": "market",
            "kind": "marketplace",
            "spider": "marketplace",
            "start_urls": [f"{http.url}/brand"],
            "extraction": "selectors",
            "selectors": {
                "product_links": ".cards a.card",
                "name": "h1::text",
                "vendor_code": ".code::text",
                "offer": ".offers .offer[data-price]",
                "seller_id": "::attr(data-seller)",
                "seller": ".seller::text",
                "price": ".price::text",
                "availability": ".stock::text",
            },
            "playwright": {"wait_for": ".offer[data-price]", "timeout": 15},
            "politeness": {"obey_robots": False, "retries": 0},
        }
        config = _write_config(tmp_path, entry)
        _crawl(config, catalog_db, "market")
        sellers.pop()
        _crawl(config, catalog_db, "market")
    assert _gone(catalog_db, http.url) == {("/card/1", "s-1"): None, ("/card/1", "s-2"): "left_card"}
