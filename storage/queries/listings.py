"""Sellers and listings as the store sees them: created on first sight, refreshed on every crawl, in bulk.

The config's distributors and authorized sellers are written by `storage.queries.sellers.sync_distributors`;
a marketplace seller a crawl meets for the first time is added here, not authorized.

A listing's match is replaced by each crawl's automatic match, except when a person decided it
(`match_method = manual`): that decision is kept whatever the crawl says; and an offer that matched nothing
this time (a 404 or a blocked page has no title or codes) keeps the product it was matched to before.

A listing is *gone* once a complete crawl judged ok confirms it no longer exists (`record_gone`): its page
answered 404 or redirected away (the spider's `not_found` reading), it is missing from a complete feed, or its
seller is missing from a marketplace card the crawl read. The next ok crawl that reads it live clears that.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, case, func, or_, select, update
from sqlalchemy.orm import Session

from crawler.items import FLAG_BLOCKED, FLAG_NOT_FOUND
from storage.models import Distributor, Listing, MatchMethod, Observation, Seller
from storage.queries.upsert import BulkInsert, dialect_insert


@dataclass(frozen=True, slots=True)
class SellerSeen:
    code: str
    name: str
    authorized: bool


@dataclass(frozen=True, slots=True)
class ListingSeen:
    """One offer place as a crawl saw it, with the automatic match of its offer."""

    seller_id: int
    url: str
    seller_sku: str | None
    title: str | None
    raw_vendor_code: str | None
    raw_gtin: str | None
    product_id: int | None
    match_method: MatchMethod
    match_confidence: float
    seen_at: dt.datetime
    match_reason: dict[str, Any] | None = None  # why it matched or was refused (pipelines.match_reason)
    region: str | None = None  # a regional marketplace reading's region code


def distributor_id(session: Session, code: str) -> int | None:
    return session.scalar(select(Distributor.id).where(Distributor.code == code))


def seller_ids(session: Session, distributor_id: int) -> dict[str, int]:
    """The distributor's sellers known now: code → seller id."""
    rows = session.execute(select(Seller.code, Seller.id).where(Seller.distributor_id == distributor_id))
    return {code: seller_id for code, seller_id in rows.tuples()}


def add_sellers(session: Session, distributor_id: int, sellers: Iterable[SellerSeen]) -> dict[str, int]:
    """Create the sellers not in the database yet (a seller that exists is left as it is); returns code → id."""
    unique = {s.code: s for s in sellers}
    if not unique:
        return {}
    table = Seller.__table__
    stmt = dialect_insert(session, table).on_conflict_do_nothing(index_elements=[table.c.distributor_id, table.c.code])
    session.execute(
        stmt,
        [
            {"distributor_id": distributor_id, "code": s.code, "name": s.name, "authorized": s.authorized}
            for s in unique.values()
        ],
    )
    query = select(table.c.code, table.c.id).where(
        table.c.distributor_id == distributor_id, table.c.code.in_(list(unique))
    )
    return {code: seller_id for code, seller_id in session.execute(query).tuples()}


_NEW_COLUMNS = (
    "seller_id",
    "url",
    "seller_sku",
    "title",
    "raw_vendor_code",
    "raw_gtin",
    "product_id",
    "match_method",
    "match_confidence",
    "match_reason",
    "first_seen_at",
    "last_seen_at",
    "region",
)
_BULK: dict[str, BulkInsert] = {}


