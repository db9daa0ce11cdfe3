"""Storing a crawl: observations per second through the store pipeline into SQLite and into PostgreSQL.

The value is `StorePipeline` itself (outside the Scrapy engine): per batch of 500 offers, in one transaction,
new sellers, a listing upsert (INSERT … ON CONFLICT DO UPDATE … RETURNING), the check for offers this run already
stored, and the bulk observation INSERT … ON CONFLICT DO NOTHING. Measured for a first crawl (every listing new)
and a next day's crawl of the same pages (the daily case). The baseline, in the same run, is a raw DBAPI
`executemany` INSERT of the same observation rows, in the same batches and transactions, with no listings.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from scrapy import Spider
from scrapy.utils.test import get_crawler
from sqlalchemy import Engine

from bench.common import Figure, quick, stopwatch
from crawler.crawl_process import tune_gc
from crawler.items import RawOffer
from pipelines.match import MatchedOffer
from pipelines.matching import MatchResult
from pipelines.store import BATCH_SIZE, StorePipeline
from storage.engine import make_engine, session_scope
from storage.migrate import upgrade
from storage.models import MatchMethod, Product
from storage.queries.crawl_runs import start_run

GOAL = 20_000.0  # observations per second
PG_ADMIN_DSN = os.environ.get("PRICEWATCH_TEST_PG", "postgresql://127.0.0.1:5432/test")
CONFIG = """
distributors:
  - {code: bench, name: Бенчмарк, kind: marketplace, spider: marketplace, start_urls: ["http://127.0.0.1:9/"]}
