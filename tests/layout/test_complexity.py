"""No function is too branchy to hold in one's head: cyclomatic complexity 15 at most, as radon counts it."""

from __future__ import annotations

from pathlib import Path

from radon.complexity import cc_visit
from radon.visitors import Function

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 15
CHECKED = ("crawler", "storage", "spiders", "pipelines", "rules", "notify", "reports", "pricewatch")
CHECKED_TOO = ("fixtures", "bench")  # the test sites and benchmarks are code people read as well


def _functions(path: Path) -> list[Function]:
    """Every function and method of the module (radon lists methods beside their classes)."""
    return [block for block in cc_visit(path.read_text(encoding="utf-8")) if isinstance(block, Function)]


def test_no_function_is_over_the_complexity_limit():
    files = [
        ROOT / "scheduler.py",
        *(p for name in (*CHECKED, *CHECKED_TOO) for p in sorted((ROOT / name).rglob("*.py"))),
    ]
    over = [
        f"{path.relative_to(ROOT)}:{fn.lineno} {fn.fullname} has complexity {fn.complexity}"
        for path in files
        for fn in _functions(path)
        if fn.complexity > LIMIT
    ]
    assert not over, f"{len(over)} functions over complexity {LIMIT}; split them:\n" + "\n".join(over)
