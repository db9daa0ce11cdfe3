"""Third pipeline (after matching): a matched offer priced far below or above the RRP in force is *suspect*.

A price under `rules.suspect_price.below_rrp_share` × RRP (a «1 ₽» placeholder, an instalment read as the price)
or over `above_rrp_times` × RRP (a price in kopecks, another product's page) is a misread or a wrong match, not an
offer price. The offer keeps it, flagged `price_suspect`: the store records the flag, the crawl-health verdict
counts it, the offers export and the match review show it, and no rule compares it with the RRP.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from scrapy.crawler import Crawler

from crawler.config import Config, SuspectPriceRule
from crawler.items import FLAG_PRICE_SUSPECT
from crawler.settings import job_config
from crawler.stats import STAT_PRICE_SUSPECT
from pipelines.match import MatchedOffer
from storage.engine import make_engine, session_scope
from storage.queries.offers import RRP_CURRENCY, RrpHistory


def is_suspect(price: Decimal, currency: str | None, rrp: Decimal | None, rule: SuspectPriceRule) -> bool:
    """A rouble price outside [RRP × below_rrp_share, RRP × above_rrp_times]; nothing to compare: not suspect."""
    if rrp is None or rrp <= 0 or (currency or RRP_CURRENCY) != RRP_CURRENCY:
        return False
    return price < rrp * rule.below_rrp_share or price > rrp * rule.above_rrp_times


def load_rrps(db_url: str) -> RrpHistory:
    """Every product's RRP versions as they are in the database now."""
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            return RrpHistory(session)
    finally:
        engine.dispose()


class PlausibilityPipeline:
    """Flags suspect prices against the RRP in force on the offer's day (in the config's time zone)."""

    def __init__(self, crawler: Crawler, config: Config, db_url: str) -> None:
        self.crawler = crawler
        self.rule = config.rules.suspect_price
        self.tz: ZoneInfo = config.tz
        self.db_url = db_url
        self.rrps: RrpHistory | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PlausibilityPipeline:
        settings = crawler.settings
        return cls(crawler, job_config(settings), settings.get("PRICEWATCH_DB_URL"))

    def open_spider(self) -> None:
        self.rrps = load_rrps(self.db_url)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, MatchedOffer) or self.rrps is None:
            return item
        offer, product_id = item.offer, item.match.product_id
        if offer.price is None or product_id is None or FLAG_PRICE_SUSPECT in offer.flags:
            return item
        # Normalized upstream: `fetched_at` is UTC ISO 8601.
        day = dt.datetime.fromisoformat(offer.fetched_at).astimezone(self.tz).date() if offer.fetched_at else None
        rrp = self.rrps.on(product_id, day or dt.datetime.now(self.tz).date())
        if not is_suspect(Decimal(offer.price), offer.currency, rrp, self.rule):
            return item
        if self.crawler.stats:
            self.crawler.stats.inc_value(STAT_PRICE_SUSPECT)
        return replace(item, offer=replace(offer, flags=[*offer.flags, FLAG_PRICE_SUSPECT]))
