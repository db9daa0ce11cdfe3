"""`run-daily` with the pilot crawled across two Scrapyd hosts into one PostgreSQL database: every distributor
once, the jobs spread over both hosts, and the same offers stored as a local crawl of the same sites stores."""

from __future__ import annotations

import os
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler.config import Config
from fixtures.sites import PilotSites
from pricewatch.crawls.local import CrawlProgress, run_crawls
from pricewatch.daily import run_daily
from storage.engine import make_engine, session_scope
from storage.models import CrawlRun, Distributor, Listing, Observation, RunStatus, Seller
from storage.queries import sellers
from tests.support.scrapyd import PILOT_YAML, Pair, host_a, host_b
from tests.support.services import require

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.chromium]

Offer = tuple[str, str, str, Decimal | None, str]


def sync_distributors(db_url: str, config: Config) -> None:
    """What run-daily does before it crawls (parallel crawls' first runs must not race to add the distributors)."""
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            sellers.sync_distributors(session, config)
    finally:
        engine.dispose()


def stored_offers(db_url: str, run_keys: list[str]) -> set[Offer]:
    """(distributor, url, seller, price, stock) of every observation these runs stored."""
    engine = make_engine(db_url)
    query = (
        select(Distributor.code, Listing.url, Seller.code, Observation.price, Observation.stock)
        .join(Listing, Listing.id == Observation.listing_id)
        .join(Seller, Seller.id == Listing.seller_id)
        .join(Distributor, Distributor.id == Seller.distributor_id)
        .join(CrawlRun, CrawlRun.id == Observation.crawl_run_id)
        .where(CrawlRun.run_key.in_(run_keys))
    )
    try:
        with engine.connect() as conn:
            return {(code, url, seller, price, str(stock)) for code, url, seller, price, stock in conn.execute(query)}
    finally:
        engine.dispose()


def stored_runs(db_url: str, run_keys: list[str]) -> dict[str, tuple[str, RunStatus, int | None]]:
    """run key → (distributor, status, daily run) of the runs stored under these keys."""
    engine = make_engine(db_url)
    query = (
        select(CrawlRun.run_key, Distributor.code, CrawlRun.status, CrawlRun.daily_run_id)
        .join(Distributor, Distributor.id == CrawlRun.distributor_id)
        .where(CrawlRun.run_key.in_(run_keys))
    )
    try:
        with engine.connect() as conn:
            return {key: (code, status, daily) for key, code, status, daily in conn.execute(query)}
    finally:
        engine.dispose()


def test_run_daily_crawls_the_pilot_on_two_scrapyd_hosts_as_a_local_crawl_would(
    scrapyd_pair: Pair,
    scrapyd_config: Callable[..., Config],
    pilot: PilotSites,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    require(Path("/usr/bin/chromium").exists(), "Chromium at /usr/bin/chromium")
    pair = scrapyd_pair
    config = scrapyd_config([host_a(pair), host_b(pair)])
    seen: list[tuple[str, str]] = []

    def progress(p: CrawlProgress) -> None:
        seen.append((p.distributor, p.status))

    daily = run_daily(config, str(PILOT_YAML), scrapyd_pair.db_url, on_progress=progress)

    assert [(step.name, step.ok) for step in daily.steps[:2]] == [("prepare", True), ("crawl", True)]
    summaries = daily.crawls

    codes = ["techsnab", "klimatprof", "marketplace", "vitrina"]
    assert [s.distributor for s in summaries] == codes
    assert [(s.status, s.reason) for s in summaries] == [("finished", "finished")] * 4
    assert all(s.health is not None and s.offers > 0 and s.pages > 0 for s in summaries)
    for code in codes:  # waiting → running → finished, in that order
        states = [status for distributor, status in seen if distributor == code]
        assert states[0] == "waiting"
        assert states[-1] == "finished"
        assert "running" in states
    keys = [s.run_key for s in summaries]
    assert daily.daily_run_id is not None
    assert stored_runs(pair.db_url, keys) == {
        s.run_key: (s.distributor, RunStatus.FINISHED, daily.daily_run_id) for s in summaries
    }

    # Least busy first, ties to the first host: a (0 jobs) gets techsnab, b (0) klimatprof, a (1 vs 1) marketplace,
    # b (1 vs 2) vitrina.
    jobs = {host.name: sorted(job["id"] for job in host.jobs()["finished"] if job["id"] in keys) for host in pair}
    assert jobs == {"a": sorted([keys[0], keys[2]]), "b": sorted([keys[1], keys[3]])}
    assert {summary.log_path.rsplit("/logs/", 1)[0] for summary in summaries if summary.log_path} == {
        scrapyd_pair.a.url,
        scrapyd_pair.b.url,
    }
    # Host a reads the database URL from its own environment: it never appears in its jobs' command lines.
    assert "PRICEWATCH_DB_URL" not in scrapyd_pair.a.log
    assert "PRICEWATCH_DB_URL=" in scrapyd_pair.b.log

    for name, value in pilot.env().items():  # the local crawl processes read pilot.yaml themselves
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PRICEWATCH_EVIDENCE_DIR", os.fspath(Path(sqlite_url.removeprefix("sqlite:///")).parent))
    sync_distributors(sqlite_url, config)
    local = run_crawls(config, PILOT_YAML, db_url=sqlite_url)
    assert [(s.status, s.reason) for s in local] == [("finished", "finished")] * 4

    on_scrapyd = stored_offers(scrapyd_pair.db_url, keys)
    assert {offer[0] for offer in on_scrapyd} == set(codes)
    assert on_scrapyd == stored_offers(sqlite_url, [s.run_key for s in local])
