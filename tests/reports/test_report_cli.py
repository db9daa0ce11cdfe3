"""`pricewatch report violations` and `pricewatch evidence prune` as a person runs them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

from tests.support.cli import Pricewatch


@pytest.fixture
def cli_args(sqlite_scenario: Any, tmp_path: Path) -> list[str]:
    config = tmp_path / "pricewatch.yaml"
    config.write_text(yaml.safe_dump(sqlite_scenario.config.model_dump(mode="json"), allow_unicode=True))
    return ["--config", str(config), "--db", str(sqlite_scenario.engine.url)]


@pytest.mark.parametrize("period", [("2026-03-01", "2026-03-10"), ("01.03.2026", "10.03.2026")], ids=["iso", "ru"])
def test_writes_the_report_in_the_format_of_the_file_name(
    cli_args: list[str], tmp_path: Path, pricewatch: Pricewatch, period: tuple[str, str]
) -> None:
    out = tmp_path / "march.xlsx"
    outcome = pricewatch("report", "violations", "--out", str(out), "--from", period[0], "--to", period[1], *cli_args)
    assert (outcome.code, outcome.err) == (0, "")
    assert outcome.out.startswith(f"{out}: 4 violations")
    assert openpyxl.load_workbook(out).sheetnames[0] == "Сводка"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-02-30"], "error: --from: expected a date as YYYY-MM-DD or DD.MM.YYYY, got '2026-02-30'"),
        (["--from", "2026-03-10", "--to", "2026-03-01"], "error: --from 2026-03-10 is after --to 2026-03-01"),
        (["--distributor", "nope"], "error: --distributor: no distributor 'nope' in the database (known: market,"),
        (["--format", "pdf", "--out", "/nonexistent/r.pdf"], "error: --out /nonexistent/r.pdf: folder /nonexistent"),
    ],
)
def test_mistakes_end_in_one_line_and_exit_2(
    cli_args: list[str], tmp_path: Path, pricewatch: Pricewatch, args: list[str], message: str
) -> None:
    out = ["--out", str(tmp_path / "r.csv")] if "--out" not in args else []
    outcome = pricewatch("report", "violations", *out, *args, *cli_args)
    assert outcome.code == 2
    assert outcome.err.startswith(message)
    assert outcome.err.count("\n") == 1
    assert not (tmp_path / "r.csv").exists()


def test_evidence_prune_reports_what_it_deleted(cli_args: list[str], pricewatch: Pricewatch) -> None:
    outcome = pricewatch("evidence", "prune", "--format", "json", *cli_args)
    assert outcome.code == 0
    # The scenario's evidence is from March 2026 and held by no open alert: past 30 days it all goes.
    assert json.loads(outcome.out) == [{"records": 2, "files": 2}]


@pytest.mark.parametrize("fmt", ["xlsx", "pdf", "csv"])
def test_an_empty_database_gives_an_empty_report(
    blank_scenario: Any, tmp_path: Path, pricewatch: Pricewatch, fmt: str
) -> None:
    config = tmp_path / "pricewatch.yaml"
    config.write_text(yaml.safe_dump(blank_scenario.config.model_dump(mode="json"), allow_unicode=True))
    out = tmp_path / f"empty.{fmt}"
    args = ["--config", str(config), "--db", str(blank_scenario.engine.url)]
    outcome = pricewatch("report", "violations", "--out", str(out), *args)
    assert (outcome.code, outcome.err) == (0, "")
    assert outcome.out.startswith(f"{out}: 0 violations, 0 distributors")
    assert out.stat().st_size > 0


def test_the_csv_dialect_for_russian_excel_is_chosen_on_the_command_line(
    cli_args: list[str], tmp_path: Path, pricewatch: Pricewatch
) -> None:
    out = tmp_path / "march.csv"
    period = ["--from", "01.03.2026", "--to", "10.03.2026"]
    outcome = pricewatch("report", "violations", "--out", str(out), "--dialect", "excel-ru", *period, *cli_args)
    assert (outcome.code, outcome.err) == (0, "")
    header = out.read_bytes()[3:].decode("utf-8").splitlines()[0]
    assert header.startswith("alert_id;distributor_code;")
