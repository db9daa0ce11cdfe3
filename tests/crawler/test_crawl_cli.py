"""`pricewatch crawl`: offers as JSON lines with --output, a summary per distributor, one line per mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.cli import main
from fixtures.pilot.scenario import TECHSNAB, canary
from fixtures.sites import PilotSites

PILOT_YAML = Path(__file__).resolve().parent.parent.parent / "pilot.yaml"


def pricewatch(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the console script's entry point in-process: exit code, stdout, stderr."""
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def sites_env(pilot: PilotSites, monkeypatch: pytest.MonkeyPatch) -> PilotSites:
    for name, value in pilot.env().items():
        monkeypatch.setenv(name, value)
    return pilot


def test_an_unknown_distributor_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = pricewatch(capsys, "crawl", "--config", str(PILOT_YAML), "-d", "techsnab", "-d", "nosuch")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("error: ")
    assert "'nosuch'" in err
    assert "techsnab" in err


def test_output_to_a_file_writes_json_lines_and_a_json_summary(
    capsys: pytest.CaptureFixture[str], sites_env: PilotSites, tmp_path: Path
) -> None:
    out_file = tmp_path / "offers.jsonl"
    args = ["crawl", "--config", str(PILOT_YAML), "-d", TECHSNAB, "--limit", "2", "-o", str(out_file)]
    code, out, err = pricewatch(capsys, *args, "--format", "json")
    assert code == 0, err
    [row] = json.loads(out)
    assert (row["distributor"], row["status"], row["offers"], row["errors"]) == (TECHSNAB, "finished", 3, 0)
    assert row["pages"] >= 3
    assert row["duration"] > 0
    offers = [json.loads(line) for line in out_file.read_text(encoding="utf-8").splitlines()]
    assert len(offers) == 3
    assert offers[0]["url"] == sites_env.urls[TECHSNAB] + canary(TECHSNAB).path
    assert offers[0]["price"] == f"{canary(TECHSNAB).price:.2f}"


def test_output_to_stdout_keeps_stdout_for_the_offers(
    capsys: pytest.CaptureFixture[str], sites_env: PilotSites
) -> None:
    code, out, err = pricewatch(capsys, "crawl", "--config", str(PILOT_YAML), "-d", TECHSNAB, "--limit", "1", "-o", "-")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 2
    assert all(json.loads(line)["distributor"] == TECHSNAB for line in lines)
    assert "Distributor" in err
    assert "finished" in err


def test_a_crawl_that_fails_says_why_and_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        """
distributors:
  - code: broken
    name: Broken selectors
    start_urls: ["http://127.0.0.1:9/"]
    extraction: selectors
    selectors: {price: ".price[["}
""",
        encoding="utf-8",
    )
    code, out, err = pricewatch(capsys, "crawl", "--config", str(config), "-o", str(tmp_path / "o.jsonl"))
    assert code == 1
    assert "failed" in out
    assert err.strip().splitlines()[-1].startswith("error: crawl of broken failed: ")
    assert "selectors.price: '.price[[' is not a valid CSS selector" in err


def test_help_names_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = pricewatch(capsys, "crawl", "--help")
    assert code == 0
    for option in ("--distributor", "--limit", "--output", "--config", "--db", "--format"):
        assert option in out
