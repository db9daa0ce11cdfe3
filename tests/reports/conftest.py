"""Reports fixtures: a small catalog with ten days of crawls, violation alerts, stock-outs, a plan and evidence.

The scenario's numbers are chosen so every report figure can be checked by hand (see `EXPECTED`).
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import Engine

from crawler.config import Config
from crawler.items import StockState
from storage.engine import make_engine, session_scope
from storage.models import (
    Alert,
    AlertStatus,
    CrawlRun,
    Distributor,
    Evidence,
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

MSK = ZoneInfo("Europe/Moscow")
FIRST_DAY = dt.date(2026, 3, 1)  # a Sunday
DAYS = 10
INJECTION = '=HYPERLINK("http://x","y")'


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """Day 1..10 of the scenario, local Moscow time, as UTC."""
    local = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=day - 1), dt.time(hour, minute), MSK)
    return local.astimezone(dt.UTC)


def make_config(evidence_dir: Path, **extra: Any) -> Config:
    return Config.model_validate(
        {
            "distributors": [
                {
                    "code": "techsnab",
                    "name": "ТехСнаб",
                    "start_urls": ["http://127.0.0.1:8701/"],
                    "extraction": "selectors",
                    "selectors": {"price": ".product-price::text"},  # Scrapy's pseudo-element, as configs write it
                },
                {
                    "code": "market",
                    "name": "МаркетПлюс",
                    "kind": "marketplace",
                    "start_urls": ["http://127.0.0.1:8703/"],
                },
            ],
            "evidence": {"dir": str(evidence_dir), "retention_days": 30},
            **extra,
        }
    )


@dataclass
class Builder:
    """Rows for a report scenario, written with the storage models."""

    engine: Engine
    ids: dict[str, int] = field(default_factory=dict)
    runs: dict[tuple[str, int], int] = field(default_factory=dict)

    def add(self, key: str, row: Any) -> int:
        with session_scope(self.engine) as session:
            session.add(row)
            session.flush()
            self.ids[key] = row.id
        return row.id

    def distributor(self, code: str, name: str, kind: SellerKind = SellerKind.DISTRIBUTOR) -> int:
        return self.add(code, Distributor(code=code, name=name, kind=kind, authorized=kind != SellerKind.MARKETPLACE))

    def seller(self, key: str, distributor: str, name: str, authorized: bool = True) -> int:
        return self.add(key, Seller(distributor_id=self.ids[distributor], code=key, name=name, authorized=authorized))

    def product(self, key: str, vendor_code: str, name: str) -> int:
        return self.add(key, Product(vendor_code=vendor_code, vendor_code_norm=vendor_code.replace("-", ""), name=name))

    def price_list(self, key: str, valid_from: dt.date, rrp: dict[str, str]) -> None:
        list_id = self.add(
            key,
            PriceList(name=key, valid_from=valid_from, source_file=f"{key}.csv", source_sha256=key * 4, row_count=1),
        )
        with session_scope(self.engine) as session:
            for product, value in rrp.items():
                session.add(Price(price_list_id=list_id, product_id=self.ids[product], rrp=Decimal(value)))

    def listing(self, key: str, seller: str, product: str, url: str) -> int:
        return self.add(
            key,
            Listing(
                seller_id=self.ids[seller],
                url=url,
                product_id=self.ids[product],
                match_method=MatchMethod.VENDOR_CODE,
                match_confidence=1.0,
            ),
        )

    def run(self, distributor: str, day: int, hour: int, status: RunStatus = RunStatus.FINISHED) -> int:
        key = (distributor, day)
        if key not in self.runs:
            self.runs[key] = self.add(
                f"run-{distributor}-{day}-{status}",
                CrawlRun(
                    run_key=f"{distributor}-{day}-{status}",
                    distributor_id=self.ids[distributor],
                    started_at=at(day, hour),
                    finished_at=at(day, hour, 30),
                    status=status,
                ),
            )
        return self.runs[key]

    def observe(
        self,
        listing: str,
        distributor: str,
        day: int,
        hour: int,
        price: str | None,
        stock: StockState = StockState.IN_STOCK,
        run_status: RunStatus = RunStatus.FINISHED,
        details: dict[str, Any] | None = None,
    ) -> int:
        run_id = (
            self.run(distributor, day, hour)
            if run_status == RunStatus.FINISHED
            else self.add(
                f"running-{listing}-{day}",
                CrawlRun(run_key=f"running-{listing}-{day}", distributor_id=self.ids[distributor], status=run_status),
            )
        )
        return self.add(
            f"obs-{listing}-{day}",
            Observation(
                listing_id=self.ids[listing],
                crawl_run_id=run_id,
                observed_at=at(day, hour, 5),
                price=None if price is None else Decimal(price),
                currency="RUB",
                stock=stock,
                details=details or {},
            ),
        )

    def alert(
        self,
        key: str,
        rule: str,
        listing: str,
        product: str,
        distributor: str,
        opened_at: dt.datetime,
        last_seen_at: dt.datetime,
        resolved_at: dt.datetime | None = None,
        details: dict[str, Any] | None = None,
        **extra: Any,
    ) -> int:
        return self.add(
            key,
            Alert(
                rule=rule,
                fingerprint=f"{rule}:{self.ids[listing]}",
                severity="critical" if rule == "dumping" else "warning",
                status=AlertStatus.RESOLVED if resolved_at else AlertStatus.OPEN,
                subject=f"{rule} {listing}",
                listing_id=self.ids[listing],
                product_id=self.ids[product],
                distributor_id=self.ids[distributor],
                opened_at=opened_at,
                last_seen_at=last_seen_at,
                resolved_at=resolved_at,
                details=details or {},
                **extra,
            ),
        )

    def evidence(self, evidence_dir: Path, kind: str, url: str, content: bytes, captured_at: dt.datetime) -> int:
        digest = hashlib.sha256(content).hexdigest()
        rel = f"{captured_at:%Y-%m-%d}/{digest}.{'png' if kind == 'screenshot' else 'html.gz'}"
        (evidence_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (evidence_dir / rel).write_bytes(content)
        return self.add(
            f"evidence-{digest}",
            Evidence(kind=kind, url=url, captured_at=captured_at, sha256=digest, path=rel, size=len(content)),
        )


def png_bytes(color: tuple[int, int, int], size: tuple[int, int] = (320, 480)) -> bytes:
    import io

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


@dataclass(frozen=True)
class Scenario:
    """The built scenario; tests reach the helpers through it (test modules cannot import this conftest)."""

    engine: Engine
    config: Config
    builder: Builder
    evidence_dir: Path
    expected: dict[str, Any] = field(default_factory=lambda: EXPECTED)
    injection: str = INJECTION

    @staticmethod
    def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
        return at(day, hour, minute)


# The figures a report over 2026-03-01..2026-03-10 must show (worked out by hand from `build_scenario`).
EXPECTED: dict[str, Any] = {
    "techsnab": {
        "skus_watched": 3,
        "skus_in_violation": 2,
        "violations": 2,
        "avg_deviation_pct": Decimal("-21.59"),  # mean of -18.18 (TL-1001) and -25.00 (TL-1003)
        "deepest_deviation_pct": Decimal("-25.00"),
        "violation_days": 6,  # TL-1001 days 3-6, TL-1003 days 9-10
        "repeat_offences": 1,  # TL-1001 had a dumping alert in February
        "weekend_share": Decimal("0"),  # days 3-6, 9, 10 are Tue-Fri, Mon, Tue
        "night_share": Decimal("1"),  # crawled at 06:00 Moscow time
        "stock_out_days": 3,  # TL-1002 days 2-4
        "lost_sales": Decimal("150000.00"),  # 3 days x 310/31 a day x 5000
    },
    "market": {
        "skus_watched": 2,
        "skus_in_violation": 2,
        "violations": 2,
        "avg_deviation_pct": Decimal("-20.00"),  # the one dumping violation
        "deepest_deviation_pct": Decimal("-20.00"),
        "violation_days": 12,  # parallel import days 1-10, dumping days 4-5
        "repeat_offences": 0,
        "weekend_share": Decimal("0.25"),  # 3 of 12 observations (days 1, 7, 8; days 4-5 are Wed-Thu)
        "night_share": Decimal("0"),  # crawled at 12:00
        "stock_out_days": 0,
        "lost_sales": None,
    },
}


def build_scenario(engine: Engine, evidence_dir: Path) -> Builder:
    b = Builder(engine)
    b.distributor("techsnab", "ТехСнаб")
    b.distributor("market", "МаркетПлюс", SellerKind.MARKETPLACE)
    b.seller("s-techsnab", "techsnab", "ТехСнаб")
    b.seller("s-grey", "market", "ИП Серый", authorized=False)
    b.seller("s-shop", "market", "Магазин Тепла")
    b.product("p1", "TL-1001", "Обогреватель Термолайн ОМ-1001")
    b.product("p2", "TL-1002", "Вентилятор Термолайн В-1002")
    b.product("p3", "TL-1003", INJECTION)
    b.price_list("pl-jan", dt.date(2026, 1, 1), {"p1": "10000", "p2": "5000", "p3": "2000"})
    b.price_list("pl-mar", dt.date(2026, 3, 6), {"p1": "11000", "p2": "5000", "p3": "2000"})
    b.listing("l1", "s-techsnab", "p1", "http://127.0.0.1:8701/product/tl-1001")
    b.listing("l2", "s-techsnab", "p2", "http://127.0.0.1:8701/product/tl-1002")
    b.listing("l3", "s-techsnab", "p3", "http://127.0.0.1:8701/product/tl-1003")
    b.listing("l4", "s-grey", "p1", "http://127.0.0.1:8703/item/1?seller=grey")
    b.listing("l5", "s-shop", "p2", "http://127.0.0.1:8703/item/2?seller=shop")

    l1 = {1: "10000", 2: "10000", 3: "8500", 4: "8600", 5: "8700", 6: "9000", 7: "10500", 8: "10500"}
    for day in range(1, DAYS + 1):
        b.observe("l1", "techsnab", day, 6, l1.get(day, "10600"))
        stock = StockState.OUT_OF_STOCK if day in (2, 3, 4) else StockState.IN_STOCK
        b.observe("l2", "techsnab", day, 6, None if stock == StockState.OUT_OF_STOCK else "5000", stock)
        b.observe("l3", "techsnab", day, 6, "1500" if day >= 9 else "2000")
        b.observe("l4", "market", day, 12, "9800")
        b.observe("l5", "market", day, 12, "4000" if day in (4, 5) else "5000")
    # A crawl still running (or dead part-way) is invisible to reports.
    b.observe("l1", "techsnab", 10, 20, "100", run_status=RunStatus.RUNNING)

    # February: an earlier dumping episode on l1 makes March's a repeat offence.
    b.alert(
        "a-feb",
        "dumping",
        "l1",
        "p1",
        "techsnab",
        opened_at=dt.datetime(2026, 2, 10, 4, tzinfo=dt.UTC),
        last_seen_at=dt.datetime(2026, 2, 12, 4, tzinfo=dt.UTC),
        resolved_at=dt.datetime(2026, 2, 13, 4, tzinfo=dt.UTC),
    )
    b.alert(
        "a1",
        "dumping",
        "l1",
        "p1",
        "techsnab",
        opened_at=at(3, 6, 40),
        last_seen_at=at(6, 6, 40),
        resolved_at=at(7, 6, 40),
        details={"price": "9000.00", "rrp": "11000.00", "deviation_pct": "-18.18"},
    )
    b.alert("a3", "dumping", "l3", "p3", "techsnab", opened_at=at(9, 6, 40), last_seen_at=at(10, 6, 40))
    b.alert(
        "a4",
        "parallel_import",
        "l4",
        "p1",
        "market",
        opened_at=at(1, 12, 40),
        last_seen_at=at(10, 12, 40),
        details={"signals": [{"signal": "unauthorized_seller", "detail": "ИП Серый"}], "price": "9800.00"},
    )
    shot = b.evidence(
        evidence_dir, "screenshot", "http://127.0.0.1:8703/item/2?seller=shop", png_bytes((40, 90, 200)), at(4, 12, 50)
    )
    html = b.evidence(
        evidence_dir,
        "html",
        "http://127.0.0.1:8703/item/2?seller=shop",
        gzip.compress(b"<html><script>alert(1)</script>4 000</html>", mtime=0),
        at(4, 12, 50),
    )
    b.alert(
        "a5",
        "dumping",
        "l5",
        "p2",
        "market",
        opened_at=at(4, 12, 40),
        last_seen_at=at(5, 12, 40),
        resolved_at=at(6, 12, 40),
        evidence_screenshot_id=shot,
        evidence_html_id=html,
    )
    # Not a violation: stock alerts stay out of the violations list.
    b.alert("a-stock", "stock_out", "l2", "p2", "techsnab", opened_at=at(2, 6, 40), last_seen_at=at(4, 6, 40))
    with session_scope(engine) as session:
        session.add(SalesPlan(distributor_id=b.ids["techsnab"], product_id=b.ids["p2"], month=FIRST_DAY, quantity=310))
    return b


def _scenario(url: str, tmp_path: Path, *, built: bool = True) -> Iterator[Scenario]:
    """The fixtures below differ only in the database and in whether the scenario's rows are written."""
    engine = make_engine(url)
    evidence_dir = tmp_path / "evidence"
    evidence_dir.mkdir()
    builder = build_scenario(engine, evidence_dir) if built else Builder(engine)
    yield Scenario(engine, make_config(evidence_dir), builder, evidence_dir)
    engine.dispose()


@pytest.fixture
def scenario(db_url: str, tmp_path: Path) -> Iterator[Scenario]:
    """The scenario on SQLite and on PostgreSQL."""
    yield from _scenario(db_url, tmp_path)


@pytest.fixture
def sqlite_scenario(sqlite_url: str, tmp_path: Path) -> Iterator[Scenario]:
    """The scenario on SQLite only, for tests where the dialect does not matter."""
    yield from _scenario(sqlite_url, tmp_path)


@pytest.fixture
def blank_scenario(sqlite_url: str, tmp_path: Path) -> Iterator[Scenario]:
    """No data yet: a builder, the config and an evidence folder on an empty SQLite database."""
    yield from _scenario(sqlite_url, tmp_path, built=False)
