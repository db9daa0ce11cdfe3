"""The bot token and SMTP password never land in the outbox's last_error or in any log line."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine

from fixtures.smtp import free_port
from fixtures.telegram_api import FakeTelegramApi
from notify.outbox import flush
from notify.redact import MASK, redact


def later(seconds: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)


def test_redact_masks_known_secrets_and_anything_shaped_like_a_bot_token() -> None:
    text = "POST http://x/bot123456789:AAAAbbbbCCCCddddEEEEffff_-1/sendMessage password=hunter2-long"
    assert redact(text, ["hunter2-long"]) == f"POST http://x/bot{MASK}/sendMessage password={MASK}"


def test_failures_and_successes_leave_no_secret_behind(
    sqlite_url: str,
    make_config: Any,
    queue: Any,
    outbox_rows: Any,
    secrets: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    token, password = secrets
    engine: Engine = create_engine(sqlite_url)
    caplog.set_level(logging.DEBUG)
    routes = [{"name": "all", "telegram": ["1001"], "email": ["ops@brand.example"]}]

    errors: list[str] = []

    def flush_and_keep_errors(config: Any, hours: int) -> None:
        flush(engine, config, now=later(hours * 3600 + 1))
        errors.extend(r.last_error or "" for r in outbox_rows(engine))

    # An API that does not know our token: PTB's InvalidToken quotes the token it was given.
    with FakeTelegramApi(token="555555:another-token-aaaaaaaaaaaaaaaa") as stranger:
        config = make_config(routes, telegram_url=stranger.url, smtp_port=free_port())  # nobody listens on SMTP
        queue(engine, config)
        flush_and_keep_errors(config, 0)

    with FakeTelegramApi(token=token) as api:
        config = make_config(routes, telegram_url=api.url, smtp_port=free_port())
        api.fail_next("500", methods={"sendMessage"})
        flush_and_keep_errors(config, 1)
        api.fail_next("drop", methods={"sendMessage"})
        flush_and_keep_errors(config, 2)
        flush_and_keep_errors(config, 3)
        assert len(api.messages) == 1

    assert any("rejected by the server" in e and MASK in e for e in errors)  # the InvalidToken path ran
    assert any("Connection refused" in e for e in errors)  # and the SMTP one
    assert MASK in caplog.text  # URLs with the token were logged, masked
    for secret in (token, token.split(":")[1], password):
        assert all(secret not in e for e in errors)
        assert secret not in caplog.text
    engine.dispose()
