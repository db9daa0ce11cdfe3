"""A crawl process killed with SIGKILL part-way, then the next crawl: the database stays consistent."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from crawler.config import parse_config
from crawler.crawl_process import DB_URL_ENV
from crawler.items import Health
from fixtures.pilot import scenario
from fixtures.pilot.files import PRICE_LIST_CSV
from fixtures.sites import Mode, PilotSites
from pricewatch.crawls.local import run_crawls
from storage.catalog_import import import_catalog
from storage.engine import make_engine, session_scope
from storage.models import CrawlRun, Observation, RunStatus

REPO = Path(__file__).resolve().parents[2]
PILOT_YAML = REPO / "pilot.yaml"
KILLED = "techsnab-killed"


def _observed(engine: Engine, run_key: str) -> int:
    with session_scope(engine) as session:
        query = (
            select(func.count())
            .select_from(Observation)
            .join(CrawlRun, CrawlRun.id == Observation.crawl_run_id)
            .where(CrawlRun.run_key == run_key)
        )
        return session.scalar(query) or 0


def _visible_runs(engine: Engine) -> list[str]:
    """The run key behind every row of `v_latest_offers`."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT r.run_key FROM v_latest_offers v "
                    "JOIN observations o ON o.listing_id = v.listing_id AND o.observed_at = v.observed_at "
                    "JOIN crawl_runs r ON r.id = o.crawl_run_id"
                )
            ).scalars()
        )


def _run(engine: Engine, run_key: str) -> CrawlRun:
    with session_scope(engine) as session:
        run = session.scalars(select(CrawlRun).where(CrawlRun.run_key == run_key)).one()
        session.expunge(run)
        return run


def test_a_killed_crawl_then_a_new_crawl_leave_a_consistent_database(
    db_url: str, pilot: PilotSites, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        import_catalog(session, PRICE_LIST_CSV, valid_from=dt.date(2026, 1, 1))
    for name, value in pilot.env().items():
        monkeypatch.setenv(name, value)
    # One product page answers after 15 s: the rest of the site is crawled and stored meanwhile.
    pilot.set_mode("techsnab", Mode.SLOW, path=scenario.offer_for("techsnab", "TL-4003").path, delay=15)
    log = (tmp_path / "killed.log").open("w")
    job = ["--config", str(PILOT_YAML), "--distributor", "techsnab", "--run-key", KILLED]
    crawl = subprocess.Popen(
        [sys.executable, "-m", "crawler.crawl_process", *job],
        cwd=REPO,
        env={**os.environ, DB_URL_ENV: db_url},  # as pricewatch starts it: the URL never on the command line
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while _observed(engine, KILLED) < 20 and time.monotonic() < deadline and crawl.poll() is None:
            time.sleep(0.2)
        assert crawl.poll() is None, (tmp_path / "killed.log").read_text()
        os.kill(crawl.pid, signal.SIGKILL)
    finally:
        crawl.wait(30)
        log.close()
    partial = _observed(engine, KILLED)
    assert _run(engine, KILLED).status == RunStatus.RUNNING  # nobody could say otherwise yet
    assert 20 <= partial < len(scenario.offers("techsnab", 1))  # whole batches of a run that never ended
    assert _visible_runs(engine) == []

    pilot.set_mode("techsnab", Mode.NORMAL)
    config = parse_config(PILOT_YAML.read_text(encoding="utf-8"), str(PILOT_YAML), env=pilot.env())
    [summary] = run_crawls(config, PILOT_YAML, ["techsnab"], db_url=db_url, log_dir=tmp_path)

    killed, new = _run(engine, KILLED), _run(engine, summary.run_key)
    assert (killed.status, killed.health) == (RunStatus.FAILED, Health.FAILED)
    assert "died" in (killed.health_reason or "")
    assert (new.status, new.health) == (RunStatus.FINISHED, Health.OK)
    assert _observed(engine, KILLED) == partial  # kept, but invisible
    visible = _visible_runs(engine)
    assert set(visible) == {summary.run_key}
    assert len(visible) == len(scenario.offers("techsnab", 1)) == _observed(engine, summary.run_key)
    engine.dispose()
