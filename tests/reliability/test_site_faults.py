"""The pilot sites in fault modes, crawled through the real crawl process, then `rules run`: every fault ends with the
right offers, `unknown` where nothing can be known, a verdict that says what happened, and no false alert.

One module-scoped fixture crawls day 1 of the three sites normally (the baseline, with its alerts), then each fault
on a copy of that database, several sites at once; the tests assert on what each crawl and rules run left behind.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler.config import Config, parse_config
from crawler.items import Health
from fixtures.pilot import scenario
from fixtures.pilot.scenario import KLIMATPROF, MARKETPLACE, TECHSNAB
from fixtures.sites import PilotSites
from fixtures.sites.base import Hit
from fixtures.sites.modes import Mode
from pricewatch.crawls.local import CrawlSummary, run_crawls
from storage.engine import make_engine, session_scope
from storage.models import CrawlRun, Listing, Observation, RunStatus, Seller
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


@dataclass(frozen=True)
class Fault:
    """A site switched to `mode` for one crawl: on one product page (`page`, a catalog code) or the whole site."""

    name: str
    site: str
    mode: Mode
    page: str | None = None
    day: int = 1
    continues: str | None = None  # crawl on top of that fault's database instead of the baseline's

    @property
    def path(self) -> str | None:
        return scenario.offer_for(self.site, self.page, day=self.day).path if self.page else None


# In run order per site; the n-th fault of every site runs at the same time.
FAULTS = (
    Fault("5xx burst", TECHSNAB, Mode.HTTP_500_BURST),
    Fault("429 with Retry-After", KLIMATPROF, Mode.RATE_LIMITED),
    Fault("captcha on the marketplace", MARKETPLACE, Mode.CAPTCHA),
    Fault("cp1251 shop", TECHSNAB, Mode.CP1251),
    Fault("cp1251 JSON-LD and sitemap", KLIMATPROF, Mode.CP1251),
    Fault("broken HTML shop", TECHSNAB, Mode.BROKEN_HTML),
    Fault("broken HTML with JSON-LD", KLIMATPROF, Mode.BROKEN_HTML),
    Fault("timeout on a product page", TECHSNAB, Mode.SLOW, page="TL-1007"),
    Fault("20 MB product page", KLIMATPROF, Mode.HUGE_PAGE, page="TL-1003"),
    Fault("captcha", TECHSNAB, Mode.CAPTCHA),
    Fault("redirect loop on a product page", KLIMATPROF, Mode.REDIRECT_LOOP, page="TL-1005"),
    Fault("connections reset", TECHSNAB, Mode.DOWN),
    Fault("Cloudflare challenge", KLIMATPROF, Mode.BLOCKED),
    Fault("new layout on day 2", TECHSNAB, Mode.LAYOUT_V2, day=2),
    Fault("redirect loop everywhere", KLIMATPROF, Mode.REDIRECT_LOOP),
    Fault("layout fixed on day 2", TECHSNAB, Mode.NORMAL, day=2, continues="new layout on day 2"),
)
BY_NAME = {f.name: f for f in FAULTS}


@dataclass(frozen=True)
class Seen:
    """An observation the crawl stored, as the ground truth describes an offer."""

    price: Decimal | None
    stock: str
    flags: tuple[str, ...]


@dataclass
class Outcome:
    fault: Fault
    db_url: str
    summary: CrawlSummary
    run: CrawlRun
    seen: dict[tuple[str, str], Seen]  # (URL path, seller code) → what was stored
    hits: list[Hit]
    events: set[tuple[AlertKey, str]]  # of the rules run after the crawl
    open_after: set[AlertKey]


Faults = FaultRuns[Outcome]


def _stored(db_url: str, run_key: str, base_url: str) -> tuple[CrawlRun, dict[tuple[str, str], Seen]]:
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        run = session.scalars(select(CrawlRun).where(CrawlRun.run_key == run_key)).one()
        rows = session.execute(
            select(Listing.url, Seller.code, Observation.price, Observation.stock, Observation.flags)
            .join(Listing, Listing.id == Observation.listing_id)
            .join(Seller, Seller.id == Listing.seller_id)
            .where(Observation.crawl_run_id == run.id)
        ).all()
        session.expunge(run)
    engine.dispose()
    seen = {
        (url.removeprefix(base_url), seller): Seen(price, stock.value, tuple(sorted(flags)))
        for url, seller, price, stock, flags in rows
    }
    assert len(seen) == len(rows), "one page stored twice in a run"
    return run, seen


def _crawl(config: Config, config_path: Path, code: str, db_url: str, log_dir: Path) -> CrawlSummary:
    [summary] = run_crawls(config, config_path, [code], db_url=db_url, log_dir=log_dir)
    return summary


@pytest.fixture(scope="module")
def faults(
    pilot_sites: PilotSites, sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory, chromium: None
) -> Faults:
    folder = tmp_path_factory.mktemp("site-faults")
    config_path = quick_config(folder)
    config = parse_config(config_path.read_text(encoding="utf-8"), str(config_path), env=pilot_sites.env())
    uses_chromium = any(f.site == MARKETPLACE for f in FAULTS)
    with pytest.MonkeyPatch.context() as env, ThreadPoolExecutor(max_workers=3) as pool:
        for name, value in pilot_sites.env().items():
            env.setenv(name, value)
        pilot_sites.reset()
        base = fresh_sqlite(sqlite_template, folder, "baseline.db")
        load_pilot_catalog(base)
        sites = [TECHSNAB, KLIMATPROF, *([MARKETPLACE] if uses_chromium else [])]
        baseline = run_crawls(config, config_path, sites, db_url=base, log_dir=folder, max_parallel=3)
        assert [s.health for s in baseline] == ["ok"] * len(sites), [s.row() for s in baseline]
        expected = {e.key for e in scenario.expected_alerts(1) if e.distributor in sites}
        _, baseline_open = rules_after(base, config)
        assert {f"{k.rule}:{k.distributor}:{k.vendor_code}:{k.seller}" for k in baseline_open} == expected

        outcomes: dict[str, Outcome] = {}
        queues = {code: [f for f in FAULTS if f.site == code] for code in sites}
        for wave in range(max(len(q) for q in queues.values())):
            batch = [q[wave] for q in queues.values() if wave < len(q)]
            pilot_sites.reset()
            urls: dict[str, str] = {}
            for fault in batch:
                start = outcomes[fault.continues].db_url if fault.continues else base
                urls[fault.name] = copy_sqlite(start, folder, f"{fault.site}-{wave}.db")
                pilot_sites.site(fault.site).set_day(fault.day)
                pilot_sites.set_mode(fault.site, fault.mode, path=fault.path)
            running = {
                f.name: pool.submit(_crawl, config, config_path, f.site, urls[f.name], folder / f.site) for f in batch
            }
            summaries = {name: job.result() for name, job in running.items()}
            hits = {f.name: pilot_sites.requests(f.site) for f in batch}
            pilot_sites.reset()
            for fault in batch:
                summary = summaries[fault.name]
                run, seen = _stored(urls[fault.name], summary.run_key, pilot_sites.urls[fault.site])
                events, after = rules_after(urls[fault.name], config)
                outcomes[fault.name] = Outcome(
                    fault, urls[fault.name], summary, run, seen, hits[fault.name], events, after
                )
    return Faults(baseline_open, outcomes)


def truth(site: str, day: int = 1, without: str | None = None) -> dict[tuple[str, str], Seen]:
    """What a correct crawl stores for `site` on `day` (leaving out catalog product `without`'s page)."""
    return {
        (o.path, o.seller_id): Seen(o.price, o.stock.value, tuple(sorted(o.flags)))
        for o in scenario.offers(site, day)
        if without is None or o.catalog_code != without
    }


def verdict(outcome: Outcome) -> tuple[RunStatus, Health | None]:
    return outcome.run.status, outcome.run.health


def statuses(outcome: Outcome) -> list[int]:
    return [h.status for h in outcome.hits]


RECOVERED = [
    "5xx burst",
    "429 with Retry-After",
    "cp1251 shop",
    "cp1251 JSON-LD and sitemap",
    "broken HTML shop",
    "broken HTML with JSON-LD",
]


@pytest.mark.parametrize("name", RECOVERED)
def test_a_fault_the_crawl_gets_past_gives_every_offer_right(faults: Faults, name: str) -> None:
    outcome = faults[name]
    assert verdict(outcome) == (RunStatus.FINISHED, Health.OK), outcome.run.health_reason
    assert outcome.seen == truth(outcome.fault.site)
    assert outcome.run.errors == 0


def test_5xx_and_429_were_retried_until_the_site_answered(faults: Faults) -> None:
    burst, limited = faults["5xx burst"], faults["429 with Retry-After"]
    assert sorted(s for s in statuses(burst) if s >= 500) == [500, 500, 502, 503]
    assert statuses(limited).count(429) == 4
    for outcome in (burst, limited):
        assert outcome.summary.stats["retry/count"] >= 1
        assert outcome.summary.stats["retry/wait_ms"] > 0  # backed off (Retry-After: 1 s) before retrying
        assert "0 failed requests" in (outcome.run.health_reason or "")


@pytest.mark.parametrize(
    ("name", "page"),
    [
        ("timeout on a product page", "TL-1007"),
        ("20 MB product page", "TL-1003"),
        ("redirect loop on a product page", "TL-1005"),
    ],
)
def test_a_page_that_cannot_be_read_is_left_out_and_counted(faults: Faults, name: str, page: str) -> None:
    outcome = faults[name]
    assert outcome.seen == truth(outcome.fault.site, without=page)
    assert verdict(outcome) == (RunStatus.FINISHED, Health.OK)
    assert outcome.run.errors == 1
    assert "1 failed requests" in (outcome.run.health_reason or "")


@pytest.mark.parametrize("name", ["captcha", "Cloudflare challenge", "captcha on the marketplace"])
def test_a_blocked_site_is_unknown_and_degraded(faults: Faults, name: str) -> None:
    outcome = faults[name]
    assert outcome.seen, "the canary page is a known product page: it is stored, as unknown"
    assert {s for s in outcome.seen.values()} == {Seen(None, "unknown", ("blocked",))}
    assert verdict(outcome) == (RunStatus.FINISHED, Health.DEGRADED)
    assert (outcome.run.health_reason or "").startswith("blocked by anti-bot: all ")
    assert (outcome.run.health_reason or "").endswith(" responses were blocked (anti-bot page, captcha or 403)")


# Every entry request failed: techsnab's canary and five listings; klimatprof's canary and sitemap.
@pytest.mark.parametrize(("name", "failed_requests"), [("connections reset", 6), ("redirect loop everywhere", 2)])
def test_a_site_that_never_answers_fails_the_run(faults: Faults, name: str, failed_requests: int) -> None:
    outcome = faults[name]
    assert outcome.seen == {}
    assert verdict(outcome) == (RunStatus.FINISHED, Health.FAILED)
    assert outcome.run.errors == failed_requests
    assert f"could not be reached: no response, {failed_requests} requests failed" in (outcome.run.health_reason or "")


NOT_OK = {"captcha", "Cloudflare challenge", "captcha on the marketplace", "connections reset", "new layout on day 2"}
NOT_OK.add("redirect loop everywhere")


@pytest.mark.parametrize("name", [f.name for f in FAULTS if f.day == 1])
def test_no_fault_raises_or_resolves_an_alert_falsely(faults: Faults, name: str) -> None:
    outcome = faults[name]
    health = {k for k in outcome.open_after if k.rule == "crawler_health"}
    assert outcome.open_after - health == faults.baseline_open  # nothing new, nothing lost
    changed = {(key, kind) for key, kind in outcome.events if kind != "ongoing"}
    if name in NOT_OK:
        assert changed == {(AlertKey("crawler_health", outcome.fault.site, None, None), "opened")}
    else:
        assert changed == set()


def test_a_new_layout_is_degraded_tells_the_admin_and_holds_the_stock_outs(faults: Faults) -> None:
    outcome = faults["new layout on day 2"]
    assert verdict(outcome) == (RunStatus.FINISHED, Health.DEGRADED)
    assert "the price selector probably broke" in (outcome.run.health_reason or "")
    assert all(s.price is None for s in outcome.seen.values())
    # Day 2 really has two stock-outs (TL-1007, TL-2005) and TL-1003 back at RRP: a degraded run raises none
    # of it and resolves nothing; only the admin hears about the crawl.
    health = AlertKey("crawler_health", TECHSNAB, None, None)
    assert {(k, kind) for k, kind in outcome.events if kind != "ongoing"} == {(health, "opened")}
    assert outcome.open_after == faults.baseline_open | {health}


def test_the_next_good_crawl_raises_what_the_degraded_one_held_back(faults: Faults) -> None:
    outcome = faults["layout fixed on day 2"]
    assert verdict(outcome) == (RunStatus.FINISHED, Health.OK)
    assert outcome.seen == truth(TECHSNAB, day=2)
    expected = {
        (AlertKey(e.rule, e.distributor, e.vendor_code, e.seller), e.event.value)
        for e in scenario.expected_alerts(2)
        if e.distributor == TECHSNAB
    }
    expected.add((AlertKey("crawler_health", TECHSNAB, None, None), "resolved"))
    assert outcome.events == expected
