"""One distributor's crawl in a process of its own (Twisted's reactor cannot restart).

Run as `python -m crawler.crawl_process --config FILE --distributor CODE --run-key KEY ...`, with the database URL
in the environment as PRICEWATCH_DB_URL (never on the command line, which `ps` shows to every user of the host).
The parent (pricewatch/crawls/local.py) starts it and reads its JSON-lines channel (crawler/channel.py). Exit status
0 when the crawl finished, 1 when it failed, 2 when the job itself is wrong (unknown distributor, bad config).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from twisted.python.failure import Failure

from crawler.channel import dumps
from crawler.errors import UserError
from crawler.settings import job_config

# The environment variable a crawl process takes the database URL from (it holds the password).
DB_URL_ENV = "PRICEWATCH_DB_URL"
GC_YOUNG_THRESHOLD = 20_000  # allocations between young-generation collections (CPython's default: 700)
# Reasons a crawl ends normally; `closespider_timeout` is the configured time limit (a partial run, still judged).
FINISHED_REASONS = frozenset({"finished", "closespider_timeout"})


def job_settings(
    *,
    config_path: str,
    distributor: str,
    run_key: str,
    db_url: str | None,
    store: bool,
    limit: int,
    daily_run_id: int | None,
    channel_fd: int | None,
    log_level: str | None = None,
    known_urls_file: str | None = None,
    known_urls: str | None = None,
) -> Settings:
    """The project settings plus one crawl's job (the per-distributor part is added by the spider).

    `known_urls_file` / `known_urls` (packed: `crawler.settings.pack_known_urls`): the listings the crawl revisits.
    """
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    job: dict[str, Any] = {
        "PRICEWATCH_CONFIG": config_path,
        "PRICEWATCH_DISTRIBUTOR": distributor,
        "PRICEWATCH_RUN_KEY": run_key,
        "PRICEWATCH_DB_URL": db_url,
        "PRICEWATCH_STORE": store,
        "PRICEWATCH_LIMIT": limit,
        "PRICEWATCH_DAILY_RUN_ID": daily_run_id,
        "PRICEWATCH_KNOWN_URLS_FILE": known_urls_file,
        "PRICEWATCH_KNOWN_URLS": known_urls,
    }
    if not store:
        job["ITEM_PIPELINES"] = settings.getdict("OUTPUT_PIPELINES")
    if channel_fd is not None:
        job["PRICEWATCH_CHANNEL_FD"] = channel_fd
    if log_level:
        job["LOG_LEVEL"] = log_level
    settings.setdict(job, priority="cmdline")
    return settings


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m crawler.crawl_process", description=__doc__)
    parser.add_argument("--config", required=True)
    parser.add_argument("--distributor", required=True)
    parser.add_argument("--run-key", required=True)
    parser.add_argument("--output", action="store_true", help="offers to the channel as JSON lines; store nothing")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--daily-run-id", type=int)
    parser.add_argument("--channel-fd", type=int)
    parser.add_argument("--log-level")
    parser.add_argument("--known-urls", metavar="FILE", help="the known listing URLs to revisit, one a line")
    return parser.parse_args(argv)


def tune_gc() -> None:
    """A crawl allocates heavily (responses, trees, items) and keeps thousands of requests queued, which the
    default collector rescans again and again; collect young objects less often, and never rescan the
    modules, config and settings loaded before the crawl."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def _fail(channel_fd: int | None, reason: str) -> None:
    print(f"error: {reason}", file=sys.stderr)
    if channel_fd is not None:
        # A raw write: the channel extension may hold its own file object on this descriptor.
        os.write(channel_fd, (dumps({"event": "failed", "reason": reason}) + "\n").encode())


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    # Taken out of the environment: Chromium and any other child of the crawl have no use for it.
    db_url = os.environ.pop(DB_URL_ENV, None) or None
    try:
        settings = job_settings(
            config_path=args.config,
            distributor=args.distributor,
            run_key=args.run_key,
            db_url=db_url,
            store=not args.output,
            limit=args.limit,
            daily_run_id=args.daily_run_id,
            channel_fd=args.channel_fd,
            log_level=args.log_level,
            known_urls_file=args.known_urls,
        )
        # The spider and the pipelines read this same parse of the config (job_config caches it).
        distributor = job_config(settings).distributor(args.distributor)
        process = CrawlerProcess(settings)
        crawler = process.create_crawler(distributor.spider)
    except UserError as exc:
        _fail(args.channel_fd, str(exc))
        return 2
    failures: list[Failure] = []
    process.crawl(crawler).addErrback(failures.append)
    tune_gc()
    process.start()
    if failures:
        error = failures[0].value
        _fail(args.channel_fd, str(error) if isinstance(error, UserError) else f"{type(error).__name__}: {error}")
        return 1
    reason = crawler.stats.get_value("finish_reason") if crawler.stats is not None else None
    return 0 if reason in FINISHED_REASONS else 1


if __name__ == "__main__":
    sys.exit(main())
