"""Reading prices, stock, anti-bot pages and schema.org product data out of page text."""