"""
PRODUCTS = 2_000


def _items(count: int, day: int, product_ids: list[int]) -> list[MatchedOffer]:
    at = dt.datetime(2026, 11, day, 6, tzinfo=dt.UTC).isoformat()
    items = []
    for i in range(count):
        offer = RawOffer(
            distributor="bench",
            url=f"https://market.test/product/{i // 3}",
            seller_code=f"s-{i % 3 + (i // 3) % 50}",  # a few sellers per page, 52 sellers in all
            seller_name=f"Продавец {i % 52}",
            title=f"Конвектор Termoline TL-{i % PRODUCTS:05d} 1500 Вт",
            price=f"{4990 + i % 1000 + day}.00",
            price_raw=f"{4990 + i % 1000 + day} ₽",
            currency="RUB",
            stock="in_stock" if i % 7 else "out_of_stock",
            stock_raw="В наличии" if i % 7 else "Нет в наличии",
            quantity=i % 20,
            vendor_code=f"TL-{i % PRODUCTS:05d}",
            http_status=200,
            fetched_at=at,
        )
        product = product_ids[i % PRODUCTS] if i % 10 else None
        match = MatchResult(product, MatchMethod.VENDOR_CODE if product else MatchMethod.NONE, 1.0 if product else 0.0)
        items.append(MatchedOffer(offer, match))
    return items


def _store(url: str, config: Path, run_key: str, items: list[MatchedOffer]) -> float:
    """Seconds to store the items through a fresh StorePipeline (its open_spider is not timed)."""
    crawler = get_crawler(
        Spider,
        {
            "PRICEWATCH_CONFIG": str(config),
            "PRICEWATCH_DISTRIBUTOR": "bench",
            "PRICEWATCH_DB_URL": url,
            "PRICEWATCH_RUN_KEY": run_key,
        },
    )
    pipeline = StorePipeline.from_crawler(crawler)
    pipeline.open_spider()
    # As in a crawl process (crawler.crawl_process), where offers stream through instead of waiting here by the
    # hundred thousand for the collector to rescan them on every pass.
    tune_gc()
    with stopwatch() as elapsed:
        for item in items:
            pipeline.process_item(item)
        pipeline.flush()
    seconds = elapsed()
    if pipeline.stored != len({(i.offer.seller_code, i.offer.url) for i in items}) or pipeline.failed_batches:
        raise RuntimeError(f"stored {pipeline.stored} of {len(items)} ({pipeline.last_error})")
    assert pipeline.engine is not None
    pipeline.engine.dispose()
    return seconds


def _raw_rows(engine: Engine, run_id: int, items: list[MatchedOffer]) -> list[tuple[Any, ...]]:
    """The same observations as DBAPI parameters, for the listings the pipeline created."""
    with engine.connect() as conn:
        listing_ids = [row[0] for row in conn.exec_driver_sql("SELECT id FROM listings ORDER BY id")]
    sqlite = engine.dialect.name == "sqlite"
    rows = []
    for listing_id, item in zip(listing_ids, items, strict=False):
        offer = item.offer
        at: Any = offer.fetched_at if sqlite else dt.datetime.fromisoformat(offer.fetched_at or "")
        price: Any = float(Decimal(offer.price or "0")) if sqlite else Decimal(offer.price or "0")
        details = json.dumps({"title": offer.title, "price_raw": offer.price_raw, "stock_raw": offer.stock_raw})
        rows.append((listing_id, run_id, at, price, "RUB", None, offer.stock, offer.quantity, 200, "[]", details))
    return rows


def _raw_insert(engine: Engine, rows: list[tuple[Any, ...]]) -> float:
    mark = "?" if engine.dialect.name == "sqlite" else "%s"
    sql = (
        "INSERT INTO observations (listing_id, crawl_run_id, observed_at, price, currency, old_price, stock, "
        f"quantity, http_status, flags, details) VALUES ({', '.join([mark] * 11)})"
    )
    conn = engine.raw_connection()
    try:
        with stopwatch() as elapsed:
            for start in range(0, len(rows), BATCH_SIZE):
                cursor = conn.cursor()
                cursor.executemany(sql, rows[start : start + BATCH_SIZE])
                cursor.close()
                conn.commit()
        return elapsed()
    finally:
        conn.close()


def _settle(engine: Engine) -> None:
    """Write out what earlier work left dirty (the rules benchmark's million rows, the previous day), so the
    server's background flushing does not land inside the next measurement."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.exec_driver_sql("CHECKPOINT")


def _measure(dialect: str, url: str, config: Path, count: int) -> list[Figure]:
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        products = [
            Product(vendor_code=f"TL-{i:05d}", vendor_code_norm=f"TL{i:05d}", name=f"Товар {i}")
            for i in range(PRODUCTS)
        ]
        session.add_all(products)
        session.flush()
        product_ids = [p.id for p in products]
    day1, day2 = _items(count, 1, product_ids), _items(count, 2, product_ids)
    _settle(engine)
    first = _store(url, config, "bench-day-1", day1)
    _settle(engine)
    daily = _store(url, config, "bench-day-2", day2)
    _settle(engine)
    with session_scope(engine) as session:
        run_id = start_run(session, "bench-raw", 1, pid=os.getpid(), host="bench").id
    unique = list({(i.offer.seller_code, i.offer.url): i for i in day2}.values())
    raw = _raw_insert(engine, _raw_rows(engine, run_id, unique))
    engine.dispose()
    stored = len(unique)
    baseline_rate = stored / raw
    return [
        Figure(
            name=f"store {stored:,} offers, {what} ({dialect})",
            value=stored / seconds,
            unit="observations/s",
            baseline_name="raw executemany INSERT of the same observation rows",
            baseline=baseline_rate,
            goal=f"≥ {GOAL:,.0f}/s",
            met=stored / seconds >= GOAL,
        )
        for what, seconds in (("next day: listings known", daily), ("first crawl: every listing new", first))
    ]


def _pg_database() -> tuple[str, psycopg.Connection[tuple[object, ...]], str] | None:
    try:
        admin = psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        return None
    name = f"pw_bench_store_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}", admin, name


def run() -> list[Figure]:
    count = 5_000 if quick() else 60_000
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "bench.yaml"
        config.write_text(CONFIG, encoding="utf-8")
        figures += _measure("SQLite", f"sqlite:///{Path(tmp) / 'store.db'}", config, count)
        pg = _pg_database()
        if pg is not None:
            url, admin, name = pg
            try:
                figures += _measure("PostgreSQL", url, config, count)
            finally:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.close()
    return figures
