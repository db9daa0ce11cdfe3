"""Second pipeline: match each offer to the catalog, with the catalog index loaded once when the spider opens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scrapy.crawler import Crawler

from crawler.config import Config
from crawler.items import RawOffer
from crawler.settings import job_config
from pipelines.matching import CatalogIndex, MatchResult, MatchSettings
from storage.engine import make_engine, session_scope
from storage.queries.matching import load_aliases, load_catalog, load_overrides


@dataclass
class MatchedOffer:
    """A cleaned offer with its match: what the store pipeline receives."""

    offer: RawOffer
    match: MatchResult


def load_index(db_url: str, config: Config) -> CatalogIndex:
    """The catalog and people's decisions (by page, and by title for other pages) as they are in the database now."""
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            settings = MatchSettings.from_config(config)
            return CatalogIndex(load_catalog(session), load_overrides(session), settings, load_aliases(session))
    finally:
        engine.dispose()


class MatchPipeline:
    def __init__(self, config: Config, db_url: str) -> None:
        self.config = config
        self.db_url = db_url
        self.index: CatalogIndex | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MatchPipeline:
        settings = crawler.settings
        return cls(job_config(settings), settings.get("PRICEWATCH_DB_URL"))

    def open_spider(self) -> None:
        self.index = load_index(self.db_url, self.config)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, RawOffer) or self.index is None:
            return item
        return MatchedOffer(item, self.index.match(item))
