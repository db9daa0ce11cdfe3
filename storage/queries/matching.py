"""Matching's storage side: the catalog to match against, a person's decisions, listings to review."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session

from storage.models import Distributor, Listing, MatchMethod, MatchOverride, Product, ProductGtin, Seller, utcnow


@dataclass(frozen=True)
class CatalogProduct:
    id: int
    vendor_code: str
    vendor_code_norm: str
    name: str
    brand: str | None
    gtins: tuple[str, ...]


@dataclass(frozen=True)
class Decision:
    """A person's decision on one offer page: this product, or `product_id None` = not ours."""

    distributor_code: str
    url: str
    product_id: int | None
    note: str | None = None


@dataclass(frozen=True)
class ReviewListing:
    listing_id: int
    distributor_code: str
    seller_name: str
    url: str
    title: str | None
    raw_vendor_code: str | None
    raw_gtin: str | None
    vendor_code: str | None  # of the product matched now, if any
    match_method: MatchMethod
    match_confidence: float


def load_catalog(session: Session) -> list[CatalogProduct]:
    gtins: dict[int, list[str]] = {}
    for gtin, product_id in session.execute(select(ProductGtin.gtin, ProductGtin.product_id)):
        gtins.setdefault(product_id, []).append(gtin)
    rows = session.execute(
        select(Product.id, Product.vendor_code, Product.vendor_code_norm, Product.name, Product.brand).order_by(
            Product.id
        )
    )
    return [
        CatalogProduct(r.id, r.vendor_code, r.vendor_code_norm, r.name, r.brand, tuple(gtins.get(r.id, ())))
        for r in rows
    ]


def load_overrides(session: Session) -> dict[tuple[str, str], int | None]:
    """(distributor code, URL) → product id, or None for 'not ours'."""
    rows = session.execute(select(MatchOverride.distributor_code, MatchOverride.url, MatchOverride.product_id))
    return {(r.distributor_code, r.url): r.product_id for r in rows}


def listings_to_review(session: Session, below_confidence: float) -> list[ReviewListing]:
    """Unmatched listings and automatic matches below the confidence a person should confirm."""
    query = (
        select(
            Listing.id,
            Distributor.code,
            Seller.name.label("seller_name"),
            Listing.url,
            Listing.title,
            Listing.raw_vendor_code,
            Listing.raw_gtin,
            Product.vendor_code,
            Listing.match_method,
            Listing.match_confidence,
        )
        .join(Seller, Seller.id == Listing.seller_id)
        .join(Distributor, Distributor.id == Seller.distributor_id)
        .outerjoin(Product, Product.id == Listing.product_id)
        .where(
            Listing.match_method != MatchMethod.MANUAL,
            or_(Listing.product_id.is_(None), Listing.match_confidence < below_confidence),
        )
        .order_by(Distributor.code, Listing.url, Seller.name)
    )
    return [ReviewListing(*row) for row in session.execute(query)]


def apply_decisions(session: Session, decisions: Iterable[Decision], decided_by: str | None) -> int:
    """Store the decisions (the latest per page wins) and re-point the pages' listings now; returns listings changed."""
    changed = 0
    now = utcnow()
    for decision in decisions:
        override = session.scalar(
            select(MatchOverride).where(
                MatchOverride.distributor_code == decision.distributor_code, MatchOverride.url == decision.url
            )
        )
        if override is None:
            override = MatchOverride(distributor_code=decision.distributor_code, url=decision.url)
            session.add(override)
        override.product_id = decision.product_id
        override.decided_by = decided_by
        override.decided_at = now
        override.note = decision.note
        sellers = select(Seller.id).join(Distributor, Distributor.id == Seller.distributor_id)
        result = cast(
            CursorResult[Any],
            session.execute(
                update(Listing)
                .where(
                    Listing.url == decision.url,
                    Listing.seller_id.in_(sellers.where(Distributor.code == decision.distributor_code)),
                )
                .values(product_id=decision.product_id, match_method=MatchMethod.MANUAL, match_confidence=1.0)
                .execution_options(synchronize_session=False)
            ),
        )
        changed += result.rowcount
    session.flush()
    return changed


def distributor_codes(session: Session) -> set[str]:
    return set(session.scalars(select(Distributor.code)))
