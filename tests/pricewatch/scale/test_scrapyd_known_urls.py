"""A Scrapyd job gets its distributor's known listing URLs packed in one setting, as a local crawl gets them in a file;
none for a limited crawl, or when they would not fit on the job's command line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from scrapy.settings import Settings
from sqlalchemy import Engine

from crawler.config import ScrapydHost
from crawler.settings import known_urls
from pricewatch.crawls import scrapyd
from pricewatch.crawls.scrapyd import job_parameters, packed_known_urls
from tests.support.builders import Seen, World, make_config

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
def shop(engine: Engine) -> World:
    """A shop with two matched listings read an hour ago, one unmatched, and one read three weeks ago."""
    world = World(engine, make_config({"distributors": [{"code": "shop"}]}))
    world.product("TL-1001")
    world.product("TL-1002")
    recent = [Seen("TL-1001", url="https://shop.test/a"), Seen("TL-1002", url="https://shop.test/b"), Seen(None)]
    world.crawl("shop", NOW - dt.timedelta(days=21), [Seen("TL-1001", url="https://shop.test/old")])
    world.crawl("shop", NOW - dt.timedelta(hours=1), recent)
    return world


def test_the_known_urls_travel_packed_and_read_back_as_a_file_does(shop: World, tmp_path: Path) -> None:
    packed = packed_known_urls(shop.engine, "shop", limit=0)
    assert packed is not None
    host = ScrapydHost(url="http://crawl-1:6800")
    job = dict(
        p.split("=", 1)
        for p in job_parameters(
            host, distributor="shop", run_key="shop-1", db_url="", limit=0, daily_run_id=None, known_urls=packed
        )
    )
    assert known_urls(Settings(job)) == {"https://shop.test/a", "https://shop.test/b"}

    listed = tmp_path / "known.txt"
    listed.write_text("https://shop.test/a\nhttps://shop.test/b\n", encoding="utf-8")
    assert known_urls(Settings({"PRICEWATCH_KNOWN_URLS_FILE": str(listed)})) == known_urls(Settings(job))


def test_a_limited_crawl_or_too_many_urls_get_none(shop: World, monkeypatch: pytest.MonkeyPatch) -> None:
    assert packed_known_urls(shop.engine, "shop", limit=5) is None
    monkeypatch.setattr(scrapyd, "MAX_PACKED_URLS", 10)
    assert packed_known_urls(shop.engine, "shop", limit=0) is None
