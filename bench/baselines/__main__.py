"""`python -m bench.baselines KIND CONFIG CODE`: one bare baseline crawl; prints its stats."""

import sys

from bench.baselines import main

main(*sys.argv[1:4])
