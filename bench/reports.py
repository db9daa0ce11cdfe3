"""`report violations` at scale: 10,000 violations over 90 days (5 distributors × 500 listings × 4 episodes).

The history behind them is 225,000 daily observations in SQLite. Each figure is one full report file (gather the
data from the database, render, write): the XLSX with every row and its charts, and the PDF of all distributors,
which charts at most 8 SKUs and lists at most 100 violations (the deepest; the XLSX has the rest, and the PDF
says so). Their baseline is the CSV of the same violations in the same run: the same data gathering, the
plainest rendering. Wall-clock time is what a person waits; the CPU-time figure is the same work measured so
that other processes on a busy machine cannot inflate it.
"""

from __future__ import annotations

import datetime as dt
import random
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, insert

from bench.common import Figure, quick, stopwatch
from crawler.config import Config, parse_config
from crawler.items import StockState
from reports.output import ReportFormat, write_report
from reports.pdf import MAX_CHARTS, MAX_ROWS
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import (
    Alert,
    AlertStatus,
    CrawlRun,
    Distributor,
    Listing,
    MatchMethod,
    Observation,
    Price,
    PriceList,
    Product,
    RunStatus,
    SalesPlan,
    Seller,
    SellerKind,
)

GOAL_SECONDS = 20.0
DISTRIBUTORS = 5
EPISODES = 4  # violations per listing over the period
MSK = ZoneInfo("Europe/Moscow")
FIRST_DAY = dt.date(2026, 3, 1)


def _config(evidence_dir: Path) -> Config:
    shops = "\n".join(
        f"  - {{code: d{n}, name: Дистрибьютор {n}, start_urls: ['https://d{n}.test/']}}"
        for n in range(1, DISTRIBUTORS + 1)
    )
    return parse_config(f"distributors:\n{shops}\nevidence: {{dir: '{evidence_dir}'}}\n", "bench")


def _moment(day: int, hour: int, minute: int = 0) -> dt.datetime:
    local = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=day), dt.time(hour, minute), MSK)
    return local.astimezone(dt.UTC)


def _sellers(conn: Connection) -> None:
    conn.execute(
        insert(Distributor),
        [
            {"id": n, "code": f"d{n}", "name": f"Дистрибьютор {n}", "kind": SellerKind.DISTRIBUTOR}
            for n in range(1, DISTRIBUTORS + 1)
        ],
    )
    conn.execute(
        insert(Seller),
        [
            {"id": n, "distributor_id": n, "code": f"d{n}", "name": f"Дистрибьютор {n}", "authorized": True}
            for n in range(1, DISTRIBUTORS + 1)
        ],
    )


def _catalog(conn: Connection, products: int) -> dict[int, Decimal]:
    """The products and two price-list versions (the second 5 % up); returns the first version's RRP."""
    conn.execute(
        insert(Product),
        [
            {"id": p, "vendor_code": f"TL-{p:05d}", "vendor_code_norm": f"TL{p:05d}", "name": f"Термолайн {p}"}
            for p in range(1, products + 1)
        ],
    )
    rrp = {p: Decimal(990 + (p * 37) % 50_000) for p in range(1, products + 1)}
    lists = [("jan", dt.date(2026, 1, 1)), ("apr", dt.date(2026, 4, 15))]
    conn.execute(
        insert(PriceList),
        [
            {"id": i, "name": n, "valid_from": d, "source_file": n, "source_sha256": n, "row_count": products}
            for i, (n, d) in enumerate(lists, start=1)
        ],
    )
    conn.execute(
        insert(Price),
        [{"price_list_id": 1, "product_id": p, "rrp": v} for p, v in rrp.items()]
        + [{"price_list_id": 2, "product_id": p, "rrp": v * Decimal("1.05")} for p, v in rrp.items()],
    )
    return rrp


def _listings(listings_per_distributor: int, products: int) -> list[dict[str, Any]]:
    listings: list[dict[str, Any]] = []
    for n in range(1, DISTRIBUTORS + 1):
        for i in range(listings_per_distributor):
            product = 1 + (n * 97 + i) % products
            listings.append(
                {
                    "id": len(listings) + 1,
                    "seller_id": n,
                    "url": f"https://d{n}.test/p/{product}",
                    "product_id": product,
                    "match_method": MatchMethod.VENDOR_CODE,
                    "match_confidence": 1.0,
                }
            )
    return listings


def _runs(conn: Connection, days: int) -> None:
    """One finished crawl run per distributor and day; run ids are (distributor - 1) * days + day + 1."""
    conn.execute(
        insert(CrawlRun),
        [
            {
                "id": (n - 1) * days + day + 1,
                "run_key": f"d{n}-{day}",
                "distributor_id": n,
                "started_at": _moment(day, 6),
                "finished_at": _moment(day, 6, 30),
                "status": RunStatus.FINISHED,
                "stats": {},
            }
            for n in range(1, DISTRIBUTORS + 1)
            for day in range(days)
        ],
    )


def _episode_alert(listing: dict[str, Any], start: int, last: int, days: int) -> dict[str, Any]:
    ongoing = last >= days - 1
    return {
        "rule": "dumping",
        "fingerprint": f"dumping:{listing['id']}",
        "severity": "critical",
        "status": AlertStatus.OPEN if ongoing else AlertStatus.RESOLVED,
        "subject": f"dumping {listing['url']}",
        "listing_id": listing["id"],
        "product_id": listing["product_id"],
        "distributor_id": listing["seller_id"],
        "opened_at": _moment(start, 6, 40),
        "last_seen_at": _moment(last, 6, 40),
        "resolved_at": None if ongoing else _moment(last + 1, 6, 40),
        "seen_count": last - start + 1,
        "details": {},
    }


