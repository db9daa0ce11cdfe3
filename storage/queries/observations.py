"""The observation history: appended in bulk by the store, one row per (listing, crawl run), never updated.

Visibility contract: an observation counts only once its crawl run is `finished`. A crawl writes its
batches while its run is `running`; a crawl that dies part-way leaves committed batches behind, and
`crawl_runs.mark_stale_runs_failed` later marks that run `failed`. Every reader (rules, reports, exports,
the `v_latest_offers` view) must therefore join `crawl_runs` and keep `status = 'finished'` only, e.g.
with `finished_observations()` below — a dead run's partial batches are then invisible.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Select, Table, exists, insert, select
from sqlalchemy.orm import Session

from crawler.items import StockState
from storage.models import CrawlRun, Evidence, Observation, RunStatus
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


@dataclass(frozen=True, slots=True)
class EvidenceRow:
    kind: str  # html | screenshot
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
    "details",
    "evidence_id",
)
_BULK: dict[str, BulkInsert] = {}


def insert_observations(session: Session, crawl_run_id: int, rows: Sequence[ObservationRow]) -> int:
    """Append observations of one run in one bulk INSERT; a (listing, run) pair already stored is skipped.

    Returns the number of rows written (the database skips duplicates through ON CONFLICT DO NOTHING).
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
                r.details,
                r.evidence_id,
            )
            for r in rows
        ],
    )
