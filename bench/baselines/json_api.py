"""The bare baseline of a marketplace read through its JSON endpoint (`json.mode: direct`): a plain Scrapy spider.

It asks for the JSON of every start URL's product in every region, as the marketplace spider does, and reads
the shown price of each product the document lists, in «Витрина»'s shape (`data.products[].sizes[0].price.total`):
no listings, no sellers' legal details, no field mapping, no pipelines.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from crawler.config import Distributor
from spiders.marketplace import site_base, with_query


def json_urls(distributor: Distributor) -> list[str]:
    """The JSON URL of every start URL's product, once per region (the region's query added)."""
    source = distributor.json_source
    if source is None or source.mode != "direct" or source.product_id is None:
        raise ValueError(f"{distributor.code}: the JSON baseline needs json.mode direct with a product_id")
    urls = []
    for page in distributor.start_urls:
        found = re.search(source.product_id, page)
        if found is None:
            raise ValueError(f"{distributor.code}: no product id (json.product_id) in {page}")
        api = source.url.format(base=site_base(page), id=found.group(1))
        urls += [with_query(api, region.query) for region in distributor.regions] or [api]
    return urls


class BareJsonSpider(scrapy.Spider):
    """Fetches the products' JSON and reads the shown price of each product listed: the least a direct read does."""

    name = "bare_json_api"

    def __init__(self, distributor: Distributor, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = json_urls(distributor)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.urls:
            yield scrapy.Request(url, headers={"Accept": "application/json"})

    def parse(self, response: Response) -> Iterator[dict[str, Any]]:
        for product in json.loads(response.body)["data"]["products"]:
            yield {"id": product["id"], "price": product["sizes"][0]["price"]["total"]}
