"""The crawl-stat keys of pricewatch, under `pricewatch/` as Scrapy's own components keep `retry/*`.

The spiders count pages, offers and failures (`spiders/base.py`, `spiders/pages.py`); the store pipeline sets
the verdict. The crawl's channel to its parent, the health verdict and the stored run read them.
"""

STAT_RESPONSES = "pricewatch/responses"
STAT_PRODUCT_PAGES = "pricewatch/product_pages"
STAT_OFFERS = "pricewatch/offers"
STAT_PRICE_MISSING = "pricewatch/price_missing"
STAT_BLOCKED = "pricewatch/blocked"
STAT_NOT_FOUND = "pricewatch/not_found"
STAT_ERRORS = "pricewatch/errors"
STAT_CANARY_SEEN = "pricewatch/canary_seen"
STAT_HEALTH = "pricewatch/health"  # the verdict, set by the store pipeline for the crawl's parent process
