"""`python -m bench`: finds every benchmark module and writes each figure, its baseline and the total time."""

from __future__ import annotations

import pytest

from bench.__main__ import discover, main, render
from bench.common import Figure

FIGURE = Figure(
    name="shop spider",
    value=90.0,
    unit="pages/s",
    baseline_name="bare Scrapy",
    baseline=100.0,
    goal="≥ 0.85 × baseline",
    met=True,
)


def test_every_benchmark_module_is_found_and_helpers_are_not() -> None:
    found = discover()
    assert {"crawl_shop", "crawl_marketplace", "matching", "store", "rules", "reports", "daily_run"} <= set(found)
    assert not {"common", "__main__", "baselines"} & set(found)


def test_the_table_shows_value_baseline_ratio_and_whether_the_goal_is_met() -> None:
    missed = Figure("store", 15_000.0, "observations/s", "raw INSERT", 30_000.0, "≥ 20,000/s", met=False)
    text = render({"crawl_shop": ([FIGURE], None, 120.0), "store": ([missed], None, 20.0)}, total=140.0)
    row = "| crawl_shop | shop spider | 90.00 pages/s | bare Scrapy | 100 pages/s | 0.90 | ≥ 0.85 × baseline | yes |"
    assert row in text
    assert "| 0.50 | ≥ 20,000/s | **no** |" in text
    assert "| **all of `make bench`** | **140** (2.3 min; goal < 15 min) |" in text


def test_a_benchmark_that_failed_is_shown_as_failed() -> None:
    text = render({"reports": ([], "exit 1: RuntimeError: boom", 3.0)}, total=3.0)
    assert "**failed**: exit 1: RuntimeError: boom" in text


def test_an_unknown_benchmark_name_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["no_such_bench"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "no benchmark named no_such_bench" in err[0]
