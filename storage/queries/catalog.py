"""The catalog's SQL: price-list versions, bulk product/GTIN/price writes, and current prices per product."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from storage.models import Price, PriceList, Product, ProductGtin


@dataclass(frozen=True)
class ProductRow:
    id: int
    vendor_code: str
    name: str
    category: str | None
    brand: str | None


@dataclass(frozen=True)
class CatalogEntry:
    """A product with the prices of the newest price-list version in force on a date (None when none is)."""

    product_id: int
    vendor_code: str
    name: str
    category: str | None
    brand: str | None
    gtins: tuple[str, ...]
    rrp: Decimal | None
    map_price: Decimal | None
    dealer_price: Decimal | None
    price_list_id: int | None
    valid_from: dt.date | None


def price_list_by_sha(session: Session, sha256: str) -> PriceList | None:
    return session.scalars(select(PriceList).where(PriceList.source_sha256 == sha256)).first()


def price_list_version(session: Session, price_list_id: int) -> int:
    """The version number of a price list: 1 for the first ever imported, 2 for the next, …"""
    return session.scalar(select(func.count()).select_from(PriceList).where(PriceList.id <= price_list_id)) or 0


def products_by_code(session: Session) -> dict[str, ProductRow]:
    """Every product keyed by its normalized vendor code."""
    rows = session.execute(
        select(
            Product.id, Product.vendor_code_norm, Product.vendor_code, Product.name, Product.category, Product.brand
        ).order_by(Product.id)
    )
    out: dict[str, ProductRow] = {}
    for r in rows:
        out.setdefault(r.vendor_code_norm, ProductRow(r.id, r.vendor_code, r.name, r.category, r.brand))
    return out


def gtin_owners(session: Session) -> dict[str, int]:
    """GTIN-14 → product id."""
    return {gtin: product_id for gtin, product_id in session.execute(select(ProductGtin.gtin, ProductGtin.product_id))}


def add_price_list(
    session: Session, *, name: str, valid_from: dt.date, source_file: str, sha256: str, row_count: int
) -> PriceList:
    price_list = PriceList(
        name=name, valid_from=valid_from, source_file=source_file, source_sha256=sha256, row_count=row_count
    )
    session.add(price_list)
    session.flush()
    return price_list


def insert_products(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert products in bulk; their ids in the order given."""
    if not rows:
        return []
    result = session.scalars(insert(Product).returning(Product.id, sort_by_parameter_order=True), list(rows))
    return list(result)


def update_products(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Bulk update by primary key; each row holds `id` and the columns to change."""
    if rows:
        session.execute(update(Product), list(rows))


def insert_gtins(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(ProductGtin), list(rows))


def insert_prices(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(Price), list(rows))


def current_prices(session: Session, on: dt.date) -> list[CatalogEntry]:
    """Every product with its prices from the newest version (by valid-from, then import order) in force on `on`."""
    ranked = (
        select(
            Price.product_id,
            Price.rrp,
            Price.map_price,
            Price.dealer_price,
            PriceList.id.label("price_list_id"),
            PriceList.valid_from,
            func.row_number()
            .over(partition_by=Price.product_id, order_by=(PriceList.valid_from.desc(), PriceList.id.desc()))
            .label("rank"),
        )
        .join(PriceList, PriceList.id == Price.price_list_id)
        .where(PriceList.valid_from <= on)
        .subquery()
    )
    gtins: dict[int, list[str]] = {}
    for gtin, product_id in session.execute(
        select(ProductGtin.gtin, ProductGtin.product_id).order_by(ProductGtin.gtin)
    ):
        gtins.setdefault(product_id, []).append(gtin)
    rows = session.execute(
        select(
            Product,
            ranked.c.rrp,
            ranked.c.map_price,
            ranked.c.dealer_price,
            ranked.c.price_list_id,
            ranked.c.valid_from,
        )
        .outerjoin(ranked, (ranked.c.product_id == Product.id) & (ranked.c.rank == 1))
        .order_by(Product.vendor_code)
    )
    return [
        CatalogEntry(
            product_id=p.id,
            vendor_code=p.vendor_code,
            name=p.name,
            category=p.category,
            brand=p.brand,
            gtins=tuple(gtins.get(p.id, ())),
            rrp=rrp,
            map_price=map_price,
            dealer_price=dealer_price,
            price_list_id=price_list_id,
            valid_from=valid_from,
        )
        for p, rrp, map_price, dealer_price, price_list_id, valid_from in rows
    ]
