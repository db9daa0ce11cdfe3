"""`pricewatch config check` rehearses the night run: every problem listed (one line each, exit 2), weak secrets
warned of, and with `--online` the database, the Telegram bot (getMe, on the local fake API) and the SMTP server
(EHLO and login, on the local server) reached, one line per check."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.smtp import FakeSmtpServer, free_port
from fixtures.telegram_api import BOT_USER, FakeTelegramApi
from tests.support.cli import Pricewatch

TOKEN = "7093318257:AAF-config-check-online-token_42"
SMTP_USER, SMTP_PASSWORD = "pricewatch", "config-check-smtp-password"

CONFIG = """
distributors:
  - code: techsnab
    name: ТехСнаб
    start_urls: ["http://127.0.0.1:8701/catalog/"]
    extraction: selectors
    selectors: {price: ".price::text"}
routes:
  - name: managers
    telegram: ["-1001234"]
    email: [sales@brand.example]
notify:
  telegram: {token: "${PW_TOKEN:-}", base_url: "${PW_TELEGRAM_URL:-}"}
  email:
    host: "${PW_SMTP_HOST:-}"
    port: "${PW_SMTP_PORT:-587}"
    security: none
    username: "${PW_SMTP_USER:-}"
    password: "${PW_SMTP_PASSWORD:-}"
schedule:
  cron: "0 6 * * *"
"""


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "pw.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


@pytest.fixture
def services(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeTelegramApi, FakeSmtpServer]]:
    """The fake Telegram API that knows TOKEN and an SMTP server that takes SMTP_USER / SMTP_PASSWORD, configured."""
    with FakeTelegramApi(token=TOKEN) as api, FakeSmtpServer(credentials=(SMTP_USER, SMTP_PASSWORD)) as smtp:
        environment = {
            "PW_TOKEN": TOKEN,
            "PW_TELEGRAM_URL": api.url,
            "PW_SMTP_HOST": "127.0.0.1",
            "PW_SMTP_PORT": str(smtp.port),
            "PW_SMTP_USER": SMTP_USER,
            "PW_SMTP_PASSWORD": SMTP_PASSWORD,
        }
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        yield api, smtp


def test_every_problem_is_listed_on_its_own_line_then_exit_2(pricewatch: Pricewatch, config_path: Path) -> None:
    config_path.write_text(
        CONFIG.replace('".price::text"', '"div[[["')
        .replace('cron: "0 6 * * *"', 'cron: "99 99 * * *"')
        .replace('telegram: ["-1001234"]', "telegram: [managers]"),
        encoding="utf-8",
    )
    result = pricewatch("config", "check", "--config", str(config_path))
    assert (result.code, result.out) == (2, "")
    lines = result.err.splitlines()
    assert [line.split(": ")[2] for line in lines] == [
        "distributors[0](techsnab).selectors.price",
        "routes[0](managers).telegram",
        "schedule.cron",
    ]
    assert all(line.startswith(f"error: {config_path}: ") for line in lines)
    assert "invalid CSS selector 'div[[['" in lines[0]


def test_a_duplicate_section_is_an_error_with_its_line(pricewatch: Pricewatch, config_path: Path) -> None:
    config_path.write_text(CONFIG + "notify:\n  language: en\n", encoding="utf-8")
    result = pricewatch("config", "check", "--config", str(config_path))
    assert result.code == 2
    line = CONFIG.count("\n") + 1
    assert result.err == (
        f"error: {config_path}: line {line}, column 1: duplicate key 'notify' (first on line 12): "
        "a key may appear once in a mapping\n"
    )


def test_a_secret_too_short_to_be_masked_is_warned_of(
    pricewatch: Pricewatch, config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PW_TOKEN", TOKEN)
    monkeypatch.setenv("PW_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PW_SMTP_PASSWORD", "x")
    result = pricewatch("config", "check", "--config", str(config_path))
    assert result.code == 0
    assert result.err == (
        f"warning: {config_path}: notify.email.password: a weak secret of 1 characters; one under 8 is not masked "
        "in error texts and logs (its text would match unrelated words)\n"
    )


def test_online_reaches_the_database_the_bot_and_the_mail_server(
    pricewatch: Pricewatch,
    config_path: Path,
    sqlite_url: str,
    services: tuple[FakeTelegramApi, FakeSmtpServer],
) -> None:
    api, smtp = services
    result = pricewatch("config", "check", "--online", "--config", str(config_path), "--db", sqlite_url)
    assert (result.code, result.err) == (0, ""), result.err
    ok, database, telegram, mail = result.out.splitlines()
    assert ok.startswith(f"OK: {config_path}: 1 distributors")
    assert database.startswith(f"ok: database: {sqlite_url}: connected, schema at the newest revision ")
    assert telegram == f"ok: telegram: getMe at {api.url}: the bot is @{BOT_USER['username']}"
    assert mail == f"ok: smtp: 127.0.0.1:{smtp.port} (none): EHLO answered; logged in as {SMTP_USER}"
    assert api.calls_to("getMe")
    assert api.messages == []
    assert smtp.messages == []


def test_online_lists_each_refusal_in_a_line_without_the_secrets_and_exits_1(
    pricewatch: Pricewatch, config_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "missing.db"
    with (
        FakeTelegramApi(token="5550001:another-bots-token-aaaaaaaaaaaaaaa") as stranger,
        FakeSmtpServer(credentials=(SMTP_USER, "the-right-password")) as refusing,
    ):
        for name, value in {
            "PW_TOKEN": TOKEN,
            "PW_TELEGRAM_URL": stranger.url,
            "PW_SMTP_HOST": "127.0.0.1",
            "PW_SMTP_PORT": str(refusing.port),
            "PW_SMTP_USER": SMTP_USER,
            "PW_SMTP_PASSWORD": SMTP_PASSWORD,
        }.items():
            monkeypatch.setenv(name, value)
        result = pricewatch("config", "check", "--online", "--config", str(config_path), "--db", f"sqlite:///{missing}")
    assert result.code == 1
    assert result.out.startswith(f"OK: {config_path}: ")  # the config itself is right
    database, telegram, mail = result.err.splitlines()
    assert database.startswith("error: database: ")
    assert "does not exist" in database
    assert telegram.startswith(f"error: telegram: getMe at {stranger.url}: InvalidToken: ")
    assert mail.startswith(f"error: smtp: 127.0.0.1:{refusing.port} (none): SMTPAuthenticationError: (535")
    assert not missing.exists()  # a rehearsal creates no database
    for secret in (TOKEN, TOKEN.split(":")[1], SMTP_PASSWORD):
        assert secret not in result.out + result.err


def test_online_skips_what_is_not_configured_and_says_what_is_unreachable(
    pricewatch: Pricewatch, config_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()  # nobody listens there
    monkeypatch.setenv("PW_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PW_SMTP_PORT", str(port))
    result = pricewatch(
        "config", "check", "--online", "--config", str(config_path), "--db", sqlite_url, "--format", "json"
    )
    assert result.code == 1
    [row] = json.loads(result.out)
    checks = {c["check"]: c for c in row["online"]}
    assert checks["database"]["status"] == "ok"
    assert checks["telegram"] == {
        "check": "telegram",
        "status": "skipped",
        "detail": "notify.telegram.token is not set",
    }
    assert checks["smtp"]["status"] == "error"
    assert "ConnectionRefusedError" in checks["smtp"]["detail"]
