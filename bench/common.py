"""What a benchmark reports: a figure, its baseline from the same run, their ratio, and the goal."""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One measured figure. `ratio` = value / baseline (for rates: higher is better)."""

    name: str
    value: float
    unit: str
    baseline_name: str
    baseline: float
    goal: str
    met: bool

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("nan")


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    """`with stopwatch() as elapsed: ...; elapsed()` → seconds (monotonic)."""
    start = time.perf_counter()
    end: list[float] = []
    try:
        yield lambda: (end[0] if end else time.perf_counter()) - start
    finally:
        end.append(time.perf_counter())


def peak_rss_mb() -> float:
    """Peak resident set size of this process, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def quick() -> bool:
    """BENCH_QUICK=1 shrinks the workloads (for a smoke run); BENCHMARKS.md is written from full runs."""
    return os.environ.get("BENCH_QUICK", "") not in {"", "0"}
