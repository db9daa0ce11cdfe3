"""A site that refuses, fails or rate-limits: retries wait as asked, and nothing refused reads as out of stock.

One crawl (its own process, real HTTP on 127.0.0.1) of a small shop whose product URLs answer 429 with
Retry-After, 503, 403, a captcha, an empty body, 404, 410, an oversized page, or are disallowed by robots.txt.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.config import load_config
from pricewatch.crawls.local import CrawlSummary, run_crawls
from tests.support.http_site import HttpSite

PRODUCT = """<html><head><meta charset="utf-8"><title>{name}</title></head><body>
<h1>{name}</h1><div class="price">{price}</div><div class="stock">{stock}</div></body></html>"""
CAPTCHA = """<html><head><meta charset="utf-8"><title>Подтвердите, что вы не робот</title></head>
<body><form action="/checkcaptcha"><div class="captcha">Введите символы с картинки</div>
<input name="rep"></form></body></html>"""


def _page(name: str, price: str, stock: str) -> bytes:
    return PRODUCT.format(name=name, price=price, stock=stock).encode()


Answer = tuple[int, dict[str, str], bytes]
# Paths that answer the same whatever the attempt.
FIXED: dict[str, Answer] = {
    "/robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private\n"),
    "/private": (200, {}, _page("Secret", "1 ₽", "В наличии")),
    "/come-back-tomorrow": (429, {"Retry-After": "86400"}, b"Too Many Requests"),
    "/down": (500, {}, b"Internal Server Error"),
    "/forbidden": (403, {}, b"<html><body>Forbidden</body></html>"),
    "/captcha": (200, {}, CAPTCHA.encode()),
    "/empty": (200, {}, b""),
    "/delisted": (404, {}, b"<html><body>Not found</body></html>"),
    "/gone": (410, {}, b"<html><body>Gone</body></html>"),
    "/huge": (200, {}, _page("Huge", "1 ₽", "В наличии") + b" " * (11 * 1024 * 1024)),
}
# Paths whose first attempt fails and whose retry is read: (first answer, the answer after).
RECOVERING: dict[str, tuple[Answer, Answer]] = {
    "/rate-limited": (
        (429, {"Retry-After": "1"}, b"Too Many Requests"),
        (200, {}, _page("Термолайн TL-1001", "12 990 ₽", "В наличии")),
    ),
    "/flaky": (
        (503, {}, b"Service Unavailable"),
        (200, {}, _page("Термолайн TL-1002", "8 490 ₽", "Нет в наличии")),
    ),
}


def answer(path: str, hit: int) -> Answer:
    if path in RECOVERING:
        first, after = RECOVERING[path]
        return first if hit == 1 else after
    return FIXED.get(path, (404, {}, b""))


Refusals = tuple[HttpSite, CrawlSummary, dict[str, dict[str, Any]]]  # the site, the summary, offers by path
PATHS = [
    "/rate-limited",
    "/flaky",
    "/come-back-tomorrow",
    "/down",
    "/forbidden",
    "/captcha",
    "/empty",
    "/delisted",
    "/gone",
    "/huge",
    "/private",
]


@pytest.fixture(scope="module")
def crawl(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Refusals]:
    with HttpSite(answer) as site:
        config_path = Path(tmp_path_factory.mktemp("refusals")) / "config.yaml"
        urls = "".join(f"\n      - {site.url}{path}" for path in PATHS)
        config_path.write_text(
            f"""
distributors:
  - code: refuser
    name: Refusing shop
    start_urls:{urls}
    extraction: selectors
    selectors: {{name: "h1", price: ".price", availability: ".stock"}}
    politeness: {{concurrency: 4, delay: 0, retries: 2, obey_robots: true, timeout: 20}}
""",
            encoding="utf-8",
        )
        out = io.StringIO()
        [summary] = run_crawls(load_config(config_path), config_path, ["refuser"], output=out)
        offers = {}
        for line in out.getvalue().splitlines():
            offer = json.loads(line)
            offers[offer["url"].removeprefix(site.url)] = offer
        yield site, summary, offers


def test_the_crawl_finishes_and_counts_what_happened(crawl: Refusals) -> None:
    _, summary, offers = crawl
    assert summary.status == "finished", summary.reason
    assert summary.offers == len(offers)
    stats = summary.stats
    assert stats["pricewatch/blocked"] == 4  # come-back-tomorrow, forbidden, captcha, empty
    assert stats["pricewatch/not_found"] == 2
    # /down after its retries and /huge (over DOWNLOAD_MAXSIZE, never delivered) are the errors.
    assert stats["pricewatch/errors"] == summary.errors == 2


def test_a_429_is_retried_after_the_time_retry_after_asks(crawl: Refusals) -> None:
    site, _, offers = crawl
    first, second = site.hits["/rate-limited"]
    assert second - first >= 0.9
    offer = offers["/rate-limited"]
    assert (offer["price"], offer["currency"], offer["stock"], offer["flags"]) == ("12990.00", "RUB", "in_stock", [])


def test_a_5xx_is_retried_and_the_later_answer_counts(crawl: Refusals) -> None:
    site, _, offers = crawl
    assert len(site.hits["/flaky"]) == 2
    assert (offers["/flaky"]["price"], offers["/flaky"]["stock"]) == ("8490.00", "out_of_stock")
    assert len(site.hits["/down"]) == 3  # the first try and two retries
    assert "/down" not in offers


def test_a_retry_after_too_long_to_wait_is_not_waited_for(crawl: Refusals) -> None:
    site, _, offers = crawl
    assert len(site.hits["/come-back-tomorrow"]) == 1
    assert offers["/come-back-tomorrow"]["flags"] == ["blocked"]


@pytest.mark.parametrize("path", ["/come-back-tomorrow", "/forbidden", "/captcha", "/empty"])
def test_refused_pages_are_unknown_never_out_of_stock(crawl: Refusals, path: str) -> None:
    offer = crawl[2][path]
    assert offer["stock"] == "unknown"
    assert offer["price"] is None
    assert "blocked" in offer["flags"]


@pytest.mark.parametrize(("path", "status"), [("/delisted", 404), ("/gone", 410)])
def test_a_missing_product_page_is_not_found(crawl: Refusals, path: str, status: int) -> None:
    offer = crawl[2][path]
    assert (offer["stock"], offer["flags"], offer["http_status"]) == ("out_of_stock", ["not_found"], status)


def test_a_page_robots_txt_disallows_is_never_fetched(crawl: Refusals) -> None:
    site, summary, offers = crawl
    assert len(site.hits["/robots.txt"]) == 1
    assert "/private" not in site.hits
    assert "/private" not in offers
    assert summary.stats["robotstxt/forbidden"] == 1


def test_an_oversized_page_is_dropped(crawl: Refusals) -> None:
    assert "/huge" not in crawl[2]