def insert_new_listings(session: Session, listings: Sequence[ListingSeen]) -> dict[tuple[int, str], int]:
    """Insert listings seen for the first time in one bulk INSERT (one already there is left alone), then read
    back the ids of all of them: (seller id, URL) → listing id."""
    unique = {(item.seller_id, item.url): item for item in listings}
    if not unique:
        return {}
    dialect = session.get_bind().dialect
    bulk = _BULK.get(dialect.name)
    if bulk is None:
        table = cast(Table, Listing.__table__)
        bulk = _BULK[dialect.name] = BulkInsert(
            dialect, table, _NEW_COLUMNS, ("seller_id", "url"), returning=("seller_id", "url", "id")
        )
    returned = bulk.execute_returning(
        session,
        [
            (
                i.seller_id,
                i.url,
                i.seller_sku,
                i.title,
                i.raw_vendor_code,
                i.raw_gtin,
                i.product_id,
                i.match_method,
                i.match_confidence,
                i.match_reason,
                i.seen_at,
                i.seen_at,
                i.region,
            )
            for i in unique.values()
        ],
    )
    ids = {(seller, url): listing_id for seller, url, listing_id in returned or ()}
    missing = [key for key in unique if key not in ids]  # SQLite, or a listing another process created
    return ids | _listing_ids(session, missing)


def _listing_ids(session: Session, keys: Sequence[tuple[int, str]]) -> dict[tuple[int, str], int]:
    if not keys:
        return {}
    # Per seller, its URLs: each group is one range of the (seller_id, url) unique index.
    by_seller: dict[int, list[str]] = {}
    for seller, url in keys:
        by_seller.setdefault(seller, []).append(url)
    found = or_(*(and_(Listing.seller_id == seller, Listing.url.in_(urls)) for seller, urls in by_seller.items()))
    rows = session.execute(select(Listing.seller_id, Listing.url, Listing.id).where(found))
    return {(seller, url): listing_id for seller, url, listing_id in rows.tuples()}


def upsert_listings(session: Session, listings: Sequence[ListingSeen]) -> dict[tuple[int, str], int]:
    """Insert or refresh listings by (seller, URL) in one statement; returns (seller id, URL) → listing id."""
    unique = {(item.seller_id, item.url): item for item in listings}
    if not unique:
        return {}
    table = Listing.__table__
    insert = dialect_insert(session, table)
    excluded = insert.excluded
    # A person's decision stays; so does a match when this crawl found nothing to match on (a 404, a block).
    keep = or_(
        table.c.match_method == MatchMethod.MANUAL,
        and_(excluded.product_id.is_(None), table.c.product_id.is_not(None)),
    )

    def kept(column: str) -> ColumnElement[object]:
        return case((keep, table.c[column]), else_=excluded[column])

    stmt = insert.on_conflict_do_update(
        index_elements=[table.c.seller_id, table.c.url],
        set_={
            "seller_sku": excluded.seller_sku,
            "title": excluded.title,
            "raw_vendor_code": excluded.raw_vendor_code,
            "raw_gtin": excluded.raw_gtin,
            "product_id": kept("product_id"),
            "match_method": kept("match_method"),
            "match_confidence": kept("match_confidence"),
            "match_reason": kept("match_reason"),
            "last_seen_at": case(
                (excluded.last_seen_at > table.c.last_seen_at, excluded.last_seen_at), else_=table.c.last_seen_at
            ),
            # A reading that does not say its region (a blocked page) leaves the listing's as it was.
            "region": func.coalesce(excluded.region, table.c.region),
        },
    ).returning(table.c.id, table.c.seller_id, table.c.url)
    rows = [
        {
            "seller_id": item.seller_id,
            "url": item.url,
            "seller_sku": item.seller_sku,
            "title": item.title,
            "raw_vendor_code": item.raw_vendor_code,
            "raw_gtin": item.raw_gtin,
            "product_id": item.product_id,
            "match_method": item.match_method,
            "match_confidence": item.match_confidence,
            "match_reason": item.match_reason,
            "first_seen_at": item.seen_at,
            "last_seen_at": item.seen_at,
            "region": item.region,
        }
        for item in unique.values()
    ]
    return {(seller_id, url): listing_id for listing_id, seller_id, url in session.execute(stmt, rows)}


