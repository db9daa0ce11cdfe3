"""`run-daily` end to end on the pilot sites: the expected alerts, each delivered once; one run at a time."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler.config import load_config
from fixtures.pilot.expected import EventKey, pilot_events
from fixtures.pilot.scenario import DAYS
from fixtures.sites import PilotSites
from fixtures.smtp import FakeSmtpServer
from fixtures.telegram_api import FakeTelegramApi
from pricewatch.daily import EXIT_BUSY, EXIT_OK, run_daily
from storage.catalog_import import import_catalog
from storage.engine import make_engine, session_scope
from storage.models import Alert, AlertEvent, DailyRun, Outbox, OutboxStatus
from tests.support.services import REPO

PILOT_CHAT = "100200300"
RRP_FROM = dt.date(2026, 1, 1)
TOKEN = "424242:daily-run-test-token-aaaaaaaaaaaa"


def _events(db_url: str, rules_run_id: int | None) -> Counter[EventKey]:
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        rows = session.execute(
            select(Alert, AlertEvent.kind)
            .join(Alert, Alert.id == AlertEvent.alert_id)
            .where(AlertEvent.rules_run_id == rules_run_id)
        ).tuples()
        found = Counter(
            (
                a.rule,
                a.details.get("distributor_code") or a.details.get("marketplace"),
                a.details.get("vendor_code"),
                a.details.get("seller_code"),
                kind.value,
            )
            for a, kind in rows
        )
    engine.dispose()
    return found


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_pilot_days_open_and_resolve_the_expected_alerts_and_deliver_each_once(
    db_url: str, pilot_env: PilotSites, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeTelegramApi(token=TOKEN) as telegram, FakeSmtpServer() as smtp:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("TELEGRAM_API_URL", telegram.url)
        monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SMTP_PORT", str(smtp.port))
        monkeypatch.setenv("SMTP_SECURITY", "none")
        config_path = str(REPO / "pilot.yaml")
        config = load_config(config_path)
        engine = make_engine(db_url)
        with session_scope(engine) as session:
            import_catalog(session, REPO / "fixtures/pilot/price_list.csv", valid_from=RRP_FROM)

        for day in DAYS:
            pilot_env.set_day(day)
            result = run_daily(config, config_path, db_url)
            assert result.exit_code == EXIT_OK, result.failures
            assert _events(db_url, result.rules_run_id) == pilot_events(day)

        with session_scope(engine) as session:
            rows = list(session.scalars(select(Outbox)))
        assert rows
        assert all(r.status == OutboxStatus.SENT for r in rows)
        telegram_rows = [r for r in rows if r.channel == "telegram"]
        sent = telegram.calls_to("sendMessage")
        assert len(sent) == len(telegram_rows)  # one message per queued (event, chat): none twice, none lost
        texts = Counter((str(c.params["chat_id"]), c.params["text"]) for c in sent)
        assert max(texts.values()) == 1
        assert {str(c.params["chat_id"]) for c in sent} == {PILOT_CHAT}
        # Two digests (one per run) and the instant critical-dumping mail, each exactly once.
        message_ids = Counter(m["Message-ID"] for m in smtp.messages)
        assert max(message_ids.values()) == 1
        assert len([r for r in rows if r.channel == "email"]) >= len(smtp.messages) >= 3

        # Nothing new happened: a third flush sends nothing.
        from notify.outbox import flush

        assert flush(engine, config, digest=True).sent == 0
        assert len(telegram.calls_to("sendMessage")) == len(sent)
        engine.dispose()


def _run_daily_process(config: Path, db_url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pricewatch.cli",
            "run-daily",
            "--config",
            str(config),
            "--db",
            db_url,
            "--format",
            "json",
        ],
        cwd=REPO,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_run_daily_started_together_make_one_runs_alerts(
    db_url: str, pilot_env: PilotSites, one_shop_config: Path
) -> None:
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        import_catalog(session, REPO / "fixtures/pilot/price_list.csv", valid_from=RRP_FROM)
    procs = [_run_daily_process(one_shop_config, db_url) for _ in range(2)]
    outcomes = [p.communicate(timeout=240) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [EXIT_OK, EXIT_BUSY], outcomes
    busy = next(err for p, (_, err) in zip(procs, outcomes, strict=True) if p.returncode == EXIT_BUSY)
    assert "another run-daily holds the lock" in busy
    winner = next(out for p, (out, _) in zip(procs, outcomes, strict=True) if p.returncode == EXIT_OK)
    assert json.loads(winner)["exit_code"] == EXIT_OK

    with session_scope(engine) as session:
        runs = list(session.scalars(select(DailyRun)))
        fingerprints = Counter(session.scalars(select(Alert.fingerprint)))
        opened = session.scalars(select(AlertEvent.kind)).all()
    assert [r.status for r in runs] == ["ok"]
    assert fingerprints
    assert max(fingerprints.values()) == 1
    assert len(opened) == len(fingerprints)  # one 'opened' event per alert, nothing twice
    engine.dispose()


def test_a_run_that_died_is_taken_over_by_the_next(
    sqlite_url: str, pilot_env: PilotSites, one_shop_config: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(sqlite_url)
    with session_scope(engine) as session:
        session.add(DailyRun(status="running", host="gone", pid=999999))
    with caplog.at_level(logging.INFO, logger="pricewatch.daily"):
        result = run_daily(load_config(one_shop_config), str(one_shop_config), sqlite_url)
    assert result.exit_code == EXIT_OK, result.failures
    # The takeover is worth a warning; the run that then did all it should is not.
    levels = {r.getMessage().split(";")[0]: r.levelname for r in caplog.records if r.name == "pricewatch.daily"}
    assert [level for message, level in levels.items() if message.startswith("run-daily")] == ["INFO"]
    assert "WARNING" in [level for message, level in levels.items() if "had died" in message]
    with session_scope(engine) as session:
        statuses = [r.status for r in session.scalars(select(DailyRun).order_by(DailyRun.id))]
    assert statuses == ["failed", "ok"]
    engine.dispose()