def _dumping_episodes(
    listing: dict[str, Any], price: Decimal, days: int, rng: random.Random
) -> tuple[dict[int, Decimal], list[dict[str, Any]]]:
    """The listing's prices below RRP by day, and one alert per episode."""
    spacing = days // EPISODES
    below: dict[int, Decimal] = {}
    alerts: list[dict[str, Any]] = []
    for episode in range(EPISODES):
        start = episode * spacing + rng.randrange(0, max(1, spacing // 3))
        length = rng.randrange(3, max(4, spacing * 2 // 3))
        for day in range(start, min(days, start + length)):
            below[day] = (price * Decimal(rng.randrange(70, 94)) / 100).quantize(Decimal("0.01"))
        alerts.append(_episode_alert(listing, start, min(days, start + length) - 1, days))
    return below, alerts


def _daily_observations(
    listing: dict[str, Any], price: Decimal, below: dict[int, Decimal], days: int, rng: random.Random
) -> list[dict[str, Any]]:
    observations = []
    for day in range(days):
        out = rng.random() < 0.03
        observations.append(
            {
                "listing_id": listing["id"],
                "crawl_run_id": (listing["seller_id"] - 1) * days + day + 1,
                "observed_at": _moment(day, 6, 5),
                "price": None if out else below.get(day, price),
                "currency": "RUB",
                "stock": StockState.OUT_OF_STOCK if out else StockState.IN_STOCK,
                "flags": [],
                "details": {},
            }
        )
    return observations


def _plans(conn: Connection, listings: list[dict[str, Any]], days: int) -> None:
    months = sorted({(FIRST_DAY + dt.timedelta(days=d)).replace(day=1) for d in range(days)})
    conn.execute(
        insert(SalesPlan),
        [
            {"distributor_id": listing["seller_id"], "product_id": listing["product_id"], "month": m, "quantity": q}
            for listing in listings
            for m, q in zip(months, [30 + listing["id"] % 270] * len(months), strict=True)
        ],
    )


def build(engine: Engine, listings_per_distributor: int, days: int) -> int:
    """The catalog, a daily crawl of every listing, dumping episodes and their alerts; returns the alert count."""
    rng = random.Random(42)
    products = listings_per_distributor * 2
    with engine.begin() as conn:
        _sellers(conn)
        rrp = _catalog(conn, products)
        listings = _listings(listings_per_distributor, products)
        conn.execute(insert(Listing), listings)
        _runs(conn, days)
        alerts: list[dict[str, Any]] = []
        observations: list[dict[str, Any]] = []
        for listing in listings:
            price = rrp[listing["product_id"]]
            below, episodes = _dumping_episodes(listing, price, days, rng)
            alerts += episodes
            observations += _daily_observations(listing, price, below, days, rng)
        conn.execute(insert(Alert), alerts)
        for start in range(0, len(observations), 20_000):
            conn.execute(insert(Observation), observations[start : start + 20_000])
        _plans(conn, listings, days)
    return len(alerts)


def run() -> list[Figure]:
    listings, days = (125, 30) if quick() else (500, 90)
    with tempfile.TemporaryDirectory(prefix="pw-bench-reports-") as tmp:
        folder = Path(tmp)
        engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
        upgrade(engine)
        violations = build(engine, listings, days)
        config = _config(folder / "evidence")
        last = FIRST_DAY + dt.timedelta(days=days - 1)

        def timed(fmt: ReportFormat) -> tuple[float, float]:
            """Wall-clock and CPU seconds of one report file (CPU time is what a busy machine cannot inflate)."""
            cpu = time.process_time()
            with stopwatch() as elapsed:
                data = write_report(folder / f"report.{fmt}", fmt, engine, config, date_from=FIRST_DAY, date_to=last)
            assert len(data.violations) == violations
            return elapsed(), time.process_time() - cpu

        csv_wall, csv_cpu = timed("csv")
        xlsx_wall, xlsx_cpu = timed("xlsx")
        pdf_wall, pdf_cpu = timed("pdf")
        engine.dispose()
    label = f"{violations:,} violations / {days} days"
    goal = f"< {GOAL_SECONDS:.0f} s"
    met = xlsx_wall + pdf_wall < GOAL_SECONDS
    baseline = "CSV of the same violations"
    return [
        Figure(f"XLSX report, {label}", xlsx_wall, "s", baseline, csv_wall, "XLSX + PDF " + goal, met),
        Figure(
            f"PDF report (at most {MAX_ROWS} rows, {MAX_CHARTS} charts), {label}",
            pdf_wall,
            "s",
            baseline,
            csv_wall,
            "XLSX + PDF " + goal,
            met,
        ),
        Figure(
            f"XLSX + PDF, {label}",
            xlsx_wall + pdf_wall,
            "s",
            baseline,
            csv_wall,
            goal,
            xlsx_wall + pdf_wall < GOAL_SECONDS,
        ),
        Figure(
            f"XLSX + PDF, CPU time, {label}",
            xlsx_cpu + pdf_cpu,
            "s",
            baseline + " (CPU time)",
            csv_cpu,
            goal,
            xlsx_cpu + pdf_cpu < GOAL_SECONDS,
        ),
    ]
