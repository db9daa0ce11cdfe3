"""Scrapy settings shared by every crawl, the job a crawl was started for (`load_job`: its config, parsed once per
process, and distributor), and the part each distributor's config adds (`distributor_settings`)."""

from __future__ import annotations

import base64
import os
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy.settings import BaseSettings

from crawler.config import Config, Distributor, shared_config
from crawler.errors import UserError

BOT_NAME = "pricewatch"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# Shops serve bots differently (or not at all); a current desktop Chrome gets the page a customer sees.
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7",
}
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

ROBOTSTXT_OBEY = True
COOKIES_ENABLED = True
# No consoles into a crawl process: a server runs these unattended.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = "INFO"

CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 4.0

DOWNLOAD_TIMEOUT = 30
# A product page over 10 MiB is not a product page; Scrapy cancels it and the spider counts an error.
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
# Feeds are big by nature; the feed spider raises the cap per request.
FEED_DOWNLOAD_MAXSIZE = 512 * 1024 * 1024

RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [408, 429, 500, 502, 503, 504, 520, 521, 522, 524]
RETRY_BACKOFF_BASE = 1.0
RETRY_BACKOFF_MAX = 60.0
RETRY_AFTER_MAX = 120.0
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.robots.WaitingRobotsTxtMiddleware": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.retry.BackoffRetryMiddleware": 550,
    "crawler.browser_contexts.ContextRotationMiddleware": 950,  # last before the download handler
}
# Scrapy's check for `return value` in generator callbacks parses the callback's source again for every request
# whose callback is a fresh bound method (its cache is keyed by them): a third of a page's CPU time. Ours return none.
WARN_ON_GENERATOR_RETURN_VALUE = False
# Spiders judge every status themselves: a 403 or captcha is `blocked`, a 404 is `not_found`, never a stock-out.
HTTPERROR_ALLOW_ALL = True

EXTENSIONS = {"crawler.channel.ChannelExtension": 500}

# A crawl stores what it reads (also under Scrapyd); with --output it only normalizes (OUTPUT_PIPELINES).
ITEM_PIPELINES = {
    "pipelines.normalize.NormalizePipeline": 100,
    "pipelines.match.MatchPipeline": 200,
    "pipelines.plausibility.PlausibilityPipeline": 250,
    "pipelines.store.StorePipeline": 300,
}
OUTPUT_PIPELINES = {"pipelines.normalize.NormalizePipeline": 100, "crawler.channel.OfferOutputPipeline": 900}

PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_LAUNCH_OPTIONS = {
    "executable_path": "/usr/bin/chromium",
    "headless": True,
    "args": [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-dev-shm-usage",
        # Chromium otherwise starts a renderer process for every new page: on a 2-core host that alone cost a
        # quarter of the marketplace crawl's speed and a third of its memory (bench/crawl_marketplace.py).
        f"--renderer-process-limit={max(2, os.cpu_count() or 2)}",
    ],
}
PLAYWRIGHT_ABORT_REQUEST = "crawler.browser.abort_heavy_request"
PLAYWRIGHT_MAX_CONTEXTS = 1
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 4

PLAYWRIGHT_DOWNLOAD_HANDLERS = {
    "http": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
    "https": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
}

# Job settings the runner sets (see pricewatch/crawls/local.py); their defaults let `scrapy crawl` show what is missing.
PRICEWATCH_CONFIG = None
PRICEWATCH_DISTRIBUTOR = None
# A crawl process sets it from its environment (crawler.crawl_process.DB_URL_ENV), never from its command line;
# unset, the pipelines use DATABASE_URL (a Scrapyd host's own).
PRICEWATCH_DB_URL = None
PRICEWATCH_RUN_KEY = None
PRICEWATCH_STORE = True
PRICEWATCH_LIMIT = 0
PRICEWATCH_DAILY_RUN_ID = None
# The distributor's known listing URLs, which the crawl revisits when its entry points no longer lead there (a
# vanished offer is then confirmed gone): a file of them, one a line (local crawls), or the same text inline,
# compressed (`pack_known_urls`: Scrapyd jobs). Filled by the parent that starts the crawl; unset, none.
PRICEWATCH_KNOWN_URLS_FILE = None
PRICEWATCH_KNOWN_URLS = None


