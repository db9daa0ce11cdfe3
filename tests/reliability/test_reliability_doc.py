"""docs/reliability.md matches the tests: every test it names exists, and every reliability test is in it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.support.services import REPO

DOC = REPO / "docs" / "reliability.md"
HERE = Path(__file__).resolve().parent
# `tests/notify/test_x.py::name`, `test_x.py::name` (in tests/reliability), or `::name` (the file named before it).
REFERENCE = re.compile(r"`((?:tests/[\w/]+/)?test_\w+\.py)?::(\w+)`")


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


def _references() -> list[tuple[Path, str]]:
    found, current = [], None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        for file, name in REFERENCE.findall(line):
            if file:
                current = REPO / file if file.startswith("tests/") else HERE / file
            assert current is not None, f"`::{name}` with no file named before it"
            found.append((current, name))
    return found


def test_every_test_the_page_names_exists() -> None:
    missing = [f"{path.relative_to(REPO)}::{name}" for path, name in _references() if name not in _tests_in(path)]
    assert missing == []


def test_every_reliability_test_is_on_the_page() -> None:
    named = {(path, name) for path, name in _references()}
    absent = [
        f"{path.name}::{name}"
        for path in sorted(HERE.glob("test_*.py"))
        if path.name != Path(__file__).name
        for name in sorted(_tests_in(path))
        if (path, name) not in named
    ]
    assert absent == []
