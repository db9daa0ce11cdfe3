"""A real Scrapy crawl process whose spider yields given RawOffers: the pipelines run in their true lifecycle.

`python -m tests.support.item_feed JOB.json`, JOB = {"config", "distributor", "db", "run_key", "offers": [...],
"stats": {...}, "batch": int | null, "pause": seconds between offers (0), "fail": bool}. With `fail` the spider
raises CloseSpider("cancelled") after the offers (a cancelled crawl).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.exceptions import CloseSpider

from crawler.crawl_process import job_settings
from crawler.items import RawOffer


class FeedSpider(scrapy.Spider):
    name = "item_feed"

    def __init__(self, job: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job = job

    async def start(self) -> AsyncIterator[Any]:
        assert self.crawler.stats is not None
        for key, value in self.job.get("stats", {}).items():
            self.crawler.stats.set_value(key, value)
        for fields in self.job["offers"]:
            yield RawOffer(**fields)
            if self.job.get("pause"):
                await asyncio.sleep(self.job["pause"])
        if self.job.get("fail"):
            raise CloseSpider("cancelled")


def main(path: str) -> int:
    with open(path, encoding="utf-8") as fh:
        job = json.load(fh)
    settings = job_settings(
        config_path=job["config"],
        distributor=job["distributor"],
        run_key=job["run_key"],
        db_url=job["db"],
        store=True,
        limit=0,
        daily_run_id=None,
        channel_fd=None,
        log_level="WARNING",
    )
    if job.get("batch"):
        settings.set("PRICEWATCH_STORE_BATCH", job["batch"], priority="cmdline")
    process = CrawlerProcess(settings, install_root_handler=True)
    process.crawl(FeedSpider, job=job)
    process.start()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
