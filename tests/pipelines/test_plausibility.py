"""Suspect prices: far below or above the RRP in force, flagged by the plausibility pipeline of a real crawl process,
stored with the observation, counted by the health verdict, shown in `offers export` and `match review`."""

from __future__ import annotations

import csv
import json
import subprocess
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from crawler.config import SuspectPriceRule
from crawler.items import FLAG_PRICE_SUSPECT, Health, RawOffer
from pipelines.plausibility import is_suspect
from storage.engine import make_engine, session_scope
from storage.models import CrawlRun, Listing, Observation

Feed = Callable[..., subprocess.CompletedProcess[str]]
RULE = SuspectPriceRule()  # the defaults: below 30 % of the RRP, above 10 × the RRP
RRP = Decimal("10000")


@pytest.mark.parametrize(
    ("price", "currency", "rrp", "suspect"),
    [
        ("2999.99", "RUB", RRP, True),  # below 30 %
        ("3000.00", "RUB", RRP, False),  # 30 % exactly: a deep discount, for the dumping rule to judge
        ("1.00", "RUB", RRP, True),  # a «1 ₽» placeholder
        ("1667.00", None, RRP, True),  # an instalment read as the price; no currency means roubles
        ("100000.00", "RUB", RRP, False),  # 10 × exactly
        ("100000.01", "RUB", RRP, True),  # above 10 ×: kopecks read as roubles, another product's page
        ("1.00", "RUB", None, False),  # no RRP in force: nothing to compare with
        ("1.00", "USD", RRP, False),  # not in the price list's currency
    ],
)
def test_a_price_is_suspect_outside_30_percent_to_10_times_the_rrp(
    price: str, currency: str | None, rrp: Decimal | None, suspect: bool
) -> None:
    assert is_suspect(Decimal(price), currency, rrp, RULE) is suspect


def test_the_bounds_come_from_the_config() -> None:
    rule = SuspectPriceRule(below_rrp_share=Decimal("0.5"), above_rrp_times=Decimal(2))
    assert is_suspect(Decimal("4999"), "RUB", RRP, rule)
    assert not is_suspect(Decimal("5000"), "RUB", RRP, rule)
    assert is_suspect(Decimal("20001"), "RUB", RRP, rule)


# (page, vendor code, price): TL-1001's RRP is 4 990, TL-1003's 12 990 (the pilot catalog).
SEEN = {
    "0": ("TL-1001", "4990.00"),  # the canary, at its RRP
    "1": ("TL-1003", "1.00"),  # a placeholder
    "2": ("TL-1003", "1667.00"),  # «в кредит 1 667 ₽ в месяц»
    "3": ("TL-1001", "49990.00"),  # over 10 ×
    "4": ("TL-1003", "3897.00"),  # 30 % of the RRP: cheap, not suspect
    "5": (None, "1.00"),  # not the brand's: nothing to compare with
}
SUSPECT = {"1", "2", "3"}


def _crawl(feed: Feed, db: str, make_offer: Callable[..., RawOffer]) -> str:
    offers = [
        make_offer(n=int(page), vendor_code=code, price=price, is_canary=page == "0", title=f"Товар {page}")
        for page, (code, price) in SEEN.items()
    ]
    # A healthy crawl as the spider counts it; the pipelines add what only they see.
    feed(db, "day-1", offers, stats={f"pricewatch/{k}": 6 for k in ("responses", "product_pages", "offers")})
    return db


@pytest.fixture
def crawled(feed: Feed, catalog_db: str, make_offer: Callable[..., RawOffer]) -> str:
    """Both databases: the offers of SEEN crawled through the real pipelines."""
    return _crawl(feed, catalog_db, make_offer)


@pytest.fixture
def crawled_sqlite(feed: Feed, catalog_sqlite: str, make_offer: Callable[..., RawOffer]) -> str:
    return _crawl(feed, catalog_sqlite, make_offer)


def _page(url: str) -> str:
    return url.rsplit("/", 1)[1]


def test_a_suspect_price_is_kept_and_flagged_and_the_verdict_counts_it(crawled: str) -> None:
    engine = make_engine(crawled)
    with session_scope(engine) as session:
        rows = session.execute(
            select(Listing.url, Observation.price, Observation.flags, Observation.price_suspect).join(
                Listing, Listing.id == Observation.listing_id
            )
        ).all()
        run = session.scalars(select(CrawlRun)).one()
        with_view = dict(session.execute(text("SELECT url, price_suspect FROM v_latest_offers")).tuples().all())
    engine.dispose()
    stored = {_page(url): (price, FLAG_PRICE_SUSPECT in flags, column) for url, price, flags, column in rows}
    assert stored == {page: (Decimal(price), page in SUSPECT, page in SUSPECT) for page, (_, price) in SEEN.items()}
    assert {_page(url): bool(flag) for url, flag in with_view.items()} == {page: page in SUSPECT for page in SEEN}
    # 3 of 6 product pages with a suspect price: past the 10 % a run may have.
    assert run.health == Health.DEGRADED
    assert run.health_reason == "layout changed: a suspect price (far from the RRP) on 3 of 6 product pages"
    assert run.stats["pricewatch/price_suspect"] == 3


def test_offers_export_shows_the_suspect_price_in_every_format(
    crawled_sqlite: str, config_path: Path, tmp_path: Path, pricewatch: Callable[..., Any]
) -> None:
    def export(name: str) -> Path:
        out = tmp_path / name
        outcome = pricewatch(
            "offers", "export", "--config", str(config_path), "--db", crawled_sqlite, "--out", str(out)
        )
        assert outcome.code == 0, outcome.err
        return out

    rows = json.loads(export("offers.json").read_text(encoding="utf-8"))
    assert {_page(r["url"]): r["price_suspect"] for r in rows} == {page: page in SUSPECT for page in SEEN}
    assert next(r for r in rows if _page(r["url"]) == "1")["price"] == "1.00"  # the price as read, flagged

    raw = export("offers.csv").read_text(encoding="utf-8-sig").splitlines()
    by_page = {_page(r["Ссылка"]): r["Сомнительная цена"] for r in csv.DictReader(raw, delimiter=";")}
    assert by_page == {page: str(page in SUSPECT) for page in SEEN}

    sheet = load_workbook(export("offers.xlsx")).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    cells = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert {_page(str(r["Ссылка"])): r["Сомнительная цена"] for r in cells} == {p: str(p in SUSPECT) for p in SEEN}


def test_match_review_lists_matched_offers_with_a_suspect_price(
    crawled_sqlite: str, config_path: Path, tmp_path: Path, pricewatch: Callable[..., Any]
) -> None:
    out = tmp_path / "review.xlsx"
    outcome = pricewatch("match", "review", "--config", str(config_path), "--db", crawled_sqlite, "--out", str(out))
    assert outcome.code == 0, outcome.err
    sheet = load_workbook(out).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    rows = {
        _page(str(row[header.index("Ссылка")])): row[header.index("Сомнительная цена")]
        for row in sheet.iter_rows(min_row=2, values_only=True)
    }
    # The suspect ones (matched, perhaps to the wrong product) and the unmatched one; not the plausible matches.
    assert rows == {"1": "True", "2": "True", "3": "True", "5": "False"}
