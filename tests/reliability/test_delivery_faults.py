"""`run-daily` while Telegram answers a 429 storm and the mail server refuses, then drops, the connection: nothing is
lost, and after recovery every alert reaches its chat once and every recipient one digest; the scheduler delivers
what failed as soon as it falls due, not at the next morning's run.

The single-fault cases (Telegram down, 429 with retry_after, dropped connections, SMTP down, a refused recipient,
leases, concurrent flushes) are in tests/notify; this is the daily flow meeting them in a row.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

import scheduler
from crawler.config import load_config, parse_config
from fixtures.pilot.scenario import TECHSNAB
from fixtures.sites import PilotSites
from fixtures.smtp import FakeSmtpServer, free_port
from fixtures.telegram_api import FakeTelegramApi
from notify.outbox import flush
from storage.engine import make_engine, session_scope
from storage.models import Outbox, OutboxStatus
from tests.support.reliability import load_pilot_catalog, pricewatch, quick_config, seed_pilot_days

pytestmark = pytest.mark.slow

TOKEN = "555000222:AAH-reliability-delivery-token-aaaa"
CHAT = "100200300"
SALES = "sales@termoline.example"


class BadSmtp:
    """A mail server that misbehaves on every connection: `greeting` (e.g. a 421 refusal) and then hangs up,
    or with `greeting` 220 hangs up after the client's first command."""

    def __init__(self, port: int, greeting: str) -> None:
        self.greeting = greeting
        self.connections = 0
        self._server = socket.create_server(("127.0.0.1", port))
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return  # closed
            self.connections += 1
            with conn:
                conn.sendall(f"{self.greeting}\r\n".encode())
                if self.greeting.startswith("220"):
                    conn.recv(1024)  # EHLO, never answered

    def close(self) -> None:
        self._server.shutdown(socket.SHUT_RDWR)  # wakes the accept() under way; close() alone would not
        self._server.close()
        self._thread.join(5)


@pytest.fixture
def telegram() -> Iterator[FakeTelegramApi]:
    with FakeTelegramApi(token=TOKEN) as api:
        yield api


def later(hours: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)


def test_run_daily_through_a_429_storm_and_a_refusing_then_dropping_mail_server_delivers_everything_once(
    sqlite_url: str, pilot: PilotSites, telegram: FakeTelegramApi, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **pilot.env(),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": telegram.url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_SECURITY": "none",
    }
    config_path = quick_config(tmp_path, enabled=[TECHSNAB])
    config = parse_config(config_path.read_text(encoding="utf-8"), str(config_path), env=env)
    load_pilot_catalog(sqlite_url)
    engine = make_engine(sqlite_url)

    telegram.fail_next("429", times=None, retry_after=5, methods={"sendMessage"})
    refusing = BadSmtp(port, "421 4.3.2 Service not available, closing transmission channel")
    try:
        daily = pricewatch("run-daily", "--config", str(config_path), "--db", sqlite_url, "--format", "json", env=env)
    finally:
        refusing.close()
    assert daily.code == 0, daily.err
    deliver = next(s for s in json.loads(daily.out)["steps"] if s["name"] == "deliver")
    assert deliver["ok"]
    assert "0 sent" in deliver["detail"]
    assert telegram.messages == []
    assert refusing.connections >= 1

    # An hour later Telegram is down and the mail server hangs up mid-conversation.
    telegram.recover()
    telegram.fail_next("500", times=None, methods={"sendMessage"})
    dropping = BadSmtp(port, "220 mx.termoline.example ESMTP")
    try:
        assert flush(engine, config, digest=True, now=later(1)).sent == 0
    finally:
        dropping.close()
    assert dropping.connections >= 1
    with session_scope(engine) as session:
        rows = list(session.scalars(select(Outbox)))
    assert {r.status for r in rows} == {OutboxStatus.PENDING}  # waiting, none given up
    assert {r.channel for r in rows if r.last_error} == {"telegram", "email"}  # both were tried and failed

    # Two hours later both are back.
    telegram.recover()
    with FakeSmtpServer(port=port) as smtp:
        report = flush(engine, config, digest=True, now=later(2))
        again = flush(engine, config, digest=True, now=later(3))
        received = smtp.received
    assert report.dead == 0
    assert again.sent == 0
    with session_scope(engine) as session:
        rows = list(session.scalars(select(Outbox)))
    assert {r.status for r in rows} == {OutboxStatus.SENT}
    chats = Counter((str(c.params["chat_id"]), c.params["text"]) for c in telegram.messages)
    assert set(chats.values()) == {1}
    assert len(chats) == len([r for r in rows if r.channel == "telegram"]) == 2  # TL-1003 dumping, TL-3002 low stock
    assert {chat for chat, _ in chats} == {CHAT}
    assert [m.rcpt_tos for m in received] == [[SALES]]  # the day's one digest
    engine.dispose()


def test_the_scheduler_delivers_what_failed_in_the_morning_once_telegram_is_back(
    sqlite_url: str, telegram: FakeTelegramApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_API_URL", telegram.url)
    config_path = quick_config(tmp_path)
    config = load_config(config_path)
    seed_pilot_days(sqlite_url, config, [1])
    engine = make_engine(sqlite_url)
    telegram.fail_next("429", times=None, retry_after=1, methods={"sendMessage"})
    assert flush(engine, config).sent == 0  # the morning run's delivery meets flood control
    telegram.recover()

    monkeypatch.setattr(scheduler, "FLUSH_EVERY", dt.timedelta(seconds=1))
    daemon = scheduler.build_scheduler(config, str(config_path), sqlite_url)
    daemon.resume()
    try:
        with session_scope(engine) as session:
            rows = list(session.scalars(select(Outbox).where(Outbox.channel == "telegram")))
        telegram.wait_for("sendMessage", count=len(rows), timeout=30)
    finally:
        daemon.shutdown(wait=True)
    with session_scope(engine) as session:
        assert {r.status for r in session.scalars(select(Outbox).where(Outbox.channel == "telegram"))} == {
            OutboxStatus.SENT
        }
    chats = Counter((str(c.params["chat_id"]), c.params["text"]) for c in telegram.messages)
    assert len(chats) == len(rows) == 4  # day 1: two dumpings, parallel import, low stock
    assert set(chats.values()) == {1}
    engine.dispose()
