"""The panel's catalog side: products within a user's scope, and one product's offers over time at every seller."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import ScalarSelect, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from crawler.items import StockState
from storage.models import Alert, AlertStatus, CrawlRun, Distributor, Listing, Observation, Product, Seller
from storage.queries.observations import counted_run
from storage.queries.web_scope import Scope, category_clause, distributor_clause
from storage.queries.web_text import contains

K = TypeVar("K", int, str)


@dataclass(frozen=True)
class ProductLine:
    id: int
    vendor_code: str
    name: str
    category: str | None
    open_violations: int  # at the distributors in scope


@dataclass(frozen=True)
class SkuPoint:
    """One counted observation of one of the product's listings."""

    listing_id: int
    distributor_code: str
    distributor_name: str
    region: str | None
    seller_name: str
    seller_authorized: bool
    url: str
    observed_at: dt.datetime
    price: Decimal | None
    currency: str | None
    stock: StockState
    quantity: int | None


def _open_violations(scope: Scope) -> ScalarSelect[int]:
    """Open alerts on the product (correlated) at the distributors in scope."""
    return (
        select(func.count(Alert.id))
        .join(Listing, Listing.id == Alert.listing_id)
        .join(Seller, Seller.id == Listing.seller_id)
        .join(Distributor, Distributor.id == Seller.distributor_id)
        .where(
            Listing.product_id == Product.id,
            Alert.status == AlertStatus.OPEN,
            distributor_clause(scope, Distributor.code),
        )
        .correlate(Product)
        .scalar_subquery()
    )


def products_page(
    session: Session, scope: Scope, search: str | None, *, page: int = 1, size: int = 50
) -> tuple[list[ProductLine], int]:
    """Products of the categories in scope (by vendor code), those with open violations first."""
    where = [category_clause(scope, Product.category)]
    if search:
        where.append(or_(contains(session, Product.vendor_code, search), contains(session, Product.name, search)))
    total = session.scalar(select(func.count(Product.id)).where(*where)) or 0
    open_count = _open_violations(scope).label("open")
    query = (
        select(Product.id, Product.vendor_code, Product.name, Product.category, open_count)
        .where(*where)
        .order_by(open_count.desc(), Product.vendor_code)
        .offset((max(page, 1) - 1) * size)
        .limit(size)
    )
    return [ProductLine(*row) for row in session.execute(query)], int(total)


def product(session: Session, scope: Scope, product_id: int) -> ProductLine | None:
    """The product when its category is in scope."""
    open_count = _open_violations(scope).label("open")
    query = select(Product.id, Product.vendor_code, Product.name, Product.category, open_count).where(
        Product.id == product_id, category_clause(scope, Product.category)
    )
    row = session.execute(query).first()
    return ProductLine(*row) if row else None


def last_observed(session: Session, product_id: int) -> dt.datetime | None:
    """When the product was last seen anywhere (the end of its page's time window)."""
    query = (
        select(func.max(Observation.observed_at))
        .join(Listing, Listing.id == Observation.listing_id)
        .where(Listing.product_id == product_id)
    )
    return session.scalar(query)


def sku_observations(session: Session, scope: Scope, product_id: int, since: dt.datetime) -> list[SkuPoint]:
    """Every counted observation since `since` of the product's listings at the distributors in scope, by listing
    and time."""
    query = (
        select(
            Listing.id,
            Distributor.code,
            Distributor.name,
            Distributor.region,
            Seller.name,
            Seller.authorized,
            Listing.url,
            Observation.observed_at,
            Observation.price,
            Observation.currency,
            Observation.stock,
            Observation.quantity,
        )
        .select_from(Observation)
        .join(CrawlRun, CrawlRun.id == Observation.crawl_run_id)
        .join(Listing, Listing.id == Observation.listing_id)
        .join(Seller, Seller.id == Listing.seller_id)
        .join(Distributor, Distributor.id == Seller.distributor_id)
        .where(
            Listing.product_id == product_id,
            Observation.observed_at >= since,
            counted_run(CrawlRun),
            distributor_clause(scope, Distributor.code),
        )
        .order_by(Distributor.name, Seller.name, Listing.id, Observation.observed_at)
    )
    return [SkuPoint(*row) for row in session.execute(query)]


def _categories(session: Session, key: InstrumentedAttribute[K], keys: Collection[K]) -> dict[K, str | None]:
    """The category of each product whose `key` column is among `keys`, 500 keys a query."""
    wanted = sorted(set(keys))
    out: dict[K, str | None] = {}
    for start in range(0, len(wanted), 500):
        query = select(key, Product.category).where(key.in_(wanted[start : start + 500]))
        out.update(dict(session.execute(query).tuples().all()))
    return out


def categories_of(session: Session, product_ids: Collection[int]) -> dict[int, str | None]:
    return _categories(session, Product.id, product_ids)


def page_in_scope(session: Session, scope: Scope, distributor_code: str, url: str) -> bool:
    """Whether the scope sees some listing of this offer page (a decision on it is then the user's to take)."""
    query = (
        select(Listing.id)
        .join(Seller, Seller.id == Listing.seller_id)
        .join(Distributor, Distributor.id == Seller.distributor_id)
        .outerjoin(Product, Product.id == Listing.product_id)
        .where(
            Distributor.code == distributor_code,
            Listing.url == url,
            distributor_clause(scope, Distributor.code),
            category_clause(scope, Product.category),
        )
        .limit(1)
    )
    return session.scalar(query) is not None


def categories_by_code(session: Session, vendor_codes: Collection[str]) -> dict[str, str | None]:
    return _categories(session, Product.vendor_code, vendor_codes)


def product_by_code(session: Session, vendor_code: str) -> ProductLine | None:
    """The catalog product with this vendor code (letter case ignored), whatever the scope."""
    query = select(Product.id, Product.vendor_code, Product.name, Product.category).where(
        func.lower(Product.vendor_code) == vendor_code.strip().lower()
    )
    row = session.execute(query.limit(1)).tuples().first()
    if row is None:
        return None
    product_id, code, name, category = row
    return ProductLine(product_id, code, name, category, open_violations=0)
