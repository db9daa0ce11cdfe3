"""Shared fixtures: migrated databases on SQLite and PostgreSQL, and services that CI must have."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from crawler.config import Config, parse_config
from fixtures.sites import PilotSites, start_pilot_sites
from pricewatch.cli import main
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Base
from tests.support.cli import Outcome, Pricewatch
from tests.support.services import REPO, pg_database


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session, dropped at the end."""
    with pg_database() as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test so migrations run once per session."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def _truncate_pg(url: str) -> None:
    engine = make_engine(url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: each test that takes it runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "pricewatch.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_server_url")
    _truncate_pg(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty SQLite database, for tests where the dialect does not matter."""
    path = tmp_path / "pricewatch.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def pilot_sites() -> Iterator[PilotSites]:
    """The pilot sites (the scenario's three and «Витрина») on ephemeral 127.0.0.1 ports for the whole session."""
    with start_pilot_sites(day=1) as sites:
        yield sites


@pytest.fixture
def pilot(pilot_sites: PilotSites) -> Iterator[PilotSites]:
    """The running pilot sites on day 1, every site normal; put back that way after the test."""
    pilot_sites.reset()
    yield pilot_sites
    pilot_sites.reset()


@pytest.fixture
def pilot_config(pilot: PilotSites) -> Config:
    """pilot.yaml parsed with its base URLs pointing at the running pilot sites."""
    path = REPO / "pilot.yaml"
    return parse_config(path.read_text(encoding="utf-8"), str(path), env=pilot.env())


@pytest.fixture
def pricewatch(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Pricewatch:
    """`pricewatch("catalog", "list", "--db", url)` → exit code, stdout, stderr."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("PRICEWATCH_CONFIG", raising=False)

    def run(*args: str) -> Outcome:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run
