"""Where the repository is, and what to do when a service a test needs (PostgreSQL, Chromium…) is missing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
REPO = Path(__file__).resolve().parents[2]


def require(available: bool, what: str) -> None:
    """Skip (locally) or fail (in CI) a test whose service is missing: CI must never skip one silently."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI (CI=true) but is not available")
    pytest.skip(f"{what} is not available")
