"""Crawl runs for the panel's crawl-health page: runs per site, and the pages of a run that answered badly."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crawler.items import StockState
from storage.models import CrawlRun, Distributor, Listing, Observation
from storage.queries.web_scope import Scope, distributor_clause


@dataclass(frozen=True)
class RunLine:
    run: CrawlRun
    distributor_code: str
    distributor_name: str


@dataclass(frozen=True)
class ProblemPage:
    url: str
    observed_at: dt.datetime
    http_status: int | None
    stock: StockState
    flags: list[str]


def runs_page(
    session: Session, scope: Scope, distributor_code: str | None, *, page: int = 1, size: int = 50
) -> tuple[list[RunLine], int]:
    """Crawl runs of the distributors in scope (of one, with `distributor_code`), newest first."""
    where = [distributor_clause(scope, Distributor.code)]
    if distributor_code:
        where.append(Distributor.code == distributor_code)
    joined = select(CrawlRun, Distributor.code, Distributor.name).join(
        Distributor, Distributor.id == CrawlRun.distributor_id
    )
    total = session.scalar(
        select(func.count(CrawlRun.id)).join(Distributor, Distributor.id == CrawlRun.distributor_id).where(*where)
    )
    query = joined.where(*where).order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
    rows = session.execute(query.offset((max(page, 1) - 1) * size).limit(size)).tuples()
    return [RunLine(r, c, n) for r, c, n in rows], int(total or 0)


def run(session: Session, scope: Scope, run_id: int) -> RunLine | None:
    query = (
        select(CrawlRun, Distributor.code, Distributor.name)
        .join(Distributor, Distributor.id == CrawlRun.distributor_id)
        .where(CrawlRun.id == run_id, distributor_clause(scope, Distributor.code))
    )
    found = session.execute(query).tuples().first()
    return RunLine(*found) if found else None


def problem_pages(session: Session, run_id: int, limit: int = 500) -> list[ProblemPage]:
    """The run's observations of pages that answered with an HTTP error or were flagged (blocked, not found…)."""
    query = (
        select(Listing.url, Observation.observed_at, Observation.http_status, Observation.stock, Observation.flags)
        .join(Listing, Listing.id == Observation.listing_id)
        .where(Observation.crawl_run_id == run_id)
        .order_by(Listing.url)
    )
    pages = []
    # Flags are a JSON list, which the two dialects compare differently: the run's rows are read and sorted here.
    for url, at, status, stock, flags in session.execute(query):
        if (status or 0) >= 400 or flags:
            pages.append(ProblemPage(url, at, status, stock, list(flags or [])))
            if len(pages) >= limit:
                break
    return pages
