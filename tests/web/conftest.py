"""The panel's world on SQLite and PostgreSQL (`web_world`), or on SQLite alone (`sqlite_web_world`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.engine import make_engine
from tests.support.web import WebWorld, build_world


def _world(url: str, tmp_path: Path) -> Iterator[WebWorld]:
    engine = make_engine(url)
    yield build_world(engine, tmp_path)
    engine.dispose()


@pytest.fixture
def web_world(db_url: str, tmp_path: Path) -> Iterator[WebWorld]:
    yield from _world(db_url, tmp_path)


@pytest.fixture
def sqlite_web_world(sqlite_url: str, tmp_path: Path) -> Iterator[WebWorld]:
    yield from _world(sqlite_url, tmp_path)


SCREENSHOTS: list[Path] = []


@pytest.fixture
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the browser tests keep their screenshots (named at the end of the run)."""
    folder = Path(os.environ.get("PRICEWATCH_TEST_ARTIFACTS") or tmp_path_factory.getbasetemp()) / "web-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    SCREENSHOTS.append(folder)
    return folder


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for folder in dict.fromkeys(SCREENSHOTS):
        terminalreporter.write_line(f"web panel screenshots: {folder}")
