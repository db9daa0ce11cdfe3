"""`pricewatch config check`: OK with a summary, or one line naming the bad key path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import Pricewatch

GOOD = """
timezone: Europe/Moscow
distributors:
  - code: techsnab
    name: ТехСнаб
    start_urls: ["http://127.0.0.1:8701/catalog/"]
    politeness: {concurrency: 2}
  - code: marketplace
    name: МаркетПлюс
    kind: marketplace
    spider: marketplace
    start_urls: ["http://127.0.0.1:8703/"]
sellers:
  - {marketplace: marketplace, seller_id: "1001", name: ТехСнаб}
routes:
  - name: managers
    telegram: ["-1001234"]
notify:
  telegram: {token: "${PW_TEST_TG_TOKEN:-}"}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pw.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_config_is_ok_with_a_summary(
    pricewatch: Pricewatch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PW_TEST_TG_TOKEN", "123456:bot-token-long-enough-to-mask")  # a short one is warned of
    path = write(tmp_path, GOOD)
    result = pricewatch("config", "check", "--config", str(path))
    assert (result.code, result.err) == (0, "")
    assert result.out == (
        f"OK: {path}: 2 distributors (2 enabled, 1 marketplaces), 1 authorized marketplace sellers, "
        "1 routes, schedule '0 6 * * *' (Europe/Moscow)\n"
    )
    as_json = json.loads(pricewatch("config", "check", "--config", str(path), "--format", "json").out)
    assert as_json[0]["distributors"] == 2
    assert as_json[0]["routes"] == 1


def test_route_to_an_unconfigured_channel_is_a_warning(pricewatch: Pricewatch, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)  # PW_TEST_TG_TOKEN unset: the token is empty
    result = pricewatch("config", "check", "--config", str(path))
    assert result.code == 0
    assert result.err == f"warning: {path}: routes[0](managers).telegram: notify.telegram.token is not set\n"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "politeness: {concurrency: 2}",
            "politeness: {concurrency: 2, colour: red}",
            "distributors[0](techsnab).politeness.colour: unknown key",
        ),
        (
            "politeness: {concurrency: 2}",
            "politeness: {concurrency: many}",
            "distributors[0](techsnab).politeness.concurrency: Input should be a valid integer",
        ),
        (
            "politeness: {concurrency: 2}",
            "politeness: {concurrency: 1000}",
            "distributors[0](techsnab).politeness.concurrency: Input should be less than or equal to 64, got 1000",
        ),
        (
            '"http://127.0.0.1:8701/catalog/"',
            '"ftp://127.0.0.1/catalog/"',
            "distributors[0](techsnab).start_urls[0]: expected an http(s) URL, got 'ftp://127.0.0.1/catalog/'",
        ),
        (
            '"${PW_TEST_TG_TOKEN:-}"',
            '"123456:ABC-literal"',
            "notify.telegram.token: secrets come only from the environment, write it as ${ENV_VAR}",
        ),
        ("kind: marketplace", "kind: shop", "distributors[1](marketplace).kind: Input should be 'distributor'"),
        ("timezone: Europe/Moscow", "timezone: Mars/Olympus", "timezone: unknown time zone 'Mars/Olympus'"),
        ("routes:", "routes: [\n", "line "),
    ],
    ids=["unknown-key", "wrong-type", "out-of-range", "non-http-url", "literal-secret", "bad-enum", "zone", "yaml"],
)
def test_bad_config_names_the_key_path(
    pricewatch: Pricewatch, tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    result = pricewatch("config", "check", "--config", str(path))
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith(f"error: {path}: ")
    assert message in result.err
    assert result.err.count("\n") == 1
    assert "123456:ABC" not in result.err


def test_missing_config_file(pricewatch: Pricewatch, tmp_path: Path) -> None:
    result = pricewatch("config", "check", "--config", str(tmp_path / "nope.yaml"))
    assert (result.code, result.err) == (2, f"error: {tmp_path / 'nope.yaml'}: config file not found\n")
