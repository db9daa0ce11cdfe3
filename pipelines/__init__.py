"""Scrapy item pipelines: normalize, match to the catalog, store; the crawl-health verdict."""
