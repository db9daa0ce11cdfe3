"""The latest offer per listing (from counted crawl runs only) with its match, the RRP in force and the deviation."""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from crawler.items import Health, StockState
from storage.models import (
    CrawlRun,
    Distributor,
    Listing,
    MatchMethod,
    Observation,
    Price,
    PriceList,
    Product,
    Seller,
)
from storage.queries.observations import latest_observations

# Price lists carry no currency: RRP is in roubles, so a deviation is computed for rouble prices only.
RRP_CURRENCY = "RUB"
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class LatestOffer:
    listing_id: int
    distributor_code: str
    distributor_name: str
    seller_name: str
    seller_authorized: bool
    url: str
    title: str | None
    vendor_code: str | None
    product_name: str | None
    match_method: MatchMethod
    match_confidence: float
    match_reason: dict[str, Any] | None  # why it matched or was refused (pipelines.match_reason)
    price: Decimal | None
    price_suspect: bool  # far below or above the RRP in force when it was read: a misread or a wrong match
    currency: str | None
    rrp: Decimal | None
    deviation_pct: Decimal | None
    stock: StockState
    quantity: int | None
    observed_at: dt.datetime
    crawl_health: Health | None
    product_id: int | None


class RrpHistory:
    """Each product's RRP by price-list version: the one in force on a date is the newest valid from it.

    Of the products `product_ids`, or of every product (None).
    """

    def __init__(self, session: Session, product_ids: Iterable[int] | None = None) -> None:
        query = select(Price.product_id, PriceList.valid_from, PriceList.id, Price.rrp).join(
            PriceList, PriceList.id == Price.price_list_id
        )
        if product_ids is None:
            queries = [query]
        else:
            ids = sorted(set(product_ids))  # in chunks, to stay under bind-parameter limits
            queries = [
                query.where(Price.product_id.in_(ids[start : start + 5000])) for start in range(0, len(ids), 5000)
            ]
        versions: dict[int, list[tuple[dt.date, int, Decimal]]] = {}
        for chunk in queries:
            for product_id, valid_from, list_id, rrp in session.execute(chunk).tuples():
                versions.setdefault(product_id, []).append((valid_from, list_id, rrp))
        # Per product: the valid-from dates ascending (a later import wins a tie) and the RRP of each.
        self._history: dict[int, tuple[list[dt.date], list[Decimal]]] = {}
        for product_id, items in versions.items():
            items.sort(key=lambda v: (v[0], v[1]))
            self._history[product_id] = ([v[0] for v in items], [v[2] for v in items])

    def on(self, product_id: int, day: dt.date) -> Decimal | None:
        dates, rrps = self._history.get(product_id, ([], []))
        i = bisect.bisect_right(dates, day)
        return rrps[i - 1] if i else None


def deviation_pct(price: Decimal | None, currency: str | None, rrp: Decimal | None) -> Decimal | None:
    """(price − RRP) / RRP in %, 2 places; None without both, or for a price not in roubles."""
    if price is None or rrp is None or rrp <= 0 or (currency or RRP_CURRENCY) != RRP_CURRENCY:
        return None
    return ((price - rrp) * 100 / rrp).quantize(_CENT, rounding=ROUND_HALF_UP)


def latest_offers(session: Session, tz: ZoneInfo, distributors: Iterable[str] = ()) -> list[LatestOffer]:
    """Every listing's latest offer (`latest_observations`: the newest observation from a counted run); RRP is the
    one in force on the observation's date in `tz` (the business's day).

    The `v_latest_offers` view shows the RRP in force today instead: a view cannot know the config's time zone.
    """
    rows = session.execute(_latest_offers_query(list(distributors))).all()
    rrps = RrpHistory(session, (r.product_id for r in rows if r.product_id is not None))
    return [_latest_offer(row, rrps, tz) for row in rows]


def _latest_offers_query(distributor_codes: list[str]) -> Select[Any]:
    """The latest offers' columns, named as `LatestOffer`'s fields, of these distributors (all when empty)."""
    latest = latest_observations()
    query = (
        select(
            Listing.id.label("listing_id"),
            Distributor.code.label("distributor_code"),
            Distributor.name.label("distributor_name"),
            Seller.name.label("seller_name"),
            Seller.authorized.label("seller_authorized"),
            Listing.url.label("url"),
            Listing.title.label("title"),
            Product.vendor_code.label("vendor_code"),
            Product.name.label("product_name"),
            Listing.match_method.label("match_method"),
            Listing.match_confidence.label("match_confidence"),
            Listing.match_reason.label("match_reason"),
            Observation.price.label("price"),
            Observation.price_suspect.label("price_suspect"),
            Observation.currency.label("currency"),
            Observation.stock.label("stock"),
            Observation.quantity.label("quantity"),
            Observation.observed_at.label("observed_at"),
            CrawlRun.health.label("crawl_health"),
            Listing.product_id.label("product_id"),
        )
        .select_from(latest)
        .join(Observation, Observation.id == latest.c.id)
        .join(CrawlRun, CrawlRun.id == Observation.crawl_run_id)
        .join(Listing, Listing.id == latest.c.listing_id)
        .join(Seller, Seller.id == Listing.seller_id)
        .join(Distributor, Distributor.id == Seller.distributor_id)
        .outerjoin(Product, Product.id == Listing.product_id)
        .order_by(Distributor.code, Seller.name, Listing.url)
    )
    if distributor_codes:
        query = query.where(Distributor.code.in_(distributor_codes))
    return query


def _latest_offer(row: Row[Any], rrps: RrpHistory, tz: ZoneInfo) -> LatestOffer:
    """One row of `_latest_offers_query` with the RRP of its day and the deviation from it."""
    values = row._asdict()
    product_id, observed_at = values["product_id"], values["observed_at"]
    rrp = rrps.on(product_id, observed_at.astimezone(tz).date()) if product_id is not None else None
    return LatestOffer(**values, rrp=rrp, deviation_pct=deviation_pct(values["price"], values["currency"], rrp))
