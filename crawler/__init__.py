"""The Scrapy project glue: settings, the RawOffer item, config, parsing helpers, running a crawl, the CLI."""
