"""The crawl process's line to its parent: JSON lines with progress, offers (with --output) and the final stats.

Events, one JSON object per line: `{"event": "progress", "pages", "offers", "errors"}` at most every
`PROGRESS_INTERVAL` seconds, `{"event": "offer", "offer": {...}}` per offer that passed the pipelines (only with
PRICEWATCH_OUTPUT), and `{"event": "done", "reason", "pages", "offers", "errors", "health", "stats"}` at the end.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import os
import time
from decimal import Decimal
from typing import IO, Any, Self

from itemadapter import ItemAdapter
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from pipelines.health import STAT_ERRORS, STAT_HEALTH, STAT_OFFERS, STAT_RESPONSES

PROGRESS_INTERVAL = 0.5
# How every offer event starts, so the parent can pass the offer on without parsing it (crawler/run.py).
OFFER_PREFIX = '{"event": "offer", "offer": '
STAT_PAGES = STAT_RESPONSES


def plain(value: Any) -> Any:
    """JSON for what offers and stats hold: decimals as strings, times as ISO, enums as values."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def dumps(event: dict[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False, default=plain)


class ChannelExtension:
    """Writes the events to the file descriptor PRICEWATCH_CHANNEL_FD; absent that setting, does nothing."""

    def __init__(self, crawler: Crawler, stream: IO[str], output: bool) -> None:
        self.crawler = crawler
        self.stream = stream
        self.output = output
        self.last_progress = 0.0
        self.reason: str | None = None
        crawler.signals.connect(self.progress, signal=signals.response_received)
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        # After every spider_closed handler: the store pipeline judges the run's health in its own.
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        fd = crawler.settings.getint("PRICEWATCH_CHANNEL_FD", -1)
        if fd < 0:
            raise NotConfigured  # a crawl started without a parent (scrapy crawl, Scrapyd)
        stream = os.fdopen(fd, "w", encoding="utf-8", buffering=1)
        return cls(crawler, stream, crawler.settings.getbool("PRICEWATCH_OUTPUT"))

    def send(self, event: dict[str, Any]) -> None:
        self.stream.write(dumps(event) + "\n")

    def counts(self) -> dict[str, int]:
        assert self.crawler.stats is not None
        stats = self.crawler.stats
        return {
            "pages": int(stats.get_value(STAT_PAGES, 0)),
            "offers": int(stats.get_value(STAT_OFFERS, 0)),
            "errors": int(stats.get_value(STAT_ERRORS, 0)),
        }

    def progress(self, *_: Any, force: bool = False, **__: Any) -> None:
        now = time.monotonic()
        if force or now - self.last_progress >= PROGRESS_INTERVAL:
            self.last_progress = now
            self.send({"event": "progress", **self.counts()})

    def item_scraped(self, item: Any, response: Any, spider: Spider) -> None:
        if self.output:
            # A RawOffer's fields are plain values already: no deep copy needed to serialize it.
            offer = vars(item) if dataclasses.is_dataclass(item) else ItemAdapter(item).asdict()
            self.stream.write(f"{OFFER_PREFIX}{dumps(offer)}}}\n")
        self.progress()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        self.reason = reason

    def engine_stopped(self) -> None:
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        self.send(
            {
                "event": "done",
                "reason": self.reason,
                **self.counts(),
                "health": stats.get(STAT_HEALTH),
                "stats": {key: value for key, value in stats.items() if isinstance(key, str)},
            }
        )
        self.stream.flush()
