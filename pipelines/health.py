"""The crawl-health verdict: was a run good enough to believe, or did the site or the spider break?

Built from every product page: blocked, failed after retries, dropped, without a price, with conflicting or suspect
prices, and known listings answering 404; then the offers against the last good run and the canary. A run judged
degraded names its cause first («blocked by anti-bot», «site down», «mass 404», «layout changed»); the rules open
and resolve nothing from it but the admin's crawler-health alert.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from crawler.config import CrawlHealthRule
from crawler.items import FLAG_BLOCKED, FLAG_NOT_FOUND, Health
from crawler.stats import (
    STAT_BLOCKED,
    STAT_DROPPED,
    STAT_ERRORS,
    STAT_OFFERS,
    STAT_PAGES_BLOCKED,
    STAT_PAGES_FAILED,
    STAT_PAGES_NOT_FOUND,
    STAT_PRICE_CONFLICT,
    STAT_PRICE_MISSING,
    STAT_PRICE_SUSPECT,
    STAT_PRODUCT_PAGES,
    STAT_RESPONSES,
)


class Cause(enum.StrEnum):
    """Why a run is degraded; in the order a tie between causes is settled (the first explains the others)."""

    BLOCKED = "blocked by anti-bot"
    SITE_DOWN = "site down"
    MASS_404 = "mass 404"
    LAYOUT = "layout changed"


@dataclass(frozen=True)
class CanaryCheck:
    """The canary page's known price/stock (from the config) and what this run read from it."""

    url: str
    expected_price: Decimal | None
    expected_stock: str | None
    seen: bool = False
    price: Decimal | None = None
    stock: str | None = None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    health: Health
    reason: str
    cause: Cause | None = None  # of a degraded run: the heaviest of its problems


@dataclass(frozen=True)
class _Problem:
    cause: Cause
    weight: int  # how many pages it concerns: the heaviest cause names the verdict
    text: str


@dataclass(frozen=True)
class PageCounts:
    """What one run's stats say of its responses and product pages (`spiders/base.py` counts most of it)."""

    responses: int = 0
    errors: int = 0  # failed requests of any kind
    blocked_responses: int = 0
    pages: int = 0  # product pages asked for
    offers: int = 0
    blocked: int = 0
    failed: int = 0
    not_found: int = 0
    missing: int = 0
    conflict: int = 0
    suspect: int = 0
    dropped: int = 0

    @classmethod
    def of(cls, stats: Mapping[str, object]) -> PageCounts:
        def count(key: str) -> int:
            value = stats.get(key, 0)
            return int(value) if isinstance(value, int | float) else 0

        return cls(
            responses=count(STAT_RESPONSES),
            errors=count(STAT_ERRORS),
            blocked_responses=count(STAT_BLOCKED),
            pages=count(STAT_PRODUCT_PAGES),
            offers=count(STAT_OFFERS),
            blocked=count(STAT_PAGES_BLOCKED),
            failed=count(STAT_PAGES_FAILED),
            not_found=count(STAT_PAGES_NOT_FOUND),
            missing=count(STAT_PRICE_MISSING),
            conflict=count(STAT_PRICE_CONFLICT),
            suspect=count(STAT_PRICE_SUSPECT),
            dropped=count(STAT_DROPPED),
        )

    @property
    def readings(self) -> int:
        """Product pages, or offers where a page holds several (a marketplace's sellers) plus pages that gave none."""
        return max(self.pages, self.offers + self.failed)


def _page_problems(c: PageCounts, thresholds: CrawlHealthRule) -> list[_Problem]:
    """Each kind of unreadable product page, when together they pass `max_problem_share` of the readings."""
    n = c.readings
    kinds = (
        (Cause.BLOCKED, c.blocked, f"{c.blocked} of {n} product pages blocked (anti-bot page, captcha or 403)"),
        (Cause.SITE_DOWN, c.failed, f"{c.failed} of {n} product pages failed after retries (no answer or an error)"),
        (Cause.LAYOUT, c.missing, f"no price on {c.missing} of {n} product pages (the price selector probably broke)"),
        (Cause.LAYOUT, c.conflict, f"conflicting prices on {c.conflict} of {n} product pages"),
        (Cause.LAYOUT, c.suspect, f"a suspect price (far from the RRP) on {c.suspect} of {n} product pages"),
        (Cause.LAYOUT, c.dropped, f"{c.dropped} offers dropped (no URL or seller)"),
    )
    total = sum(count for _, count, _ in kinds)
    if not n or total / n <= thresholds.max_problem_share:
        return []
    return [_Problem(cause, count, text) for cause, count, text in kinds if count]


