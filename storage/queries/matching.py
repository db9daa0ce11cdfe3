"""Matching's storage side: the catalog to match against, a person's decisions, listings to review."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, false, func, or_, select, update
from sqlalchemy.orm import Session

from storage.models import (
    Distributor,
    Listing,
    MatchMethod,
    MatchOverride,
    Observation,
    Product,
    ProductGtin,
    Seller,
    utcnow,
)
from storage.queries.observations import latest_observations

_TITLE_WORDS = re.compile(r"[0-9a-zа-я]+")
_CHUNK = 5000  # ids per statement: under every dialect's bind-parameter limit


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
    price_suspect: bool  # its latest price is far from the matched product's RRP: perhaps matched wrongly
    match_reason: dict[str, Any] | None = None  # why it matched or was refused (pipelines.match_reason)


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


def title_key(title: str) -> str:
    """A title as decisions are reused by it: its letter and digit words, lower case, ё as е."""
    return " ".join(_TITLE_WORDS.findall(title.casefold().replace("ё", "е")))


def load_aliases(session: Session) -> dict[str, int | None]:
    """Title key → the product people decided pages with that title are (None: not ours). A title decided two
    ways is no alias."""
    decided: dict[str, set[int | None]] = {}
    rows = session.execute(
        select(MatchOverride.title_key, MatchOverride.product_id).where(MatchOverride.title_key.is_not(None))
    )
    for key, product_id in rows.tuples():
        if key:
            decided.setdefault(key, set()).add(product_id)
    return {key: next(iter(ids)) for key, ids in decided.items() if len(ids) == 1}


def listings_to_review(session: Session, below_confidence: float) -> list[ReviewListing]:
    """Unmatched listings, automatic matches below the confidence a person should confirm, and automatic matches
    whose latest price is suspect against the product's RRP."""
    latest = latest_observations()
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
            func.coalesce(Observation.price_suspect, false()),
            Listing.match_reason,
        )
        .join(Seller, Seller.id == Listing.seller_id)
        .join(Distributor, Distributor.id == Seller.distributor_id)
        .outerjoin(Product, Product.id == Listing.product_id)
        .outerjoin(latest, latest.c.listing_id == Listing.id)
        .outerjoin(Observation, Observation.id == latest.c.id)
        .where(
            Listing.match_method != MatchMethod.MANUAL,
            or_(
                Listing.product_id.is_(None),
                Listing.match_confidence < below_confidence,
                Observation.price_suspect.is_(True),
            ),
        )
        .order_by(Distributor.code, Listing.url, Seller.name)
    )
    return [ReviewListing(*row) for row in session.execute(query)]


def _page_title(session: Session, distributor_code: str, url: str) -> str | None:
    query = (
        select(Listing.title)
        .join(Seller, Seller.id == Listing.seller_id)
        .join(Distributor, Distributor.id == Seller.distributor_id)
        .where(Distributor.code == distributor_code, Listing.url == url, Listing.title.is_not(None))
        .order_by(Listing.last_seen_at.desc())
        .limit(1)
    )
    return session.scalar(query)


def _repoint_same_titles(session: Session, keys: set[str]) -> int:
    """Point the automatically matched listings whose title has a key a person decided at that decision now
    (method `alias`; a `not ours` decision unmatches them); returns listings changed."""
    aliases = {key: pid for key, pid in load_aliases(session).items() if key in keys}
    rows = session.execute(
        select(Listing.id, Listing.title).where(Listing.match_method != MatchMethod.MANUAL, Listing.title.is_not(None))
    )
    by_product: dict[int | None, list[int]] = {}
    for listing_id, title in rows.tuples():
        key = title_key(title or "")
        if key in aliases:
            by_product.setdefault(aliases[key], []).append(listing_id)
    changed = 0
    for product_id, ids in by_product.items():
        matched = product_id is not None
        values = {
            "product_id": product_id,
            "match_method": MatchMethod.ALIAS if matched else MatchMethod.NONE,
            "match_confidence": 0.98 if matched else 0.0,
            "match_reason": {"rule": "alias" if matched else "not_ours"},
        }
        for start in range(0, len(ids), _CHUNK):
            result = session.execute(
                update(Listing)
                .where(Listing.id.in_(ids[start : start + _CHUNK]))
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            changed += cast(CursorResult[Any], result).rowcount
    return changed


def apply_decisions(session: Session, decisions: Iterable[Decision], decided_by: str | None) -> int:
    """Store the decisions (the latest per page wins) and re-point the pages' listings now, and the listings of
    other pages with the same title (the decision is an alias for them); returns listings changed."""
    changed = 0
    now = utcnow()
    keys: set[str] = set()
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
        title = _page_title(session, decision.distributor_code, decision.url)
        override.title_key = title_key(title) if title else None
        if override.title_key:
            keys.add(override.title_key)
        sellers = select(Seller.id).join(Distributor, Distributor.id == Seller.distributor_id)
        result = cast(
            CursorResult[Any],
            session.execute(
                update(Listing)
                .where(
                    Listing.url == decision.url,
                    Listing.seller_id.in_(sellers.where(Distributor.code == decision.distributor_code)),
                )
                .values(
                    product_id=decision.product_id,
                    match_method=MatchMethod.MANUAL,
                    match_confidence=1.0,
                    match_reason={"rule": "manual" if decision.product_id else "not_ours"},
                )
                .execution_options(synchronize_session=False)
            ),
        )
        changed += result.rowcount
    session.flush()
    return changed + (_repoint_same_titles(session, keys) if keys else 0)


def distributor_codes(session: Session) -> set[str]:
    return set(session.scalars(select(Distributor.code)))
