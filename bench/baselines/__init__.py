"""Bare Scrapy spiders the crawl benchmarks measure against, and what those benchmarks share.

A baseline runs in its own process like a real crawl (`python -m bench.baselines KIND CONFIG CODE`), with the
same settings the real spider gets for that distributor, and prints its Scrapy stats as one JSON line.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import scrapy
import yaml
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response
from scrapy.spiders import SitemapSpider
from scrapy_playwright.page import PageMethod

from bench.baselines.json_api import BareJsonSpider
from crawler.browser_contexts import CONTEXT_PAGES_SETTING
from crawler.config import Distributor, load_config
from crawler.crawl_process import job_settings, tune_gc
from crawler.settings import distributor_settings

STATS_PREFIX = "BASELINE-STATS "


def write_config(path: Path, distributor: Distributor) -> Path:
    """A config file with this one distributor."""
    entry = distributor.model_dump(mode="json", exclude_none=True)
    path.write_text(yaml.safe_dump({"distributors": [entry]}, allow_unicode=True), encoding="utf-8")
    return path


def pages_per_second(stats: dict[str, Any]) -> float:
    """Responses per second of crawling, from Scrapy's own stats (process start-up not counted)."""
    return float(stats["response_received_count"]) / float(stats["elapsed_time_seconds"])


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (the browser, for a Playwright crawl), in MiB."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 2**20


@dataclass
class MemorySampler:
    """Samples a process tree's RSS on demand (`sample(pages)`) or on a timer (`watch(pid)`)."""

    samples: list[tuple[int, float]] = field(default_factory=list)  # (pages done, MiB)

    def sample(self, pid: int, pages: int) -> None:
        self.samples.append((pages, tree_rss_mb(pid)))

    @property
    def peak(self) -> float:
        return max((mb for _, mb in self.samples), default=0.0)

    def mean_between(self, first: int, last: int) -> float:
        window = [mb for pages, mb in self.samples if first <= pages <= last]
        return sum(window) / len(window) if window else float("nan")

    @contextmanager
    def watch(self, pid: int, every: float = 0.5) -> Iterator[None]:
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(every):
                self.sample(pid, 0)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


def run_baseline(kind: str, config_path: Path, code: str, memory: MemorySampler | None = None) -> dict[str, Any]:
    """Run the bare spider of `kind` ("shop", "marketplace" or "json_api") for the config's distributor; its Scrapy
    stats."""
    cmd = [sys.executable, "-m", "bench.baselines", kind, str(config_path), code]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proc:
        if memory is not None:
            with memory.watch(proc.pid):
                out, _ = proc.communicate()
        else:
            out, _ = proc.communicate()
    for line in out.splitlines():
        if line.startswith(STATS_PREFIX):
            stats: dict[str, Any] = json.loads(line.removeprefix(STATS_PREFIX))
            return stats
    raise RuntimeError(f"the {kind} baseline crawl printed no stats (exit {proc.returncode})")


class BareShopSpider(SitemapSpider):
    """Fetches the sitemap's pages and reads one CSS selector from each: the least a shop crawl does."""

    name = "bare_shop"

    def __init__(self, distributor: Distributor, **kwargs: Any) -> None:
        self.sitemap_urls = distributor.sitemap_urls
        self.price_css = distributor.selectors.price or "title"
        super().__init__(**kwargs)

    def parse(self, response: Response) -> Iterator[dict[str, Any]]:
        yield {"price": response.css(self.price_css).get()}


class BarePlaywrightSpider(scrapy.Spider):
    """Renders the start URLs in Chromium, waits for the prices, reads one CSS selector from each page."""

    name = "bare_marketplace"

    def __init__(self, distributor: Distributor, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = distributor.start_urls
        self.wait_for = distributor.playwright.wait_for
        self.timeout_ms = distributor.playwright.timeout * 1000
        self.price_css = distributor.selectors.price or "title"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.urls:
            wait = PageMethod("wait_for_selector", self.wait_for, timeout=self.timeout_ms)
            yield scrapy.Request(url, meta={"playwright": True, "playwright_page_methods": [wait]})

    def parse(self, response: Response) -> Iterator[dict[str, Any]]:
        yield {"price": response.css(self.price_css).get()}


def main(kind: str, config_path: str, code: str) -> None:
    config = load_config(config_path)
    distributor = config.distributor(code)
    settings = job_settings(
        config_path=config_path,
        distributor=code,
        run_key=f"baseline-{time.time_ns()}",
        db_url=None,
        store=False,
        limit=0,
        daily_run_id=None,
        channel_fd=None,
        log_level="WARNING",
    )
    settings.setdict(distributor_settings(config, distributor), priority="spider")
    settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    # Bare means one browser context for the whole crawl, as scrapy-playwright has it: what the rotation is measured by.
    settings.set(CONTEXT_PAGES_SETTING, 0, priority="cmdline")
    spider = {"shop": BareShopSpider, "json_api": BareJsonSpider}.get(kind, BarePlaywrightSpider)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(spider)
    process.crawl(crawler, distributor=distributor)
    tune_gc()  # as the real crawl process does: the figures compare spiders, not garbage collectors
    process.start()
    assert crawler.stats is not None
    print(STATS_PREFIX + json.dumps(crawler.stats.get_stats(), default=str), flush=True)
