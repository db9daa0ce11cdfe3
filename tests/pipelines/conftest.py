"""Pipelines fixtures: a small two-distributor config, the pilot catalog imported, and a real crawl process that
feeds given offers through normalize → match → store (`feed`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from crawler.items import RawOffer
from fixtures.pilot.files import PRICE_LIST_CSV
from storage.catalog_import import import_catalog
from storage.engine import make_engine, session_scope
from storage.models import Base

REPO = Path(__file__).resolve().parents[2]

CONFIG = """
timezone: Europe/Moscow
distributors:
  - code: shop
    name: Магазин
    kind: distributor
    region: Москва
    start_urls: ["http://127.0.0.1:9/"]
    vendor_code_affixes: {suffixes: ["-RU"]}
    canary: {url: "http://127.0.0.1:9/canary", price: "4990.00", stock: in_stock}
  - code: market
    name: Маркет
    kind: marketplace
    spider: marketplace
    start_urls: ["http://127.0.0.1:9/"]
sellers:
  - {marketplace: market, seller_id: s-1, name: Официальный магазин}
matching:
  brand_tokens: [Termoline, Термолайн]
schedule:
  crawl_time_limit_minutes: 60
"""

# What a spider sets for a healthy crawl of N offers (see pipelines.health).
HEALTHY = {"pricewatch/responses": 10, "pricewatch/product_pages": 10, "pricewatch/offers": 10}


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "pricewatch.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def _with_catalog(url: str) -> str:
    engine = make_engine(url)
    with session_scope(engine) as session:
        import_catalog(session, PRICE_LIST_CSV, valid_from=dt.date(2026, 1, 1))
    engine.dispose()
    return url


@pytest.fixture
def catalog_db(db_url: str) -> str:
    """A migrated database (SQLite and PostgreSQL) holding the pilot catalog and its RRP price list."""
    return _with_catalog(db_url)


@pytest.fixture
def catalog_sqlite(sqlite_url: str) -> str:
    """The same on SQLite only, where the dialect does not matter."""
    return _with_catalog(sqlite_url)


@pytest.fixture
def db_engine(catalog_db: str) -> Iterator[Engine]:
    engine = make_engine(catalog_db)
    yield engine
    engine.dispose()


def _offer(distributor: str = "shop", n: int = 1, **fields: Any) -> RawOffer:
    """A plausible offer: page `/p/<n>` of the distributor, TL-1001 at its RRP unless told otherwise."""
    base: dict[str, Any] = {
        "distributor": distributor,
        "url": f"http://127.0.0.1:9/p/{n}",
        "seller_code": distributor,
        "title": "Конвектор электрический Termoline TL-1001 1000 Вт",
        "price": "4990.00",
        "currency": "RUB",
        "stock": "in_stock",
        "vendor_code": "TL-1001",
        "fetched_at": "2026-11-23T06:00:00+00:00",
        "http_status": 200,
    }
    return RawOffer(**{**base, **fields})


@pytest.fixture
def feed(tmp_path: Path, config_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run a real crawl process (Scrapy engine, the three pipelines) whose spider yields the given offers."""

    def run(
        db_url: str,
        run_key: str,
        offers: list[RawOffer],
        *,
        distributor: str = "shop",
        stats: dict[str, int] | None = None,
        batch: int | None = None,
        fail: bool = False,
        config: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        job = {
            "config": str(config or config_path),
            "distributor": distributor,
            "db": db_url,
            "run_key": run_key,
            "offers": [dataclasses.asdict(o) for o in offers],
            "stats": HEALTHY if stats is None else stats,
            "batch": batch,
            "fail": fail,
        }
        path = tmp_path / f"job-{run_key}.json"
        path.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "tests.support.item_feed", str(path)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    return run


@pytest.fixture
def make_offer() -> Callable[..., RawOffer]:
    return _offer


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in Base.metadata.sorted_tables
        }


@pytest.fixture
def table_counts() -> Callable[[Engine], dict[str, int]]:
    """Rows per table, for comparing a database before and after."""
    return _counts


def _latest_urls(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(text("SELECT url FROM v_latest_offers")).scalars())


@pytest.fixture
def visible_urls() -> Callable[[Engine], set[str]]:
    """URLs with an offer in `v_latest_offers` (finished runs not judged failed)."""
    return _latest_urls
