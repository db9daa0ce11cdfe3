"""`python -m bench`: finds every benchmark module and writes each figure, its baseline and the total time."""

from __future__ import annotations

import pytest

from bench.__main__ import discover, main, merge, render
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


def test_a_partial_run_replaces_only_its_own_rows_and_says_when() -> None:
    other = Figure("store", 15_000.0, "observations/s", "raw INSERT", 30_000.0, "≥ 20,000/s", met=False)
    full = render({"crawl_shop": ([FIGURE], None, 120.0), "store": ([other], None, 20.0)}, total=140.0)
    faster = Figure("shop spider", 99.0, "pages/s", "bare Scrapy", 100.0, "≥ 0.85 × baseline", met=True)
    added = Figure("accuracy", 100.0, "%", "ground truth", 100.0, "100 %", met=True)
    merged = merge(full, {"crawl_shop": ([faster], None, 100.0), "alert_accuracy": ([added], None, 7.0)})
    lines = merged.splitlines()
    assert "| crawl_shop | shop spider | 90.00 pages/s |" not in merged
    figures = [line.split("|")[1].strip() for line in lines if line.count("|") > 3 and "benchmark" not in line]
    rows = [name for name in figures if name not in {"---", "**all of `make bench`**"}]
    assert rows == ["alert_accuracy", "crawl_shop", "store"]
    times = [line for line in lines if line.count("|") == 3 and not line.startswith(("| benchmark", "|---", "| **"))]
    assert times == ["| alert_accuracy | 7 |", "| crawl_shop | 100 |", "| store | 20 |"]
    assert "| **all of `make bench`** | **140**" in merged  # the full run's total stays the full run's
    assert any(line.startswith("Rows of alert_accuracy crawl_shop measured again on ") for line in lines)


def test_a_second_partial_run_leaves_one_line_per_benchmark_saying_when() -> None:
    other = Figure("store", 15_000.0, "observations/s", "raw INSERT", 30_000.0, "≥ 20,000/s", met=False)
    full = render({"crawl_shop": ([FIGURE], None, 120.0), "store": ([other], None, 20.0)}, total=140.0)
    once = merge(full, {"crawl_shop": ([FIGURE], None, 100.0), "store": ([other], None, 20.0)})
    twice = merge(once, {"store": ([other], None, 21.0)})
    said = [line for line in twice.splitlines() if line.startswith("Rows of ")]
    assert [line.split(" measured")[0] for line in said] == ["Rows of store", "Rows of crawl_shop"]
