"""The crawl-health verdict built from every page, end to end: the pilot shop techsnab crawled by the real crawl
process with faults on many product pages and its canary fine, then `rules run` on top of a normal day 1.

One module-scoped fixture crawls day 1 normally (the baseline: a dumping and a low stock open), then each fault on a
copy of that database, one after the other on the same site (the listings keep their URLs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler.config import Config, parse_config
from crawler.items import Health
from fixtures.pilot import scenario
from fixtures.pilot.scenario import TECHSNAB
from fixtures.sites.pilot import env_name
from pricewatch.crawls.local import CrawlSummary, run_crawls
from storage.engine import make_engine, session_scope
from storage.models import Alert, AlertStatus, CrawlRun, Observation
from tests.support.page_faults import FaultyTechsnab, PageFault, product_paths, served
from tests.support.reliability import (
    AlertKey,
    FaultRuns,
    copy_sqlite,
    fresh_sqlite,
    load_pilot_catalog,
    quick_config,
    rules_after,
)

pytestmark = pytest.mark.slow

HEALTH = AlertKey("crawler_health", TECHSNAB, None, None)
MIXED = (PageFault.BLOCKED, PageFault.CONFLICT, PageFault.TIMEOUT, PageFault.RESET)


@dataclass(frozen=True)
class Fault:
    name: str
    pages: Callable[[list[str]], dict[str, PageFault]]  # techsnab's product pages (not the canary's) → faults
    price_factor: Decimal | None = None
    continues: str | None = None  # crawl on top of that fault's database instead of the baseline's


FAULTS = (
    Fault("every product page 403", lambda paths: dict.fromkeys(paths, PageFault.BLOCKED)),
    # All but one, in four ways: anti-bot pages, two prices, timeouts, dropped connections.
    Fault("29 of 30 unreadable", lambda paths: {p: MIXED[i % len(MIXED)] for i, p in enumerate(paths[:-1])}),
    Fault("every product page 404", lambda paths: dict.fromkeys(paths, PageFault.NOT_FOUND)),
    Fault("every price misread", lambda paths: {}, price_factor=Decimal("0.6")),
    Fault("read right again", lambda paths: {}, continues="every price misread"),
)


@dataclass(frozen=True)
class Outcome:
    db_url: str
    summary: CrawlSummary
    run: CrawlRun
    stored: int  # observations of the run
    events: set[tuple[AlertKey, str]]  # of the rules run after the crawl
    open_after: set[AlertKey]
    health_reason: str | None  # of the open crawler-health alert


Faults = FaultRuns[Outcome]


def _crawl_and_judge(config: Config, config_path: Path, db_url: str, folder: Path) -> Outcome:
    [summary] = run_crawls(config, config_path, [TECHSNAB], db_url=db_url, log_dir=folder)
    events, open_after = rules_after(db_url, config)
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        run = session.scalars(select(CrawlRun).where(CrawlRun.run_key == summary.run_key)).one()
        stored = len(session.scalars(select(Observation.id).where(Observation.crawl_run_id == run.id)).all())
        health = session.scalars(
            select(Alert).where(Alert.rule == "crawler_health", Alert.status == AlertStatus.OPEN)
        ).all()
        reason = health[0].details["reason"] if health else None
        session.expunge(run)
    engine.dispose()
    return Outcome(db_url, summary, run, stored, events, open_after, reason)


@pytest.fixture(scope="module")
def faults(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Faults]:
    folder = tmp_path_factory.mktemp("health-from-every-page")
    config_path = quick_config(folder, enabled=[TECHSNAB])
    site = FaultyTechsnab()
    with served(site) as url, pytest.MonkeyPatch.context() as env:
        env.setenv(env_name(TECHSNAB), url)  # the crawl process reads the config again
        config = parse_config(config_path.read_text(encoding="utf-8"), str(config_path), env={env_name(TECHSNAB): url})
        base = fresh_sqlite(sqlite_template, folder, "baseline.db")
        load_pilot_catalog(base)
        baseline = _crawl_and_judge(config, config_path, base, folder)
        assert baseline.run.health == Health.OK, baseline.run.health_reason
        expected = {e.key for e in scenario.expected_alerts(1) if e.distributor == TECHSNAB}
        assert {f"{k.rule}:{k.distributor}:{k.vendor_code}:{k.seller}" for k in baseline.open_after} == expected

        outcomes: dict[str, Outcome] = {}
        for n, fault in enumerate(FAULTS):
            site.faults, site.price_factor = fault.pages(product_paths()), fault.price_factor
            start = outcomes[fault.continues].db_url if fault.continues else base
            db_url = copy_sqlite(start, folder, f"fault-{n}.db")
            outcomes[fault.name] = _crawl_and_judge(config, config_path, db_url, folder)
        yield Faults(baseline.open_after, outcomes)


def _only_the_admin_heard(outcome: Outcome, faults: Faults) -> None:
    """The run opened the crawler-health alert and nothing else: no alert opened, resolved or lost."""
    assert {(key, kind) for key, kind in outcome.events if kind != "ongoing"} == {(HEALTH, "opened")}
    assert outcome.open_after == faults.baseline_open | {HEALTH}
    assert outcome.health_reason == outcome.run.health_reason


def test_every_product_page_403_with_the_canary_fine_is_degraded_by_the_block(faults: Faults) -> None:
    outcome = faults["every product page 403"]
    assert (outcome.run.health, outcome.summary.health) == (Health.DEGRADED, "degraded")
    assert outcome.run.health_reason == (
        "blocked by anti-bot: 30 of 31 product pages blocked (anti-bot page, captcha or 403)"
    )
    assert outcome.summary.stats["pricewatch/health_cause"] == "blocked by anti-bot"
    assert outcome.stored == 31  # the blocked pages as unknown, the canary as read
    _only_the_admin_heard(outcome, faults)


def test_29_of_30_pages_unreadable_in_four_ways_is_degraded_and_names_each(faults: Faults) -> None:
    outcome = faults["29 of 30 unreadable"]
    assert outcome.run.health == Health.DEGRADED
    reason = outcome.run.health_reason or ""
    for named in ("8 of 31 product pages blocked", "conflicting prices on", "14 of 31 product pages failed after"):
        assert named in reason
    assert reason.startswith("site down: ")  # timeouts and dropped connections: 14 pages, the heaviest cause
    _only_the_admin_heard(outcome, faults)


def test_every_product_page_404_with_the_canary_fine_is_a_mass_404_not_delistings(faults: Faults) -> None:
    outcome = faults["every product page 404"]
    assert outcome.run.health == Health.DEGRADED
    assert outcome.run.health_reason == "mass 404: 30 of 31 known listings answered 404 (over 10%)"
    assert outcome.summary.stats["pricewatch/health_cause"] == "mass 404"
    _only_the_admin_heard(outcome, faults)  # no «снят с продажи» stock-out for any of the 30


def test_a_price_misread_the_canary_proves_opens_no_dumping_or_price_move(faults: Faults) -> None:
    outcome = faults["every price misread"]
    assert outcome.run.health == Health.DEGRADED
    assert "shows price 2994.00 instead of the known 4990" in (outcome.run.health_reason or "")
    assert (outcome.run.health_reason or "").startswith("layout changed: ")
    _only_the_admin_heard(outcome, faults)  # 60 % of the price everywhere: no dumping, no price move


def test_the_next_ok_run_is_judged_normally(faults: Faults) -> None:
    outcome = faults["read right again"]
    assert outcome.run.health == Health.OK
    # Day 1 again: the dumping and the low stock go on; only the crawler-health alert ends.
    assert {(key, kind) for key, kind in outcome.events if kind != "ongoing"} == {(HEALTH, "resolved")}
    assert outcome.open_after == faults.baseline_open
