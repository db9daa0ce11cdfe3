"""The crawl-health verdict: was a run good enough to believe, or did the site or the spider break?"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from crawler.config import CrawlHealthRule
from crawler.items import Health
from crawler.stats import (
    STAT_BLOCKED,
    STAT_ERRORS,
    STAT_OFFERS,
    STAT_PRICE_MISSING,
    STAT_PRODUCT_PAGES,
    STAT_RESPONSES,
)


@dataclass(frozen=True)
class CanaryCheck:
    """The canary page's known price/stock (from the config) and what this run read from it."""

    url: str
    expected_price: Decimal | None
    expected_stock: str | None
    seen: bool = False
    price: Decimal | None = None
    stock: str | None = None


@dataclass(frozen=True)
class Verdict:
    health: Health
    reason: str


def _canary_problem(canary: CanaryCheck) -> str | None:
    if not canary.seen:
        return f"the canary page {canary.url} gave no offer"
    if canary.expected_price is not None and canary.price != canary.expected_price:
        return f"the canary page {canary.url} shows price {canary.price} instead of the known {canary.expected_price}"
    if canary.expected_stock is not None and canary.stock != canary.expected_stock:
        return f"the canary page {canary.url} shows stock {canary.stock} instead of the known {canary.expected_stock}"
    return None


def judge(
    stats: Mapping[str, object],
    last_good: int | None,
    canary: CanaryCheck | None,
    thresholds: CrawlHealthRule,
) -> Verdict:
    """Judge one run from its stats, the offers of the distributor's last `ok` run, and its canary.

    failed: the site could not be reached at all; degraded: every response blocked (then that alone is said), too
    few offers against the last good run, too many product pages without a price, no product pages at all, or the
    canary's known price/stock not read back.
    """

    def count(key: str) -> int:
        value = stats.get(key, 0)
        return int(value) if isinstance(value, int | float) else 0

    responses, errors = count(STAT_RESPONSES), count(STAT_ERRORS)
    pages, offers = count(STAT_PRODUCT_PAGES), count(STAT_OFFERS)
    missing, blocked = count(STAT_PRICE_MISSING), count(STAT_BLOCKED)
    if responses == 0:
        return Verdict(Health.FAILED, f"the site could not be reached: no response, {errors} requests failed")

    if blocked and blocked >= responses:
        # The few offers, the missing prices and the unread canary all follow from the block: no layout changed.
        return Verdict(Health.DEGRADED, f"all {responses} responses were blocked (anti-bot page, captcha or 403)")
    problems: list[str] = []
    if pages == 0 and offers == 0:
        problems.append("no product pages were found, so the site's layout has probably changed")
    if last_good and offers < thresholds.min_offer_share * last_good:
        problems.append(
            f"{offers} offers against {last_good} in the last good run "
            f"(below {thresholds.min_offer_share:.0%}), so the site's layout has probably changed"
        )
    if pages and missing / pages > thresholds.max_missing_price_share:
        problems.append(
            f"no price on {missing} of {pages} product pages "
            f"(more than {thresholds.max_missing_price_share:.0%}), so the price selector probably broke"
        )
    if canary is not None and (problem := _canary_problem(canary)):
        problems.append(problem)
    if problems:
        return Verdict(Health.DEGRADED, "; ".join(problems))
    return Verdict(Health.OK, f"{offers} offers from {pages} product pages, {errors} failed requests")
