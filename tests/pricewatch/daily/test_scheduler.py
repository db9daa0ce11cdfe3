"""The scheduler: a cron a few seconds ahead runs the daily flow once; jobs follow the config."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from crawler.config import ConfigError, load_config
from fixtures.sites import PilotSites
from scheduler import ALL_JOB, FLUSH_JOB, build_scheduler, cron_trigger, jobs_for
from storage.engine import make_engine, session_scope
from storage.models import DailyRun
from tests.support.services import REPO


def _with_schedule(path: Path, cron: str, **per_distributor: str) -> Path:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["schedule"]["cron"] = cron
    for distributor in data["distributors"]:
        distributor.pop("schedule", None)
        if distributor["code"] in per_distributor:
            distributor["schedule"] = per_distributor[distributor["code"]]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_cron_a_few_seconds_ahead_runs_the_daily_flow_once(
    sqlite_url: str, pilot_env: PilotSites, one_shop_config: Path
) -> None:
    config = load_config(one_shop_config)
    at = dt.datetime.now(config.tz) + dt.timedelta(seconds=4)
    _with_schedule(one_shop_config, f"{at.second} {at.minute} {at.hour} * * *")
    config = load_config(one_shop_config)
    scheduler = build_scheduler(config, str(one_shop_config), sqlite_url)
    engine = make_engine(sqlite_url)
    try:
        scheduler.resume()
        deadline = time.monotonic() + 120
        runs: list[DailyRun] = []
        while time.monotonic() < deadline:
            with session_scope(engine) as session:
                runs = list(session.scalars(select(DailyRun)))
            if runs and runs[0].finished_at is not None:
                break
            time.sleep(0.5)
        time.sleep(3)  # past the fire time: nothing more may start
        with session_scope(engine) as session:
            runs = list(session.scalars(select(DailyRun)))
    finally:
        scheduler.shutdown(wait=True)
        engine.dispose()
    assert [r.status for r in runs] == ["ok"]


def test_a_distributor_with_its_own_cron_gets_its_own_job(tmp_path: Path) -> None:
    path = tmp_path / "pilot.yaml"
    path.write_text((REPO / "pilot.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    config = load_config(_with_schedule(path, "0 6 * * *", marketplace="0 6,18 * * *"))
    assert jobs_for(config) == [
        (ALL_JOB, "0 6 * * *", ["techsnab", "klimatprof", "vitrina"]),
        (f"{ALL_JOB}:marketplace", "0 6,18 * * *", ["marketplace"]),
    ]


def test_jobs_live_in_the_database_and_follow_the_config(sqlite_url: str, tmp_path: Path) -> None:
    path = tmp_path / "pilot.yaml"
    path.write_text((REPO / "pilot.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    config = load_config(_with_schedule(path, "30 5 * * *", marketplace="0 6,18 * * *"))
    first = build_scheduler(config, str(path), sqlite_url)
    first.shutdown(wait=False)
    config = load_config(_with_schedule(path, "30 5 * * *"))  # the override is gone again
    second = build_scheduler(config, str(path), sqlite_url)
    try:
        jobs = {job.id: job for job in second.get_jobs()}
    finally:
        second.shutdown(wait=False)
    assert set(jobs) == {ALL_JOB, FLUSH_JOB}
    next_run = jobs[ALL_JOB].next_run_time.astimezone(config.tz)
    assert (next_run.hour, next_run.minute) == (5, 30)
    assert jobs[ALL_JOB].misfire_grace_time == config.schedule.misfire_grace_minutes * 60
    assert jobs[ALL_JOB].coalesce is True


def test_a_bad_cron_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="bad cron expression"):
        cron_trigger("61 6 * * *", "Europe/Moscow")
