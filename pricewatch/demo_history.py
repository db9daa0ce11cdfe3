"""The demo's month before day 1, written straight to storage instead of crawled (30 crawls of three sites would take
minutes): each day of `fixtures.pilot.history` becomes one finished, healthy crawl run per pilot site at that day's
time (the clock shifted), followed by a rules run whose events queue no message and the enforcement step."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from crawler import clock
from crawler.config import Config
from crawler.items import Health
from fixtures.pilot.history import history_offers
from fixtures.pilot.scenario import SITES, Offer
from pricewatch.alerting import run_rules_and_queue
from storage.codes import normalize_gtin, normalize_vendor_code
from storage.engine import session_scope
from storage.models import MatchMethod, RunStatus
from storage.queries.catalog import products_by_code
from storage.queries.crawl_runs import finish_run, start_run, this_host
from storage.queries.listings import (
    ListingSeen,
    SellerSeen,
    add_sellers,
    distributor_id,
    seller_ids,
    touch_listings,
    upsert_listings,
)
from storage.queries.observations import ObservationRow, insert_observations
from storage.queries.sellers import sync_distributors

HISTORY_REASON = "demo history: written to storage from the pilot's ground truth, not crawled"


class _SiteDay:
    """One pilot site's offers on one history day, as rows for storage."""

    def __init__(self, session: Session, config: Config, site: str, base_url: str) -> None:
        self.session, self.site, self.base_url = session, site, base_url
        self.distributor = config.distributor(site)
        found = distributor_id(session, site)
        assert found is not None, "sync_distributors writes every configured distributor"
        self.distributor_id = found
        self.authorized = {s.seller_id for s in config.sellers if s.marketplace == site}

    def sellers(self, shown: Sequence[Offer]) -> dict[str, int]:
        known = seller_ids(self.session, self.distributor_id)
        new = [
            SellerSeen(o.seller_id, o.seller_name, self._authorized(o.seller_id))
            for o in shown
            if o.seller_id not in known
        ]
        return known | add_sellers(self.session, self.distributor_id, new)

    def _authorized(self, seller: str) -> bool:
        return self.distributor.authorized if seller == self.site else seller in self.authorized

    def write(self, run_key: str, shown: Sequence[Offer], products: dict[str, int]) -> None:
        """One finished, healthy run of `shown` at the clock's time."""
        run = start_run(self.session, run_key, self.distributor_id, pid=os.getpid(), host=this_host())
        now = clock.utcnow()
        sellers = self.sellers(shown)
        seen = [self._listing(o, sellers[o.seller_id], products, now) for o in shown]
        ids = upsert_listings(self.session, seen)
        rows = [_observation(ids[(s.seller_id, s.url)], o, now) for s, o in zip(seen, shown, strict=True)]
        insert_observations(self.session, run.id, rows)
        touch_listings(self.session, run.id)
        finish_run(
            self.session,
            run.id,
            status=RunStatus.FINISHED,
            health=Health.OK,
            reason=HISTORY_REASON,
            pages=len({o.path for o in shown}),
            offers=len(shown),
            errors=0,
            stats={},
        )

    def _listing(self, offer: Offer, seller_id: int, products: dict[str, int], now: dt.datetime) -> ListingSeen:
        product_id = products.get(normalize_vendor_code(offer.catalog_code)) if offer.catalog_code else None
        return ListingSeen(
            seller_id=seller_id,
            url=offer.url(self.base_url),
            seller_sku=None,
            title=offer.title,
            raw_vendor_code=offer.vendor_code,
            raw_gtin=normalize_gtin(offer.gtin) if offer.gtin else None,
            product_id=product_id,
            match_method=MatchMethod.VENDOR_CODE if product_id is not None else MatchMethod.NONE,
            match_confidence=1.0 if product_id is not None else 0.0,
            seen_at=now,
        )


def _observation(listing_id: int, offer: Offer, now: dt.datetime) -> ObservationRow:
    details = {
        "title": offer.title,
        "stock_raw": offer.stock_text,
        "seller_name": offer.seller_name,
        "markers": list(offer.markers),
        "canary": offer.canary,
    }
    return ObservationRow(
        listing_id=listing_id,
        observed_at=now,
        price=offer.price,
        currency=offer.currency if offer.price is not None else None,
        old_price=offer.old_price,
        stock=offer.stock,
        quantity=offer.quantity,
        http_status=offer.http_status,
        flags=list(offer.flags),
        details={k: v for k, v in details.items() if v},
    )


def write_history_day(engine: Engine, config: Config, urls: dict[str, str], days_before: int) -> None:
    """The pilot sites `days_before` days before day 1, at the clock's time, then the rules and enforcement."""
    day = clock.utcnow().astimezone(config.tz).date().isoformat()
    with session_scope(engine) as session:
        sync_distributors(session, config)
        products = {code: row.id for code, row in products_by_code(session).items()}
        for site in SITES:
            _SiteDay(session, config, site, urls[site]).write(
                f"demo-history-{site}-{day}", history_offers(site, days_before), products
            )
    with session_scope(engine) as session:
        # The month's alerts are the reports' history; their messages would be a month old: none is queued.
        run_rules_and_queue(session, config, enqueue=lambda *_: 0)
    _enforcement_step(engine, config)


def _enforcement_step(engine: Engine, config: Config) -> None:
    from enforcement.run import daily_step

    with session_scope(engine) as session:
        daily_step(session, config, now=clock.utcnow())


def write_history(
    engine: Engine,
    config: Config,
    urls: dict[str, str],
    days: int,
    at_day: Callable[[int], AbstractContextManager[None]],
) -> None:
    """Every history day, oldest first; `at_day(days_before)` is a context manager that moves the clock there."""
    for days_before in range(days, 0, -1):
        with at_day(days_before):
            write_history_day(engine, config, urls, days_before)
