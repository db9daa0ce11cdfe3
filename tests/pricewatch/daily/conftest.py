"""Daily-run fixtures: the pilot sites' URLs in the environment (crawl processes read pilot.yaml from disk)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fixtures.sites import PilotSites
from tests.support.services import REPO


@pytest.fixture
def pilot_env(pilot: PilotSites, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PilotSites:
    """The pilot sites on day 1, their URLs and a scratch evidence folder exported for every child process."""
    for name, value in pilot.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PRICEWATCH_EVIDENCE_DIR", str(tmp_path / "evidence"))
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "SMTP_HOST", "SMTP_PORT", "SMTP_SECURITY"):
        monkeypatch.delenv(name, raising=False)
    return pilot


@pytest.fixture
def one_shop_config(tmp_path: Path) -> Path:
    """pilot.yaml with only techsnab enabled (the quickest site to crawl), written beside the test."""
    data = yaml.safe_load((REPO / "pilot.yaml").read_text(encoding="utf-8"))
    for distributor in data["distributors"]:
        distributor["enabled"] = distributor["code"] == "techsnab"
    path = tmp_path / "one-shop.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path
