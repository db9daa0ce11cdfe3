"""Query functions, one module per consumer: storage is the only package that builds SQL."""
