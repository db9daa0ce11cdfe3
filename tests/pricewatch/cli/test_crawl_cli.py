"""`pricewatch crawl`: offers as JSON lines with --output, a summary per distributor, one line per mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixtures.pilot.scenario import TECHSNAB, canary
from fixtures.sites import PilotSites
from tests.support.cli import Pricewatch
from tests.support.services import REPO

PILOT_YAML = REPO / "pilot.yaml"


@pytest.fixture
def sites_env(pilot: PilotSites, monkeypatch: pytest.MonkeyPatch) -> PilotSites:
    for name, value in pilot.env().items():
        monkeypatch.setenv(name, value)
    return pilot


def test_an_unknown_distributor_is_one_line_and_exit_2(pricewatch: Pricewatch) -> None:
    outcome = pricewatch("crawl", "--config", str(PILOT_YAML), "-d", "techsnab", "-d", "nosuch")
    assert outcome.code == 2
    assert outcome.out == ""
    assert outcome.err.count("\n") == 1
    assert outcome.err.startswith("error: ")
    assert "'nosuch'" in outcome.err
    assert "techsnab" in outcome.err


def test_output_to_a_file_writes_json_lines_and_a_json_summary(
    pricewatch: Pricewatch, sites_env: PilotSites, tmp_path: Path
) -> None:
    out_file = tmp_path / "offers.jsonl"
    args = ["crawl", "--config", str(PILOT_YAML), "-d", TECHSNAB, "--limit", "2", "-o", str(out_file)]
    outcome = pricewatch(*args, "--format", "json")
    assert outcome.code == 0, outcome.err
    [row] = json.loads(outcome.out)
    assert (row["distributor"], row["status"], row["offers"], row["errors"]) == (TECHSNAB, "finished", 3, 0)
    assert row["pages"] >= 3
    assert row["duration"] > 0
    offers = [json.loads(line) for line in out_file.read_text(encoding="utf-8").splitlines()]
    assert len(offers) == 3
    assert offers[0]["url"] == sites_env.urls[TECHSNAB] + canary(TECHSNAB).path
    assert offers[0]["price"] == f"{canary(TECHSNAB).price:.2f}"


def test_output_to_stdout_keeps_stdout_for_the_offers(pricewatch: Pricewatch, sites_env: PilotSites) -> None:
    outcome = pricewatch("crawl", "--config", str(PILOT_YAML), "-d", TECHSNAB, "--limit", "1", "-o", "-")
    assert outcome.code == 0, outcome.err
    lines = outcome.out.splitlines()
    assert len(lines) == 2
    assert all(json.loads(line)["distributor"] == TECHSNAB for line in lines)
    assert "дистрибьютор" in outcome.err  # the summary table, in the config's language
    assert "finished" in outcome.err


def test_a_crawl_that_fails_says_why_and_exits_1(pricewatch: Pricewatch, tmp_path: Path) -> None:
    # A bad selector no longer gets this far (the config refuses it at load), and the database is read before any
    # crawl process starts (for the known listings to revisit): its missing folder stops the crawl at once.
    config = tmp_path / "config.yaml"
    config.write_text(
        """
distributors:
  - code: broken
    name: Broken database
    start_urls: ["http://127.0.0.1:9/"]
""",
        encoding="utf-8",
    )
    db = tmp_path / "no-such-folder" / "pricewatch.db"
    outcome = pricewatch("crawl", "--config", str(config), "--db", f"sqlite:///{db}")
    assert outcome.code == 1
    assert outcome.err == f"error: database sqlite:///{db}: the folder {db.parent} does not exist\n"
    assert not db.parent.exists()


def test_help_names_the_options(pricewatch: Pricewatch) -> None:
    outcome = pricewatch("crawl", "--help")
    assert outcome.code == 0
    for option in ("--distributor", "--limit", "--output", "--config", "--db", "--format"):
        assert option in outcome.out
