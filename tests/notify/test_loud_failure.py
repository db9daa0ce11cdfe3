"""Failure is loud: a refused bot token, SMTP login or chat is reported by route, keeps (or gives up) the messages
as it must, and alerts the admin once per episode on the other channel; a resolved alert's email says so."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import Engine, select

from fixtures.smtp import FakeSmtpServer
from fixtures.telegram_api import FakeTelegramApi
from notify.outbox import flush
from pricewatch.cli import cli
from storage.engine import make_engine, session_scope
from storage.models import Alert, AlertStatus, EventKind, OutboxStatus

A, ADMIN_CHAT = "1001", "1009"
ADMIN = "admin@brand.example"
ROUTES = [
    {"name": "managers", "match": {"rules": ["dumping"]}, "telegram": [A]},
    {"name": "admin", "match": {"rules": ["crawler_health"]}, "telegram": [ADMIN_CHAT], "email": [ADMIN]},
]


def later(hours: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)


def delivery_alerts(engine: Engine) -> list[tuple[str, AlertStatus]]:
    with session_scope(engine) as session:
        alerts = session.scalars(select(Alert).where(Alert.rule == "delivery").order_by(Alert.id))
        return [(a.fingerprint, a.status) for a in alerts]


def refused_token(engine: Engine, api: FakeTelegramApi, smtp: FakeSmtpServer, make_config: Any, queue: Any) -> Any:
    """Two alerts queued for chat A, then a flush while Telegram refuses the bot token; returns (config, report)."""
    config = make_config(ROUTES, telegram_url=api.url, smtp_port=smtp.port)
    queue(engine, config)
    queue(engine, config, severity="critical")
    api.fail_next("401", times=None)
    return config, flush(engine, config, now=later(0))


def test_a_refused_bot_token_keeps_every_message_and_emails_the_admin(
    engine: Engine,
    telegram_api: FakeTelegramApi,
    smtp_server: FakeSmtpServer,
    make_config: Any,
    queue: Any,
    outbox_rows: Any,
) -> None:
    _, report = refused_token(engine, telegram_api, smtp_server, make_config, queue)

    assert (report.sent, report.dead, report.admin_alerts) == (0, 0, 1)
    (line,) = report.refusal_lines()
    assert line.startswith("delivery refused: telegram → 1001: InvalidToken: ")
    assert line.endswith(" (messages wait until it is fixed)")
    assert telegram_api.token not in line
    assert len(telegram_api.calls_to("getMe")) == 1  # the channel is not hammered once it refused
    rows = [r for r in outbox_rows(engine) if r.recipient == A]
    assert {(r.status, r.attempts) for r in rows} == {(OutboxStatus.PENDING, 0)}  # none lost, no attempt spent
    (notice,) = smtp_server.messages
    assert notice["To"] == ADMIN
    assert notice["Subject"] == "pricewatch: Сбой доставки — Telegram не принимает сообщения"
    assert "Причина: InvalidToken: " in notice.get_body(("plain",)).get_content()
    assert [r.recipient for r in outbox_rows(engine) if r.payload["rule"] == "delivery"] == [ADMIN]  # not the chat


def test_the_admin_is_alerted_once_per_episode_and_the_episode_ends_when_telegram_accepts(
    engine: Engine, telegram_api: FakeTelegramApi, smtp_server: FakeSmtpServer, make_config: Any, queue: Any
) -> None:
    config, _ = refused_token(engine, telegram_api, smtp_server, make_config, queue)
    again = flush(engine, config, now=later(1))
    assert (again.sent, again.admin_alerts, len(again.refusals)) == (0, 0, 1)
    assert len(smtp_server.messages) == 1  # one admin alert per episode

    telegram_api.recover()
    fixed = flush(engine, config, now=later(2))
    assert (fixed.sent, fixed.refusals) == (2, [])
    assert len(telegram_api.messages) == 2
    assert delivery_alerts(engine) == [("delivery:telegram", AlertStatus.RESOLVED)]

    queue(engine, config)
    telegram_api.fail_next("401", times=None)
    assert len(flush(engine, config, now=later(3)).refusals) == 1
    assert len(smtp_server.messages) == 2  # a new episode, a new alert
    assert [s for _, s in delivery_alerts(engine)] == [AlertStatus.RESOLVED, AlertStatus.OPEN]


def test_a_refused_smtp_login_tells_the_admin_in_telegram(
    engine: Engine, telegram_api: FakeTelegramApi, make_config: Any, queue: Any, outbox_rows: Any
) -> None:
    routes = [{"name": "boss", "email": ["boss@brand.example"]}, *ROUTES[1:]]
    with FakeSmtpServer(credentials=("pricewatch", "the-right-one")) as smtp:
        config = make_config(routes, telegram_url=telegram_api.url, smtp_port=smtp.port, smtp_user="pricewatch")
        queue(engine, config)
        report = flush(engine, config)
        assert smtp.messages == []

    assert [(r.channel, r.recipient, r.kept) for r in report.refusals] == [("email", "boss@brand.example", True)]
    assert "535" in report.refusals[0].reason
    (notice,) = telegram_api.messages
    assert notice.params["chat_id"] == ADMIN_CHAT
    text = notice.params["text"]
    assert text.startswith("🔴 <b>Сбой доставки</b> · новое · критично")
    assert "Почта (SMTP) не принимает сообщения" in text
    assert "Сообщения: ждут и уйдут, когда канал их примет" in text
    assert {r.status for r in outbox_rows(engine) if r.channel == "email"} == {OutboxStatus.PENDING}


def test_a_chat_that_does_not_exist_is_given_up_and_the_admin_is_told(
    engine: Engine,
    telegram_api: FakeTelegramApi,
    smtp_server: FakeSmtpServer,
    make_config: Any,
    queue: Any,
    outbox_rows: Any,
) -> None:
    config = make_config(ROUTES, telegram_url=telegram_api.url, smtp_port=smtp_server.port, language="en")
    queue(engine, config)
    telegram_api.unknown_chats.add(A)

    report = flush(engine, config)

    assert report.dead == 1
    assert report.refusal_lines() == [
        "delivery refused: telegram → 1001: BadRequest: Chat not found (messages to it given up)"
    ]
    # The admin hears of it in the admin chat (same channel, another recipient) and by email.
    assert [c.params["chat_id"] for c in telegram_api.messages] == [ADMIN_CHAT]
    assert "Telegram refuses 1001" in telegram_api.messages[0].params["text"]
    assert [m["Subject"] for m in smtp_server.messages] == ["pricewatch: Delivery failure — Telegram refuses 1001"]
    assert delivery_alerts(engine) == [("delivery:telegram:1001", AlertStatus.OPEN)]


def test_notify_flush_exits_1_with_one_line_per_refused_route(
    tmp_path: Path, sqlite_url: str, telegram_api: FakeTelegramApi, make_config: Any, queue: Any
) -> None:
    config_file = tmp_path / "pricewatch.yaml"
    config_file.write_text(
        f"""
