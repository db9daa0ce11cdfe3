"""Pilot sites that block, break or misbehave: a refused page is unknown, never out of stock; a broken spider is
visible in the stats; faults a site recovers from change nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fixtures.pilot.scenario import MARKETPLACE, TECHSNAB, canary, huge_page_path, offers
from fixtures.sites.modes import Mode
from tests.support.pilot_crawl import Crawl, CrawlPilot, assert_matches_truth, mismatches
from tests.support.services import require

CANARY = canary(TECHSNAB)


def assert_true_where_read(crawl: Crawl) -> None:
    """Every offer that came out says what the site says (a limited crawl reads only some of them)."""
    truth = {(o.path, o.seller_id): o for o in offers(TECHSNAB, 1)}
    got = crawl.by_key()
    assert got, "no offer came out"
    assert set(got) <= set(truth)
    assert [line for key, offer in got.items() for line in mismatches(truth[key], offer)] == []


@pytest.mark.parametrize("mode", [Mode.BLOCKED, Mode.CAPTCHA, Mode.EMPTY_BODY])
def test_a_refused_product_page_is_unknown_and_blocked(crawl_pilot: CrawlPilot, mode: Mode) -> None:
    crawl = crawl_pilot(TECHSNAB, mode=mode, path=CANARY.path, limit=2)
    refused = crawl.offer(CANARY.path)
    assert (refused["stock"], refused["price"], refused["flags"]) == ("unknown", None, ["blocked"])
    assert refused["is_canary"] is True
    assert crawl.stats["pricewatch/blocked"] == 1
    assert "pricewatch/canary_seen" not in crawl.stats  # a blocked canary was not seen
    assert len(crawl.offers) == 3
    assert [o for o in crawl.offers if o["stock"] == "out_of_stock" and "blocked" in o["flags"]] == []


def test_a_site_that_blocks_everything_gives_no_stock_out(crawl_pilot: CrawlPilot) -> None:
    crawl = crawl_pilot(TECHSNAB, mode=Mode.BLOCKED)
    assert crawl.summary.status == "finished"
    # The listings are refused too, so only the canary is known as a product page.
    assert [(o["url"], o["stock"], o["flags"]) for o in crawl.offers] == [
        (crawl.base_url + CANARY.path, "unknown", ["blocked"])
    ]
    assert crawl.stats["pricewatch/blocked"] == crawl.stats["pricewatch/responses"] == 6  # 5 listings + canary


def test_a_changed_layout_loses_prices_not_stock(crawl_pilot: CrawlPilot) -> None:
    crawl = crawl_pilot(TECHSNAB, mode=Mode.LAYOUT_V2, limit=4)
    assert len(crawl.offers) == 5
    for offer in crawl.offers:
        assert (offer["price"], offer["stock"], offer["flags"]) == (None, "unknown", ["price_missing"])
    assert crawl.stats["pricewatch/price_missing"] == crawl.stats["pricewatch/product_pages"] == 5


@pytest.mark.parametrize("mode", [Mode.HTTP_500_BURST, Mode.RATE_LIMITED])
def test_a_page_that_recovers_after_retries_reads_right(crawl_pilot: CrawlPilot, mode: Mode) -> None:
    crawl = crawl_pilot(TECHSNAB, mode=mode, path=CANARY.path, count=2, limit=2)
    assert [hit.status for hit in crawl.hits if hit.target == CANARY.path] == [
        *([429, 429] if mode is Mode.RATE_LIMITED else [500, 502]),
        200,
    ]
    assert crawl.stats["retry/count"] == 2
    assert crawl.stats.get("pricewatch/errors", 0) == 0
    assert len(crawl.offers) == 3
    assert crawl.offer(CANARY.path)["is_canary"] is True
    assert_true_where_read(crawl)


@pytest.mark.parametrize("mode", [Mode.CP1251, Mode.BROKEN_HTML])
def test_old_encodings_and_sloppy_markup_read_the_same(crawl_pilot: CrawlPilot, mode: Mode) -> None:
    crawl = crawl_pilot(TECHSNAB, mode=mode)
    assert_matches_truth(crawl, offers(TECHSNAB, 1))


def test_an_oversized_page_is_dropped_and_counted(crawl_pilot: CrawlPilot) -> None:
    crawl = crawl_pilot(TECHSNAB, mode=Mode.HUGE_PAGE)
    huge = huge_page_path(TECHSNAB)
    assert huge not in {path for path, _ in crawl.by_key()}
    assert crawl.stats["pricewatch/errors"] == 1
    assert len(crawl.offers) == len(offers(TECHSNAB, 1)) - 1


Settings = dict[str, Any]


@pytest.mark.parametrize(
    ("mode", "politeness"),
    [
        (Mode.REDIRECT_LOOP, {}),
        (Mode.DOWN, {"retries": 1}),
        (Mode.SLOW, {"timeout": 1, "retries": 0}),
    ],
)
def test_a_page_that_never_answers_is_an_error_and_no_offer(
    crawl_pilot: CrawlPilot, mode: Mode, politeness: Settings
) -> None:
    polite = {"concurrency": 8, "delay": 0, "autothrottle": False, "timeout": 20, "retries": 2, **politeness}
    crawl = crawl_pilot(TECHSNAB, mode=mode, path=CANARY.path, limit=2, distributor={"politeness": polite})
    assert crawl.summary.status == "finished"
    assert CANARY.path not in {path for path, _ in crawl.by_key()}
    assert crawl.stats["pricewatch/errors"] == crawl.summary.errors == 1
    assert len(crawl.offers) == 2
    assert_true_where_read(crawl)


def test_a_blocked_marketplace_page_is_unknown_without_waiting_for_prices(crawl_pilot: CrawlPilot) -> None:
    require(Path("/usr/bin/chromium").exists(), "Chromium at /usr/bin/chromium")
    crawl = crawl_pilot(MARKETPLACE, mode=Mode.BLOCKED)
    assert [(o["stock"], o["flags"], o["is_canary"]) for o in crawl.offers] == [("unknown", ["blocked"], True)]
    assert crawl.stats["pricewatch/blocked"] == 2  # the brand listing and the canary
    # An error page returns at once: nowhere near the 15 s wait for prices per page.
    assert crawl.summary.duration < 15
