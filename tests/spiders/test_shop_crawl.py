"""The shop spider on techsnab (a Bitrix shop, CSS selectors): listings with pagination, every offer right.

Crawled on day 2, when one product is delisted (404) but the cached listing still links to it."""

from __future__ import annotations

import pytest

from crawler.settings import USER_AGENT
from fixtures.pilot.scenario import TECHSNAB, canary, offer_for, offers
from tests.support.pilot_crawl import Crawl, CrawlPilot, assert_matches_truth


@pytest.fixture(scope="module")
def day2(crawl_pilot: CrawlPilot) -> Crawl:
    return crawl_pilot(TECHSNAB, day=2)


def test_every_offer_on_the_site_comes_out_right_and_none_is_invented(day2: Crawl) -> None:
    assert day2.summary.status == "finished", day2.summary.reason
    assert_matches_truth(day2, offers(TECHSNAB, 2))


def test_two_different_prices_on_one_page_give_no_price_and_a_flag(day2: Crawl) -> None:
    offer = day2.offer(offer_for(TECHSNAB, "TL-1009", day=2).path)
    assert (offer["price"], offer["flags"]) == (None, ["price_conflict"])
    assert offer["stock"] != "out_of_stock"


def test_a_lower_bound_is_kept_but_flagged_as_no_firm_price(day2: Crawl) -> None:
    offer = day2.offer(offer_for(TECHSNAB, "TL-2003", day=2).path)
    assert (offer["price"], offer["flags"]) == ("1990.00", ["price_from"])
    assert offer["price_raw"].startswith("от")


def test_a_price_on_request_is_no_price(day2: Crawl) -> None:
    offer = day2.offer(offer_for(TECHSNAB, "TL-1015", day=2).path)
    assert (offer["price"], offer["flags"], offer["stock"]) == (None, ["price_on_request"], "preorder")


def test_a_delisted_product_page_is_not_found_never_just_missing(day2: Crawl) -> None:
    offer = day2.offer(offer_for(TECHSNAB, "TL-2005", day=2).path)
    assert (offer["stock"], offer["flags"], offer["http_status"]) == ("out_of_stock", ["not_found"], 404)
    assert offer["price"] is None
    assert day2.stats["pricewatch/not_found"] == 1


def test_raw_strings_are_kept_beside_the_parsed_values(day2: Crawl) -> None:
    offer = day2.offer(offer_for(TECHSNAB, "TL-3002", day=2).path)
    assert offer["stock_raw"] == "Осталось 2 шт."
    assert (offer["stock"], offer["quantity"]) == ("low_stock", 2)
    assert "₽" in offer["price_raw"]


def test_the_canary_is_requested_first_and_marked(day2: Crawl, crawl_pilot: CrawlPilot) -> None:
    [index] = [i for i, o in enumerate(day2.offers) if o["is_canary"]]
    assert day2.offers[index]["url"].endswith(canary(TECHSNAB).path)
    # Requested before the first listing comes back, it is read among the first few pages (responses may
    # overtake one another, so not necessarily the very first).
    assert index < 4
    assert day2.stats["pricewatch/canary_seen"] == 1


def test_the_crawl_health_stats_count_the_pages(day2: Crawl) -> None:
    truth = offers(TECHSNAB, 2)
    stats = day2.stats
    assert stats["pricewatch/product_pages"] == len(truth)
    assert stats["pricewatch/offers"] == len(truth) == day2.summary.offers
    # Listing pages and product pages; robots.txt is not a page.
    assert stats["pricewatch/responses"] > len(truth)
    assert stats.get("pricewatch/price_missing", 0) == 0
    assert stats.get("pricewatch/errors", 0) == 0
    assert stats.get("pricewatch/blocked", 0) == 0


def test_the_site_is_asked_for_robots_txt_first_and_by_a_browser_user_agent(day2: Crawl) -> None:
    assert day2.hits[0].target == "/robots.txt"
    assert {hit.user_agent for hit in day2.hits} == {USER_AGENT}
    # Every page once: no product page fetched twice (the canary is also in its listing).
    targets = [hit.target for hit in day2.hits]
    assert len(targets) == len(set(targets))


def test_the_limit_caps_the_product_pages(crawl_pilot: CrawlPilot) -> None:
    limited = crawl_pilot(TECHSNAB, limit=5)
    assert limited.summary.status == "finished"
    assert limited.stats["pricewatch/product_pages"] == 6  # the canary and 5 more
    assert len(limited.offers) == 6
