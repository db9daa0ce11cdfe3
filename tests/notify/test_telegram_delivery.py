"""Flushing the outbox to Telegram through the fake Bot API: content, retries, outages, leases, concurrency."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import Engine

import notify.outbox
from fixtures.telegram_api import FakeTelegramApi
from notify.outbox import flush
from notify.ratelimit import TelegramRateLimiter
from storage.engine import session_scope
from storage.models import EventKind, OutboxStatus
from storage.queries import outbox as q

A, B, C = "1001", "1002", "-1003"


def fast() -> TelegramRateLimiter:
    """Limits far above what a test sends, so tests do not wait a second per message to one chat."""
    return TelegramRateLimiter(global_rate=1000, per_chat_rate=1000)


def later(seconds: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)


def sent_pairs(api: FakeTelegramApi) -> Counter[tuple[str, str]]:
    """How often each (chat, text) was accepted by the API."""
    return Counter((str(c.params["chat_id"]), c.params["text"]) for c in api.messages)


def test_alerts_arrive_once_with_escaped_html_and_feedback_buttons(
    engine: Engine, telegram_api: FakeTelegramApi, make_config: Any, queue: Any, outbox_rows: Any
) -> None:
    config = make_config([{"name": "all", "telegram": [A, B]}], telegram_url=telegram_api.url)
    alert_id, _ = queue(engine, config, severity="critical")
    queue(engine, config, kind=EventKind.RESOLVED)

    report = flush(engine, config, limiter=fast())

    assert (report.sent, report.retried, report.dead) == (4, 0, 0)
    to_a = [c for c in telegram_api.messages if c.params["chat_id"] == A]
    assert len(to_a) == 2
    opened, resolved = to_a
    assert opened.params["parse_mode"] == "HTML"
    text = opened.params["text"]
    assert text.startswith("🔴 <b>Демпинг</b> · новое · критично")
    assert "<b>Обогреватель &lt;Termoline&gt; TL-1001 &amp; &#34;Comfort&#34; (TL-1001)</b>" in text
    assert "Продавец: ТехСнаб &lt;Москва&gt; &amp; Co · ТехСнаб" in text
    assert "Цена: 10 990 ₽ при РРЦ 12 990 ₽ (−15,40 %)" in text
    assert "Замечено: 23.11.2026 09:15 MSK" in text  # 06:15 UTC in Europe/Moscow
    assert '<a href="http://127.0.0.1:8701/product/tl-1001?a=1&amp;b=2">Открыть страницу</a>' in text
    buttons = opened.params["reply_markup"]["inline_keyboard"][0]
    assert [(b["text"], b["callback_data"]) for b in buttons] == [
        ("Подтверждаю", f"fb:{alert_id}:confirmed"),
        ("Ложная тревога", f"fb:{alert_id}:false_alarm"),
    ]
    assert resolved.params["text"].startswith("✅ <b>Демпинг</b> · устранено")
    assert "reply_markup" not in resolved.params

    rows = outbox_rows(engine)
    assert all(r.status == OutboxStatus.SENT and r.sent_at and r.provider_message_id for r in rows)
    assert flush(engine, config, limiter=fast()).sent == 0
    assert len(telegram_api.messages) == 4


def test_english_messages_by_config(
    engine: Engine, telegram_api: FakeTelegramApi, make_config: Any, queue: Any
) -> None:
    config = make_config(telegram_url=telegram_api.url, language="en")
    queue(engine, config, severity="warning")
    flush(engine, config)
    (message,) = telegram_api.messages
    text = message.params["text"]
    assert text.startswith("🟠 <b>Dumping</b> · new · warning")
    assert "Price: 10,990 RUB vs RRP 12,990 RUB (-15.40%)" in text
    assert "Observed: 2026-11-23 09:15 MSK" in text
    assert [b["text"] for b in message.params["reply_markup"]["inline_keyboard"][0]] == ["Confirm", "False alarm"]


def test_429_is_retried_exactly_after_retry_after_and_delivered_once(
    engine: Engine, telegram_api: FakeTelegramApi, make_config: Any, queue: Any, outbox_rows: Any
) -> None:
    config = make_config(telegram_url=telegram_api.url)
    queue(engine, config)
    t0 = later(1)
    telegram_api.fail_next("429", retry_after=30, methods={"sendMessage"})

    assert flush(engine, config, now=t0).retried == 1
    (row,) = outbox_rows(engine)
    assert row.status == OutboxStatus.PENDING
    assert row.next_attempt_at == t0 + dt.timedelta(seconds=30)
    assert row.attempts == 0  # flood control is not a failed attempt
    assert "Flood control" in (row.last_error or "")

    assert flush(engine, config, now=t0 + dt.timedelta(seconds=29)).sent == 0
    assert len(telegram_api.calls_to("sendMessage")) == 1
    assert flush(engine, config, now=t0 + dt.timedelta(seconds=30)).sent == 1
    assert len(telegram_api.messages) == 1


@pytest.mark.parametrize("fault", ["500", "drop"])
def test_server_errors_and_dropped_connections_are_retried_later(
    fault: str, engine: Engine, telegram_api: FakeTelegramApi, make_config: Any, queue: Any, outbox_rows: Any
) -> None:
    config = make_config(telegram_url=telegram_api.url)
    queue(engine, config)
    t0 = later(1)
    telegram_api.fail_next(fault, methods={"sendMessage"})

    assert flush(engine, config, now=t0).retried == 1
    (row,) = outbox_rows(engine)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert t0 + dt.timedelta(seconds=15) <= row.next_attempt_at <= t0 + dt.timedelta(seconds=30)
    assert row.last_error

    assert flush(engine, config, now=t0 + dt.timedelta(seconds=14)).sent == 0
    assert flush(engine, config, now=t0 + dt.timedelta(seconds=31)).sent == 1
    assert len(telegram_api.messages) == 1
    assert outbox_rows(engine)[0].status == OutboxStatus.SENT


def test_telegram_down_during_a_flush_then_everything_once_after_recovery(
    engine: Engine, telegram_api: FakeTelegramApi, make_config: Any, queue: Any, outbox_rows: Any
) -> None:
    config = make_config([{"name": "all", "telegram": [A, B, C]}], telegram_url=telegram_api.url)
    for severity in ("info", "warning", "critical"):
        queue(engine, config, severity=severity)
    telegram_api.fail_next("500", times=None)

    first = flush(engine, config, now=later(1), limiter=fast())
    assert first.sent == 0
    assert telegram_api.messages == []
    assert {r.status for r in outbox_rows(engine)} == {OutboxStatus.PENDING}

    telegram_api.recover()
    assert flush(engine, config, now=later(3600), limiter=fast()).sent == 9
    assert flush(engine, config, now=later(7200), limiter=fast()).sent == 0
    pairs = sent_pairs(telegram_api)
    assert len(pairs) == 9
    assert set(pairs.values()) == {1}
    # Each chat got its alerts in the order they were raised.
    for chat in (A, B, C):
        firsts = [
            c.params["text"].splitlines()[0].split("·")[-1].strip()
            for c in telegram_api.messages
            if c.params["chat_id"] == chat
        ]
        assert firsts == ["инфо", "важно", "критично"]


def test_permanent_errors_and_max_attempts_end_dead(
    engine: Engine, telegram_api: FakeTelegramApi, make_config: Any, queue: Any, outbox_rows: Any
) -> None:
    config = make_config([{"name": "all", "telegram": [A, B]}], telegram_url=telegram_api.url, max_attempts=2)
    queue(engine, config)
    telegram_api.unknown_chats.add(B)

    report = flush(engine, config, now=later(1))
    assert (report.sent, report.dead) == (1, 1)
    dead = next(r for r in outbox_rows(engine) if r.recipient == B)
    assert (dead.status, dead.attempts) == (OutboxStatus.DEAD, 1)
    assert "Chat not found" in (dead.last_error or "")

    queue(engine, config, severity="critical")
    telegram_api.unknown_chats.clear()
    telegram_api.fail_next("500", times=None, methods={"sendMessage"})
    flush(engine, config, now=later(2))
    report = flush(engine, config, now=later(7200))
    assert report.dead == 2
    alerts = [r for r in outbox_rows(engine) if r.payload["rule"] != "delivery"]  # not the admin's alert about B
    assert all(r.status == OutboxStatus.DEAD and r.attempts == 2 for r in alerts[2:])
    assert flush(engine, config, now=later(99999)).sent == 0


def test_a_row_left_sending_by_a_crashed_flush_is_sent_after_its_lease(
    engine: Engine, telegram_api: FakeTelegramApi, make_config: Any, queue: Any, outbox_rows: Any
) -> None:
    config = make_config(telegram_url=telegram_api.url)
    queue(engine, config)
    t0 = later(1)
    with session_scope(engine) as session:  # a flush that claimed the row and died before sending
        q.claim_due(
            session,
            channels={"telegram"},
            modes={"instant"},
            cutoff=t0,
            lease_until=t0 + notify.outbox.LEASE,
            token="crashed",
            limit=None,
        )

    assert flush(engine, config, now=t0 + dt.timedelta(minutes=5)).sent == 0  # lease still held
    assert telegram_api.messages == []
    assert flush(engine, config, now=t0 + notify.outbox.LEASE + dt.timedelta(seconds=1)).sent == 1
    (row,) = outbox_rows(engine)
    assert (row.status, row.claimed_by, row.locked_until) == (OutboxStatus.SENT, None, None)


def test_two_concurrent_flushes_send_each_message_once(
    engine: Engine,
    telegram_api: FakeTelegramApi,
    make_config: Any,
    queue: Any,
    outbox_rows: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(notify.outbox, "BATCH", 3)  # small claims, so the two flushes interleave
    config = make_config([{"name": "all", "telegram": [A, B, C]}], telegram_url=telegram_api.url)
    for i in range(8):
        queue(engine, config, severity=("info", "warning", "critical")[i % 3])
    start = threading.Barrier(2)
    reports: list[notify.outbox.FlushReport] = []

    def run() -> None:
        start.wait()
        reports.append(flush(engine, config, limiter=fast()))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert sum(r.sent for r in reports) == 24
    assert len(telegram_api.messages) == 24
    # The confirm button's callback data names the alert: no (chat, alert) pair arrived twice.
    pairs = {
        (c.params["chat_id"], c.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"])
        for c in telegram_api.messages
    }
    assert len(pairs) == 24
    assert {r.status for r in outbox_rows(engine)} == {OutboxStatus.SENT}


def test_without_a_token_rows_stay_pending_and_are_reported(
    engine: Engine, make_config: Any, queue: Any, outbox_rows: Any
) -> None:
    config = make_config([{"name": "all", "telegram": [A, B]}])
    queue(engine, config)
    report = flush(engine, config)
    assert (report.sent, report.would_send) == (0, {"telegram": 2})
    assert {r.status for r in outbox_rows(engine)} == {OutboxStatus.PENDING}

    preview = flush(engine, config, dry_run=True).preview
    assert [(p["channel"], p["recipient"], p["mode"]) for p in preview] == [
        ("telegram", A, "instant"),
        ("telegram", B, "instant"),
    ]
    assert "10 990 ₽ при РРЦ 12 990 ₽" in preview[0]["text"]
    assert {r.status for r in outbox_rows(engine)} == {OutboxStatus.PENDING}
