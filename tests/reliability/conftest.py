"""Reliability fixtures: the pilot config with short timeouts, the real console script, and what a database holds.

Helpers are handed to tests as fixtures where a test module needs them; plain functions live in `tests.reliability.
support` (test modules cannot import a conftest by name).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.chaos import ChaosLab
from tests.support.services import require


@pytest.fixture(scope="session")
def chromium() -> None:
    """The system Chromium the marketplace spider renders with (CI must have it)."""
    require(shutil.which("chromium") is not None or Path("/usr/bin/chromium").exists(), "Chromium (/usr/bin/chromium)")


@pytest.fixture(scope="module")
def chaos_lab(
    request: pytest.FixtureRequest, sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ChaosLab]:
    """The chaos shop's scenarios replayed in the background, two at a time, in the order the module's selected
    tests name them (their `name` parameter); a test waits only for its own."""
    wanted = []
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        if item.path == request.path and callspec is not None and "name" in callspec.params:
            wanted.append(callspec.params["name"])
    with ChaosLab(tmp_path_factory.mktemp("chaos"), sqlite_template) as lab:
        lab.submit(wanted)
        yield lab
