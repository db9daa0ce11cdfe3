"""The crawl process's line to its parent: JSON lines with progress, offers (with --output) and the final stats.

Events, one JSON object per line: `{"event": "progress", "pages", "offers", "errors"}` every
`PROGRESS_INTERVAL` seconds, `{"event": "offer", "offer": {...}}` per offer that passed the pipelines (only with
--output: OUTPUT_PIPELINES end in OfferOutputPipeline), and `{"event": "done", "reason", "pages", "offers",
"errors", "health", "stats"}` at the end.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import os
from decimal import Decimal
from typing import IO, Any, Self

from itemadapter import ItemAdapter
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import AsyncioLoopingCall, create_looping_call
from twisted.internet.task import LoopingCall

from crawler.stats import STAT_ERRORS, STAT_HEALTH, STAT_OFFERS, STAT_RESPONSES

PROGRESS_INTERVAL = 0.5
# How every offer event starts, so the parent can pass the offer on without parsing it (pricewatch/crawls/local.py).
OFFER_PREFIX = '{"event": "offer", "offer": '


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
    """Writes the events to the file descriptor PRICEWATCH_CHANNEL_FD; absent that setting, does nothing.

    Progress comes from a timer, and offers from `OfferOutputPipeline`: no signal handler runs per page or item.
    """

    def __init__(self, crawler: Crawler, stream: IO[str]) -> None:
        self.crawler = crawler
        self.stream = stream
        self.reason: str | None = None
        self.timer: AsyncioLoopingCall | LoopingCall | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        # After every spider_closed handler: the store pipeline judges the run's health in its own.
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        fd = crawler.settings.getint("PRICEWATCH_CHANNEL_FD", -1)
        if fd < 0:
            raise NotConfigured  # a crawl started without a parent (scrapy crawl, Scrapyd)
        # Block-buffered: offers go out in chunks, flushed with every progress event.
        return cls(crawler, os.fdopen(fd, "w", encoding="utf-8"))

    def send(self, event: dict[str, Any]) -> None:
        self.stream.write(dumps(event) + "\n")

    def send_offer(self, offer: dict[str, Any]) -> None:
        self.stream.write(f"{OFFER_PREFIX}{dumps(offer)}}}\n")

    def counts(self) -> dict[str, int]:
        assert self.crawler.stats is not None
        stats = self.crawler.stats
        return {
            "pages": int(stats.get_value(STAT_RESPONSES, 0)),
            "offers": int(stats.get_value(STAT_OFFERS, 0)),
            "errors": int(stats.get_value(STAT_ERRORS, 0)),
        }

    def progress(self) -> None:
        self.send({"event": "progress", **self.counts()})
        self.stream.flush()

    def spider_opened(self, spider: Spider) -> None:
        self.timer = create_looping_call(self.progress)
        self.timer.start(PROGRESS_INTERVAL)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        self.reason = reason
        if self.timer is not None and self.timer.running:
            self.timer.stop()

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


class OfferOutputPipeline:
    """The last pipeline with --output (OUTPUT_PIPELINES): each offer to the parent as it passed the others."""

    def __init__(self, channel: ChannelExtension) -> None:
        self.channel = channel

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        channel = next((e for e in crawler.extensions.middlewares if isinstance(e, ChannelExtension)), None)
        if channel is None:
            raise NotConfigured  # no parent to send offers to
        return cls(channel)

    def process_item(self, item: Any) -> Any:
        # A RawOffer's fields are plain values already: no deep copy needed to serialize it.
        self.channel.send_offer(vars(item) if dataclasses.is_dataclass(item) else ItemAdapter(item).asdict())
        return item
