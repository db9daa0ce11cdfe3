"""The ground floor: config, errors, the RawOffer item and its enums, texts, and the Scrapy glue of one crawl."""
