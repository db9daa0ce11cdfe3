"""The chaos shop's scenarios replayed through the real flow, and what each day left, against the ground truth.

    with ChaosLab(folder, sqlite_template) as lab:
        lab.submit(["mass_404", "calm"])        # replayed in the background, two lanes at a time
        replay = lab.replay("mass_404")          # waits for it
        assert observed(replay) == expected(replay.scenario)

A lane is one chaos shop (fixtures/sites/chaos.py) on its own port with its own config file. Per scenario and day it
switches the shop, crawls it in a crawl process of its own (`run_crawls`, as `pricewatch crawl` does: the store
pipeline judges the run's health), then runs the rules (`run_rules_and_queue`, as `pricewatch rules run` does) on
an SQLite copy of the lane's day 1. bench/alert_accuracy.py measures the whole matrix with it.
"""

from __future__ import annotations

import datetime as dt
import queue
import re
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml
from sqlalchemy import Engine, select

from crawler.config import Config, parse_config
from crawler.items import Health
from fixtures.chaos.catalog import CHAOS
from fixtures.chaos.files import CONFIG, PRICE_LIST_CSV, PRICES_FROM, months_around, write_sales_plan
from fixtures.chaos.scenarios import Day, Event, Scenario, scenario
from fixtures.sites.base import SiteServer
from fixtures.sites.chaos import ChaosShop, start_chaos_shop
from pricewatch.alerting import run_rules_and_queue
from pricewatch.crawls.local import run_crawls
from storage.catalog_import import import_catalog
from storage.engine import make_engine, session_scope
from storage.models import Alert, AlertEvent, AlertStatus, CrawlRun, EventKind, Listing, Observation, Product, RunStatus
from storage.plan_import import import_plan
from tests.support.reliability import copy_sqlite, fresh_sqlite

LANES = 2  # the machines the suite runs on have two cores
_URL_REF = re.compile(r"\$\{CHAOS_SHOP_URL(?::-[^}]*)?\}")


@dataclass(frozen=True)
class Reading:
    """What one day's crawl stored for one product."""

    price: Decimal | None
    stock: str
    flags: tuple[str, ...]


@dataclass(frozen=True)
class DayRun:
    """One day of a replayed scenario: the crawl's verdict, what it stored, and what the rules run after it did."""

    day: int
    verdict: Health | None
    reason: str | None
    readings: Mapping[str, Reading]  # by catalog vendor code
    events: frozenset[Event]  # opened and resolved
    open_alerts: frozenset[tuple[str, str | None]]  # (rule, vendor code) open after the rules run
    details: Mapping[Event, Mapping[str, Any]]  # each event's alert details


@dataclass(frozen=True)
class Replay:
    scenario: Scenario
    days: tuple[DayRun, ...]

    def day(self, n: int) -> DayRun:
        return self.days[n - 1]


@dataclass(frozen=True)
class DayTruth:
    """A day as the tests compare it: verdict, events and open alerts, sorted and spelled out."""

    verdict: Health | None
    events: tuple[str, ...]
    open_alerts: tuple[str, ...]


def _spelled(alerts: Iterable[tuple[str, str | None]]) -> tuple[str, ...]:
    return tuple(sorted(f"{rule} {sku or '-'}" for rule, sku in alerts))


def observed(replay: Replay) -> dict[int, DayTruth]:
    return {d.day: DayTruth(d.verdict, tuple(sorted(map(str, d.events))), _spelled(d.open_alerts)) for d in replay.days}


def expected(truth: Scenario) -> dict[int, DayTruth]:
    return {
        n: DayTruth(day.verdict, tuple(sorted(map(str, day.alerts))), _spelled(truth.open_after(n)))
        for n, day in enumerate(truth.days, 1)
    }


def lane_config(folder: Path, base_url: str) -> Path:
    """fixtures/chaos/chaos.yaml pointed at `base_url`, its evidence under `folder`."""
    data = yaml.safe_load(_URL_REF.sub(base_url, CONFIG.read_text(encoding="utf-8")))
    data["evidence"] = {"dir": str(folder / "evidence"), "screenshots": False}
    path = folder / "chaos.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def load_chaos_data(db_url: str, config: Config, folder: Path) -> None:
    """The chaos catalog, and its sales plan for the months around today (in the config's zone)."""
    plan = write_sales_plan(folder / "sales_plan.csv", months_around(dt.datetime.now(config.tz).date()))
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        import_catalog(session, PRICE_LIST_CSV, valid_from=PRICES_FROM)
        import_plan(session, plan, config)
    engine.dispose()


def _readings(engine: Engine, run_id: int) -> dict[str, Reading]:
    with session_scope(engine) as session:
        rows = session.execute(
            select(Product.vendor_code, Observation.price, Observation.stock, Observation.flags)
            .join(Listing, Listing.id == Observation.listing_id)
            .join(Product, Product.id == Listing.product_id)
            .where(Observation.crawl_run_id == run_id)
        ).tuples()
        return {code: Reading(price, stock.value, tuple(sorted(flags or ()))) for code, price, stock, flags in rows}


