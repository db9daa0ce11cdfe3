"""Marketplace spider over 1,000 JS pages in Chromium: pages/s, peak RSS, and whether memory stays flat.

Both the marketplace spider and a bare scrapy-playwright spider (wait for the prices, one CSS select) render
the generated marketplace's product pages from a URL list, each in a process of its own with the settings
`pilot.yaml` gives the marketplace; the bare spider keeps one browser context for the whole crawl, ours changes
it every PRICEWATCH_CONTEXT_PAGES pages (crawler/browser_contexts.py). Memory is the resident set of the crawl
process and all its descendants (the Playwright driver and every Chromium process), sampled as the crawl goes;
"flat" compares the mean from the 900th page on with the mean around the 200th. Both move with the time a crawl
takes more than with its pages (the driver's and the renderers' garbage collection comes in waves of a minute or
two, and Chromium starts a utility process of about 45 MiB three minutes after its launch), so a slow, loaded
machine reads them higher.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bench.baselines import MemorySampler, pages_per_second, run_baseline, write_config
from bench.common import Figure, quick
from crawler.config import Distributor, load_config
from fixtures.sites.generated import marketplace_card, start_generated
from pricewatch.crawls.local import CrawlProgress, run_crawls

ROOT = Path(__file__).resolve().parent.parent
CODE = "generated-mp"
SPEED_GOAL = 0.85
FLAT_GOAL = 1.10  # the late mean may exceed the early one by 10 % at most
PEAK_GOAL = 1.25


def generated_distributor(base_url: str, n: int) -> Distributor:
    """The marketplace's config entry, pointed at n product pages of the generated marketplace."""
    marketplace = load_config(ROOT / "pilot.yaml").distributor("marketplace")
    # A URL list of product pages (no listing navigation), the same list the bare spider renders.
    selectors = marketplace.selectors.model_copy(update={"product_links": None, "next_page": None})
    return marketplace.model_copy(
        update={
            "code": CODE,
            "start_urls": [f"{base_url}{marketplace_card(i).path}" for i in range(n)],
            "selectors": selectors,
            "canary": None,
        }
    )


def crawl_ours(config_path: Path, pages: int, memory: MemorySampler) -> float:
    def sample(progress: CrawlProgress) -> None:
        if progress.pid is not None and progress.status == "running":
            memory.sample(progress.pid, progress.pages)

    config = load_config(config_path)
    with open(os.devnull, "w", encoding="utf-8") as sink:
        [summary] = run_crawls(config, config_path, [CODE], output=sink, on_progress=sample)
    if summary.failed or summary.pages < pages:
        raise RuntimeError(f"the marketplace crawl went wrong: {summary.row()}")
    return pages_per_second(summary.stats)


def run() -> list[Figure]:
    n = 300 if quick() else 1_000
    early, late = (50, 100) if quick() else (200, 300), (n - 100, n)
    ours, bare = MemorySampler(), MemorySampler()
    with start_generated("marketplace", n) as site, tempfile.TemporaryDirectory() as tmp:
        config_path = write_config(Path(tmp) / "marketplace.yaml", generated_distributor(site.url, n))
        bare_stats = run_baseline("marketplace", config_path, CODE, memory=bare)
        if int(bare_stats.get("item_scraped_count", 0)) != n:
            raise RuntimeError(f"the bare crawl read {bare_stats.get('item_scraped_count')} of {n} pages")
        rate = crawl_ours(config_path, n, ours)
    bare_rate = pages_per_second(bare_stats)
    start, end = ours.mean_between(*early), ours.mean_between(*late)
    return [
        Figure(
            name=f"marketplace spider, {n:,} JS product pages in Chromium",
            value=round(rate, 2),
            unit="pages/s",
            baseline_name="bare scrapy-playwright spider, wait for prices + one CSS select",
            baseline=round(bare_rate, 2),
            goal=f"≥ {SPEED_GOAL} × baseline",
            met=rate >= SPEED_GOAL * bare_rate,
        ),
        Figure(
            name=f"marketplace crawl memory, pages {late[0]:,}–{late[1]:,} (RSS summed over the process and Chromium)",
            value=round(end, 1),
            unit="MiB",
            baseline_name=f"the same crawl at pages {early[0]:,}–{early[1]:,}",
            baseline=round(start, 1),
            goal=f"≤ {FLAT_GOAL} × baseline (flat)",
            met=end <= FLAT_GOAL * start,
        ),
        Figure(
            name="marketplace crawl peak memory (RSS summed over the process and Chromium)",
            value=round(ours.peak, 1),
            unit="MiB",
            baseline_name="bare scrapy-playwright spider's peak",
            baseline=round(bare.peak, 1),
            goal=f"≤ {PEAK_GOAL} × baseline",
            met=ours.peak <= PEAK_GOAL * bare.peak,
        ),
    ]
