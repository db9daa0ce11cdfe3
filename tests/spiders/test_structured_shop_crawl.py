"""The shop spider on klimatprof: JSON-LD pages found through a sitemap index (with categories and articles in
it too), a visible price that disagrees with the JSON-LD, decimal-comma prices."""

from __future__ import annotations

import pytest

from fixtures.pilot.scenario import KLIMATPROF, canary, offer_for, offers
from tests.support.pilot_crawl import Crawl, CrawlPilot, assert_matches_truth


@pytest.fixture(scope="module")
def day1(crawl_pilot: CrawlPilot) -> Crawl:
    return crawl_pilot(KLIMATPROF, day=1)


def test_every_offer_on_the_site_comes_out_right_and_none_is_invented(day1: Crawl) -> None:
    assert day1.summary.status == "finished", day1.summary.reason
    assert_matches_truth(day1, offers(KLIMATPROF, 1))


def test_the_visible_price_wins_over_json_ld_and_the_offer_carries_both(day1: Crawl) -> None:
    truth = offer_for(KLIMATPROF, "TL-1004", day=1)
    offer = day1.offer(truth.path)
    assert offer["price"] == f"{truth.price:.2f}"
    assert offer["flags"] == ["structured_mismatch"]
    assert truth.structured_price is not None
    assert offer["structured"]["price"] is not None
    assert float(offer["structured"]["price"]) == float(truth.structured_price)


def test_pages_in_the_sitemap_that_are_no_products_give_no_offer(day1: Crawl) -> None:
    not_products = {"/", "/about/", "/contacts/", "/dostavka/", "/catalog/otoplenie/"}
    assert not_products <= {hit.target for hit in day1.hits}  # the sitemap lists them, so they were read…
    assert not {o["url"].removeprefix(day1.base_url) for o in day1.offers} & not_products  # …and gave no offer
    assert day1.stats["pricewatch/product_pages"] == len(offers(KLIMATPROF, 1))


def test_decimal_comma_prices_and_the_canary(day1: Crawl) -> None:
    offer = day1.offer(canary(KLIMATPROF).path)
    assert offer["is_canary"] is True
    assert "," in offer["price_raw"]
    assert offer["price"] == f"{canary(KLIMATPROF).price:.2f}"
    assert day1.stats["pricewatch/canary_seen"] == 1
