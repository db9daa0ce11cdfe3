"""`python -m pricewatch.cli` runs the `pricewatch` command line."""

import sys

from pricewatch.cli import main

sys.exit(main())
