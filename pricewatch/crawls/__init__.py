"""Running the distributors' crawls: each in a local process of its own, or as jobs on Scrapyd hosts."""
