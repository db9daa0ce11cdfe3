"""What goes wrong on Scrapyd hosts: one down (its crawls go to another), all down (every crawl fails, saying why),
a crawl past its time limit (cancelled, failed), and a database password that must not travel with a job."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from crawler.config import Config
from crawler.errors import UserError
from fixtures.sites import Mode, PilotSites
from pricewatch.crawls.scrapyd import job_parameters, run_crawls_on_scrapyd
from storage.engine import make_engine, session_scope
from storage.models import CrawlRun, RunStatus
from tests.support.scrapyd import PILOT_YAML, SENDS_ALL, Pair, closed_port_url, host_a, host_b


@pytest.mark.postgres
def test_a_host_that_does_not_answer_is_passed_over(scrapyd_pair: Pair, scrapyd_config: Callable[..., Config]) -> None:
    down = closed_port_url()
    config = scrapyd_config([{"url": down}, host_b(scrapyd_pair)])

    [summary] = run_crawls_on_scrapyd(config, ["techsnab"], db_url=scrapyd_pair.db_url, limit=2, poll_seconds=0.5)

    assert (summary.status, summary.reason) == ("finished", "finished")
    assert summary.offers > 0
    assert summary.log_path is not None
    assert summary.log_path.startswith(f"{scrapyd_pair.b.url}/logs/pricewatch/shop/")
    assert summary.run_key in {job["id"] for job in scrapyd_pair.b.jobs()["finished"]}


@pytest.mark.postgres
def test_a_crawl_that_stored_its_run_elsewhere_is_reported_failed(
    scrapyd_pair: Pair, scrapyd_config: Callable[..., Config]
) -> None:
    # Host b has no DATABASE_URL of its own: without the URL in the job its crawl writes to a local SQLite file.
    config = scrapyd_config([{"url": scrapyd_pair.b.url, "config": str(PILOT_YAML)}])

    [summary] = run_crawls_on_scrapyd(config, ["techsnab"], db_url=scrapyd_pair.db_url, limit=1, poll_seconds=0.5)

    assert summary.status == "failed"
    assert summary.reason is not None
    assert summary.reason.startswith(
        f"the job on {scrapyd_pair.b.url} ended without a crawl run in {scrapyd_pair.db_url}: do the host's crawls "
        "write there (its DATABASE_URL) and read the same config? (log: "
    )
    assert summary.log_path is not None
    assert summary.log_path.startswith(f"{scrapyd_pair.b.url}/logs/pricewatch/shop/techsnab-")


def test_with_every_host_down_every_crawl_fails_saying_why(
    scrapyd_config: Callable[..., Config], sqlite_url: str
) -> None:
    first, second = closed_port_url(), closed_port_url()
    config = scrapyd_config([{"url": first}, {"url": second}])

    summaries = run_crawls_on_scrapyd(config, db_url=sqlite_url)

    assert [(s.distributor, s.status) for s in summaries] == [
        ("techsnab", "failed"),
        ("klimatprof", "failed"),
        ("marketplace", "failed"),
        ("vitrina", "failed"),
    ]
    for summary in summaries:
        assert summary.reason is not None
        assert summary.reason.startswith("no Scrapyd host took the crawl: ")
        assert f"{first}: unreachable" in summary.reason
        assert f"{second}: unreachable" in summary.reason


@pytest.mark.postgres
def test_a_crawl_past_its_time_limit_is_cancelled_and_reported_failed(
    scrapyd_pair: Pair, scrapyd_config: Callable[..., Config], pilot: PilotSites
) -> None:
    pilot.set_mode("techsnab", Mode.SLOW, delay=6)  # every page: the crawl cannot end within the limit
    config = scrapyd_config([host_a(scrapyd_pair)])

    [summary] = run_crawls_on_scrapyd(config, ["techsnab"], db_url=scrapyd_pair.db_url, time_limit=4, poll_seconds=0.5)

    assert summary.status == "failed"
    assert summary.reason == f"cancelled on {scrapyd_pair.a.url}: still running after the time limit of 4 s"
    jobs = scrapyd_pair.a.jobs()
    assert summary.run_key in {job["id"] for job in jobs["finished"]}
    assert summary.run_key not in {job["id"] for job in jobs["running"]}
    engine = make_engine(scrapyd_pair.db_url)
    with session_scope(engine) as session:
        runs = list(session.scalars(select(CrawlRun.status).where(CrawlRun.run_key == summary.run_key)))
    engine.dispose()
    # Never visible to the rules: failed, or never stored when the cancel came while the crawl was starting.
    assert runs in ([], [RunStatus.FAILED])


def test_the_database_password_never_travels_with_a_job(scrapyd_config: Callable[..., Config]) -> None:
    config = scrapyd_config([{"url": "http://crawl-1:6800"}, {"url": "http://crawl-2:6800", "database": "job"}])
    secret_url = "postgresql+psycopg://pricewatch:hunter2@db.internal/pricewatch"

    with pytest.raises(UserError) as refused:
        run_crawls_on_scrapyd(config, db_url=secret_url)

    assert str(refused.value).startswith("crawl.scrapyd[1].database: `job` would hand the database password")
    assert "hunter2" not in str(refused.value)


def test_a_job_carries_what_a_local_crawl_process_gets_less_what_the_host_knows(
    scrapyd_config: Callable[..., Config],
) -> None:
    own, sent = scrapyd_config(
        [{"url": "http://crawl-1:6800"}, {"url": "http://crawl-2:6800", **SENDS_ALL}]
    ).crawl.scrapyd
    job = {"distributor": "techsnab", "run_key": "techsnab-1", "db_url": "postgresql://db/pw", "limit": 5}

    from_environment = dict(p.split("=", 1) for p in job_parameters(own, **job, daily_run_id=None))
    with_job = dict(p.split("=", 1) for p in job_parameters(sent, **job, daily_run_id=7))

    # The store pipelines are the project's own (crawler.settings); only the job's part travels.
    assert from_environment == {
        "PRICEWATCH_DISTRIBUTOR": "techsnab",
        "PRICEWATCH_LIMIT": "5",
        "PRICEWATCH_RUN_KEY": "techsnab-1",
        "PRICEWATCH_STORE": "True",
    }
    assert with_job == {
        **from_environment,
        "PRICEWATCH_CONFIG": str(PILOT_YAML),
        "PRICEWATCH_DB_URL": "postgresql://db/pw",
        "PRICEWATCH_DAILY_RUN_ID": "7",
    }