distributors:
  - {{code: techsnab, name: ТехСнаб, start_urls: ["http://127.0.0.1:8701/"]}}
routes:
  - {{name: all, telegram: ["1001", "1002"]}}
notify:
  telegram: {{token: "${{PW_TEST_TOKEN}}", base_url: "{telegram_api.url}"}}
""",
        encoding="utf-8",
    )
    engine = make_engine(sqlite_url)
    queue(engine, make_config([{"name": "all", "telegram": ["1001", "1002"]}]))
    telegram_api.unknown_chats.add("1002")

    result = CliRunner().invoke(
        cli,
        ["notify", "flush", "--config", str(config_file), "--db", sqlite_url],
        env={"PW_TEST_TOKEN": telegram_api.token},
    )

    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        "error: delivery refused: telegram → 1002: BadRequest: Chat not found (messages to it given up)"
    ]
    engine.dispose()


def test_a_resolved_alert_email_says_so_in_its_subject(
    engine: Engine, smtp_server: FakeSmtpServer, make_config: Any, queue: Any
) -> None:
    routes = [{"name": "boss", "email": ["boss@brand.example"]}]
    for language in ("ru", "en"):
        config = make_config(routes, smtp_port=smtp_server.port, language=language)
        queue(engine, config)
        queue(engine, config, kind=EventKind.RESOLVED)
        queue(engine, config, kind=EventKind.ONGOING)  # ongoing events go to digests only
        flush(engine, config)
    subjects = [m["Subject"] for m in smtp_server.messages]
    headline = 'Обогреватель <Termoline> TL-1001 & "Comfort" (TL-1001)'
    assert subjects == [
        f"pricewatch: Демпинг — {headline}",
        f"pricewatch: устранено: Демпинг — {headline}",
        f"pricewatch: Dumping — {headline}",
        f"pricewatch: resolved: Dumping — {headline}",
    ]


def test_admin_alerts_that_could_not_go_are_withdrawn_once_both_channels_deliver_again(
    engine: Engine, telegram_api: FakeTelegramApi, make_config: Any, queue: Any, outbox_rows: Any
) -> None:
    routes = [{"name": "boss", "match": {"rules": ["dumping"]}, "email": ["boss@brand.example"]}, *ROUTES]
    with FakeSmtpServer(credentials=("pricewatch", "the-right-one")) as smtp:
        refused = make_config(routes, telegram_url=telegram_api.url, smtp_port=smtp.port, smtp_user="pricewatch")
        queue(engine, refused)
        telegram_api.fail_next("401", times=None)
        report = flush(engine, refused)
        assert {r.channel for r in report.refusals} == {"telegram", "email"}
        assert len([r for r in outbox_rows(engine) if r.payload["rule"] == "delivery"]) == 2  # waiting, too

        telegram_api.recover()
        fixed = make_config(
            routes,
            telegram_url=telegram_api.url,
            smtp_port=smtp.port,
            smtp_user="pricewatch",
            smtp_password="the-right-one",
        )
        report = flush(engine, fixed, now=later(1))
        assert [m["To"] for m in smtp.messages] == ["boss@brand.example"]
    assert (report.sent, report.admin_alerts, report.refusals) == (2, 0, [])
    assert [c.params["chat_id"] for c in telegram_api.messages] == [A]
    assert {r.status for r in outbox_rows(engine)} == {OutboxStatus.SENT}  # the moot admin alerts withdrawn
    assert [s for _, s in delivery_alerts(engine)] == [AlertStatus.RESOLVED, AlertStatus.RESOLVED]
