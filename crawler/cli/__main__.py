"""`python -m crawler.cli` runs the `pricewatch` command line."""

from crawler.cli import main

main()
