"""`rules run` over a big history: 50,000 listings × 20 days = 1,000,000 observations, on SQLite and PostgreSQL.

Ten distributors (nine shops in three regions and a marketplace with ten sellers, two of them not authorized)
each list every one of 5,000 products; each crawls once a day. Six listings in a hundred dump in four-day
spells, one in a hundred goes out of stock on a given day, and on the last day one shop's run is degraded.
The data is generated inside the database (INSERT … SELECT), so building it takes seconds.

Figures: the first `rules run` over the 20 days (it opens every alert) and the next one after a 21st day was
crawled (ongoing, resolved, new), each one whole transaction with the real outbox routing. The baseline, timed
on the same database in the same run, is the bare "latest finished observation per listing" query — the least
any rules run has to read.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import JSON, ColumnElement, Engine, case, cast, func, insert, literal, select, text, update

from bench.common import Figure, quick, stopwatch
from crawler.config import Config, parse_config
from crawler.items import Health, StockState
from pricewatch.alerting import run_rules_and_queue
from storage.engine import make_engine, session_scope
from storage.migrate import upgrade
from storage.models import (
    CrawlRun,
    Distributor,
    EventKind,
    Listing,
    MatchMethod,
    Observation,
    Price,
    PriceList,
    Product,
    ProductGtin,
    RunStatus,
    Seller,
    SellerKind,
)
from storage.queries.observations import latest_observations

GOAL_SECONDS = 10.0
DAYS = 20
REGIONS = {"msk": "Москва", "spb": "Санкт-Петербург", "kzn": "Казань"}
SHOPS_PER_REGION = 3
MARKETPLACE = "market"
MARKETPLACE_SELLERS = 10
AUTHORIZED_SELLERS = 8
CATEGORIES = ["Обогреватели", "Вентиляторы", "Увлажнители", "Конвекторы", "Тепловые пушки"]
START = dt.datetime(2026, 3, 1, 6, 0, tzinfo=dt.UTC)
PG_ADMIN_DSN = os.environ.get("PRICEWATCH_TEST_PG", "postgresql://127.0.0.1:5432/test")


def distributor_codes() -> list[str]:
    return [f"{prefix}{n}" for prefix in REGIONS for n in range(1, SHOPS_PER_REGION + 1)] + [MARKETPLACE]


def bench_config() -> Config:
    """Ten distributors, eight authorized marketplace sellers, pilot-like routes (instant and digest)."""
    shops = "\n".join(
        f"  - {{code: {code}, name: Shop {code}, region: {REGIONS[code[:3]]}, start_urls: ['https://{code}.test/']}}"
        for code in distributor_codes()
        if code != MARKETPLACE
    )
    sellers = "\n".join(
        f"  - {{marketplace: {MARKETPLACE}, seller_id: s{i}, name: Seller {i}}}" for i in range(AUTHORIZED_SELLERS)
    )
    return parse_config(
        f"""
distributors:
{shops}
  - {{code: {MARKETPLACE}, name: Market, kind: marketplace, spider: marketplace, start_urls: ['https://m.test/']}}
sellers:
{sellers}
routes:
  - {{name: prices, match: {{rules: [dumping, parallel_import]}}, telegram: ["100"], mode: instant}}
  - {{name: stock, match: {{rules: [stock_out, low_stock, regional_shortage]}}, telegram: ["100"], mode: instant}}
  - {{name: digest, email: [sales@example.com], mode: digest}}
