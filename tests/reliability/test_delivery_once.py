"""Every notification once, and failure loud: Telegram answering late, a send timing out, a database write lock held
while a flush records "sent", `notify flush` killed with SIGKILL at each step of a send, and `run-daily` with the bot
token and the SMTP password both refused.

"At each step" is made certain, not timed: Telegram holding its answer (or getMe) keeps the flush in the send, a held
write lock keeps it between the journal and the commit, a one-message-per-two-seconds rate keeps it between sends.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.exc import OperationalError

import notify.outbox
from crawler.config import Config, load_config
from fixtures.pilot.scenario import TECHSNAB
from fixtures.sites import PilotSites
from fixtures.smtp import FakeSmtpServer
from fixtures.telegram_api import FakeTelegramApi
from notify.outbox import flush
from storage.engine import make_engine, session_scope
from storage.models import Outbox, OutboxStatus
from tests.support.reliability import (
    PRICEWATCH,
    child_env,
    load_pilot_catalog,
    pricewatch,
    quick_config,
    seed_pilot_days,
)

pytestmark = pytest.mark.slow

TOKEN = "555000333:AAH-reliability-once-token-aaaaaaaa"
CHAT = "100200300"  # pilot.yaml's channel-manager chat
REPEAT = "🔁 повтор · "


@pytest.fixture
def telegram() -> Iterator[FakeTelegramApi]:
    with FakeTelegramApi(token=TOKEN) as api:
        yield api


def telegram_env(api: FakeTelegramApi) -> dict[str, str]:
    return {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": api.url}


def pilot_day_one(db_url: str, tmp_path: Path, **notify: Any) -> Path:
    """pilot.yaml with the sent-journal under `tmp_path` and day 1's alerts queued (four Telegram messages)."""
    path = quick_config(tmp_path, notify={"journal_dir": str(tmp_path / "journal"), **notify})
    seed_pilot_days(db_url, load_config(path), [1])
    return path


