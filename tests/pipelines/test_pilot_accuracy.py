"""Matching accuracy on the pilot sites' ground truth: the three sites crawled for real (the marketplace in
Chromium) into one database, once for this module; every offer compared with what the fixtures say it is."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler.config import Config, parse_config
from crawler.items import Health
from fixtures.pilot import scenario, vitrina
from fixtures.pilot.files import PRICE_LIST_CSV
from fixtures.sites import PilotSites
from pipelines.matching import CatalogIndex, MatchSettings
from pricewatch.crawls.local import CrawlSummary, run_crawls
from storage.catalog_import import import_catalog
from storage.engine import make_engine, session_scope
from storage.models import CrawlRun, Distributor, Listing, Product, RunStatus, Seller
from storage.queries.matching import load_catalog
from tests.support.services import require

pytestmark = pytest.mark.chromium

PILOT_YAML = Path(__file__).resolve().parents[2] / "pilot.yaml"
CHROMIUM = Path("/usr/bin/chromium")


@dataclass(frozen=True)
class Crawled:
    db_url: str
    config: Config
    summaries: list[CrawlSummary]
    urls: dict[str, str]


@dataclass(frozen=True)
class Page:
    """A stored listing as matching reads it."""

    distributor: str
    url: str
    title: str | None
    vendor_code: str | None
    gtin: str | None


@pytest.fixture(scope="module")
def pilot_crawl(
    pilot_sites: PilotSites, sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Crawled]:
    pilot_sites.reset()
    folder = tmp_path_factory.mktemp("pilot-crawl")
    shutil.copy(sqlite_template, folder / "pilot.db")
    db_url = f"sqlite:///{folder / 'pilot.db'}"
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        import_catalog(session, PRICE_LIST_CSV, valid_from=dt.date(2026, 1, 1))
    engine.dispose()
    config = parse_config(PILOT_YAML.read_text(encoding="utf-8"), str(PILOT_YAML), env=pilot_sites.env())
    with pytest.MonkeyPatch.context() as env:
        for name, value in pilot_sites.env().items():  # the crawl processes read pilot.yaml themselves
            env.setenv(name, value)
        summaries = run_crawls(config, PILOT_YAML, db_url=db_url, log_dir=folder / "logs")
    yield Crawled(db_url, config, summaries, dict(pilot_sites.urls))
    pilot_sites.reset()


@pytest.fixture
def crawled(request: pytest.FixtureRequest) -> Crawled:
    require(CHROMIUM.exists(), "Chromium at /usr/bin/chromium")
    result: Crawled = request.getfixturevalue("pilot_crawl")
    return result


def _stored(crawled: Crawled) -> dict[tuple[str, str, str], tuple[str | None, Page]]:
    """(site, seller, URL) → (matched vendor code, the listing as matching reads it)."""
    engine = make_engine(crawled.db_url)
    with session_scope(engine) as session:
        rows = session.execute(
            select(
                Distributor.code,
                Seller.code,
                Listing.url,
                Product.vendor_code,
                Listing.title,
                Listing.raw_vendor_code,
                Listing.raw_gtin,
            )
            .join(Seller, Seller.id == Listing.seller_id)
            .join(Distributor, Distributor.id == Seller.distributor_id)
            .outerjoin(Product, Product.id == Listing.product_id)
        ).all()
    engine.dispose()
    return {(d, s, url): (code, Page(d, url, title, vc, gtin)) for d, s, url, code, title, vc, gtin in rows}


def _score(crawled: Crawled, matched: dict[tuple[str, str, str], str | None]) -> tuple[float, float, list[str]]:
    """(precision %, recall %, non-brand offers matched) against the day-1 ground truth of every site (every card of
    «Витрина» in every region)."""
    offers = [o for site in scenario.SITES for o in scenario.offers(site, 1)] + list(vitrina.offers(1))
    truth = {(o.site, o.seller_id, o.url(crawled.urls[o.site])): o for o in offers}
    assert set(matched) == set(truth), "every ground-truth offer is stored, and nothing else"
    pairs = [(matched[key], offer) for key, offer in truth.items()]
    made = [(got, o) for got, o in pairs if got is not None]
    correct = sum(1 for got, o in made if got == o.catalog_code)
    ours = sum(1 for o in truth.values() if o.catalog_code is not None)
    foreign = [f"{o.site}: {o.title} → {got}" for got, o in made if o.catalog_code is None]
    return 100.0 * correct / len(made), 100.0 * correct / ours, foreign


def test_the_pilot_crawls_finish_healthy(crawled: Crawled) -> None:
    assert [(s.distributor, s.status, s.health) for s in crawled.summaries] == [
        (site, "finished", "ok") for site in (*scenario.SITES, vitrina.VITRINA)
    ]
    engine = make_engine(crawled.db_url)
    with session_scope(engine) as session:
        runs = session.execute(select(CrawlRun.status, CrawlRun.health)).all()
    engine.dispose()
    assert runs == [(RunStatus.FINISHED, Health.OK)] * 4


def test_matching_is_exact_on_the_pilot_ground_truth(crawled: Crawled) -> None:
    stored = _stored(crawled)
    precision, recall, foreign = _score(crawled, {key: code for key, (code, _) in stored.items()})
    assert foreign == []
    assert precision == 100.0
    assert recall >= 98.0


@pytest.mark.parametrize(
    ("evidence", "keep"),
    [
        ("without GTIN", {"gtin": None}),
        ("title only", {"gtin": None, "vendor_code": None}),
    ],
)
def test_matching_holds_with_less_evidence(crawled: Crawled, evidence: str, keep: dict[str, None]) -> None:
    """The same pages with their GTIN (and vendor code) taken away: codes in titles and names still suffice,
    and accessories and other brands still match nothing."""
    engine = make_engine(crawled.db_url)
    with session_scope(engine) as session:
        index = CatalogIndex(load_catalog(session), {}, MatchSettings.from_config(crawled.config))
    engine.dispose()
    matched = {}
    for key, (_, page) in _stored(crawled).items():
        result = index.match(dataclasses.replace(page, **keep))
        matched[key] = None if result.product_id is None else index.products[result.product_id].row.vendor_code
    precision, recall, foreign = _score(crawled, matched)
    assert foreign == [], evidence
    assert precision == 100.0, evidence
    assert recall >= 98.0, evidence
