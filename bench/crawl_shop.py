"""Shop spider throughput on the generated 20,000-page shop, against a bare Scrapy spider on the same pages.

Both crawl the generated shop (techsnab markup) from its sitemap in a process of their own, with the settings
`pilot.yaml` gives techsnab (concurrency raised to 16, no delay). The bare spider reads one CSS selector per
page; ours reads every field, parses price and stock, normalizes and writes JSON lines to /dev/null. Both
processes tune the garbage collector the same way (crawler.crawl_process.tune_gc). Rates come from Scrapy's
own stats (responses / crawl seconds). The bare crawl goes first, then ours, on the same warm server.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bench.baselines import pages_per_second, run_baseline, write_config
from bench.common import Figure, quick
from crawler.config import Distributor, Politeness, load_config
from fixtures.sites.generated import start_generated
from pricewatch.crawls.local import run_crawls

ROOT = Path(__file__).resolve().parent.parent
GOAL = 0.85
CODE = "generated"


def generated_distributor(base_url: str) -> Distributor:
    """techsnab's config entry, pointed at the generated shop's sitemap."""
    techsnab = load_config(ROOT / "pilot.yaml").distributor("techsnab")
    return techsnab.model_copy(
        update={
            "code": CODE,
            "name": "Генерированный магазин",
            "start_urls": [],
            "sitemap_urls": [f"{base_url}/sitemap.xml"],
            "canary": None,
            "politeness": Politeness(concurrency=16, delay=0, obey_robots=True),
        }
    )


def crawl_ours(config_path: Path, expected_offers: int) -> float:
    config = load_config(config_path)
    with open(os.devnull, "w", encoding="utf-8") as sink:
        [summary] = run_crawls(config, config_path, [CODE], output=sink)
    if summary.failed or summary.offers != expected_offers:
        raise RuntimeError(f"the shop crawl went wrong: {summary.row()}")
    return pages_per_second(summary.stats)


def run() -> list[Figure]:
    n = 2_000 if quick() else 20_000
    with start_generated("shop", n) as site, tempfile.TemporaryDirectory() as tmp:
        config_path = write_config(Path(tmp) / "generated.yaml", generated_distributor(site.url))
        stats = run_baseline("shop", config_path, CODE)
        if int(stats.get("item_scraped_count", 0)) != n:
            raise RuntimeError(f"the bare crawl read {stats.get('item_scraped_count')} of {n} pages")
        baseline = pages_per_second(stats)
        value = crawl_ours(config_path, n)
    return [
        Figure(
            name=f"shop spider, generated shop ({n:,} product pages from the sitemap)",
            value=round(value, 1),
            unit="pages/s",
            baseline_name="bare Scrapy SitemapSpider, one CSS select per page",
            baseline=round(baseline, 1),
            goal=f"≥ {GOAL} × baseline",
            met=value >= GOAL * baseline,
        )
    ]
