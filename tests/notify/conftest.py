"""Notify fixtures: configs with routes, seeded alerts, the fake Telegram Bot API and a local SMTP server.

Helpers are handed to tests as fixtures (`make_config`, `queue`, `outbox_rows`, …) since test modules here
cannot import this conftest by name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from crawler.config import Config
from fixtures.smtp import FakeSmtpServer
from fixtures.telegram_api import FakeTelegramApi
from notify.routing import enqueue_event
from storage.engine import session_scope
from storage.models import Alert, AlertEvent, AlertStatus, Distributor, EventKind, Outbox, SellerKind

# Looks like a real bot token so that redaction by pattern and by value are both exercised.
TOKEN = "987654321:AAE-planted-SECRET-token-do-not-leak_0042"
SMTP_PASSWORD = "planted-smtp-password-0042"
CHAT_A, CHAT_B = "1001", "1002"

DUMPING_DETAILS: dict[str, Any] = {
    "distributor_code": "techsnab",
    "distributor_name": "ТехСнаб",
    "seller_name": "ТехСнаб <Москва> & Co",
    "seller_authorized": True,
    "url": "http://127.0.0.1:8701/product/tl-1001?a=1&b=2",
    "vendor_code": "TL-1001",
    "product_name": 'Обогреватель <Termoline> TL-1001 & "Comfort"',
    "category": "heaters",
    "currency": "RUB",
    "observed_at": "2026-11-23T06:15:00+00:00",
    "price": "10990.00",
    "rrp": "12990.00",
    "threshold_price": "12340.50",
    "deviation_pct": "-15.40",
    "tolerance_pct": "5",
    "days_in_violation": 3,
    "repeat_offences": 1,
    "promo": None,
}


def make_config(
    routes: list[dict[str, Any]] | None = None,
    *,
    telegram_url: str | None = None,
    token: str | None = TOKEN,
    smtp_port: int | None = None,
    smtp_security: str = "none",
    smtp_user: str | None = None,
    smtp_password: str = SMTP_PASSWORD,
    language: str = "ru",
    allowed_chats: list[str] | None = None,
    chat_scopes: dict[str, list[str]] | None = None,
    max_attempts: int = 12,
    attach: bool = True,
) -> Config:
    notify: dict[str, Any] = {"language": language, "max_attempts": max_attempts, "digest_attach_xlsx": attach}
    if telegram_url is not None:
        notify["telegram"] = {"token": token, "base_url": telegram_url}
    if smtp_port is not None:
        notify["email"] = {
            "host": "127.0.0.1",
            "port": smtp_port,
            "security": smtp_security,
            "username": smtp_user,
            "password": smtp_password,
            "sender": "pricewatch@brand.example",
            "timeout": 5,
        }
    return Config.model_validate(
        {
            "distributors": [
                {"code": "techsnab", "name": "ТехСнаб", "start_urls": ["http://127.0.0.1:8701/"], "region": "Москва"},
                {"code": "klimatprof", "name": "КлиматПроф", "start_urls": ["http://127.0.0.1:8702/"]},
                {
                    "code": "marketplace",
                    "name": "МаркетПлюс",
                    "kind": "marketplace",
                    "start_urls": ["http://127.0.0.1:8703/"],
                },
            ],
            "routes": routes if routes is not None else [{"name": "all", "telegram": [CHAT_A]}],
            "notify": notify,
            "bot": {"allowed_chats": allowed_chats or [], "chat_scopes": chat_scopes or {}},
        }
    )


def add_alert(
    session: Session,
    *,
    rule: str = "dumping",
    severity: str = "warning",
    kind: EventKind = EventKind.OPENED,
    details: dict[str, Any] | None = None,
    fingerprint: str | None = None,
    subject: str = "TL-1001 at techsnab",
) -> tuple[Alert, AlertEvent]:
    """An alert and one event of it, as the rules engine writes them."""
    details = dict(DUMPING_DETAILS if details is None else details)
    code = details.get("distributor_code")
    distributor = session.scalar(select(Distributor).where(Distributor.code == code)) if code else None
    if code and distributor is None:
        distributor = Distributor(
            code=code, name=str(details.get("distributor_name", code)), kind=SellerKind.DISTRIBUTOR
        )
        session.add(distributor)
        session.flush()
    count = len(session.scalars(select(Alert)).all())
    alert = Alert(
        rule=rule,
        fingerprint=fingerprint or f"{rule}:{count + 1}",
        severity=severity,
        status=AlertStatus.RESOLVED if kind == EventKind.RESOLVED else AlertStatus.OPEN,
        subject=subject,
        distributor_id=distributor.id if distributor else None,
        details=details,
        opened_at=dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC),
    )
    session.add(alert)
    session.flush()
    event = AlertEvent(
        alert_id=alert.id, kind=kind, payload={"subject": subject, "severity": severity, "details": details}
    )
    session.add(event)
    session.flush()
    return alert, event


def queue(engine: Engine, config: Config, **alert: Any) -> tuple[int, int]:
    """Add an alert event and route it; returns (alert id, rows queued)."""
    with session_scope(engine) as session:
        a, event = add_alert(session, **alert)
        return a.id, enqueue_event(session, config, a, event)


def outbox_rows(engine: Engine) -> list[Outbox]:
    with session_scope(engine) as session:
        return list(session.scalars(select(Outbox).order_by(Outbox.id)))


@pytest.fixture
def telegram_api() -> Iterator[FakeTelegramApi]:
    with FakeTelegramApi(token=TOKEN) as api:
        yield api


@pytest.fixture
def smtp_server() -> Iterator[FakeSmtpServer]:
    server = FakeSmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(name="make_config")
def make_config_fixture() -> Any:
    return make_config


@pytest.fixture(name="add_alert")
def add_alert_fixture() -> Any:
    return add_alert


@pytest.fixture(name="queue")
def queue_fixture() -> Any:
    return queue


@pytest.fixture(name="outbox_rows")
def outbox_rows_fixture() -> Any:
    return outbox_rows


@pytest.fixture
def dumping_details() -> dict[str, Any]:
    return dict(DUMPING_DETAILS)


@pytest.fixture
def chats() -> tuple[str, str]:
    return CHAT_A, CHAT_B


@pytest.fixture
def secrets() -> tuple[str, str]:
    """The planted bot token and SMTP password that must never show up in the outbox or the logs."""
    return TOKEN, SMTP_PASSWORD
