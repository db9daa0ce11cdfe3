"""Crawl health judged on real crawls of the pilot shop: a changed layout is degraded, a dead site failed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from crawler.config import parse_config
from crawler.items import Health
from fixtures.sites import Mode, PilotSites
from pricewatch.crawls.local import run_crawls
from storage.engine import make_engine, session_scope
from storage.models import CrawlRun, RunStatus

PILOT_YAML = Path(__file__).resolve().parents[2] / "pilot.yaml"


@pytest.mark.parametrize(
    ("mode", "status", "health", "reason_has"),
    [
        (Mode.LAYOUT_V2, RunStatus.FINISHED, Health.DEGRADED, "no price on"),
        (Mode.DOWN, RunStatus.FINISHED, Health.FAILED, "could not be reached"),
    ],
)
def test_a_broken_site_is_never_judged_ok(
    mode: Mode,
    status: RunStatus,
    health: Health,
    reason_has: str,
    sqlite_url: str,
    pilot: PilotSites,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in pilot.env().items():
        monkeypatch.setenv(name, value)
    pilot.set_mode("techsnab", mode)
    config = parse_config(PILOT_YAML.read_text(encoding="utf-8"), str(PILOT_YAML), env=pilot.env())

    [summary] = run_crawls(config, PILOT_YAML, ["techsnab"], db_url=sqlite_url, log_dir=tmp_path)

    engine = make_engine(sqlite_url)
    with session_scope(engine) as session:
        run = session.scalars(select(CrawlRun)).one()
    engine.dispose()
    assert (run.status, run.health) == (status, health)
    assert reason_has in (run.health_reason or "")
    assert summary.health == health.value
