"""`pricewatch notify flush`: without Telegram configured it reports what would be sent and keeps it pending."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import create_engine

from pricewatch.cli import cli
from storage.models import OutboxStatus

CONFIG = """
distributors:
  - {code: techsnab, name: ТехСнаб, start_urls: ["http://127.0.0.1:8701/"]}
routes:
  - {name: all, telegram: ["1001", "1002"]}
notify:
  telegram: {token: "${PW_TEST_UNSET_TOKEN:-}"}
"""


def test_flush_without_telegram_says_would_send_and_dry_run_shows_the_messages(
    tmp_path: Path, sqlite_url: str, make_config: Any, queue: Any, outbox_rows: Any
) -> None:
    config_file = tmp_path / "pricewatch.yaml"
    config_file.write_text(CONFIG, encoding="utf-8")
    engine = create_engine(sqlite_url)
    queue(engine, make_config([{"name": "all", "telegram": ["1001", "1002"]}]))
    args = ["--config", str(config_file), "--db", sqlite_url]

    result = CliRunner().invoke(cli, ["notify", "flush", *args])
    assert result.exit_code == 0, result.output
    assert "would send 2 message(s) (Telegram not configured)" in result.output

    result = CliRunner().invoke(cli, ["notify", "flush", "--dry-run", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    preview = json.loads(result.output)
    assert [(p["recipient"], p["mode"]) for p in preview] == [("1001", "instant"), ("1002", "instant")]
    assert "Цена: 10 990 ₽ при РРЦ 12 990 ₽ (−15,40 %)" in preview[0]["text"]
    assert {r.status for r in outbox_rows(engine)} == {OutboxStatus.PENDING}
    engine.dispose()
