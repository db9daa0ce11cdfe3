"""Crawl runs: started (or resumed) by run key, finished with counts and a health verdict, or marked failed
when their process died.

Contract for readers: a run's observations are visible only when the run is `finished` (see
`storage.queries.observations`). `running` means in progress (or dead and not yet noticed), `failed` means
the process died or was stopped; its partial batches stay in the table and are ignored by everyone.
A `finished` run still carries its health: `ok`, `degraded` (rules hold back stock-out alerts) or `failed`.
"""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psutil
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crawler import clock
from crawler.items import Health
from storage.models import CrawlRun, Distributor, Observation, RunStatus, utcnow

# A process started this long after its run row is another process that reused the pid.
_PID_REUSE_SLACK = dt.timedelta(seconds=5)


@dataclass(frozen=True)
class RunSummary:
    """A finished run as rules see it."""

    id: int
    distributor_id: int
    distributor_code: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    health: Health | None
    health_reason: str | None
    offers: int


def this_host() -> str:
    return socket.gethostname()


def start_run(
    session: Session,
    run_key: str,
    distributor_id: int,
    *,
    pid: int,
    host: str,
    daily_run_id: int | None = None,
) -> CrawlRun:
    """Create the run for `run_key`, or resume it (status back to running) when the key was seen before.

    A resumed run starts again now, in this process: the stale-run check compares its pid and age with this.
    """
    run = session.scalar(select(CrawlRun).where(CrawlRun.run_key == run_key))
    if run is None:
        run = CrawlRun(run_key=run_key, distributor_id=distributor_id, stats={})
        session.add(run)
    run.started_at = utcnow()
    run.status = RunStatus.RUNNING
    run.finished_at = None
    run.pid = pid
    run.host = host
    run.daily_run_id = daily_run_id if daily_run_id is not None else run.daily_run_id
    session.flush()
    return run


def _process_alive(pid: int, started_at: dt.datetime) -> bool:
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        created = dt.datetime.fromtimestamp(process.create_time(), dt.UTC)
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    return created <= clock.machine_time(started_at) + _PID_REUSE_SLACK


def mark_stale_runs_failed(
    session: Session,
    max_age: dt.timedelta = dt.timedelta(hours=4),
    host: str | None = None,
    now: dt.datetime | None = None,
) -> list[int]:
    """Mark `failed` every running run whose process is gone on this host, or that is older than `max_age`.

    Returns the ids marked. Their committed batches stay in the database, invisible (the run is not finished).
    """
    host = host or this_host()
    now = now or utcnow()
    marked: list[int] = []
    for run in session.scalars(select(CrawlRun).where(CrawlRun.status == RunStatus.RUNNING)):
        if now - run.started_at > max_age:
            reason = f"the crawl ran longer than {max_age} and was given up"
        elif run.host == host and (run.pid is None or not _process_alive(run.pid, run.started_at)):
            reason = f"the crawl process (pid {run.pid} on {host}) died before the run finished"
        else:
            continue
        run.status = RunStatus.FAILED
        run.health = Health.FAILED
        run.health_reason = reason
        run.finished_at = now
        marked.append(run.id)
    session.flush()
    return marked


def finish_run(
    session: Session,
    run_id: int,
    *,
    status: RunStatus,
    health: Health,
    reason: str,
    pages: int,
    offers: int,
    errors: int,
    stats: dict[str, Any],
) -> None:
    run = session.get_one(CrawlRun, run_id)
    run.status = status
    run.health = health
    run.health_reason = reason
    run.pages = pages
    run.offers = offers
    run.errors = errors
    run.stats = stats
    run.finished_at = utcnow()
    session.flush()


def fail_run(session: Session, run_id: int, reason: str) -> None:
    """Mark a run failed (its observations become invisible), keeping its counts."""
    run = session.get_one(CrawlRun, run_id)
    run.status = RunStatus.FAILED
    run.health = Health.FAILED
    run.health_reason = reason
    run.finished_at = run.finished_at or utcnow()
    session.flush()


def last_good_offers(session: Session, distributor_id: int, exclude_run_id: int | None = None) -> int | None:
    """Offers of the distributor's latest finished run with health `ok`; None when it never had one."""
    query = (
        select(CrawlRun.offers)
        .where(
            CrawlRun.distributor_id == distributor_id,
            CrawlRun.status == RunStatus.FINISHED,
            CrawlRun.health == Health.OK,
        )
        .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
        .limit(1)
    )
    if exclude_run_id is not None:
        query = query.where(CrawlRun.id != exclude_run_id)
    return session.scalar(query)


def latest_finished_runs(session: Session) -> list[RunSummary]:
    """Each distributor's latest finished run with its health verdict (what crawler-health rules read)."""
    ranked = (
        select(
            CrawlRun.id,
            func.row_number()
            .over(partition_by=CrawlRun.distributor_id, order_by=(CrawlRun.started_at.desc(), CrawlRun.id.desc()))
            .label("rank"),
        )
        .where(CrawlRun.status == RunStatus.FINISHED)
        .subquery()
    )
    rows = session.execute(
        select(CrawlRun, Distributor.code)
        .join(ranked, ranked.c.id == CrawlRun.id)
        .join(Distributor, Distributor.id == CrawlRun.distributor_id)
        .where(ranked.c.rank == 1)
        .order_by(Distributor.code)
    )
    return [
        RunSummary(
            run.id, run.distributor_id, code, run.started_at, run.finished_at, run.health, run.health_reason, run.offers
        )
        for run, code in rows.tuples()
    ]


@dataclass(frozen=True)
class RunState:
    """Where a crawl run stands, for a runner that follows it from elsewhere (the Scrapyd backend)."""

    id: int
    status: RunStatus
    health: Health | None
    health_reason: str | None
    pages: int
    offers: int
    errors: int
    stored: int  # observations written so far (a running run's counts come only when it finishes)
    stats: dict[str, Any]


def runs_by_key(session: Session, run_keys: Sequence[str]) -> dict[str, RunState]:
    """The runs stored under these keys (a key with no run yet is absent)."""
    if not run_keys:
        return {}
    runs = list(session.scalars(select(CrawlRun).where(CrawlRun.run_key.in_(run_keys))))
    counts = (
        select(Observation.crawl_run_id, func.count())
        .where(Observation.crawl_run_id.in_([run.id for run in runs]))
        .group_by(Observation.crawl_run_id)
    )
    stored: dict[int, int] = {run_id: count for run_id, count in session.execute(counts)}
    return {
        run.run_key: RunState(
            run.id,
            run.status,
            run.health,
            run.health_reason,
            run.pages,
            run.offers,
            run.errors,
            stored.get(run.id, 0),
            dict(run.stats or {}),
        )
        for run in runs
    }
