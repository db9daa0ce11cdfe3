"""The crawl-stat keys of pricewatch, under `pricewatch/` as Scrapy's own components keep `retry/*`.

The spiders count pages, offers and failures where they handle them (`spiders/base.py`, `spiders/pages.py`); the
pipelines count what only they see (offers dropped, suspect prices); the store pipeline sets the verdict. The
crawl's channel to its parent, the health verdict (`pipelines/health.py`) and the stored run read them.
"""

STAT_RESPONSES = "pricewatch/responses"
STAT_PRODUCT_PAGES = "pricewatch/product_pages"  # product pages asked for: answered, or failed after retries
STAT_OFFERS = "pricewatch/offers"
STAT_PRICE_MISSING = "pricewatch/price_missing"
STAT_PRICE_CONFLICT = "pricewatch/price_conflict"  # offers whose page shows two different prices
STAT_PRICE_SUSPECT = "pricewatch/price_suspect"  # offers priced implausibly against the RRP (pipelines)
STAT_DROPPED = "pricewatch/dropped"  # offers a pipeline dropped: nothing to store them under
STAT_BLOCKED = "pricewatch/blocked"  # any response: anti-bot page, captcha, 403, 429 after the retries
STAT_NOT_FOUND = "pricewatch/not_found"  # any response 404/410
STAT_PAGES_BLOCKED = "pricewatch/product_pages/blocked"
STAT_PAGES_NOT_FOUND = "pricewatch/product_pages/not_found"
STAT_PAGES_FAILED = "pricewatch/product_pages/failed"  # no answer after the retries, or an error status
STAT_ERRORS = "pricewatch/errors"
STAT_CANARY_SEEN = "pricewatch/canary_seen"
# Set by the spider once it went through every entry point and revisit, unlimited: absence then means gone.
STAT_COMPLETE = "pricewatch/complete"
STAT_HEALTH = "pricewatch/health"  # the verdict, set by the store pipeline for the crawl's parent process
STAT_HEALTH_CAUSE = "pricewatch/health_cause"  # a degraded verdict's cause («blocked by anti-bot», …), likewise
# Marketplaces with `json` and `legal_info` (spiders/marketplace.py):
STAT_JSON_FALLBACK = "pricewatch/json_fallback"  # product JSON that gave no priced offer: the page was rendered
STAT_LEGAL_UNRESOLVED = "pricewatch/legal_unresolved"  # sellers whose legal details failed (404, bad ИНН, …)