def in_process(path: Path, api: FakeTelegramApi, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_API_URL", api.url)
    return load_config(path)


def later(hours: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)


def telegram_rows(engine: Engine) -> list[Outbox]:
    with session_scope(engine) as session:
        return list(session.scalars(select(Outbox).where(Outbox.channel == "telegram").order_by(Outbox.id)))


def accepted(api: FakeTelegramApi) -> Counter[str]:
    """How often Telegram accepted each text, with the "repeat" mark taken off."""
    return Counter(str(c.params["text"]).removeprefix(REPEAT) for c in api.messages)


def assert_once(engine: Engine, api: FakeTelegramApi) -> None:
    """Every Telegram row sent, and exactly one accepted message per row: none lost, none twice, none marked."""
    rows = telegram_rows(engine)
    assert rows
    assert {r.status for r in rows} == {OutboxStatus.SENT}
    assert set(accepted(api).values()) == {1}
    assert len(api.messages) == len(rows)
    assert not any(str(c.params["text"]).startswith(REPEAT) for c in api.messages)


def wait_until(what: str, done: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


def test_a_message_telegram_answers_after_7_s_is_delivered_once(
    sqlite_url: str, telegram: FakeTelegramApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = pilot_day_one(sqlite_url, tmp_path)
    config = in_process(path, telegram, monkeypatch)
    engine = make_engine(sqlite_url)
    telegram.answer_slowly(7, methods={"sendMessage"})  # accepted at once, answered 7 s later

    first = flush(engine, config)
    again = flush(engine, config, now=later(2))

    assert (first.sent, first.retried, again.sent) == (4, 0, 0)
    assert_once(engine, telegram)
    engine.dispose()


def test_a_send_that_timed_out_is_retried_and_the_repeat_carries_the_mark(
    sqlite_url: str, telegram: FakeTelegramApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = pilot_day_one(sqlite_url, tmp_path, telegram={"read_timeout": 1})
    config = in_process(path, telegram, monkeypatch)
    engine = make_engine(sqlite_url)
    telegram.answer_slowly(3, methods={"sendMessage"})  # accepted, but the answer comes after the timeout

    first = flush(engine, config)
    assert (first.sent, first.retried) == (0, 1)  # the chat's other messages wait behind it, in order
    assert [bool(r.payload.get("repeat")) for r in telegram_rows(engine)] == [True, False, False, False]
    assert flush(engine, config, now=later(1)).sent == 4

    texts = [str(c.params["text"]) for c in telegram.messages]
    assert len(texts) == 5
    assert texts[1] == REPEAT + texts[0]  # the true duplicate, recognisable as such
    assert not any(t.startswith(REPEAT) for t in texts[2:])
    assert set(accepted(telegram).values()) == {1, 2}
    engine.dispose()


class HeldLock:
    """Another process's SQLite write lock (`BEGIN IMMEDIATE`), taken once Telegram has a message, for `seconds`."""

    def __init__(self, db_file: str, api: FakeTelegramApi, seconds: float) -> None:
        self.db_file, self.api, self.seconds = db_file, api, seconds
        self.held = threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)
        self.thread.start()

    def _hold(self) -> None:
        wait_until("Telegram has the message", lambda: bool(self.api.messages))
        conn = sqlite3.connect(self.db_file, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        self.held.set()
        time.sleep(self.seconds)
        conn.execute("COMMIT")
        conn.close()


def short_busy_timeout(url: str) -> Engine:
    """An engine whose SQLite connections wait 0.3 s for a lock (instead of 30 s), so a lock held 3 s outlasts it."""
    engine = make_engine(url)

    @event.listens_for(engine, "connect")
    def _busy(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA busy_timeout=300")

    return engine


def test_a_write_lock_held_while_a_flush_records_sent_neither_fails_it_nor_sends_twice(
    sqlite_url: str, telegram: FakeTelegramApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = pilot_day_one(sqlite_url, tmp_path)
    config = in_process(path, telegram, monkeypatch)
    engine = short_busy_timeout(sqlite_url)
    telegram.answer_slowly(1, methods={"sendMessage"})
    lock = HeldLock(sqlite_url.removeprefix("sqlite:///"), telegram, seconds=3)

    report = flush(engine, config)  # recording the first "sent" meets the lock and waits it out

    assert lock.held.is_set()
    assert report.sent == 4
    assert flush(engine, config, now=later(2)).sent == 0
    assert_once(engine, telegram)
    engine.dispose()


def test_a_lock_held_past_the_record_wait_leaves_the_truth_in_the_journal_for_the_next_flush(
    sqlite_url: str, telegram: FakeTelegramApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = pilot_day_one(sqlite_url, tmp_path)
    config = in_process(path, telegram, monkeypatch)
    monkeypatch.setattr(notify.outbox, "RECORD_WAIT", dt.timedelta(seconds=0.5))
    engine = short_busy_timeout(sqlite_url)
    telegram.answer_slowly(1, methods={"sendMessage"})
    lock = HeldLock(sqlite_url.removeprefix("sqlite:///"), telegram, seconds=10)

    with pytest.raises(OperationalError, match="locked"):
        flush(engine, config)  # every message went; none could be recorded, nor the journal reconciled after
    lock.thread.join(15)
    assert len(telegram.messages) == 4
    assert {r.status for r in telegram_rows(engine)} == {OutboxStatus.SENDING}
    assert list((tmp_path / "journal").glob("sent-*.jsonl"))  # the truth is on disk

    assert flush(engine, config).sent == 0  # the journal first: what was accepted is recorded, not sent again
    assert_once(engine, telegram)
    assert not list((tmp_path / "journal").glob("sent-*.jsonl"))  # and compacted
    engine.dispose()


# -- kill -9 at every step of a send --------------------------------------------------------------------------
def start_flush(config: Path, db_url: str, api: FakeTelegramApi) -> subprocess.Popen[bytes]:
    """`pricewatch notify flush` in a session of its own, so that one SIGKILL takes it whole."""
    return subprocess.Popen(
        [str(PRICEWATCH), "notify", "flush", "--config", str(config), "--db", db_url],
        env=child_env(telegram_env(api)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def kill_9(proc: subprocess.Popen[bytes]) -> None:
    assert proc.poll() is None, "the flush ended before it could be killed part-way"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)


def sent_count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).where(Outbox.status == OutboxStatus.SENT)) or 0


def journal_says_sent(folder: Path) -> bool:
    return any('"kind":"sent"' in p.read_text(encoding="utf-8") for p in folder.glob("sent-*.jsonl"))


class WriteLock:
    """Another connection's write lock on the outbox: SQLite `BEGIN IMMEDIATE`, PostgreSQL `LOCK TABLE`."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.conn: Any = None

    def take(self) -> None:
        if self.db_url.startswith("sqlite:///"):
            self.conn = sqlite3.connect(self.db_url.removeprefix("sqlite:///"), isolation_level=None)
            self.conn.execute("BEGIN IMMEDIATE")
        else:
            self.conn = psycopg.connect(self.db_url.replace("postgresql+psycopg://", "postgresql://", 1))
            self.conn.execute("LOCK TABLE outbox IN EXCLUSIVE MODE")

    def release(self) -> None:
        if self.conn is not None:
            if isinstance(self.conn, sqlite3.Connection):
                self.conn.execute("ROLLBACK")
            else:
                self.conn.rollback()
            self.conn.close()


@dataclass(frozen=True)
class Step:
    """Where a flush is killed: how Telegram holds it there, and what the test waits for before the kill."""

    name: str
    held: tuple[str, float] | None  # (method, seconds) Telegram answers late, to keep the flush in the send
    rate: float | None = None  # messages a second, to keep the flush between two sends
    accepted_before_kill: int = 1
    repeated: int = 0  # messages that may have arrived unheard: sent again, with the mark


STEPS = [
    Step("before the send", ("getMe", 60), accepted_before_kill=0),  # claimed and committed, stuck before sending
    Step("while Telegram holds its answer", ("sendMessage", 60), repeated=1),
    Step("after the journal, before the commit", ("sendMessage", 2)),
    Step("after the commit", None, rate=0.5),
]


def reach(step: Step, api: FakeTelegramApi, engine: Engine, lock: WriteLock, journal: Path) -> None:
    """Wait until the flush is at `step`."""
    if step.name == "before the send":
        wait_until("the flush waits for getMe", lambda: bool(api.calls_to("getMe")))
    elif step.name == "after the commit":
        wait_until("the first message is recorded sent", lambda: sent_count(engine) == 1)
    else:
        wait_until("Telegram has the first message", lambda: bool(api.messages))
    if step.name == "after the journal, before the commit":
        lock.take()
        wait_until("the acceptance is journaled", lambda: journal_says_sent(journal))
        time.sleep(0.3)  # the flush now waits for the lock to record it


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
@pytest.mark.parametrize("step", STEPS, ids=[s.name for s in STEPS])
def test_a_flush_killed_at_any_step_of_a_send_loses_nothing_and_repeats_only_what_may_have_arrived_unheard(
    step: Step, db_url: str, telegram: FakeTelegramApi, tmp_path: Path
) -> None:
    path = pilot_day_one(db_url, tmp_path, telegram={"rate_per_second": step.rate} if step.rate else {})
    engine = make_engine(db_url)
    lock = WriteLock(db_url)
    if step.held is not None:
        telegram.answer_slowly(step.held[1], methods={step.held[0]})
    proc = start_flush(path, db_url, telegram)
    try:
        reach(step, telegram, engine, lock, tmp_path / "journal")
        kill_9(proc)
    finally:
        lock.release()
    telegram.recover()
    assert len(telegram.messages) == step.accepted_before_kill

    again = pricewatch("notify", "flush", "--config", str(path), "--db", db_url, env=telegram_env(telegram))
    assert again.code == 0, again.err

    assert {r.status for r in telegram_rows(engine)} == {OutboxStatus.SENT}
    texts = [str(c.params["text"]) for c in telegram.messages]
    marked = [t for t in texts if t.startswith(REPEAT)]
    assert marked == [REPEAT + texts[0]] * step.repeated  # only the send whose answer never came, and marked
    rows = len(telegram_rows(engine))
    assert Counter(accepted(telegram).values()) == +Counter({1: rows - step.repeated, 2: step.repeated})
    assert not list((tmp_path / "journal").glob("sent-*.jsonl"))
    engine.dispose()


# -- failure is loud ------------------------------------------------------------------------------------------
def test_run_daily_with_the_bot_token_and_the_smtp_password_refused_exits_non_zero_naming_both_routes(
    sqlite_url: str, pilot: PilotSites, tmp_path: Path
) -> None:
    path = quick_config(tmp_path, enabled=[TECHSNAB], notify={"journal_dir": str(tmp_path / "journal")})
    load_pilot_catalog(sqlite_url)
    with (
        FakeTelegramApi(token="5550009:another-bots-token-aaaaaaaaaaaaaaa") as stranger,
        FakeSmtpServer(credentials=("pricewatch", "the-right-password")) as smtp,
    ):
        env = {
            **pilot.env(),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": stranger.url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp.port),
            "SMTP_SECURITY": "none",
            "SMTP_USER": "pricewatch",
            "SMTP_PASSWORD": "a-wrong-password-0042",
        }
        daily = pricewatch("run-daily", "--config", str(path), "--db", sqlite_url, env=env)
        assert smtp.messages == []
    assert daily.code == 1, daily.out + daily.err
    headline = daily.out.strip().splitlines()[-1]
    assert "— ok" not in headline
    assert "delivery refused: telegram → 100200300: InvalidToken" in headline
    assert "delivery refused: email → " in headline
    assert "SMTPAuthenticationError: (535" in headline
    assert TOKEN not in daily.out + daily.err
    engine = make_engine(sqlite_url)
    with session_scope(engine) as session:
        rows = list(session.scalars(select(Outbox)))
    assert {r.status for r in rows} == {OutboxStatus.PENDING}  # nothing given up: they go once it is fixed
    # The admin's alerts: Telegram's refusal by email, SMTP's in the admin chat; both wait with the rest.
    admin = {(r.channel, r.payload["details"]["channel"]) for r in rows if r.payload["rule"] == "delivery"}
    assert admin == {("email", "telegram"), ("telegram", "email")}
    engine.dispose()
