"""Where the repository is, and what to do when a service a test needs (PostgreSQL, Chromium…) is missing."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
REPO = Path(__file__).resolve().parents[2]
PG_ADMIN_DSN = os.environ.get("PRICEWATCH_TEST_PG", "postgresql://127.0.0.1:5432/test")


def require(available: bool, what: str) -> None:
    """Skip (locally) or fail (in CI) a test whose service is missing: CI must never skip one silently."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI (CI=true) but is not available")
    pytest.skip(f"{what} is not available")


@contextmanager
def pg_database(prefix: str = "pw_test") -> Iterator[str]:
    """A new, empty PostgreSQL database on the test server (its SQLAlchemy URL), dropped afterwards."""
    try:
        admin = psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        require(False, f"PostgreSQL at {PG_ADMIN_DSN}")
        raise
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
