"""Enforcement fixtures: the rules' small world with contacts and a channel manager, the fake Telegram Bot API and
the local SMTP server it delivers to."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from fixtures.smtp import FakeSmtpServer
from fixtures.telegram_api import FakeTelegramApi
from tests.support.builders import World, config_yaml, make_config
from tests.support.enforcement import sections
from tests.support.rules_world import GTIN_1001, GTIN_1002, PRICES_FROM

TOKEN = "123456:enforcement-test-token"
CONFIG_FILE = "enforcement.yaml"  # beside the test: the config `make_world` built, for commands
MakeWorld = Callable[..., World]


@pytest.fixture
def telegram_api() -> Iterator[FakeTelegramApi]:
    with FakeTelegramApi(token=TOKEN) as api:
        yield api


@pytest.fixture
def smtp_server() -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer() as server:
        yield server


@pytest.fixture
def make_world(engine: Engine, tmp_path: Path, telegram_api: FakeTelegramApi, smtp_server: FakeSmtpServer) -> MakeWorld:
    """`make_world(approval="off", ladder={...})`: the world with these `enforcement` keys (other sections in
    `config`; distributors' contacts replaced by `contacts`), written to `CONFIG_FILE` too, and the catalog loaded
    (TL-1001: RRP 10 000, TL-1002: RRP 2 000; dumping tolerance 5 %)."""

    def make(
        config: dict[str, Any] | None = None, *, contacts: dict[str, list[Any]] | None = None, **enforcement: Any
    ) -> World:
        data = sections(
            tmp_path, telegram_url=telegram_api.url, smtp_port=smtp_server.port, contacts=contacts, **enforcement
        )
        full = data | (config or {})
        (tmp_path / CONFIG_FILE).write_text(config_yaml(full), encoding="utf-8")  # for the CLI
        world = World(engine, make_config(full))
        world.product("TL-1001", name="Конвектор Термолайн TL-1001", gtins=[GTIN_1001])
        world.product("TL-1002", name="Вентилятор Термолайн TL-1002", gtins=[GTIN_1002])
        world.price_list(PRICES_FROM, {"TL-1001": "10000", "TL-1002": "2000"})
        return world

    return make
