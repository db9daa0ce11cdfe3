"""kill -9 part-way through a crawl, a rules run and a delivery (real processes of the console script): the next run
completes, the database is consistent, no alert is lost and none reaches its chat twice.

"Part-way" is made certain, not timed: a product page that answers after a minute holds the crawl open, a table
lock holds the rules run inside its transaction, and a one-message-per-two-seconds rate holds the delivery between
two sends.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, func, select, text

from crawler.config import load_config
from crawler.items import Health
from fixtures.pilot import scenario
from fixtures.pilot.scenario import KLIMATPROF, TECHSNAB
from fixtures.sites import PilotSites
from fixtures.sites.modes import Mode
from fixtures.telegram_api import FakeTelegramApi
from storage.engine import make_engine, session_scope
from storage.models import CrawlRun, Distributor, Observation, Outbox, OutboxStatus, RunStatus
from tests.support.reliability import (
    PRICEWATCH,
    AlertKey,
    child_env,
    events_of,
    load_pilot_catalog,
    open_alerts,
    pricewatch,
    quick_config,
    seed_pilot_days,
    table_counts,
)

pytestmark = pytest.mark.slow

TOKEN = "555000111:AAH-reliability-kill-token-aaaaaaa"
CHAT = "100200300"  # pilot.yaml's channel-manager chat


@pytest.fixture
def telegram() -> Iterator[FakeTelegramApi]:
    with FakeTelegramApi(token=TOKEN) as api:
        yield api


def telegram_env(api: FakeTelegramApi) -> dict[str, str]:
    return {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": api.url}


def start(*args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """The console script in a session of its own, so that one SIGKILL takes it and every process it started."""
    return subprocess.Popen(
        [str(PRICEWATCH), *args],
        env=child_env(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def kill_9(proc: subprocess.Popen[bytes]) -> None:
    assert proc.poll() is None, "the process ended before it could be killed part-way"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)


def wait_until(what: str, done: Callable[[], bool], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


def delivered_once(engine: Engine, api: FakeTelegramApi) -> None:
    """Every Telegram row of the outbox is sent, and the API accepted exactly one message per row: none lost or
    twice (an alert's text names its subject and event, so two rows never share a text)."""
    with session_scope(engine) as session:
        rows = list(session.scalars(select(Outbox).where(Outbox.channel == "telegram")))
    assert rows
    assert {r.status for r in rows} == {OutboxStatus.SENT}
    accepted = Counter((str(c.params["chat_id"]), c.params["text"]) for c in api.messages)
    assert max(accepted.values()) == 1
    assert sum(accepted.values()) == len(rows)


def test_a_killed_crawl_then_run_daily_raises_the_days_alerts_and_sends_each_once(
    sqlite_url: str, pilot: PilotSites, telegram: FakeTelegramApi, tmp_path: Path
) -> None:
    config = str(quick_config(tmp_path, enabled=[TECHSNAB, KLIMATPROF], timeout=30))
    env = {**pilot.env(), **telegram_env(telegram)}
    load_pilot_catalog(sqlite_url)
    first = pricewatch("run-daily", "--config", config, "--db", sqlite_url, env=env)
    assert first.code == 0, first.err
    engine = make_engine(sqlite_url)
    with session_scope(engine) as session:
        day_one = session.scalar(select(func.max(CrawlRun.id)))

    # Day 2: klimatprof is crawled to the end, techsnab hangs on one page and the whole job is killed.
    pilot.set_day(2)
    pilot.set_mode(TECHSNAB, Mode.SLOW, path=scenario.offer_for(TECHSNAB, "TL-4003", day=2).path, delay=60)

    def state() -> dict[str, tuple[RunStatus, int]]:
        with session_scope(engine) as session:
            rows = session.execute(
                select(Distributor.code, CrawlRun.status, func.count(Observation.id))
                .join(Distributor, Distributor.id == CrawlRun.distributor_id)
                .outerjoin(Observation, Observation.crawl_run_id == CrawlRun.id)
                .where(CrawlRun.id > day_one)
                .group_by(CrawlRun.id, Distributor.code, CrawlRun.status)
            ).all()
        return {code: (status, n) for code, status, n in rows}

    job = start("crawl", "--config", config, "--db", sqlite_url, env=env)
    wait_until(
        "klimatprof is stored and techsnab is part-way",
        lambda: (
            (s := state()).get(KLIMATPROF, (None, 0))[0] == RunStatus.FINISHED and s.get(TECHSNAB, (None, 0))[1] >= 20
        ),
    )
    kill_9(job)
    killed = state()[TECHSNAB]
    assert killed[0] == RunStatus.RUNNING
    assert killed[1] < len(scenario.offers(TECHSNAB, 2))

    pilot.set_mode(TECHSNAB, Mode.NORMAL)
    second = pricewatch("run-daily", "--config", config, "--db", sqlite_url, "--format", "json", env=env)
    assert second.code == 0, second.err

    with session_scope(engine) as session:
        runs = {r.id: r for r in session.scalars(select(CrawlRun))}
        rules_run_id = session.scalar(text("SELECT max(id) FROM rules_runs"))
    dead = [r for r in runs.values() if r.status == RunStatus.FAILED]
    assert len(dead) == 1
    assert (dead[0].health, dead[0].offers) == (Health.FAILED, 0)
    assert "died" in (dead[0].health_reason or "")
    with engine.connect() as conn:
        visible_runs = set(
            conn.execute(
                text(
                    "SELECT DISTINCT o.crawl_run_id FROM v_latest_offers v JOIN observations o "
                    "ON o.listing_id = v.listing_id AND o.observed_at = v.observed_at"
                )
            ).scalars()
        )
    assert dead[0].id not in visible_runs  # its stored batches are kept but never read as the latest offers
    # Nothing of day 2 is lost (klimatprof's price move compares with day 1, not with the killed job's crawl),
    # and nothing is raised twice.
    expected = {
        (AlertKey(e.rule, e.distributor, e.vendor_code, e.seller), e.event.value)
        for e in scenario.expected_alerts(2)
        if e.distributor in (TECHSNAB, KLIMATPROF)
    }
    assert events_of(engine, rules_run_id) == expected
    delivered_once(engine, telegram)
    engine.dispose()


def test_a_run_daily_killed_between_its_crawls_and_its_rules_loses_no_change(db_url: str, tmp_path: Path) -> None:
    """Day 2 is crawled twice and only the second crawl is evaluated: the rules compare it with day 1, the last crawl
    they saw, so day 2's stock-outs and price move are raised, not hidden behind the crawl nobody evaluated."""
    config = load_config(quick_config(tmp_path))
    seed_pilot_days(db_url, config, [1])
    seed_pilot_days(db_url, config, [2], rules=False)  # the killed run's crawls
    rules_run_id = seed_pilot_days(db_url, config, [2])
    engine = make_engine(db_url)
    expected = {
        (AlertKey(e.rule, e.distributor, e.vendor_code, e.seller), e.event.value) for e in scenario.expected_alerts(2)
    }
    assert events_of(engine, rules_run_id) == expected
    engine.dispose()


def _pg_dsn(db_url: str) -> str:
    return db_url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_rules_run_killed_inside_its_transaction_leaves_nothing_and_the_next_opens_each_alert_once(
    db_url: str, telegram: FakeTelegramApi, tmp_path: Path
) -> None:
    config = str(quick_config(tmp_path))
    env = telegram_env(telegram)
    # Day 1's crawls stored, but the rules never ran over them.
    seed_pilot_days(db_url, load_config(config), [1], rules=False)
    engine = make_engine(db_url)
    before = table_counts(engine)

    blocker = psycopg.connect(_pg_dsn(db_url))
    watcher = psycopg.connect(_pg_dsn(db_url), autocommit=True)
    blocker.execute("LOCK TABLE outbox IN EXCLUSIVE MODE")  # queueing the first message waits for this
    try:
        rules = start("rules", "run", "--config", config, "--db", db_url, env=env)

        def queueing() -> bool:
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO outbox%'"
            ).fetchone()
            return bool(waiting and waiting[0])

        wait_until("the rules run has written its alerts and waits to queue their messages", queueing)
        kill_9(rules)
    finally:
        blocker.rollback()
        blocker.close()
        watcher.close()

    assert table_counts(engine) == before  # no alert, event, rules run or message of the killed run
    again = pricewatch("rules", "run", "--config", config, "--db", db_url, env=env)
    assert again.code == 0, again.err
    assert open_alerts(engine) == {
        AlertKey(e.rule, e.distributor, e.vendor_code, e.seller) for e in scenario.expected_alerts(1)
    }
    flushed = pricewatch("notify", "flush", "--config", config, "--db", db_url, env=env)
    assert flushed.code == 0, flushed.err
    delivered_once(engine, telegram)
    engine.dispose()


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_a_flush_killed_between_two_sends_then_the_next_sends_the_rest_once(
    db_url: str, telegram: FakeTelegramApi, tmp_path: Path
) -> None:
    config = quick_config(tmp_path)
    slow = quick_config(tmp_path, notify={"telegram": {"rate_per_second": 0.5}}, name="slow.yaml")
    seed_pilot_days(db_url, load_config(config), [1, 2])
    env = telegram_env(telegram)
    engine = make_engine(db_url)

    def sent() -> int:
        with session_scope(engine) as session:
            return session.scalar(select(func.count()).where(Outbox.status == OutboxStatus.SENT)) or 0

    flush = start("notify", "flush", "--config", str(slow), "--db", db_url, env=env)
    # The third message is recorded as sent; the next one may go only two seconds after it.
    wait_until("three messages are delivered and recorded", lambda: sent() == 3)
    kill_9(flush)
    assert len(telegram.messages) == 3

    again = pricewatch("notify", "flush", "--config", str(config), "--db", db_url, env=env)
    assert again.code == 0, again.err
    delivered_once(engine, telegram)
    engine.dispose()