def _sku(alert: Alert, vendor_code: str | None) -> str | None:
    """The alert's catalog vendor code: its product's, else the one its details name (None: a crawl's alert)."""
    return vendor_code or (alert.details or {}).get("vendor_code")


def _alerts_after(
    engine: Engine, rules_run_id: int
) -> tuple[dict[Event, Mapping[str, Any]], frozenset[tuple[str, str | None]]]:
    """The opened and resolved events of one rules run with their alerts' details; the alerts open after it."""
    with session_scope(engine) as session:
        rows = session.execute(
            select(Alert, Product.vendor_code, AlertEvent.kind)
            .join(Alert, Alert.id == AlertEvent.alert_id)
            .outerjoin(Product, Product.id == Alert.product_id)
            .where(AlertEvent.rules_run_id == rules_run_id, AlertEvent.kind != EventKind.ONGOING)
        ).tuples()
        events: dict[Event, Mapping[str, Any]] = {
            Event(a.rule, _sku(a, code), kind): dict(a.details or {}) for a, code, kind in rows
        }
        still = session.execute(
            select(Alert, Product.vendor_code)
            .outerjoin(Product, Product.id == Alert.product_id)
            .where(Alert.status == AlertStatus.OPEN)
        ).tuples()
        return events, frozenset((a.rule, _sku(a, code)) for a, code in still)


class _Lane:
    """One chaos shop with its config; replays one scenario at a time, day 1 crawled once per day-1 state."""

    def __init__(self, folder: Path, template: Path) -> None:
        self.folder, self.template = folder, template
        folder.mkdir(parents=True)
        self.server: SiteServer = start_chaos_shop()
        self.config_path = lane_config(folder, self.server.url)
        self.config = parse_config(self.config_path.read_text(encoding="utf-8"), str(self.config_path), env={})
        self.first_days: dict[Day, tuple[str, DayRun]] = {}

    @property
    def shop(self) -> ChaosShop:
        assert isinstance(self.server.site, ChaosShop)
        return self.server.site

    def replay(self, truth: Scenario) -> Replay:
        first = truth.day(1)
        if first not in self.first_days:
            db = fresh_sqlite(self.template, self.folder, f"day1-{len(self.first_days)}.db")
            load_chaos_data(db, self.config, self.folder)
            self.first_days[first] = (db, self.day(truth, 1, db))
        day1_db, day1 = self.first_days[first]
        db = copy_sqlite(day1_db, self.folder, f"{truth.name}.db")
        return Replay(truth, (day1, self.day(truth, 2, db), self.day(truth, 3, db)))

    def day(self, truth: Scenario, n: int, db_url: str) -> DayRun:
        """Day `n` of the scenario: the shop switched, crawled into `db_url`, the rules run."""
        self.shop.play(truth.name, n)
        [summary] = run_crawls(self.config, self.config_path, [CHAOS], db_url=db_url, log_dir=self.folder / "logs")
        engine = make_engine(db_url)
        try:
            with session_scope(engine) as session:
                rules_run_id = run_rules_and_queue(session, self.config).rules_run_id
                run = session.scalars(select(CrawlRun).where(CrawlRun.run_key == summary.run_key)).one_or_none()
                if run is None:
                    raise RuntimeError(f"{truth.name}, day {n}: the crawl stored no run: {summary.row()}")
                verdict = Health.FAILED if run.status == RunStatus.FAILED else run.health
                run_id, reason = run.id, run.health_reason
            events, open_alerts = _alerts_after(engine, rules_run_id)
            return DayRun(n, verdict, reason, _readings(engine, run_id), frozenset(events), open_alerts, events)
        finally:
            engine.dispose()

    def stop(self) -> None:
        self.server.stop()


class ChaosLab:
    """Scenarios replayed in the background, `lanes` at a time; `replay(name)` waits for one."""

    def __init__(self, folder: Path, template: Path, lanes: int = LANES) -> None:
        self._lanes = [_Lane(folder / f"lane-{i}", template) for i in range(lanes)]
        self._free: queue.Queue[_Lane] = queue.Queue()
        for lane in self._lanes:
            self._free.put(lane)
        self._pool = ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="chaos-lane")
        self._futures: dict[str, Future[Replay]] = {}
        self._lock = threading.Lock()

    def submit(self, names: Iterable[str]) -> None:
        """Queue the scenarios not queued yet, in this order."""
        with self._lock:
            for name in names:
                if name not in self._futures:
                    self._futures[name] = self._pool.submit(self._replay, scenario(name))

    def replay(self, name: str) -> Replay:
        self.submit([name])
        return self._futures[name].result()

    def _replay(self, truth: Scenario) -> Replay:
        lane = self._free.get()
        try:
            return lane.replay(truth)
        finally:
            self._free.put(lane)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        for lane in self._lanes:
            lane.stop()

    def __enter__(self) -> ChaosLab:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
