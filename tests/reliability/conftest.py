"""Reliability fixtures: the pilot config with short timeouts, the real console script, and what a database holds.

Helpers are handed to tests as fixtures where a test module needs them; plain functions live in `tests.reliability.
support` (test modules cannot import a conftest by name).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.services import require


@pytest.fixture(scope="session")
def chromium() -> None:
    """The system Chromium the marketplace spider renders with (CI must have it)."""
    require(shutil.which("chromium") is not None or Path("/usr/bin/chromium").exists(), "Chromium (/usr/bin/chromium)")
