"""Run every benchmark in `bench/` (each in its own process) and rewrite BENCHMARKS.md.

Usage: python -m bench [NAME ...]   (BENCH_QUICK=1 for a smoke run that does not touch BENCHMARKS.md)
With NAMEs only those benchmarks run, and only their rows of BENCHMARKS.md are replaced.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pkgutil
import platform
import subprocess
import sys
import time
from pathlib import Path

import psutil

import bench
from bench.common import Figure, quick

ROOT = Path(__file__).resolve().parent.parent
NOT_BENCHMARKS = {"common", "__main__"}
TIME_GOAL_MINUTES = 15  # the whole of `make bench`
CHILD = """
import dataclasses, json, sys, importlib
figures = importlib.import_module("bench." + sys.argv[1]).run()
print("BENCH-RESULT " + json.dumps([dataclasses.asdict(f) for f in figures]))
"""


def discover() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name not in NOT_BENCHMARKS and not m.ispkg)


def run_one(name: str) -> tuple[list[Figure], str | None, float]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, name], cwd=ROOT, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH-RESULT "):
            return [Figure(**f) for f in json.loads(line.removeprefix("BENCH-RESULT "))], None, took
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
    return [], f"exit {proc.returncode}: {tail[0]}", took


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = psutil.virtual_memory().total / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB memory, Python {platform.python_version()}"


def _fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def render(results: dict[str, tuple[list[Figure], str | None, float]], total: float) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` (`python -m bench`) on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.",
        f"Machine: {machine()}.",
        "",
        "Each figure is measured side by side with its baseline in the same run; the ratio is value / baseline.",
        "These machines are noisy: read the ratios, not the absolute times.",
        "",
        "| benchmark | figure | value | baseline | baseline value | ratio | goal | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, (figures, error, _took) in results.items():
        if error:
            lines.append(f"| {name} | — | — | — | — | — | — | **failed**: {error} |")
        for f in figures:
            lines.append(
                f"| {name} | {f.name} | {_fmt(f.value)} {f.unit} | {f.baseline_name} | {_fmt(f.baseline)} {f.unit} "
                f"| {f.ratio:.2f} | {f.goal} | {'yes' if f.met else '**no**'} |"
            )
    lines += ["", "| benchmark | wall time of the whole module (s) |", "|---|---|"]
    lines += [f"| {name} | {took:.0f} |" for name, (_, _, took) in results.items()]
    lines += [f"| **all of `make bench`** | **{total:.0f}** ({total / 60:.1f} min; goal < {TIME_GOAL_MINUTES} min) |"]
    return "\n".join(lines) + "\n"


def _bench_of(line: str) -> str | None:
    """The benchmark a figure or wall-time row of BENCHMARKS.md belongs to (None for any other line)."""
    if not line.startswith("| ") or line.startswith(("| benchmark ", "| **")):
        return None
    return line.split("|")[1].strip()


def _sorted_rows(old: list[str], new: list[str], rerun: set[str]) -> list[str]:
    """One table's rows: the old ones of benchmarks not run again, and the new ones, by benchmark (stable)."""
    kept = [line for line in old if _bench_of(line) not in rerun]
    return sorted(kept + new, key=lambda line: _bench_of(line) or "")


_RERUN_PREFIX = "Rows of "


def _still_older(line: str, rerun: set[str]) -> str | None:
    """An earlier "Rows of … measured again" line without the benchmarks measured now (None when none is left)."""
    names, _, when = line.removeprefix(_RERUN_PREFIX).partition(" measured again on ")
    left = [name for name in names.split() if name not in rerun]
    return f"{_RERUN_PREFIX}{' '.join(left)} measured again on {when}" if left else None


def _header_lines(existing: str, rerun: set[str]) -> list[str]:
    """The file's lines with the "measured again" line of this run under the header, earlier ones of the same
    benchmarks dropped."""
    now = f"{_RERUN_PREFIX}{' '.join(sorted(rerun))} measured again on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC."
    lines: list[str] = []
    for line in existing.splitlines():
        kept = _still_older(line, rerun) if line.startswith(_RERUN_PREFIX) else line
        if kept is not None:
            lines.append(kept)
        if line.startswith("Written by `make bench`"):
            lines.append(now)
    return lines


def merge(existing: str, results: dict[str, tuple[list[Figure], str | None, float]]) -> str:
    """BENCHMARKS.md with the rows of the benchmarks just run replaced and every other row kept, and a line under
    the header saying which were measured again and when (each row's ratio is still side by side within one run)."""
    rerun = set(results)
    fresh = [line for line in render(results, 0).splitlines() if _bench_of(line)]
    fresh_tables = [[line for line in fresh if line.count("|") > 3], [line for line in fresh if line.count("|") == 3]]
    out: list[str | int] = []  # lines, and for each table of rows its index in `tables`
    tables: list[list[str]] = []
    for line in _header_lines(existing, rerun):
        if _bench_of(line) is None:
            out.append(line)
            continue
        if not out or not isinstance(out[-1], int):
            out.append(len(tables))
            tables.append([])
        tables[-1].append(line)
    lines: list[str] = []
    for item in out:
        if isinstance(item, int):
            new = fresh_tables[item] if item < len(fresh_tables) else []
            lines += _sorted_rows(tables[item], new, rerun)
        else:
            lines.append(item)
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    names = argv or discover()
    unknown = sorted(set(names) - set(discover()))
    if unknown:
        print(f"error: no benchmark named {', '.join(unknown)} (known: {', '.join(discover())})", file=sys.stderr)
        return 2
    results: dict[str, tuple[list[Figure], str | None, float]] = {}
    started = time.perf_counter()
    for name in names:
        print(f"bench: {name} …", flush=True)
        results[name] = run_one(name)
        figures, error, took = results[name]
        for f in figures:
            met = "met" if f.met else "NOT met"
            print(f"  {f.name}: {_fmt(f.value)} {f.unit} vs {f.baseline_name} {_fmt(f.baseline)} ({met}: {f.goal})")
        if error:
            print(f"  failed: {error}")
        print(f"  ({took:.0f} s)")
    total = time.perf_counter() - started
    print(f"bench: {len(names)} benchmarks in {total:.0f} s ({total / 60:.1f} min)")
    if quick():
        print("bench: quick run, BENCHMARKS.md left as it was")
    elif argv:
        target = ROOT / "BENCHMARKS.md"
        target.write_text(merge(target.read_text(encoding="utf-8"), results), encoding="utf-8")
        print(f"bench: rewrote the rows of {', '.join(names)} in BENCHMARKS.md; the others kept as they were")
    else:
        (ROOT / "BENCHMARKS.md").write_text(render(results, total), encoding="utf-8")
        print("bench: wrote BENCHMARKS.md")
    failed = any(error for _, error, _ in results.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
