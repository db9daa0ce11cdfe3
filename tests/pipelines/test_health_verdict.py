"""The crawl-health verdict: failed when unreachable, degraded when the crawl looks broken, else ok."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crawler.config import CrawlHealthRule
from crawler.items import Health
from pipelines.health import CanaryCheck, judge

RULE = CrawlHealthRule(min_offer_share=0.5, max_missing_price_share=0.3)
URL = "http://shop.test/canary"
CANARY_OK = CanaryCheck(URL, Decimal("4990.00"), "in_stock", seen=True, price=Decimal("4990.00"), stock="in_stock")


def stats(responses: int = 100, pages: int = 90, offers: int = 90, missing: int = 0, **more: int) -> dict[str, int]:
    return {
        "pricewatch/responses": responses,
        "pricewatch/product_pages": pages,
        "pricewatch/offers": offers,
        "pricewatch/price_missing": missing,
        **{f"pricewatch/{k}": v for k, v in more.items()},
    }


@pytest.mark.parametrize(
    ("case", "run", "last_good", "canary", "health", "reason_has"),
    [
        ("healthy", stats(), 100, CANARY_OK, Health.OK, "90 offers"),
        ("first run ever", stats(), None, None, Health.OK, "90 offers"),
        ("no response at all", stats(responses=0, pages=0, offers=0, errors=12), 100, None, Health.FAILED, "12"),
        ("half of the last good run", stats(offers=50, pages=50), 100, None, Health.OK, "50 offers"),
        ("below half of the last good run", stats(offers=49, pages=49), 100, None, Health.DEGRADED, "49 offers"),
        ("30 % without price", stats(missing=27), 100, None, Health.OK, "90 offers"),
        ("over 30 % without price", stats(missing=28), 100, None, Health.DEGRADED, "no price on 28 of 90"),
        ("no product pages", stats(pages=0, offers=0), None, None, Health.DEGRADED, "no product pages"),
        ("every response blocked", stats(blocked=100), 100, None, Health.DEGRADED, "blocked"),
        ("canary missing", stats(), 100, CanaryCheck(URL, Decimal(4990), None), Health.DEGRADED, "gave no offer"),
        (
            "canary price wrong",
            stats(),
            100,
            CanaryCheck(URL, Decimal("4990.00"), None, seen=True, price=Decimal("49.90")),
            Health.DEGRADED,
            "49.90",
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


def test_every_problem_is_named_in_the_reason() -> None:
    verdict = judge(stats(offers=10, pages=10, missing=9), 100, CanaryCheck(URL, None, None), RULE)
    assert verdict.health == Health.DEGRADED
    assert verdict.reason.count("; ") == 2
