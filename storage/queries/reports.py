"""Queries behind the violation reports: violation alerts in a period, their listings' history, RRP, stock, plans,
and the legal entities behind marketplace storefronts.

Only observations of finished crawl runs count (see `storage.queries.observations`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple, cast

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, aliased

from crawler.errors import UserError
from crawler.items import StockState
from storage.models import (
    Alert,
    CrawlRun,
    Distributor,
    LegalEntity,
    Listing,
    Observation,
    Price,
    PriceList,
    Product,
    RunStatus,
    SalesPlan,
    Seller,
    SellerKind,
)

VIOLATION_RULES = ("dumping", "parallel_import")
# What the offenders-by-legal-entity section counts besides the violations: a low price the platform made, and an
# authorised entity's storefront missing from the authorised list.
ENTITY_FINDINGS = ("platform_discount", "unlisted_storefront")
_CHUNK = 500  # ids per IN (...) list: well under SQLite's bound-parameter limit


def _chunks(ids: Collection[int]) -> Iterator[list[int]]:
    items = sorted(set(ids))
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


@dataclass(frozen=True, slots=True)
class DistributorRow:
    id: int
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class ViolationAlertRow:
    """A violation alert with what it is about: listing, seller, distributor, product and evidence references."""

    alert_id: int
    rule: str
    severity: str
    status: str
    fingerprint: str
    opened_at: dt.datetime
    last_seen_at: dt.datetime
    resolved_at: dt.datetime | None
    details: dict[str, Any]
    distributor_id: int
    listing_id: int
    url: str
    seller_name: str
    seller_authorized: bool
    product_id: int | None
    vendor_code: str | None
    product_name: str | None
    category: str | None
    evidence_html_id: int | None
    evidence_screenshot_id: int | None
    earlier_alerts: int  # alerts with the same fingerprint opened before this one: repeat offences
    seller_code: str
    marketplace: bool  # the seller is a storefront on a marketplace
    region: str | None  # the listing's region code
    legal_entity_id: int | None  # the seller's resolved legal entity
    tax_id: str | None  # its ИНН (else the seller's own, where one is recorded)
    legal_name: str | None  # the entity's (else the seller's own)
    supplier_id: int | None  # the distributor the legal entity buys from


class PricePointRow(NamedTuple):
    listing_id: int
    observed_at: dt.datetime
    price: Decimal | None  # shown
    stock: StockState
    seller_price: Decimal | None = None
    card_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class StorefrontRow:
    marketplace_code: str
    marketplace_name: str
    seller_code: str
    name: str
    authorized: bool


@dataclass(frozen=True, slots=True)
class LegalEntityRow:
    id: int
    tax_id: str
    ogrn: str | None
    legal_name: str | None
    authorized: bool
    supplier_code: str | None  # the distributor it buys from
    supplier_name: str | None
    storefronts: list[StorefrontRow]


# listing id, distributor id, product id, observed at, price, stock: plain tuples, there are hundreds of thousands
ObservationPoint = tuple[int, int, int, dt.datetime, Decimal | None, StockState]


@dataclass(frozen=True, slots=True)
class ProductRow:
    id: int
    vendor_code: str
    name: str


def distributors(session: Session, code: str | None = None) -> list[DistributorRow]:
    """All distributors by name, or the one with `code` (an empty list when there is none)."""
    query = select(Distributor.id, Distributor.code, Distributor.name).order_by(Distributor.name, Distributor.code)
    if code is not None:
        query = query.where(Distributor.code == code)
    return [DistributorRow(i, c, n) for i, c, n in session.execute(query)]


def require_distributor(session: Session, code: str, option: str = "--distributor") -> DistributorRow:
    """The distributor with `code`; an unknown code is a UserError naming the option and the known codes."""
    found = distributors(session, code)
    if not found:
        known = ", ".join(d.code for d in distributors(session)) or "none yet"
        raise UserError(f"{option}: no distributor {code!r} in the database (known: {known})")
    return found[0]


def violation_alerts(
    session: Session,
    distributor_ids: Collection[int],
    start: dt.datetime,
    end: dt.datetime,
    rules: Sequence[str] = VIOLATION_RULES,
    *,
    bought_from: bool = False,
) -> list[ViolationAlertRow]:
    """Alerts of `rules` on a listing that were open at some time in [start, end): at the distributors, or with
    `bought_from` on marketplace storefronts whose legal entity buys from one of them."""
    if not distributor_ids:
        return []
    earlier = aliased(Alert)
    earlier_count = (
        select(func.count(earlier.id))
        .where(earlier.fingerprint == Alert.fingerprint, earlier.opened_at < Alert.opened_at)
        .correlate(Alert)
        .scalar_subquery()
    )
    market = aliased(Distributor)
    distributor_id = func.coalesce(Alert.distributor_id, Seller.distributor_id)
    product_id = func.coalesce(Alert.product_id, Listing.product_id)
    scope = (
        (LegalEntity.distributor_id.in_(list(distributor_ids)), market.kind == SellerKind.MARKETPLACE)
        if bought_from
        else (distributor_id.in_(list(distributor_ids)),)
    )
    query = (
        select(
            Alert.id,
            Alert.rule,
            Alert.severity,
            Alert.status,
            Alert.fingerprint,
            Alert.opened_at,
            Alert.last_seen_at,
            Alert.resolved_at,
            Alert.details,
            distributor_id,
            Listing.id,
            Listing.url,
            Seller.name,
            Seller.authorized,
            product_id,
            Product.vendor_code,
            Product.name,
            Product.category,
            Alert.evidence_html_id,
            Alert.evidence_screenshot_id,
            earlier_count,
            Seller.code,
            market.kind,
            Listing.region,
            LegalEntity.id,
            func.coalesce(LegalEntity.tax_id, Seller.tax_id),
            func.coalesce(LegalEntity.legal_name, Seller.legal_name),
            LegalEntity.distributor_id,
        )
        .join(Listing, Listing.id == Alert.listing_id)
        .join(Seller, Seller.id == Listing.seller_id)
        .join(market, market.id == Seller.distributor_id)
        .outerjoin(LegalEntity, LegalEntity.id == Seller.legal_entity_id)
        .outerjoin(Product, Product.id == product_id)
        .where(Alert.rule.in_(rules), Alert.opened_at < end, Alert.last_seen_at >= start, *scope)
        .order_by(Alert.id)
    )
    return [
        ViolationAlertRow(
            alert_id=r[0],
            rule=r[1],
            severity=r[2],
            status=str(r[3]),
            fingerprint=r[4],
            opened_at=r[5],
            last_seen_at=r[6],
            resolved_at=r[7],
            details=r[8] or {},
            distributor_id=r[9],
            listing_id=r[10],
            url=r[11],
            seller_name=r[12],
            seller_authorized=r[13],
            product_id=r[14],
            vendor_code=r[15],
            product_name=r[16],
            category=r[17],
            evidence_html_id=r[18],
            evidence_screenshot_id=r[19],
            earlier_alerts=r[20] or 0,
            seller_code=r[21],
            marketplace=r[22] == SellerKind.MARKETPLACE,
            region=r[23],
            legal_entity_id=r[24],
            tax_id=r[25],
            legal_name=r[26],
            supplier_id=r[27],
        )
        for r in session.execute(query)
    ]


def legal_entities(session: Session, entity_ids: Collection[int]) -> dict[int, LegalEntityRow]:
    """The legal entities with the distributor each buys from and every storefront of theirs, by id."""
    supplier, market = aliased(Distributor), aliased(Distributor)
    out: dict[int, LegalEntityRow] = {}
    for chunk in _chunks(entity_ids):
        query = (
            select(
                LegalEntity.id,
                LegalEntity.tax_id,
                LegalEntity.ogrn,
                LegalEntity.legal_name,
                LegalEntity.authorized,
                supplier.code,
                supplier.name,
                market.code,
                market.name,
                Seller.code,
                Seller.name,
                Seller.authorized,
            )
            .outerjoin(supplier, supplier.id == LegalEntity.distributor_id)
            .outerjoin(Seller, Seller.legal_entity_id == LegalEntity.id)
            .outerjoin(market, market.id == Seller.distributor_id)
            .where(LegalEntity.id.in_(chunk))
            .order_by(LegalEntity.id, market.code, Seller.name, Seller.code)
        )
        for r in session.execute(query):
            entity = out.get(r[0])
            if entity is None:
                entity = out[r[0]] = LegalEntityRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], [])
            if r[9] is not None:
                entity.storefronts.append(StorefrontRow(r[7], r[8], r[9], r[10], r[11]))
    return out


def _finished_in(start: dt.datetime, end: dt.datetime) -> list[ColumnElement[bool]]:
    return [CrawlRun.status == RunStatus.FINISHED, Observation.observed_at >= start, Observation.observed_at < end]


def listing_history(
    session: Session, listing_ids: Collection[int], start: dt.datetime, end: dt.datetime
) -> dict[int, list[PricePointRow]]:
    """Each listing's observations in [start, end), oldest first, with the seller's and the card price (for
    listings matched to no product, outside the report's distributors, or judged on another price than the shown)."""
    out: dict[int, list[PricePointRow]] = defaultdict(list)
    for chunk in _chunks(listing_ids):
        query = (
            select(
                Observation.listing_id,
                Observation.observed_at,
                Observation.price,
                Observation.stock,
                Observation.seller_price,
                Observation.card_price,
            )
            .join(CrawlRun, CrawlRun.id == Observation.crawl_run_id)
            .where(Observation.listing_id.in_(chunk), *_finished_in(start, end))
            .order_by(Observation.listing_id, Observation.observed_at, Observation.id)
        )
        for row in session.execute(query).tuples():
            out[row[0]].append(PricePointRow(*row))
    return dict(out)


def period_observations(
    session: Session, distributor_ids: Collection[int], start: dt.datetime, end: dt.datetime
) -> Sequence[ObservationPoint]:
    """Every observation of a matched listing of the distributors in [start, end), in no particular order."""
    if not distributor_ids:
        return []
    query = (
        select(
            Observation.listing_id,
            Seller.distributor_id,
            Listing.product_id,
            Observation.observed_at,
            Observation.price,
            Observation.stock,
        )
        .select_from(Observation)
        .join(CrawlRun, CrawlRun.id == Observation.crawl_run_id)
        .join(Listing, Listing.id == Observation.listing_id)
        .join(Seller, Seller.id == Listing.seller_id)
        .where(
            Seller.distributor_id.in_(list(distributor_ids)),
            Listing.product_id.is_not(None),
            *_finished_in(start, end),
        )
    )
    # `product_id IS NOT NULL` is in the WHERE clause: the rows are ObservationPoints.
    return cast(Sequence[ObservationPoint], session.execute(query).tuples().all())


def first_available(
    session: Session, pairs: Collection[tuple[int, int]], before: dt.datetime
) -> dict[tuple[int, int], dt.datetime]:
    """When each (distributor id, product id) pair among `pairs` was first read in stock or low stock before
    `before` (pairs never read so are left out): a stock-out is a product running out after it was there."""
    wanted = set(pairs)
    found: dict[tuple[int, int], dt.datetime] = {}
    for chunk in _chunks({p for _, p in wanted}):
        query = (
            select(Seller.distributor_id, Listing.product_id, func.min(Observation.observed_at))
            .select_from(Observation)
            .join(CrawlRun, CrawlRun.id == Observation.crawl_run_id)
            .join(Listing, Listing.id == Observation.listing_id)
            .join(Seller, Seller.id == Listing.seller_id)
            .where(
                Listing.product_id.in_(chunk),
                Observation.stock.in_((StockState.IN_STOCK, StockState.LOW_STOCK)),
                Observation.observed_at < before,
                CrawlRun.status == RunStatus.FINISHED,
            )
            .group_by(Seller.distributor_id, Listing.product_id)
        )
        for distributor_id, product_id, first in session.execute(query):
            if (distributor_id, product_id) in wanted:
                found[(distributor_id, product_id)] = first
    return found


def rrp_history(session: Session, product_ids: Collection[int]) -> dict[int, list[tuple[dt.date, Decimal]]]:
    """Each product's RRP by price-list version: (valid_from, rrp), oldest first; later imports win a tie."""
    out: dict[int, list[tuple[dt.date, Decimal]]] = defaultdict(list)
    for chunk in _chunks(product_ids):
        query = (
            select(Price.product_id, PriceList.valid_from, Price.rrp)
            .join(PriceList, PriceList.id == Price.price_list_id)
            .where(Price.product_id.in_(chunk))
            .order_by(Price.product_id, PriceList.valid_from, PriceList.id)
        )
        for product_id, valid_from, rrp in session.execute(query):
            out[product_id].append((valid_from, rrp))
    return dict(out)


def monthly_plans(
    session: Session, distributor_ids: Collection[int], first_month: dt.date, last_month: dt.date
) -> dict[tuple[int, int, dt.date], int]:
    """Planned sales quantity per (distributor id, product id, first day of month) for months in the range."""
    if not distributor_ids:
        return {}
    query = select(SalesPlan.distributor_id, SalesPlan.product_id, SalesPlan.month, SalesPlan.quantity).where(
        SalesPlan.distributor_id.in_(list(distributor_ids)),
        SalesPlan.month >= first_month,
        SalesPlan.month <= last_month,
    )
    return {(d, p, m): q for d, p, m, q in session.execute(query)}


def catalog_brand(session: Session) -> str | None:
    """The brand most of the catalog's products carry (a report's cover names it); None without one."""
    count = func.count(Product.id)
    row = session.execute(
        select(Product.brand, count).where(Product.brand.is_not(None)).group_by(Product.brand).order_by(count.desc())
    ).first()
    return row[0] if row else None


def products(session: Session, product_ids: Collection[int]) -> dict[int, ProductRow]:
    out: dict[int, ProductRow] = {}
    for chunk in _chunks(product_ids):
        for i, code, name in session.execute(
            select(Product.id, Product.vendor_code, Product.name).where(Product.id.in_(chunk))
        ):
            out[i] = ProductRow(i, code, name)
    return out