def _mass_404(c: PageCounts, known_listings: int, thresholds: CrawlHealthRule) -> list[_Problem]:
    """Too many known listings gone at once is a site's fault, not delistings."""
    known = max(known_listings, c.pages)
    if not c.not_found or c.not_found / known <= thresholds.max_not_found_share:
        return []
    text = f"{c.not_found} of {known} known listings answered 404 (over {thresholds.max_not_found_share:.0%})"
    return [_Problem(Cause.MASS_404, c.not_found, text)]


def _canary_problems(canary: CanaryCheck | None, c: PageCounts) -> list[_Problem]:
    if canary is None:
        return []
    page = f"the canary page {canary.url}"
    if not canary.seen:
        # Most often its request failed with the others; else the spider found nothing on it.
        return [_Problem(Cause.SITE_DOWN if c.failed else Cause.LAYOUT, 1, f"{page} gave no offer")]
    if FLAG_BLOCKED in canary.flags:
        return [_Problem(Cause.BLOCKED, 1, f"{page} was blocked")]
    if FLAG_NOT_FOUND in canary.flags:
        return [_Problem(Cause.LAYOUT, 1, f"{page} answered 404 (is its URL in the config still right?)")]
    problems = []
    if canary.expected_price is not None and canary.price != canary.expected_price:
        shown = "no price" if canary.price is None else f"price {canary.price}"
        problems.append(_Problem(Cause.LAYOUT, 1, f"{page} shows {shown} instead of the known {canary.expected_price}"))
    if canary.expected_stock is not None and canary.stock != canary.expected_stock:
        text = f"{page} shows stock {canary.stock} instead of the known {canary.expected_stock}"
        problems.append(_Problem(Cause.LAYOUT, 1, text))
    return problems


def _missing_offers(c: PageCounts, last_good: int | None, thresholds: CrawlHealthRule) -> list[_Problem]:
    """Product pages that were never found: none at all, or far fewer offers than the last good run's."""
    if c.pages == 0 and c.offers == 0:
        if c.errors and c.errors >= c.responses:
            return [_Problem(Cause.SITE_DOWN, 1, f"no product pages: {c.errors} requests failed")]
        return [_Problem(Cause.LAYOUT, 1, "no product pages were found")]
    if last_good and c.offers < thresholds.min_offer_share * last_good:
        text = f"{c.offers} offers against {last_good} in the last good run (below {thresholds.min_offer_share:.0%})"
        return [_Problem(Cause.LAYOUT, last_good - c.offers, text)]
    return []


def _degraded(problems: list[_Problem]) -> Verdict:
    """The problems grouped by cause, the heaviest cause first: «cause: problem, problem; cause: problem»."""
    weights: Counter[Cause] = Counter()
    for problem in problems:
        weights[problem.cause] += problem.weight
    order = sorted(weights, key=lambda cause: (-weights[cause], list(Cause).index(cause)))
    parts = [f"{cause}: {', '.join(p.text for p in problems if p.cause == cause)}" for cause in order]
    return Verdict(Health.DEGRADED, "; ".join(parts), order[0])


def judge(
    stats: Mapping[str, object],
    last_good: int | None,
    canary: CanaryCheck | None,
    thresholds: CrawlHealthRule,
    *,
    known_listings: int = 0,
) -> Verdict:
    """Judge one run from its stats, the offers of the distributor's last `ok` run, its canary, and how many
    listings of the distributor were known before it.

    failed: the site could not be reached at all. degraded: every response blocked (then that alone is said); more
    than `max_problem_share` of the product pages unreadable; more than `max_not_found_share` of the known listings
    answering 404; the canary's known price/stock not read back; and, when nothing else explains it, no product
    pages at all or fewer offers than `min_offer_share` of the last good run's.
    """
    c = PageCounts.of(stats)
    if c.responses == 0:
        return Verdict(Health.FAILED, f"the site could not be reached: no response, {c.errors} requests failed")
    if c.blocked_responses and c.blocked_responses >= c.responses:
        # The few offers, the missing prices and the unread canary all follow from the block: no layout changed.
        reason = f"{Cause.BLOCKED}: all {c.responses} responses were blocked (anti-bot page, captcha or 403)"
        return Verdict(Health.DEGRADED, reason, Cause.BLOCKED)
    problems = [*_page_problems(c, thresholds), *_mass_404(c, known_listings, thresholds), *_canary_problems(canary, c)]
    problems = problems or _missing_offers(c, last_good, thresholds)
    if problems:
        return _degraded(problems)
    return Verdict(Health.OK, f"{c.offers} offers from {c.pages} product pages, {c.errors} failed requests")