@dataclass(frozen=True, slots=True)
class KnownListing:
    """A listing as stored: what a crawl compares its reading with, to skip writing what did not change."""

    id: int
    seller_sku: str | None
    title: str | None
    raw_vendor_code: str | None
    raw_gtin: str | None
    product_id: int | None
    match_method: MatchMethod
    match_confidence: float
    match_reason: dict[str, Any] | None = None
    region: str | None = None

    def after(self, seen: ListingSeen) -> KnownListing:
        """This listing once `seen` is upserted (by the rules of `upsert_listings`)."""
        keep = self.match_method == MatchMethod.MANUAL or (seen.product_id is None and self.product_id is not None)
        match = (
            (self.product_id, self.match_method, self.match_confidence, self.match_reason)
            if keep
            else (seen.product_id, seen.match_method, seen.match_confidence, seen.match_reason)
        )
        region = seen.region if seen.region is not None else self.region
        return KnownListing(
            self.id, seen.seller_sku, seen.title, seen.raw_vendor_code, seen.raw_gtin, *match, region=region
        )


def new_listing(listing_id: int, seen: ListingSeen) -> KnownListing:
    return KnownListing(
        listing_id,
        seen.seller_sku,
        seen.title,
        seen.raw_vendor_code,
        seen.raw_gtin,
        seen.product_id,
        seen.match_method,
        seen.match_confidence,
        seen.match_reason,
        seen.region,
    )


def known_listings(session: Session, distributor_id: int) -> dict[tuple[int, str], KnownListing]:
    """The distributor's listings keyed by (seller id, URL)."""
    rows = session.execute(
        select(
            Listing.seller_id,
            Listing.url,
            Listing.id,
            Listing.seller_sku,
            Listing.title,
            Listing.raw_vendor_code,
            Listing.raw_gtin,
            Listing.product_id,
            Listing.match_method,
            Listing.match_confidence,
            Listing.match_reason,
            Listing.region,
        )
        .join(Seller, Seller.id == Listing.seller_id)
        .where(Seller.distributor_id == distributor_id)
    )
    return {(r[0], r[1]): KnownListing(*r[2:]) for r in rows.tuples()}


def touch_listings(session: Session, crawl_run_id: int) -> None:
    """Move `last_seen_at` of the listings this run observed to their observation time (never backwards).

    The store upserts only listings that changed; the others are touched here, once per run.
    """
    observed = (
        select(func.max(Observation.observed_at))
        .where(Observation.listing_id == Listing.id, Observation.crawl_run_id == crawl_run_id)
        .scalar_subquery()
    )
    session.execute(
        update(Listing)
        .where(
            Listing.id.in_(select(Observation.listing_id).where(Observation.crawl_run_id == crawl_run_id)),
            Listing.last_seen_at < observed,
        )
        .values(last_seen_at=observed)
        .execution_options(synchronize_session=False)
    )


# A listing no crawl has read for this long is past news: never revisited, never newly marked gone (which would
# raise a stock-out for an offer that vanished long ago, e.g. on the first crawl after an upgrade).
RECENT = dt.timedelta(days=14)


def known_listing_urls(session: Session, distributor_code: str, now: dt.datetime) -> list[str]:
    """The URLs of the distributor's listings matched to the catalog, not gone and read within `RECENT` of `now`:
    what its crawl revisits when its entry points no longer lead there (a marketplace card once, for every seller).
    """
    rows = session.scalars(
        select(Listing.url)
        .join(Seller, Seller.id == Listing.seller_id)
        .join(Distributor, Distributor.id == Seller.distributor_id)
        .where(
            Distributor.code == distributor_code,
            Listing.product_id.is_not(None),
            Listing.gone_at.is_(None),
            Listing.last_seen_at >= now - RECENT,
        )
        .distinct()
        .order_by(Listing.url)
    )
    return list(rows)


GONE_NOT_FOUND = "not_found"  # the page answered 404/410 or redirected away (a marketplace card: every seller)
GONE_MISSING = "missing"  # missing from a complete feed
GONE_LEFT_CARD = "left_card"  # a marketplace seller missing from a card the crawl read
_CHUNK = 5_000  # ids per statement: well under both databases' limits on bound parameters


@dataclass(frozen=True, slots=True)
class GoneChanges:
    """What `record_gone` changed: listings newly gone (by reason), still gone, and back."""

    gone: dict[str, int]
    still_gone: int
    back: int