""",
        "bench",
    )


def _catalog(engine: Engine, products: int) -> None:
    ids = range(1, products + 1)
    with session_scope(engine) as session:
        session.execute(
            insert(Product),
            [
                {
                    "id": i,
                    "vendor_code": f"TL-{i:05d}",
                    "vendor_code_norm": f"TL{i:05d}",
                    "name": f"Термолайн изделие {i}",
                    "category": CATEGORIES[i % len(CATEGORIES)],
                    "brand": "Termoline",
                }
                for i in ids
            ],
        )
        session.execute(insert(ProductGtin), [{"gtin": _gtin(i), "product_id": i} for i in ids])
        # Two versions: the RRP rises 5 % half-way through the history.
        for version, valid_from in ((1, START.date()), (2, (START + dt.timedelta(days=DAYS // 2)).date())):
            session.add(
                PriceList(
                    id=version,
                    name=f"v{version}",
                    valid_from=valid_from,
                    source_file="bench",
                    source_sha256=str(version),
                    row_count=products,
                )
            )
        session.flush()
        session.execute(
            insert(Price),
            [
                {
                    "price_list_id": version,
                    "product_id": i,
                    "rrp": Decimal(1000 + i * 37 % 200 * 100) * (Decimal("1.05") if version == 2 else 1),
                    "dealer_price": Decimal(700 + i * 37 % 200 * 70),
                }
                for version in (1, 2)
                for i in ids
            ],
        )


def _gtin(i: int) -> str:
    return f"{4600000000000 + i:014d}"


def _channels(engine: Engine, products: int) -> None:
    """Distributors, sellers, and one listing per product per distributor (a marketplace seller each)."""
    codes = distributor_codes()
    with session_scope(engine) as session:
        for d_id, code in enumerate(codes, start=1):
            market = code == MARKETPLACE
            session.add(
                Distributor(
                    id=d_id,
                    code=code,
                    name=f"Shop {code}",
                    kind=SellerKind.MARKETPLACE if market else SellerKind.DISTRIBUTOR,
                    region=None if market else REGIONS[code[:3]],
                    authorized=True,
                )
            )
        session.flush()
        sellers: list[dict[str, Any]] = []
        for d_id, code in enumerate(codes, start=1):
            own = [(code, True)]
            if code == MARKETPLACE:
                own = [(f"s{i}", i < AUTHORIZED_SELLERS) for i in range(MARKETPLACE_SELLERS)]
            sellers += [{"distributor_id": d_id, "code": c, "name": c, "authorized": a} for c, a in own]
        session.execute(insert(Seller), sellers)
        seller_of = {(s.distributor_id, s.code): s.id for s in session.scalars(select(Seller))}
        listings = []
        for d_id, code in enumerate(codes, start=1):
            for i in range(1, products + 1):
                seller = code if code != MARKETPLACE else f"s{i % MARKETPLACE_SELLERS}"
                listings.append(
                    {
                        "seller_id": seller_of[(d_id, seller)],
                        "url": f"https://{code}.test/p/{i}",
                        "title": f"Термолайн изделие {i}",
                        "raw_gtin": _gtin(i),
                        "product_id": i,
                        "match_method": MatchMethod.GTIN,
                        "match_confidence": 1.0,
                        "first_seen_at": START,
                        "last_seen_at": START,
                    }
                )
        session.execute(insert(Listing), listings)


def crawl_days(engine: Engine, first: int, days: int, products: int) -> None:
    """Crawl runs of every distributor for days `first` … `first + days − 1` (0-based), with their observations."""
    distributors = len(distributor_codes())
    with session_scope(engine) as session:
        runs = []
        for n in range(first, first + days):
            for d_id in range(1, distributors + 1):
                at = START + dt.timedelta(days=n, minutes=d_id)
                runs.append(
                    {
                        "id": n * distributors + d_id,
                        "run_key": f"day{n}-{d_id}",
                        "distributor_id": d_id,
                        "started_at": at,
                        "finished_at": at + dt.timedelta(minutes=30),
                        "status": RunStatus.FINISHED,
                        "health": Health.OK,
                        "health_reason": "ok",
                        "offers": products,
                        "pages": products,
                        "stats": {},
                    }
                )
        session.execute(insert(CrawlRun), runs)
    _observations(engine, distributors, first)
    with session_scope(engine) as session:
        # The last day: one shop's layout broke (degraded), so its stock alerts are held back.
        session.execute(
            update(CrawlRun)
            .where(CrawlRun.id == (first + days) * distributors - 1)
            .values(health=Health.DEGRADED, health_reason="the price selector probably broke")
        )
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))  # what autovacuum (PostgreSQL) would do after a big load
        conn.commit()


def _observations(engine: Engine, distributors: int, first: int) -> None:
    """One observation per listing per new run, computed by the database from the ids (deterministic)."""
    day = (CrawlRun.id - 1) // distributors
    lid = Listing.id
    dumping = (lid * 7 % 100 < 6) & ((day + lid) // 4 % 2 == 0)
    price = func.round(
        case((dumping, Price.rrp * Decimal("0.85")), else_=Price.rrp * (100 + (lid + day) % 10) / 100), 2
    )
    out = (lid * 13 + day) % 97 == 0
    stock = case((out, literal(StockState.OUT_OF_STOCK.value)), else_=literal(StockState.IN_STOCK.value))
    quantity = case((out, 0), ((lid * 17 + day) % 199 == 0, 2), else_=10 + lid % 40)

    def json_text(value: str) -> ColumnElement[Any]:
        # SQLite keeps JSON as text; PostgreSQL needs the json type.
        return literal(value) if engine.dialect.name == "sqlite" else cast(literal(value), JSON)

    source = (
        select(
            lid,
            CrawlRun.id,
            CrawlRun.started_at,
            price,
            literal("RUB"),
            stock,
            quantity,
            json_text("[]"),
            json_text("{}"),
        )
        .select_from(Listing)
        .join(Seller, Seller.id == Listing.seller_id)
        .join(CrawlRun, CrawlRun.distributor_id == Seller.distributor_id)
        .join(
            Price,
            (Price.product_id == Listing.product_id) & (Price.price_list_id == case((day < DAYS // 2, 1), else_=2)),
        )
        .where(CrawlRun.id > first * distributors)
    )
    columns = [
        "listing_id",
        "crawl_run_id",
        "observed_at",
        "price",
        "currency",
        "stock",
        "quantity",
        "flags",
        "details",
    ]
    with engine.begin() as conn:
        conn.execute(insert(Observation).from_select(columns, source))


def build(engine: Engine, products: int) -> int:
    """Fill a migrated, empty database; returns the number of observations."""
    _catalog(engine, products)
    _channels(engine, products)
    crawl_days(engine, 0, DAYS, products)
    with session_scope(engine) as session:
        return int(session.scalar(select(func.count()).select_from(Observation)) or 0)


@contextmanager
def databases() -> Iterator[list[tuple[str, str]]]:
    """(dialect, URL) of a fresh SQLite file and a fresh PostgreSQL database; both removed afterwards."""
    name = f"pw_bench_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp, psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        try:
            yield [("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}"), ("postgresql", f"{base}/{name}")]
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _rules_run(engine: Engine, config: Config) -> tuple[float, str]:
    with stopwatch() as elapsed, session_scope(engine) as session:
        summary = run_rules_and_queue(session, config)
    counts = ", ".join(f"{kind.value} {summary.total(kind)}" for kind in EventKind)
    return elapsed(), counts


def _latest_per_listing(engine: Engine) -> float:
    with stopwatch() as elapsed, session_scope(engine) as session:
        session.scalar(select(func.count()).select_from(latest_observations(matched_only=True)))
    return elapsed()


def run() -> list[Figure]:
    products = 500 if quick() else 5_000
    config = bench_config()
    figures = []
    with databases() as dbs:
        for dialect, url in dbs:
            engine = make_engine(url)
            upgrade(engine)
            observations = build(engine, products)
            baseline = _latest_per_listing(engine)
            first, first_counts = _rules_run(engine, config)
            crawl_days(engine, DAYS, 1, products)
            baseline_next = _latest_per_listing(engine)
            nxt, next_counts = _rules_run(engine, config)
            engine.dispose()
            listings = products * len(distributor_codes())
            figures += [
                Figure(
                    name=f"rules run, {dialect}: {listings:,} listings × {DAYS} days = {observations:,} observations "
                    f"({first_counts})",
                    value=first,
                    unit="s",
                    baseline_name="latest finished observation per listing",
                    baseline=baseline,
                    goal=f"< {GOAL_SECONDS:.0f} s",
                    met=first < GOAL_SECONDS,
                ),
                Figure(
                    name=f"rules run, {dialect}: the next day ({next_counts})",
                    value=nxt,
                    unit="s",
                    baseline_name="latest finished observation per listing",
                    baseline=baseline_next,
                    goal=f"< {GOAL_SECONDS:.0f} s",
                    met=nxt < GOAL_SECONDS,
                ),
            ]
    return figures