def job_config(settings: BaseSettings) -> Config:
    """The config a crawl was started with (PRICEWATCH_CONFIG), parsed once per crawl process."""
    return shared_config(settings.get("PRICEWATCH_CONFIG"))


def load_job(settings: BaseSettings) -> tuple[Config, Distributor]:
    """The config and distributor a crawl process was started for (PRICEWATCH_CONFIG, PRICEWATCH_DISTRIBUTOR)."""
    code = settings.get("PRICEWATCH_DISTRIBUTOR")
    if not code:
        raise UserError("PRICEWATCH_DISTRIBUTOR is not set: start crawls with `pricewatch crawl --distributor CODE`")
    config = job_config(settings)
    return config, config.distributor(code)


def pack_known_urls(urls: Iterable[str]) -> str:
    """Known listing URLs as one setting value: their lines, zlib-compressed, in base64."""
    return base64.b64encode(zlib.compress("\n".join(urls).encode("utf-8"), 9)).decode("ascii")


def known_urls(settings: BaseSettings) -> frozenset[str]:
    """The known listing URLs the parent handed this crawl (PRICEWATCH_KNOWN_URLS_FILE or PRICEWATCH_KNOWN_URLS)."""
    path, packed = settings.get("PRICEWATCH_KNOWN_URLS_FILE"), settings.get("PRICEWATCH_KNOWN_URLS")
    if path:
        text = Path(path).read_text(encoding="utf-8")
    elif packed:
        text = zlib.decompress(base64.b64decode(packed)).decode("utf-8")
    else:
        return frozenset()
    return frozenset(line for line in text.splitlines() if line)


def _hosts(distributor: Distributor) -> list[str]:
    urls = [*distributor.start_urls, *distributor.sitemap_urls]
    if distributor.feed is not None:
        urls.append(distributor.feed.url)
    if distributor.canary is not None:
        urls.append(distributor.canary.url)
    return sorted({urlsplit(u).hostname or "" for u in urls} - {""})


def distributor_settings(config: Config, distributor: Distributor) -> dict[str, Any]:
    """The settings one distributor's politeness, robots choice and kind of site ask for."""
    polite = distributor.politeness
    slot = {"concurrency": polite.concurrency, "delay": polite.delay, "jitter": 0.5 if polite.delay else 0.0}
    settings: dict[str, Any] = {
        "ROBOTSTXT_OBEY": polite.obey_robots,
        "DOWNLOAD_TIMEOUT": polite.timeout,
        "RETRY_TIMES": polite.retries,
        "DOWNLOAD_DELAY": polite.delay,
        "AUTOTHROTTLE_ENABLED": polite.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(polite.delay, 0.5),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(polite.concurrency),
        "CONCURRENT_REQUESTS_PER_DOMAIN": polite.concurrency,
        "CONCURRENT_REQUESTS": max(CONCURRENT_REQUESTS, polite.concurrency),
        "DOWNLOAD_SLOTS": {host: dict(slot) for host in _hosts(distributor)},
        "CLOSESPIDER_TIMEOUT": config.schedule.crawl_time_limit_minutes * 60,
        "PRICEWATCH_EVIDENCE_DIR": config.evidence.dir,
    }
    if polite.user_agent:
        settings["USER_AGENT"] = polite.user_agent
    if distributor.spider == "marketplace":
        settings["DOWNLOAD_HANDLERS"] = PLAYWRIGHT_DOWNLOAD_HANDLERS
        settings["PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT"] = polite.timeout * 1000
        settings["PLAYWRIGHT_MAX_PAGES_PER_CONTEXT"] = polite.concurrency
        # A cookie region renders in a browser context of its own (its cookies), beside the default one.
        settings["PLAYWRIGHT_MAX_CONTEXTS"] = PLAYWRIGHT_MAX_CONTEXTS + sum(1 for r in distributor.regions if r.cookies)
    return settings
