"""The top floor: the `pricewatch` command line, the daily flow, the demo, and running crawls here or on Scrapyd."""
