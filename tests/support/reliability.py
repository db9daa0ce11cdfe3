"""What the reliability tests share: a pilot config for tests, the real console script, database snapshots."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from sqlalchemy import JSON, Engine, LargeBinary, String, Text, func, select

from crawler.config import Config
from fixtures.pilot.files import PRICE_LIST_CSV
from fixtures.pilot.scenario import SITES
from pricewatch.alerting import run_rules_and_queue
from storage.catalog_import import import_catalog
from storage.engine import make_engine, session_scope
from storage.models import Alert, AlertEvent, AlertStatus, Base
from tests.support.builders import World, day, pilot_seen
from tests.support.services import REPO

PILOT_YAML = REPO / "pilot.yaml"
PRICEWATCH = Path(sys.executable).with_name("pricewatch")  # the console script pip installed
RRP_FROM = dt.date(2026, 1, 1)
T = TypeVar("T")
# Environment a test sets itself; inherited values would point a child process at the wrong database or service.
_OWN_ENV = (
    "DATABASE_URL",
    "PRICEWATCH_CONFIG",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_URL",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_SECURITY",
    "SMTP_USER",
    "SMTP_PASSWORD",
)


def quick_config(
    folder: Path,
    *,
    enabled: Iterable[str] | None = None,
    notify: Mapping[str, Any] | None = None,
    timeout: float = 2,
    name: str = "pilot-quick.yaml",
) -> Path:
    """pilot.yaml as a test needs it: `timeout` s page timeouts and one retry (fault modes fail fast), evidence under
    `folder`, only the `enabled` distributors (all by default), `notify` keys replaced (e.g. `{"telegram": {...}}`).
    """
    data = yaml.safe_load(PILOT_YAML.read_text(encoding="utf-8"))
    wanted = set(enabled) if enabled is not None else None
    for distributor in data["distributors"]:
        distributor["politeness"].update(timeout=timeout, retries=1)
        if wanted is not None:
            distributor["enabled"] = distributor["code"] in wanted
    data["evidence"]["dir"] = str(folder / "evidence")
    for key, value in (notify or {}).items():
        data["notify"][key] = {**data["notify"].get(key, {}), **value} if isinstance(value, dict) else value
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a child process: ours without the settings a test controls, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in _OWN_ENV}
    env.update(extra or {})
    return env


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    def one_error_line(self) -> str:
        """The single `error: …` line a mistake must end in (asserting there is exactly one, no traceback)."""
        lines = self.err.strip().splitlines()
        assert len(lines) == 1, self.err
        assert lines[0].startswith("error: "), self.err
        assert "Traceback" not in self.err
        return lines[0]


def pricewatch(*args: str, env: Mapping[str, str] | None = None, timeout: float = 240) -> Ran:
    """Run the installed `pricewatch` console script, as an admin or cron would."""
    done = subprocess.run(
        [str(PRICEWATCH), *args],
        cwd=REPO,
        env=child_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def fresh_sqlite(template: Path, folder: Path, name: str = "pricewatch.db") -> str:
    """A copy of the migrated SQLite template in `folder`."""
    path = folder / name
    shutil.copy(template, path)
    return f"sqlite:///{path}"


def copy_sqlite(url: str, folder: Path, name: str) -> str:
    """A copy of a SQLite database (checkpointed first: the WAL holds the latest commits)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    path = folder / name
    shutil.copy(url.removeprefix("sqlite:///"), path)
    return f"sqlite:///{path}"


def load_pilot_catalog(db_url: str) -> None:
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        import_catalog(session, PRICE_LIST_CSV, valid_from=RRP_FROM)
    engine.dispose()


def seed_pilot_days(
    db_url: str, config: Config, days: Iterable[int], sites: Iterable[str] = SITES, *, rules: bool = True
) -> int:
    """The pilot catalog, then for each day the sites' ground-truth offers stored as a finished ok crawl and (with
    `rules`) a rules run over them: what `run-daily` leaves, without crawling. Returns the last rules run's id."""
    engine = make_engine(db_url)
    world = World(engine, config)
    world.import_catalog(PRICE_LIST_CSV, valid_from=RRP_FROM)
    rules_run_id = 0
    for n in days:
        for hour, site in enumerate(sites):
            world.crawl(site, day(n, hours=hour), pilot_seen(site, n))
        if rules:
            with session_scope(engine) as session:
                rules_run_id = run_rules_and_queue(session, config).rules_run_id
    engine.dispose()
    return rules_run_id


def table_counts(engine: Engine) -> dict[str, int]:
    """Rows per table: compared before and after, they show whether anything was half-written."""
    with engine.connect() as conn:
        tables = Base.metadata.sorted_tables
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables}


def every_stored_text(engine: Engine) -> str:
    """Every text, JSON and binary column of every row of every table, as one string to search."""
    parts: list[str] = []
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON | LargeBinary)]
            if not columns:
                continue
            for row in conn.execute(select(*columns)):
                for value in row:
                    if isinstance(value, bytes):
                        parts.append(value.decode("latin-1"))
                    elif value is not None:
                        parts.append(str(value))
    return "\n".join(parts)


@dataclass(frozen=True)
class AlertKey:
    """An alert by what it is about, independent of database ids."""

    rule: str
    distributor: str | None
    vendor_code: str | None
    seller: str | None


def alert_key(alert: Alert) -> AlertKey:
    d = alert.details or {}
    return AlertKey(alert.rule, d.get("distributor_code"), d.get("vendor_code"), d.get("seller_code"))


def open_alerts(engine: Engine) -> set[AlertKey]:
    with session_scope(engine) as session:
        return {alert_key(a) for a in session.scalars(select(Alert).where(Alert.status == AlertStatus.OPEN))}


def events_of(engine: Engine, rules_run_id: int) -> set[tuple[AlertKey, str]]:
    """The alert events one rules run wrote: (alert, opened | ongoing | resolved)."""
    with session_scope(engine) as session:
        rows = session.execute(
            select(Alert, AlertEvent.kind)
            .join(Alert, Alert.id == AlertEvent.alert_id)
            .where(AlertEvent.rules_run_id == rules_run_id)
        ).tuples()
        return {(alert_key(a), kind.value) for a, kind in rows}


def rules_after(db_url: str, config: Config) -> tuple[set[tuple[AlertKey, str]], set[AlertKey]]:
    """Run the rules once on the database: the alert events that run wrote, and the alerts open after it."""
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        rules_run_id = run_rules_and_queue(session, config).rules_run_id
    events, after = events_of(engine, rules_run_id), open_alerts(engine)
    engine.dispose()
    return events, after


@dataclass(frozen=True)
class FaultRuns(Generic[T]):
    """The alerts open after a normal baseline crawl, and each fault's outcome by the fault's name."""

    baseline_open: set[AlertKey]
    outcomes: dict[str, T]

    def __getitem__(self, name: str) -> T:
        return self.outcomes[name]
