"""`pricewatch scrapyd status`: which hosts can take crawls, and why the others cannot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from pricewatch.cli import main
from tests.support.scrapyd import PASSWORD, PILOT_YAML, USERNAME, Pair, closed_port_url

pytestmark = pytest.mark.postgres


def test_status_shows_ready_hosts_and_says_what_is_wrong_with_the_others(
    scrapyd_pair: Pair, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCRAPYD_PASSWORD", PASSWORD)
    monkeypatch.setenv("WRONG_PASSWORD", "not-it")
    down = closed_port_url()
    data = yaml.safe_load(PILOT_YAML.read_text(encoding="utf-8"))
    data["crawl"] = {
        "backend": "scrapyd",
        "scrapyd": [
            {"url": scrapyd_pair.a.url, "username": USERNAME, "password": "${SCRAPYD_PASSWORD}"},
            {"url": scrapyd_pair.b.url},
            {"url": scrapyd_pair.a.url, "username": USERNAME, "password": "${WRONG_PASSWORD}"},
            {"url": scrapyd_pair.b.url, "project": "elsewhere"},
            {"url": down},
        ],
    }
    config = tmp_path / "pricewatch.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    exit_code = main(["scrapyd", "status", "--config", str(config), "--format", "json"])

    assert exit_code == 1  # what the console script exits with
    rows = json.loads(capsys.readouterr().out)
    assert [(row["url"], row["ready"]) for row in rows] == [
        (scrapyd_pair.a.url, True),
        (scrapyd_pair.b.url, True),
        (scrapyd_pair.a.url, False),
        (scrapyd_pair.b.url, False),
        (down, False),
    ]
    assert [row["detail"] for row in rows[:4]] == [
        "ok",
        "ok",
        f"{scrapyd_pair.a.url}: unauthorized (check the host's username and password in crawl.scrapyd)",
        "project 'elsewhere' is not deployed",
    ]
    assert rows[4]["detail"].startswith(f"{down}: unreachable (ConnectError")
    assert rows[0]["busy"] == 0
    assert rows[0]["running"] == []
    assert rows[0]["pending"] == []
    assert "not-it" not in json.dumps(rows)