@dataclass
class _RunReadings:
    """What one run read, per listing and per URL."""

    live: set[int]  # read, neither blocked nor gone
    not_found: set[int]  # read as gone (404, redirected away)
    urls_read: set[str]  # URLs answered with something other than a block
    urls_not_found: set[str]


def _run_readings(session: Session, crawl_run_id: int) -> _RunReadings:
    readings = _RunReadings(set(), set(), set(), set())
    rows = session.execute(
        select(Observation.listing_id, Observation.flags, Listing.url)
        .join(Listing, Listing.id == Observation.listing_id)
        .where(Observation.crawl_run_id == crawl_run_id)
    )
    for listing_id, flags, url in rows.tuples():
        if FLAG_BLOCKED in flags:
            continue
        readings.urls_read.add(url)
        if FLAG_NOT_FOUND in flags:
            readings.not_found.add(listing_id)
            readings.urls_not_found.add(url)
        else:
            readings.live.add(listing_id)
    return readings


def _gone_reason(
    listing_id: int, url: str, recent: bool, readings: _RunReadings, *, missing_is_gone: bool
) -> str | None:
    """Why a listing of the distributor is gone after a complete run, or None if the run does not say so;
    `recent`: it was read within `RECENT` (only such a listing is gone for not being read)."""
    if listing_id in readings.not_found:
        return GONE_NOT_FOUND
    if listing_id in readings.live or not recent:
        return None
    if missing_is_gone:
        return GONE_MISSING
    if url in readings.urls_not_found:
        return GONE_NOT_FOUND
    return GONE_LEFT_CARD if url in readings.urls_read else None


def _set_gone(session: Session, ids: Iterable[int], values: dict[str, object]) -> None:
    listing_ids = sorted(ids)
    for start in range(0, len(listing_ids), _CHUNK):
        chunk = listing_ids[start : start + _CHUNK]
        session.execute(
            update(Listing).where(Listing.id.in_(chunk)).values(**values).execution_options(synchronize_session=False)
        )


def record_gone(
    session: Session,
    crawl_run_id: int,
    distributor_id: int,
    *,
    at: dt.datetime,
    complete: bool,
    missing_is_gone: bool,
) -> GoneChanges:
    """After a finished run judged ok: the gone listings it read live are back; after a complete one (not limited,
    every entry point read), the listings it confirms gone are marked so, or confirmed again.

    `missing_is_gone`: a listing the run did not read at all is gone (a feed lists every offer). Otherwise only
    what the run read says so: a `not_found` reading, or a marketplace card read without this listing's seller
    (an unread listing, a failed or blocked page, is never gone). Unread listings count only if read within
    `RECENT` of `at` (the run's end).
    """
    readings = _run_readings(session, crawl_run_id)
    rows = session.execute(
        select(Listing.id, Listing.url, Listing.gone_at, Listing.last_seen_at >= at - RECENT)
        .join(Seller, Seller.id == Listing.seller_id)
        .where(Seller.distributor_id == distributor_id)
    ).tuples()
    back: list[int] = []
    again: list[int] = []
    newly: defaultdict[str, list[int]] = defaultdict(list)
    for listing_id, url, gone_at, recent in rows:
        reason = _gone_reason(listing_id, url, bool(recent), readings, missing_is_gone=missing_is_gone)
        if complete and reason:
            (newly[reason] if gone_at is None else again).append(listing_id)
        elif gone_at is not None and listing_id in readings.live:
            back.append(listing_id)
    _set_gone(session, back, {"gone_at": None, "gone_run_id": None, "gone_reason": None})
    _set_gone(session, again, {"gone_run_id": crawl_run_id})
    for reason, ids in newly.items():
        _set_gone(session, ids, {"gone_at": at, "gone_run_id": crawl_run_id, "gone_reason": reason})
    return GoneChanges({reason: len(ids) for reason, ids in sorted(newly.items())}, len(again), len(back))
