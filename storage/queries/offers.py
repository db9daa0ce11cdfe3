"""The latest offer per listing (finished crawl runs only) with its match, the RRP in force and the deviation."""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
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
    RunStatus,
    Seller,
)

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
    price: Decimal | None
    currency: str | None
    rrp: Decimal | None
    deviation_pct: Decimal | None
    stock: StockState
    quantity: int | None
    observed_at: dt.datetime
    crawl_health: Health | None
    product_id: int | None


class RrpHistory:
    """Each product's RRP by price-list version: the one in force on a date is the newest valid from it."""

    def __init__(self, session: Session, product_ids: Iterable[int]) -> None:
        ids = sorted(set(product_ids))
        versions: dict[int, list[tuple[dt.date, int, Decimal]]] = {}
        for start in range(0, len(ids), 5000):  # stay under bind-parameter limits
            rows = session.execute(
                select(Price.product_id, PriceList.valid_from, PriceList.id, Price.rrp)
                .join(PriceList, PriceList.id == Price.price_list_id)
                .where(Price.product_id.in_(ids[start : start + 5000]))
            )
            for product_id, valid_from, list_id, rrp in rows.tuples():
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
    """Every listing's newest observation from a finished run; RRP is the one in force on the observation's
    date in `tz` (the business's day)."""
    ranked = (
        select(
            Observation.id,
            func.row_number()
            .over(partition_by=Observation.listing_id, order_by=(Observation.observed_at.desc(), Observation.id.desc()))
            .label("rank"),
        )
        .join(CrawlRun, CrawlRun.id == Observation.crawl_run_id)
        .where(CrawlRun.status == RunStatus.FINISHED)
        .subquery()
    )
    query = (
        select(
            Listing.id,
            Distributor.code,
            Distributor.name,
            Seller.name,
            Seller.authorized,
            Listing.url,
            Listing.title,
            Product.vendor_code,
            Product.name,
            Listing.match_method,
            Listing.match_confidence,
            Observation.price,
            Observation.currency,
            Observation.stock,
            Observation.quantity,
            Observation.observed_at,
            CrawlRun.health,
            Listing.product_id,
        )
        .select_from(ranked)
        .join(Observation, Observation.id == ranked.c.id)
        .join(CrawlRun, CrawlRun.id == Observation.crawl_run_id)
        .join(Listing, Listing.id == Observation.listing_id)
        .join(Seller, Seller.id == Listing.seller_id)
        .join(Distributor, Distributor.id == Seller.distributor_id)
        .outerjoin(Product, Product.id == Listing.product_id)
        .where(ranked.c.rank == 1)
        .order_by(Distributor.code, Seller.name, Listing.url)
    )
    codes = list(distributors)
    if codes:
        query = query.where(Distributor.code.in_(codes))
    rows = session.execute(query).all()
    rrps = RrpHistory(session, (r.product_id for r in rows if r.product_id is not None))
    out = []
    for r in rows:
        (lid, dcode, dname, sname, sauth, url, title, vcode, pname, method, conf) = r[:11]
        price, currency, stock, quantity, observed_at, health, product_id = r[11:]
        rrp = rrps.on(product_id, observed_at.astimezone(tz).date()) if product_id is not None else None
        out.append(
            LatestOffer(
                lid,
                dcode,
                dname,
                sname,
                sauth,
                url,
                title,
                vcode,
                pname,
                method,
                conf,
                price,
                currency,
                rrp,
                deviation_pct(price, currency, rrp),
                stock,
                quantity,
                observed_at,
                health,
                product_id,
            )
        )
    return out
