"""The observation history: appended in bulk by the store, one row per (listing, crawl run), never updated.

Visibility contract: an observation counts only once its crawl run is `finished`. A crawl writes its
batches while its run is `running`; a crawl that dies part-way leaves committed batches behind, and
`crawl_runs.mark_stale_runs_failed` later marks that run `failed`. Every reader (rules, reports, exports,
the `v_latest_offers` view) must therefore join `crawl_runs` and keep `status = 'finished'` only, e.g.
with `finished_observations()` below — a dead run's partial batches are then invisible.

"The latest offer" of a listing is stricter: the newest observation from a *counted* run (`counted_run`:
finished, and not judged failed), as `latest_observations()` selects it for the rules and the export.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import CTE, ScalarSelect, Select, Table, and_, exists, insert, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from crawler.items import FLAG_PRICE_SUSPECT, Health, StockState
from storage.models import CrawlRun, Evidence, Listing, Observation, RunStatus
from storage.queries.upsert import BulkInsert


@dataclass(frozen=True, slots=True)
class ObservationRow:
    listing_id: int
    observed_at: dt.datetime
    price: Decimal | None
    currency: str | None
    old_price: Decimal | None
    stock: StockState
    quantity: int | None
    http_status: int | None
    flags: list[str]
    details: dict[str, Any]
    evidence_id: int | None = None
    seller_price: Decimal | None = None  # a marketplace seller's own price (`price` is the shown one)
    card_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class EvidenceRow:
    kind: str  # html | screenshot | json
    url: str
    captured_at: dt.datetime
    sha256: str
    path: str
    size: int


def finished_observations() -> Select[tuple[Observation]]:
    """SELECT of observations whose crawl run finished: the only ones rules and reports may read."""
    return (
        select(Observation)
        .join(CrawlRun, CrawlRun.id == Observation.crawl_run_id)
        .where(CrawlRun.status == RunStatus.FINISHED)
    )


def counted_run(run: Any) -> ColumnElement[bool]:
    """Runs whose observations count: finished, with a verdict other than failed.

    A run judged failed (the site unreachable, batches lost) read too little to stand for a listing's state, so it
    never supplies the latest offer. Migration 0006 repeats this condition in `v_latest_offers`: keep them equal.
    """
    return and_(run.status == RunStatus.FINISHED, or_(run.health.is_(None), run.health != Health.FAILED))


def _latest_offer_id() -> ScalarSelect[int]:
    """The id of the correlated listing's newest observation from a counted run (NULL when it has none)."""
    obs, run = aliased(Observation), aliased(CrawlRun)
    return (
        select(obs.id)
        .join(run, run.id == obs.crawl_run_id)
        .where(obs.listing_id == Listing.id, counted_run(run))
        .order_by(obs.observed_at.desc(), obs.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def latest_observations(*, matched_only: bool = False) -> CTE:
    """(listing id, observation id) of each listing's latest offer: its newest observation from a counted run.

    The one definition the rules (`matched_only`: listings matched to a catalog product) and `offers export`
    share. The `v_latest_offers` view (migration 0006) must pick the same row; it repeats this in SQL because a
    migration is frozen and cannot import code that goes on changing. A listing with no counted observation gets a
    NULL id, so joining observations on it leaves the listing out.

    Correlated and driven by the (listing, observed_at) index, so it reads each listing's newest rows only;
    materialized, so the planner joins the ids to observations by primary key instead of re-running it.
    """
    listings = select(Listing.id.label("listing_id"), _latest_offer_id().label("id"))
    if matched_only:
        listings = listings.where(Listing.product_id.is_not(None))
    return listings.cte("latest").prefix_with("MATERIALIZED")


@dataclass(frozen=True, slots=True)
class Reading:
    """What a listing's latest offer says now."""

    price: Decimal | None
    currency: str | None
    stock: StockState
    observed_at: dt.datetime


def current_readings(session: Session, listing_ids: Iterable[int]) -> dict[int, Reading]:
    """Each listing's latest offer (its newest observation from a counted run); listings without one left out."""
    ids = sorted(set(listing_ids))
    if not ids:
        return {}
    query = select(
        Observation.listing_id, Observation.price, Observation.currency, Observation.stock, Observation.observed_at
    ).where(Observation.id.in_(select(_latest_offer_id()).where(Listing.id.in_(ids))))
    return {row[0]: Reading(*row[1:]) for row in session.execute(query).tuples()}


def run_has_observations(session: Session, crawl_run_id: int) -> bool:
    return bool(session.scalar(select(exists().where(Observation.crawl_run_id == crawl_run_id))))


def already_observed(session: Session, crawl_run_id: int, listing_ids: Iterable[int]) -> set[int]:
    """The listings among `listing_ids` that already have an observation in this run (a re-stored run)."""
    ids = list(set(listing_ids))
    if not ids:
        return set()
    table = Observation.__table__
    query = select(table.c.listing_id).where(table.c.crawl_run_id == crawl_run_id, table.c.listing_id.in_(ids))
    return set(session.scalars(query))


def add_evidence(session: Session, rows: Sequence[EvidenceRow]) -> list[int]:
    """Insert evidence records; returns their ids in the order given."""
    if not rows:
        return []
    table = cast(Table, Evidence.__table__)
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    params = [
        {
            "kind": r.kind,
            "url": r.url,
            "captured_at": r.captured_at,
            "sha256": r.sha256,
            "path": r.path,
            "size": r.size,
        }
        for r in rows
    ]
    return list(session.scalars(stmt, params))


_COLUMNS = (
    "listing_id",
    "crawl_run_id",
    "observed_at",
    "price",
    "currency",
    "old_price",
    "stock",
    "quantity",
    "http_status",
    "flags",
    "price_suspect",
    "details",
    "evidence_id",
    "seller_price",
    "card_price",
)
_BULK: dict[str, BulkInsert] = {}


def insert_observations(session: Session, crawl_run_id: int, rows: Sequence[ObservationRow]) -> int:
    """Append observations of one run in one bulk INSERT; a (listing, run) pair already stored is skipped.

    Returns the number of rows written (the database skips duplicates through ON CONFLICT DO NOTHING).
    `price_suspect` is written from the flags, so the two never disagree.
    """
    if not rows:
        return 0
    dialect = session.get_bind().dialect
    bulk = _BULK.get(dialect.name)
    if bulk is None:
        table = cast(Table, Observation.__table__)
        bulk = _BULK[dialect.name] = BulkInsert(dialect, table, _COLUMNS, ("listing_id", "crawl_run_id"))
    return bulk.execute(
        session,
        [
            (
                r.listing_id,
                crawl_run_id,
                r.observed_at,
                r.price,
                r.currency,
                r.old_price,
                r.stock,
                r.quantity,
                r.http_status,
                r.flags,
                FLAG_PRICE_SUSPECT in r.flags,  # the column the queries read, always as the flags say
                r.details,
                r.evidence_id,
                r.seller_price,
                r.card_price,
            )
            for r in rows
        ],
    )
