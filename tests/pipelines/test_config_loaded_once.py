"""One crawl process parses its YAML config once: the spider's settings, the spider and every pipeline share the
parse, and a file (or environment) that changed is read again.

The crawl is set up the way Scrapy does it (`Crawler` → the spider's `update_settings`, `from_crawler`, each
pipeline's `from_crawler`), in-process and without starting the reactor or touching the database.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from scrapy.crawler import Crawler
from scrapy.settings import Settings
from scrapy.utils.misc import build_from_crawler, load_object

import crawler.config
import crawler.settings
from crawler.config import Config
from crawler.crawl_process import job_settings
from spiders.shop import ShopSpider

CONFIG = """
distributors:
  - code: shop
    name: Магазин
    start_urls: ["http://127.0.0.1:9/"]
"""


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "pricewatch.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The source of every config parse from now on."""
    seen: list[str] = []
    parse = crawler.config.parse_config

    def counting(text: str, source: str = "<config>", env: dict[str, str] | None = None) -> Config:
        seen.append(source)
        return parse(text, source, env)

    monkeypatch.setattr(crawler.config, "parse_config", counting)
    return seen


def scrapyd_settings(config_path: Path) -> Settings:
    """What `scrapy crawl shop -s NAME=value …` gives a spider (Scrapyd, no parent process): the settings only."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    job = {"PRICEWATCH_CONFIG": str(config_path), "PRICEWATCH_DISTRIBUTOR": "shop", "PRICEWATCH_RUN_KEY": "run-1"}
    settings.setdict(job, priority="cmdline")
    return settings


def process_settings(config_path: Path) -> Settings:
    """What `crawler.crawl_process` starts a crawl with."""
    return job_settings(
        config_path=str(config_path),
        distributor="shop",
        run_key="run-1",
        db_url="sqlite://",
        store=True,
        limit=0,
        daily_run_id=None,
        channel_fd=None,
    )


def set_up_crawl(settings: Settings) -> tuple[Any, list[Any]]:
    """The spider and the item pipelines of a crawl, built as Scrapy builds them."""
    crawl = Crawler(ShopSpider, settings)  # runs ShopSpider.update_settings
    spider = ShopSpider.from_crawler(crawl)
    pipelines = sorted(crawl.settings.getdict("ITEM_PIPELINES").items(), key=lambda item: item[1])
    return spider, [build_from_crawler(load_object(path), crawl) for path, _ in pipelines]


def test_a_scrapyd_crawls_set_up_parses_the_config_once(config_path: Path, parses: list[str]) -> None:
    spider, pipelines = set_up_crawl(scrapyd_settings(config_path))
    assert parses == [str(config_path)]
    names = [type(p).__name__ for p in pipelines]
    assert names == ["NormalizePipeline", "MatchPipeline", "PlausibilityPipeline", "StorePipeline"]
    match, plausibility, store = pipelines[1:]
    assert spider.config is match.config is store.config
    assert plausibility.rule is spider.config.rules.suspect_price
    assert spider.distributor.code == "shop"
    assert store.distributor is spider.distributor


def test_a_crawl_process_parses_the_config_once(config_path: Path, parses: list[str]) -> None:
    settings = process_settings(config_path)
    # What crawl_process.main looks up first: the spider that crawls the distributor.
    assert crawler.settings.job_config(settings).distributor("shop").spider == "shop"
    set_up_crawl(settings)
    assert parses == [str(config_path)]


def _rewritten(config_path: Path, edit: Callable[[str], str]) -> None:
    """Write the config file again, with a later modification time even on a coarse-grained file system."""
    before = config_path.stat().st_mtime_ns
    config_path.write_text(edit(config_path.read_text(encoding="utf-8")), encoding="utf-8")
    os.utime(config_path, ns=(before + 1_000_000_000, before + 1_000_000_000))


def test_an_edited_config_is_read_again(config_path: Path, parses: list[str]) -> None:
    first, _ = set_up_crawl(scrapyd_settings(config_path))
    _rewritten(config_path, lambda text: text + "    currency: KZT\n")
    spider, (normalize, *_) = set_up_crawl(scrapyd_settings(config_path))
    assert parses == [str(config_path)] * 2
    assert first.distributor.currency == "RUB"
    assert normalize.default_currency == spider.distributor.currency == "KZT"


def test_a_config_rewritten_to_the_same_size_is_read_again(config_path: Path, parses: list[str]) -> None:
    set_up_crawl(scrapyd_settings(config_path))
    _rewritten(config_path, lambda text: text.replace("Магазин", "Магазон"))
    spider, _ = set_up_crawl(scrapyd_settings(config_path))
    assert len(parses) == 2
    assert spider.distributor.name == "Магазон"


def test_a_changed_environment_is_read_again(
    tmp_path: Path, parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path = tmp_path / "env.yaml"
    config_path.write_text(CONFIG.replace("name: Магазин", "name: ${PW_TEST_SHOP_NAME}"), encoding="utf-8")
    monkeypatch.setenv("PW_TEST_SHOP_NAME", "Первый")
    set_up_crawl(scrapyd_settings(config_path))
    monkeypatch.setenv("PW_TEST_SHOP_NAME", "Второй")
    spider, _ = set_up_crawl(scrapyd_settings(config_path))
    assert len(parses) == 2
    assert spider.distributor.name == "Второй"
