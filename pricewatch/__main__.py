"""`python -m pricewatch` runs the `pricewatch` command line."""

import sys

from pricewatch.cli import main

sys.exit(main())
