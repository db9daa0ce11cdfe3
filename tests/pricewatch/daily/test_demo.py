"""`pricewatch demo`: the whole flow on the pilot sites and a fresh SQLite file, reports in the out folder."""

from __future__ import annotations

import io
import re
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
from rich.console import Console

from crawler.errors import UserError
from fixtures.pilot.scenario import DAYS, expected_alerts
from fixtures.sites import PilotSites
from pricewatch.demo import run_demo
from tests.support.services import REPO


def test_demo_runs_both_days_prints_the_expected_alerts_and_writes_the_reports(
    pilot_env: PilotSites, tmp_path: Path
) -> None:
    out = io.StringIO()
    result = run_demo(str(REPO / "pilot.yaml"), tmp_path / "demo-out", Console(file=out, width=200))

    assert result.ok, {d: r.failures for d, r in result.days.items()}
    for day in DAYS:
        printed = Counter((e["rule"], e["kind"]) for e in result.events[day])
        assert printed == Counter((e.rule, e.event.value) for e in expected_alerts(day))
    text = out.getvalue()
    assert "Would send" in text
    assert "Where to look" in text
    assert re.search(r"the demo took (\d+ min \d\d|\d+) s\n", text)
    names = sorted(p.name for p in result.reports)
    assert names == ["violations.csv", "violations.pdf", "violations.xlsx"]
    assert (tmp_path / "demo-out" / "violations.pdf").read_bytes().startswith(b"%PDF")
    book = openpyxl.load_workbook(tmp_path / "demo-out" / "violations.xlsx")
    assert book.sheetnames[0] in {"Сводка", "Summary"}
    assert any((tmp_path / "demo-out" / "evidence").rglob("*.png"))


def test_demo_refuses_to_wipe_a_folder_it_did_not_make(tmp_path: Path) -> None:
    keep = tmp_path / "mine"
    keep.mkdir()
    (keep / "important.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(UserError, match="was not made by the demo"):
        run_demo(str(REPO / "pilot.yaml"), keep, Console(file=io.StringIO()))
    assert (keep / "important.txt").exists()
