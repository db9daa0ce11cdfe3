"""The crawl-health verdict from every product page: failed when unreachable; degraded, with its cause named, when
too many pages are unreadable, a mass 404, too few offers or a misread canary; else ok."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crawler.config import CrawlHealthRule
from crawler.items import FLAG_BLOCKED, FLAG_NOT_FOUND, Health
from pipelines.health import CanaryCheck, Cause, judge

RULE = CrawlHealthRule()  # the defaults: 10 % of product pages with a problem, 10 % of known listings 404, 50 %
URL = "http://shop.test/canary"
CANARY_OK = CanaryCheck(URL, Decimal("4990.00"), "in_stock", seen=True, price=Decimal("4990.00"), stock="in_stock")


def stats(responses: int = 100, pages: int = 90, offers: int = 90, **more: int) -> dict[str, int]:
    """A run's stats; `more` by the key's tail: `blocked=3` is `pricewatch/blocked`, `pages_failed=2` is
    `pricewatch/product_pages/failed`."""
    named = {k.replace("pages_", "product_pages/", 1) if k.startswith("pages_") else k: v for k, v in more.items()}
    base = {"responses": responses, "product_pages": pages, "offers": offers}
    return {f"pricewatch/{k}": v for k, v in (base | named).items()}


def test_the_default_thresholds_are_the_ones_documented() -> None:
    assert (RULE.max_problem_share, RULE.max_not_found_share, RULE.min_offer_share) == (0.1, 0.1, 0.5)


@pytest.mark.parametrize(
    ("case", "run", "last_good", "canary", "health", "reason_has"),
    [
        ("healthy", stats(), 100, CANARY_OK, Health.OK, "90 offers"),
        ("first run ever", stats(), None, None, Health.OK, "90 offers"),
        ("no response at all", stats(responses=0, pages=0, offers=0, errors=12), 100, None, Health.FAILED, "12"),
        ("half of the last good run", stats(offers=50, pages=50), 100, None, Health.OK, "50 offers"),
        ("below half of the last good run", stats(offers=49, pages=49), 100, None, Health.DEGRADED, "49 offers"),
        ("10 % without price", stats(price_missing=9), 100, None, Health.OK, "90 offers"),
        ("over 10 % without price", stats(price_missing=10), 100, None, Health.DEGRADED, "no price on 10 of 90"),
        ("no product pages", stats(pages=0, offers=0), None, None, Health.DEGRADED, "no product pages"),
        ("every response blocked", stats(blocked=100), 100, None, Health.DEGRADED, "all 100 responses were blocked"),
        ("canary missing", stats(), 100, CanaryCheck(URL, Decimal(4990), None), Health.DEGRADED, "gave no offer"),
        (
            "canary price wrong",
            stats(),
            100,
            CanaryCheck(URL, Decimal("4990.00"), None, seen=True, price=Decimal("49.90")),
            Health.DEGRADED,
            "shows price 49.90 instead of the known 4990.00",
        ),
        (
            "canary stock wrong",
            stats(),
            100,
            CanaryCheck(URL, None, "in_stock", seen=True, stock="out_of_stock"),
            Health.DEGRADED,
            "out_of_stock",
        ),
    ],
)
def test_verdict(
    case: str,
    run: dict[str, int],
    last_good: int | None,
    canary: CanaryCheck | None,
    health: Health,
    reason_has: str,
) -> None:
    verdict = judge(run, last_good, canary, RULE)
    assert verdict.health == health, case
    assert reason_has in verdict.reason
    assert (verdict.cause is None) == (health != Health.DEGRADED)


@pytest.mark.parametrize(
    ("kind", "cause", "text"),
    [
        ("pages_blocked", Cause.BLOCKED, "10 of 90 product pages blocked (anti-bot page, captcha or 403)"),
        ("pages_failed", Cause.SITE_DOWN, "10 of 90 product pages failed after retries"),
        ("price_missing", Cause.LAYOUT, "no price on 10 of 90 product pages (the price selector probably broke)"),
        ("price_conflict", Cause.LAYOUT, "conflicting prices on 10 of 90 product pages"),
        ("price_suspect", Cause.LAYOUT, "a suspect price (far from the RRP) on 10 of 90 product pages"),
        ("dropped", Cause.LAYOUT, "10 offers dropped"),
    ],
)
def test_every_kind_of_unreadable_page_counts_past_ten_percent_and_names_its_cause(
    kind: str, cause: Cause, text: str
) -> None:
    def run(count: int) -> dict[str, int]:
        # A product page that failed gave no offer; every other kind of page still gave one.
        return stats(offers=90 - count if kind == "pages_failed" else 90, **{kind: count})

    assert judge(run(9), 100, CANARY_OK, RULE).health == Health.OK  # 10 % is still ok
    verdict = judge(run(10), 100, CANARY_OK, RULE)
    assert (verdict.health, verdict.cause) == (Health.DEGRADED, cause)
    assert verdict.reason.startswith(f"{cause}: {text}")


def test_every_product_page_403_with_the_canary_fine_is_degraded_by_the_block() -> None:
    # 20 product pages and the canary: the listings and the canary answer, every other product page is a 403.
    run = stats(responses=26, pages=21, offers=21, blocked=20, pages_blocked=20)
    verdict = judge(run, 21, CANARY_OK, RULE, known_listings=21)
    assert (verdict.health, verdict.cause) == (Health.DEGRADED, Cause.BLOCKED)
    assert verdict.reason == "blocked by anti-bot: 20 of 21 product pages blocked (anti-bot page, captcha or 403)"


def test_19_of_20_pages_unreadable_in_four_ways_is_degraded_and_names_each() -> None:
    # 5 blocked, 5 with two prices, 5 timed out (no offer), 4 dropped by the pipelines; one page fine.
    run = stats(
        responses=20, pages=20, offers=15, pages_blocked=5, blocked=5, price_conflict=5, pages_failed=5, dropped=4
    )
    verdict = judge(run, 20, None, RULE, known_listings=20)
    assert verdict.health == Health.DEGRADED
    assert verdict.cause == Cause.LAYOUT  # 9 pages of it (conflicts and drops) against 5 blocked and 5 down
    assert verdict.reason == (
        "layout changed: conflicting prices on 5 of 20 product pages, 4 offers dropped (no URL or seller); "
        "blocked by anti-bot: 5 of 20 product pages blocked (anti-bot page, captcha or 403); "
        "site down: 5 of 20 product pages failed after retries (no answer or an error)"
    )


def test_a_few_unreadable_pages_of_each_kind_add_up() -> None:
    # Three kinds at 4 of 90 each: none alone, but 12 of 90 (13 %) together.
    assert judge(stats(pages_blocked=4, price_missing=4), 100, None, RULE).health == Health.OK
    verdict = judge(stats(offers=86, pages_blocked=4, price_missing=4, pages_failed=4), 100, None, RULE)
    assert verdict.health == Health.DEGRADED
    # A tie goes to the cause that explains the others: a block, then a site down, then a layout.
    assert verdict.cause == Cause.BLOCKED
    assert verdict.reason.startswith("blocked by anti-bot: 4 of 90 product pages blocked")


def test_every_product_page_404_with_the_canary_fine_is_a_mass_404_not_delistings() -> None:
    run = stats(responses=26, pages=21, offers=21, not_found=20, pages_not_found=20)
    verdict = judge(run, 21, CANARY_OK, RULE, known_listings=21)
    assert (verdict.health, verdict.cause) == (Health.DEGRADED, Cause.MASS_404)
    assert verdict.reason == "mass 404: 20 of 21 known listings answered 404 (over 10%)"


def test_a_few_delisted_products_are_delistings() -> None:
    run = stats(pages_not_found=9, not_found=9)
    assert judge(run, 90, CANARY_OK, RULE, known_listings=90).health == Health.OK
    assert judge({**run, "pricewatch/product_pages/not_found": 10}, 90, CANARY_OK, RULE, known_listings=90).health == (
        Health.DEGRADED
    )


def test_404s_are_weighed_against_every_known_listing_not_only_the_pages_found() -> None:
    # The listing pages lost most products (a layout change); the 404s are the known listings revisited.
    run = stats(pages=12, offers=12, pages_not_found=10, not_found=10)
    assert judge(run, None, None, RULE, known_listings=200).health == Health.OK
    assert judge(run, None, None, RULE, known_listings=0).cause == Cause.MASS_404


def test_when_every_page_is_blocked_the_reason_is_the_block_not_the_canary() -> None:
    # The listings answer; every product page, the canary's too, is an anti-bot page.
    run = stats(responses=26, pages=21, offers=21, blocked=21, pages_blocked=21)
    blocked_canary = CanaryCheck(URL, Decimal("4990.00"), "in_stock", seen=True, flags=(FLAG_BLOCKED,))
    verdict = judge(run, 21, blocked_canary, RULE)
    assert verdict.cause == Cause.BLOCKED
    assert verdict.reason == (
        f"blocked by anti-bot: 21 of 21 product pages blocked (anti-bot page, captcha or 403), "
        f"the canary page {URL} was blocked"
    )
    assert "price" not in verdict.reason


def test_a_blocked_canary_alone_degrades_the_run_by_the_block() -> None:
    canary = CanaryCheck(URL, Decimal("4990.00"), None, seen=True, flags=(FLAG_BLOCKED,))
    verdict = judge(stats(blocked=1, pages_blocked=1), 100, canary, RULE)
    assert (verdict.health, verdict.cause) == (Health.DEGRADED, Cause.BLOCKED)


def test_a_canary_gone_404_says_so() -> None:
    canary = CanaryCheck(URL, Decimal("4990.00"), None, seen=True, flags=(FLAG_NOT_FOUND,))
    verdict = judge(stats(), 100, canary, RULE)
    assert verdict.cause == Cause.LAYOUT
    assert f"the canary page {URL} answered 404" in verdict.reason


def test_the_canary_price_misread_as_a_monthly_payment_is_degraded() -> None:
    canary = CanaryCheck(URL, Decimal("10000"), "in_stock", seen=True, price=Decimal("1667"), stock="in_stock")
    verdict = judge(stats(), 100, canary, RULE)
    assert (verdict.health, verdict.cause) == (Health.DEGRADED, Cause.LAYOUT)
    assert verdict.reason == f"layout changed: the canary page {URL} shows price 1667 instead of the known 10000"


def test_a_site_whose_product_pages_all_time_out_is_down_not_a_new_layout() -> None:
    # Every product page failed after its retries: they are counted as pages; the offers "collapse" follows.
    verdict = judge(stats(pages=90, offers=0, pages_failed=90, errors=90), 90, None, RULE)
    assert verdict.cause == Cause.SITE_DOWN
    assert "layout" not in verdict.reason


def test_listings_that_answer_only_errors_are_a_site_down() -> None:
    verdict = judge(stats(responses=5, pages=0, offers=0, errors=5), 90, None, RULE)
    assert verdict.cause == Cause.SITE_DOWN
    assert verdict.reason == "site down: no product pages: 5 requests failed"


def test_the_thresholds_come_from_the_config() -> None:
    strict = CrawlHealthRule(max_problem_share=0.0, max_not_found_share=0.5)
    assert judge(stats(price_conflict=1), 100, None, strict).health == Health.DEGRADED
    assert judge(stats(pages_not_found=40, not_found=40), 100, None, strict, known_listings=90).health == Health.OK
