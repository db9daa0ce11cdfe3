"""`python -m crawler.cli` runs the `pricewatch` command line."""

import sys

from crawler.cli import main

sys.exit(main())
