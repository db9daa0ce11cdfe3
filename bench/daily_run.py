"""The daily run end to end on a generated pilot: 3 distributors × 20,000 SKUs, against bare crawls of the same pages.

Three generated shops (techsnab markup) serve the same 20,000 products; the catalog holds them all, and one
product in 2,000 is priced below its RRP, so dumping alerts open and evidence is captured. `run-daily` crawls,
matches, stores, runs the rules, captures evidence and builds the digest (delivery not configured) on a fresh
SQLite file. The baseline is the bare Scrapy spider fetching the same pages one shop after the other, as
`run-daily` crawls them here (max_parallel_crawls 1); the three shops are identical, so it crawls one of them and
its wall time (process start-up included, as for `run-daily`) counts three times.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import yaml

from bench.baselines import run_baseline, write_config
from bench.common import Figure, quick
from bench.crawl_shop import generated_distributor
from crawler.config import load_config
from fixtures.sites.generated import shop_offer, start_generated
from pricewatch.daily import EXIT_OK, run_daily
from storage.catalog_import import import_catalog
from storage.engine import make_engine, session_scope
from storage.migrate import upgrade

SHOPS = ("gen-a", "gen-b", "gen-c")
DUMPING_EVERY = 2_000
GOAL = 3.0


def write_price_list(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["Артикул", "Наименование", "EAN", "Категория", "Бренд", "РРЦ"])
        for i in range(n):
            offer = shop_offer(i)
            price = offer.price or Decimal(0)
            rrp = price * Decimal("1.2") if i % DUMPING_EVERY == 0 else price
            writer.writerow([offer.vendor_code, offer.title, offer.gtin, offer.category, "Termoline", f"{rrp:.2f}"])


def run() -> list[Figure]:
    n = 1_000 if quick() else 20_000
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        servers = [start_generated("shop", n) for _ in SHOPS]
        try:
            entries = [
                generated_distributor(s.url).model_copy(update={"code": code, "name": code})
                for code, s in zip(SHOPS, servers, strict=True)
            ]
            config_path = tmp / "generated-pilot.yaml"
            config_path.write_text(
                yaml.safe_dump(
                    {
                        "distributors": [e.model_dump(mode="json", exclude_none=True) for e in entries],
                        "matching": {"brand_tokens": ["termoline"]},
                        "schedule": {"max_parallel_crawls": 1},
                        "evidence": {"dir": str(tmp / "evidence")},
                    },
                    allow_unicode=True,
                ),
                encoding="utf-8",
            )
            # The three shops serve the same pages with the same settings: one bare crawl, counted three times.
            one = write_config(tmp / f"{entries[0].code}.yaml", entries[0])
            start = time.perf_counter()
            stats = run_baseline("shop", one, entries[0].code)
            bare = len(SHOPS) * (time.perf_counter() - start)
            if int(stats.get("item_scraped_count", 0)) != n:
                raise RuntimeError(f"the bare crawl of {entries[0].code} read {stats.get('item_scraped_count')} pages")

            db_url = f"sqlite:///{tmp / 'pricewatch.db'}"
            engine = make_engine(db_url)
            upgrade(engine)
            write_price_list(tmp / "price_list.csv", n)
            with session_scope(engine) as session:
                import_catalog(session, tmp / "price_list.csv", valid_from=dt.date.today() - dt.timedelta(days=1))
            engine.dispose()
            config = load_config(config_path)
            start = time.perf_counter()
            result = run_daily(config, str(config_path), db_url)
            ours = time.perf_counter() - start
            if result.exit_code != EXIT_OK or sum(c.offers for c in result.crawls) != n * len(SHOPS):
                raise RuntimeError(f"the daily run went wrong: {result.headline()}")
            opened = ", ".join(f"{c['opened']} {rule}" for rule, c in sorted(result.alerts.items()) if c.get("opened"))
        finally:
            for server in servers:
                server.stop()
    return [
        Figure(
            name=f"run-daily, {len(SHOPS)} distributors × {n:,} SKUs (opened: {opened or 'none'}; evidence kept)",
            value=round(ours, 1),
            unit="s",
            baseline_name=f"bare Scrapy crawl of one shop's {n:,} pages, × {len(SHOPS)}",
            baseline=round(bare, 1),
            goal=f"≤ {GOAL:g} × baseline (lower is better)",
            met=ours <= GOAL * bare,
        )
    ]
